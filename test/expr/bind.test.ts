import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindAgg, bindExpr } from '../../src/expr/bind.js';
import { col, lit, when, coalesce } from '../../src/expr/expr.js';
import '../../src/expr/str.js';
import type { Field } from '../../src/model/types.js';
import { ExpressionTypeError, UnknownColumnError } from '../../src/errors.js';

const fields: Field[] = [
  { name: 'i', dtype: 'int32', nullable: false },
  { name: 'l', dtype: 'int64', nullable: true },
  { name: 'f', dtype: 'float32', nullable: false },
  { name: 'd', dtype: 'float64', nullable: true },
  { name: 's', dtype: 'utf8', nullable: true },
  { name: 'b', dtype: 'bool', nullable: false },
  { name: 't', dtype: 'timestamp', unit: 'ms', nullable: false },
];
const scope = { fields, context: 'test' };
const bind = (e: { node: Parameters<typeof bindExpr>[0] }) => bindExpr(e.node, scope);

test('integer literals adopt the type of the other operand', () => {
  const e = bind(col('i').add(lit(1)));
  assert.equal(e.type.dtype, 'int32');
  assert.equal(e.kind === 'binary' && e.right.kind === 'lit' && e.right.type.dtype, 'int32');
  const big = bind(col('l').add(lit(1)));
  assert.equal(big.type.dtype, 'int64');
  assert.equal(big.kind === 'binary' && big.right.kind === 'lit' && big.right.value, 1n);
});

test('a literal that does not fit widens instead of wrapping', () => {
  assert.equal(bind(col('i').add(lit(2 ** 40))).type.dtype, 'int64');
  assert.equal(bind(col('i').add(lit(1.5))).type.dtype, 'float64');
  assert.equal(bind(col('f').mul(lit(0.1))).type.dtype, 'float64', '0.1 is not exact in float32');
  assert.equal(bind(col('f').mul(lit(0.5))).type.dtype, 'float32');
});

test('numeric promotion inserts explicit casts', () => {
  const e = bind(col('i').add(col('d')));
  assert.equal(e.type.dtype, 'float64');
  assert.ok(e.kind === 'binary' && e.left.kind === 'cast' && e.left.type.dtype === 'float64');
  assert.equal(bind(col('i').add(col('f'))).type.dtype, 'float64');
  assert.equal(bind(col('i').add(col('l'))).type.dtype, 'int64');
  assert.equal(bind(col('i').div(col('i'))).type.dtype, 'float64');
  assert.equal(bind(col('f').div(col('f'))).type.dtype, 'float32');
});

test('nullability propagates; integer mod can be null; isNull is never null', () => {
  assert.equal(bind(col('i').add(col('d'))).type.nullable, true);
  assert.equal(bind(col('i').add(lit(1))).type.nullable, false);
  assert.equal(bind(col('i').mod(lit(3))).type.nullable, true);
  assert.equal(bind(col('d').isNull()).type.nullable, false);
  assert.equal(bind(coalesce(col('d'), lit(0))).type.nullable, false);
  assert.equal(bind(coalesce(col('d'), col('l'))).type.nullable, true);
});

test('when unifies branch types and treats a missing otherwise as null', () => {
  const e = bind(when(col('b')).then(col('i')).otherwise(col('d')));
  assert.deepEqual(e.type, { dtype: 'float64', nullable: true });
  const s = bind(when(col('i').gt(1)).then(lit('big')));
  assert.deepEqual(s.type, { dtype: 'utf8', nullable: true });
  assert.throws(() => bind(when(col('b')).then(col('s')).otherwise(col('i'))), ExpressionTypeError);
  assert.throws(() => bind(when(col('i')).then(1).otherwise(2)), ExpressionTypeError);
});

test('unknown columns and type mismatches throw with the column named', () => {
  assert.throws(
    () => bind(col('nope').gt(1)),
    (e: unknown) => e instanceof UnknownColumnError && /'nope'/.test(e.message) && e.status === 400,
  );
  assert.throws(
    () => bind(col('s').add(1)),
    (e: unknown) => e instanceof ExpressionTypeError && /col\('s'\)/.test(e.message),
  );
  assert.throws(() => bind(col('s').gt(col('i'))), ExpressionTypeError);
  assert.throws(() => bind(col('i').and(col('b'))), ExpressionTypeError);
  assert.throws(() => bind(col('i').lower()), ExpressionTypeError);
  // Text parses to numbers (a cast that can fail per value), but a boolean has no date.
  assert.throws(() => bind(col('b').cast('date')), ExpressionTypeError);
  assert.throws(() => bind(col('s').str.lenChars().str.lenChars()), ExpressionTypeError);
  assert.throws(() => bind(col('i').str.strip()), /str\.strip needs a string, got int32/);
  assert.throws(() => bind(col('i').sum()), /only allowed inside groupBy/);
  assert.throws(() => bind(col('i').isIn(['a'])), ExpressionTypeError);
});

test('isIn normalises values to the column type', () => {
  const e = bind(col('l').isIn([1, 2]));
  assert.ok(e.kind === 'isIn' && e.values.every((v) => typeof v === 'bigint'));
  const f = bind(col('i').isIn([1, 2.5]));
  assert.ok(f.kind === 'isIn' && f.arg.type.dtype === 'float64');
  const t = bind(col('t').gt(lit(new Date(5))));
  assert.ok(t.kind === 'binary' && t.right.kind === 'lit' && t.right.value === 5n);
});

test('aggregation result types', () => {
  const agg = (e: { node: Parameters<typeof bindExpr>[0] }, keyed = true) => bindAgg('x', e.node as Extract<typeof e.node, { kind: 'agg' }>, scope, keyed);
  assert.deepEqual(agg(col('i').sum()).type, { dtype: 'int64', nullable: false });
  assert.deepEqual(agg(col('i').sum(), false).type, { dtype: 'int64', nullable: true });
  assert.deepEqual(agg(col('d').sum()).type, { dtype: 'float64', nullable: true });
  assert.deepEqual(agg(col('b').sum()).type, { dtype: 'int64', nullable: false });
  assert.deepEqual(agg(col('i').mean()).type, { dtype: 'float64', nullable: false });
  assert.deepEqual(agg(col('i').std()).type, { dtype: 'float64', nullable: true });
  assert.deepEqual(agg(col('s').min()).type, { dtype: 'utf8', nullable: true });
  assert.deepEqual(agg(col('d').count()).type, { dtype: 'int32', nullable: false });
  assert.deepEqual(agg(col('s').nUnique()).type, { dtype: 'int32', nullable: false });
  assert.throws(() => agg(col('s').sum()), ExpressionTypeError);
  assert.throws(() => agg(col('b').min()), ExpressionTypeError);
});

test('numeric functions: float64 from transcendentals, the input type from sign and clip, promoted integers from floorDiv', () => {
  for (const e of [col('i').sqrt(), col('f').exp(), col('l').log(), col('i').log(2), col('f').log10(), col('l').log1p(), col('i').pow(col('i'))]) {
    assert.deepEqual(bind(e).type.dtype, 'float64');
  }
  assert.equal(bind(col('f').sqrt()).type.nullable, false);
  assert.equal(bind(col('l').sqrt()).type.nullable, true);
  assert.equal(bind(col('f').sign()).type.dtype, 'float32');
  assert.equal(bind(col('l').sign()).type.dtype, 'int64');
  assert.equal(bind(col('i').clip(0.5, 1e10)).type.dtype, 'int32', 'bounds take the input type');
  assert.equal(bind(col('f').clip(col('d'), null)).type.dtype, 'float32');
  assert.equal(bind(col('i').clip(0, 1)).type.nullable, false, 'a null bound is no bound, so only the input makes it nullable');
  const q = bind(col('i').floorDiv(col('l')));
  assert.equal(q.type.dtype, 'int64');
  assert.equal(q.type.nullable, true, 'integer floorDiv by zero is null');
  assert.deepEqual(bind(col('f').floorDiv(col('f'))).type, { dtype: 'float32', nullable: false });
});

test('the NaN tests apply to floats only; fillNull promotes like coalesce; nullIf is nullable', () => {
  for (const op of ['isNan', 'isNotNan', 'isFinite', 'isInfinite'] as const) {
    assert.deepEqual(bind(col('d')[op]()).type, { dtype: 'bool', nullable: true });
    assert.deepEqual(bind(col('f')[op]()).type, { dtype: 'bool', nullable: false });
    for (const c of ['i', 'l', 's', 'b', 't']) assert.throws(() => bind(col(c)[op]()), ExpressionTypeError, `${op} of ${c}`);
  }
  assert.throws(() => bind(col('i').fillNan(0)), ExpressionTypeError);
  assert.throws(() => bind(col('s').sqrt()), ExpressionTypeError);
  assert.throws(() => bind(col('t').floorDiv(2)), ExpressionTypeError);
  assert.throws(() => bind(col('i').clip('a', 2)), /clip\(lit\("a"\), null\)/);
  assert.deepEqual(bind(col('l').fillNull(1.5)).type, { dtype: 'float64', nullable: false });
  assert.deepEqual(bind(col('d').fillNan(0)).type, { dtype: 'float64', nullable: true });
  assert.deepEqual(bind(col('i').nullIf(0)).type, { dtype: 'int32', nullable: true });
});
