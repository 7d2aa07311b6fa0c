// Type-level tests: the static types of expressions, frames and model constructors, checked by tsc
// (`npm run lint:types` compiles this file). `expectType<A>().toBe<B>()` compiles only when A and B are the
// same type, and `// @ts-expect-error` marks calls that must not compile; a regression in an inferred type
// breaks the build. At runtime each group also collects its frame and checks that the values have the
// JS types the static types claim.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { coalesce, col, countRows, DataFrameModel, lit, when, type Expr, type RowOf } from '../../src/index.js';
import type { DType } from '../../src/model/types.js';

/** Exact type equality (not mutual assignability: `any`, `unknown` and unions must match exactly). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- G is the probe that makes the comparison exact
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;

/** `expectType<A>().toBe<B>()` and `expectType(value).toBe<B>()` are compile errors unless A (the value's type) is exactly B. */
function expectType<A>(value?: A): { toBe<B>(...proof: Equal<A, B> extends true ? [] : [never]): void } {
  return { toBe: () => value };
}
/** `expectValue(e).toBe<T>()`: the value type of expression `e` is exactly T. */
function expectValue<E>(e: E): { toBe<B>(...proof: Equal<V<E>, B> extends true ? [] : [never]): void } {
  return { toBe: () => e };
}
/** `expectDType(e).toBe<D>()`: the dtype parameter of expression `e` is exactly D. */
function expectDType<E>(e: E): { toBe<B>(...proof: Equal<D<E>, B> extends true ? [] : [never]): void } {
  return { toBe: () => e };
}
/** `expectRow(frame).toBe<R>()`: the frame's row type is exactly R. */
function expectRow<F>(f: F): { toBe<B>(...proof: Equal<RowType<F>, B> extends true ? [] : [never]): void } {
  return { toBe: () => f };
}
/** The value type of an expression. */
type V<E> = E extends Expr<infer T, DType> ? T : never;
/** The dtype parameter of an expression. */
type D<E> = E extends Expr<unknown, infer X> ? X : never;
/** The row type of a frame or model instance. */
type RowType<F> = F extends { collectSync(): (infer R)[] } ? R : never;

class Sale extends DataFrameModel({
  id: z.int32(),
  big: z.int64(),
  price: z.float64(),
  ratio: z.float32(),
  qty: z.int32().nullable(),
  name: z.string(),
  note: z.string().nullable(),
  kind: z.enum(['a', 'b']),
  ok: z.boolean(),
  at: z.date(),
}) {}

class Owner extends DataFrameModel({ id: z.int32(), owner: z.string(), price: z.float64() }) {}

const sales = Sale.fromColumns({
  id: [1, 2, 3],
  big: [10n, 20n, 30n],
  price: [1.5, 2.5, 4],
  ratio: [0.5, 0.25, 1],
  qty: [1, null, 3],
  name: ['x', 'y', 'z'],
  note: [null, 'n', null],
  kind: ['a', 'b', 'a'],
  ok: [true, false, true],
  at: [new Date(0), '2024-01-02', new Date(86_400_000)],
});
const owners = Owner.fromRows([
  { id: 1, owner: 'ann', price: 9 },
  { id: 2, owner: 'bob', price: 8 },
]);

describe('static types: expressions', () => {
  it('columns typed by the model carry value type and dtype', () => {
    expectType<V<ReturnType<typeof Sale.col<'price'>>>>().toBe<number>();
    expectType<D<ReturnType<typeof Sale.col<'price'>>>>().toBe<'float64'>();
    expectType<D<ReturnType<typeof Sale.col<'id'>>>>().toBe<'int32'>();
    expectType<D<ReturnType<typeof Sale.col<'big'>>>>().toBe<'int64'>();
    expectType<V<ReturnType<typeof Sale.col<'qty'>>>>().toBe<number | null>();
    expectType<V<ReturnType<typeof Sale.col<'kind'>>>>().toBe<'a' | 'b'>();
    expectType<D<ReturnType<typeof Sale.col<'at'>>>>().toBe<'date'>();
    // @ts-expect-error -- not a column of the model
    assert.throws(() => Sale.col('nope'), /nope/);
  });

  it('numeric and NaN expressions: transcendental ones give float64, sign and clip keep the type, floorDiv of integers may be null, the NaN tests are booleans', () => {
    const id = Sale.col('id');
    expectType(id.sqrt()).toBe<Expr<number, 'float64'>>();
    expectType(Sale.col('qty').log10()).toBe<Expr<number | null, 'float64'>>();
    expectType(Sale.col('big').pow(2)).toBe<Expr<number, 'float64'>>();
    expectType(Sale.col('ratio').sign()).toBe<Expr<number, 'float32'>>();
    expectType(Sale.col('big').clip(0, 10)).toBe<Expr<bigint, 'int64'>>();
    expectType(id.floorDiv(2)).toBe<Expr<number | null, 'int32'>>();
    expectType(Sale.col('price').floorDiv(2)).toBe<Expr<number, 'float64'>>();
    expectType(Sale.col('price').isNan()).toBe<Expr<boolean, 'bool'>>();
    expectType(Sale.col('qty').fillNull(0)).toBe<Expr<number, 'int32'>>();
    expectType(Sale.col('qty').nullIf(0)).toBe<Expr<number | null, 'int32'>>();
    // Filling promotes as the binder unifies: an int32 filled with a float, or with an int64, widens.
    expectType(Sale.col('qty').fillNull(1.5)).toBe<Expr<number, 'float64'>>();
    expectType(Sale.col('qty').fillNull(Sale.col('big'))).toBe<Expr<bigint, 'int64'>>();
    expectType(Sale.col('note').fillNull('none')).toBe<Expr<string, 'utf8'>>();
    expectType(Sale.col('price').log(Sale.col('qty'))).toBe<Expr<number | null, 'float64'>>();
    expectType(Sale.col('price').log()).toBe<Expr<number, 'float64'>>();
    const rows = sales.select({ s: id.sqrt(), f: Sale.col('qty').fillNull(0), d: id.floorDiv(2) }).collectSync();
    expectRow(sales.select({ s: id.sqrt(), f: Sale.col('qty').fillNull(0), d: id.floorDiv(2) })).toBe<{ s: number; f: number; d: number | null }>();
    assert.deepEqual(rows, [
      { s: 1, f: 1, d: 0 },
      { s: Math.SQRT2, f: 0, d: 1 },
      { s: Math.sqrt(3), f: 3, d: 1 },
    ]);
  });

  it('arithmetic follows promotion: int32 with int32 stays number, with int64 gives bigint, with a float number', () => {
    const id = Sale.col('id');
    expectType<V<ReturnType<typeof id.mul<2>>>>().toBe<number>();
    expectType<D<ReturnType<typeof id.mul<2>>>>().toBe<'int32'>();
    expectType<D<ReturnType<typeof id.mul<2.5>>>>().toBe<'float64'>();
    expectType<D<ReturnType<typeof id.add<Expr<bigint, 'int64'>>>>>().toBe<'int64'>();
    const e1 = id.add(Sale.col('big'));
    expectType(e1).toBe<Expr<bigint, 'int64'>>();
    const e2 = Sale.col('big').mul(Sale.col('price'));
    expectType(e2).toBe<Expr<number, 'float64'>>();
    const e3 = Sale.col('qty').mul(lit(2));
    expectValue(e3).toBe<number | null>();
    const e4 = Sale.col('big').sub(1);
    expectType(e4).toBe<Expr<bigint, 'int64'>>();
    const e5 = Sale.col('ratio').add(Sale.col('ratio'));
    expectDType(e5).toBe<'float32'>();
    // An integer modulo may be null (modulo by zero); a float modulo is not.
    expectType<V<ReturnType<typeof id.mod<3>>>>().toBe<number | null>();
    expectType<V<ReturnType<ReturnType<typeof Sale.col<'price'>>['mod']>>>().toBe<number | null>();
    const e6 = Sale.col('price').mod(2);
    expectType(e6).toBe<Expr<number, 'float64'>>();
    const e7 = id.div(2);
    expectType(e7).toBe<Expr<number, 'float64'>>();
    const e8 = Sale.col('ratio').div(Sale.col('ratio'));
    expectDType(e8).toBe<'float32'>();
    const e9 = Sale.col('qty').neg().abs().round(1);
    expectType(e9).toBe<Expr<number | null, 'int32'>>();
  });

  it('a column without a frame is unknown; typed by hand it is as precise as its dtype', () => {
    const x = col('x').mul(lit(2));
    expectValue(x).toBe<number | bigint | null>();
    const y = col<number>('y').mul(2);
    expectType(y).toBe<Expr<number, 'int32' | 'float32' | 'float64'>>();
    const z2 = col<number, 'float64'>('z').sum();
    expectType(z2).toBe<Expr<number | null, 'float64'>>();
    // A number column may be int32, whose sum is an int64 (bigint).
    expectType<V<ReturnType<ReturnType<typeof col<number>>['sum']>>>().toBe<number | bigint | null>();
  });

  it('casts read back as the target type', () => {
    const c1 = Sale.col('price').cast('int64');
    expectType(c1).toBe<Expr<bigint, 'int64'>>();
    const c2 = Sale.col('qty').cast('float64');
    expectType(c2).toBe<Expr<number | null, 'float64'>>();
    const c3 = col('x').cast('int64');
    expectType(c3).toBe<Expr<bigint | null, 'int64'>>();
    const c4 = Sale.col('big').cast('date');
    expectType(c4).toBe<Expr<Date, 'date'>>();
    const c5 = Sale.col('id').cast('bool');
    expectType(c5).toBe<Expr<boolean, 'bool'>>();
  });

  it('aggregations: sum is number over floats and bigint over integers, counts are numbers, min keeps the type', () => {
    const s1 = Sale.col('price').sum();
    expectType(s1).toBe<Expr<number | null, 'float64'>>();
    const s2 = Sale.col('id').sum();
    expectType(s2).toBe<Expr<bigint | null, 'int64'>>();
    const s3 = Sale.col('ratio').sum();
    expectValue(s3).toBe<number | null>();
    const s4 = Sale.col('ok').sum();
    expectValue(s4).toBe<bigint | null>();
    const m1 = Sale.col('kind').min();
    expectType(m1).toBe<Expr<'a' | 'b' | null, 'utf8'>>();
    const m2 = Sale.col('at').max();
    expectValue(m2).toBe<Date | null>();
    const m3 = col('x').first();
    expectValue(m3).toBe<number | bigint | boolean | string | Date | null>();
    const n = Sale.col('qty').count();
    expectType(n).toBe<Expr<number, 'int32'>>();
    expectType(countRows).toBe<() => Expr<number, 'int32'>>();
    const avg = Sale.col('id').mean();
    expectType(avg).toBe<Expr<number | null, 'float64'>>();
    const r = Sale.col('price').corr(Sale.col('id'));
    expectValue(r).toBe<number | null>();
  });

  it('comparisons, logic and string methods: boolean, null only where an operand may be null', () => {
    const b1 = Sale.col('price').gt(1);
    expectType(b1).toBe<Expr<boolean, 'bool'>>();
    const b2 = Sale.col('qty').gt(1);
    expectValue(b2).toBe<boolean | null>();
    const b3 = Sale.col('price').gt(Sale.col('qty'));
    expectValue(b3).toBe<boolean | null>();
    const b4 = Sale.col('ok').and(Sale.col('name').startsWith('x'));
    expectValue(b4).toBe<boolean>();
    const b5 = Sale.col('note').contains('n').not();
    expectValue(b5).toBe<boolean | null>();
    const b6 = Sale.col('qty').isNull();
    expectValue(b6).toBe<boolean>();
    const s1 = Sale.col('note').upper();
    expectType(s1).toBe<Expr<string | null, 'utf8'>>();
    const s2 = Sale.col('name').length();
    expectType(s2).toBe<Expr<number, 'int32'>>();
    const s3 = col('s').lower();
    expectValue(s3).toBe<string | null>();
    const c = coalesce(Sale.col('qty'), Sale.col('id'));
    expectValue(c).toBe<number>();
    const c2 = coalesce(Sale.col('qty'), Sale.col('note').length());
    expectValue(c2).toBe<number | null>();
  });

  it('when/otherwise: the union of the branch types, null without otherwise or where a branch may be null', () => {
    const w1 = when(Sale.col('ok')).then(Sale.col('name')).otherwise('none');
    expectType(w1).toBe<Expr<string, 'utf8'>>();
    const w2 = when(Sale.col('ok')).then(Sale.col('price'));
    expectValue(w2).toBe<number | null>();
    // int64 and int32 branches unify to int64 at runtime; the static type is the union of both, never narrower.
    const w3 = when(Sale.col('ok')).then(Sale.col('big')).when(Sale.col('id').gt(1)).then(Sale.col('qty')).otherwise(0);
    expectValue(w3).toBe<bigint | number | null>();
    const w4 = when(Sale.col('ok')).then(1.5).otherwise(Sale.col('price'));
    expectValue(w4).toBe<number>();
    assert.deepEqual(sales.select({ w1, w4 }).collectSync()[1], { w1: 'none', w4: 2.5 });
  });

  it('the collected values have the JS types the static types claim', async () => {
    const out = await sales
      .agg({
        total: Sale.col('price').sum(),
        ids: Sale.col('id').sum(),
        asInt: Sale.col('price').cast('int64').max(),
        up: Sale.col('note').upper().first(),
        n: Sale.col('qty').count(),
      })
      .collect();
    expectType(out).toBe<{ total: number | null; ids: bigint | null; asInt: bigint | null; up: string | null; n: number }[]>();
    assert.deepEqual(out, [{ total: 8, ids: 6n, asInt: 4n, up: null, n: 2 }]);
    const derived = sales.select({ m: Sale.col('id').mul(2), b: Sale.col('id').add(Sale.col('big')), d: Sale.col('id').div(2) }).collectSync();
    expectType(derived).toBe<{ m: number; b: bigint; d: number }[]>();
    assert.deepEqual(derived[0], { m: 2, b: 11n, d: 0.5 });
  });
});

describe('static types: frames', () => {
  it('frame.col takes the value type from the frame', () => {
    const picked = sales.select('id', 'note');
    const note = picked.col('note');
    expectValue(note).toBe<string | null>();
    expectDType(note).toBe<'utf8'>();
    // @ts-expect-error -- not a column of this frame
    assert.throws(() => picked.col('price'), /price/);
  });

  it('a left join makes the right columns nullable, renames clashes with the suffix; semi and anti keep the left row', () => {
    const inner = sales.select('id', 'price').join(owners, { on: 'id' });
    expectRow(inner).toBe<{ id: number; price: number; owner: string; price_right: number }>();
    const left = sales.select('id', 'price').join(owners, { on: 'id', how: 'left', suffix: '_o' });
    expectRow(left).toBe<{ id: number; price: number; owner: string | null; price_o: number | null }>();
    const keyed = sales.select('id').join(owners, { leftOn: 'id', rightOn: 'id', how: 'left' });
    expectRow(keyed).toBe<{ id: number; owner: string | null; price: number | null }>();
    const semi = sales.select('id', 'name').join(owners, { on: 'id', how: 'semi' });
    expectRow(semi).toBe<{ id: number; name: string }>();
    const rows = left.sort('id').collectSync();
    assert.deepEqual(rows, [
      { id: 1, price: 1.5, owner: 'ann', price_o: 9 },
      { id: 2, price: 2.5, owner: 'bob', price_o: 8 },
      { id: 3, price: 4, owner: null, price_o: null },
    ]);
    assert.deepEqual(semi.collectSync(), [
      { id: 1, name: 'x' },
      { id: 2, name: 'y' },
    ]);
  });

  it('aggregations in groupBy give the row types collect returns', () => {
    const g = sales.groupBy('kind').agg({ total: Sale.col('price').sum(), n: countRows(), top: Sale.col('big').max() });
    expectRow(g).toBe<{ kind: 'a' | 'b'; total: number | null; n: number; top: bigint | null }>();
    assert.deepEqual(g.sort('kind').collectSync(), [
      { kind: 'a', total: 5.5, n: 2, top: 30n },
      { kind: 'b', total: 2.5, n: 1, top: 20n },
    ]);
  });
});

describe('static types: model input', () => {
  class Item extends DataFrameModel({ id: z.int32(), big: z.int64(), label: z.string().nullable(), kind: z.enum(['a', 'b']), at: z.date().optional() }) {}

  it('fromColumns and fromRows take the model keys and cell types', () => {
    const ok = Item.fromColumns({ id: Int32Array.of(1, 2), big: [1n, 2], kind: ['a', 'b'], at: ['2024-01-01', new Date(0)] });
    expectRow(ok).toBe<RowOf<typeof Item.shape>>();
    assert.equal(ok.shape[0], 2);
    assert.equal(
      Item.fromRows([
        { id: 1, big: 1n, kind: 'a' },
        { id: 2, big: 2, label: null, kind: 'b', at: null },
      ]).shape[0],
      2,
    );
    // @ts-expect-error -- a string in an int32 column
    assert.throws(() => Item.fromColumns({ id: ['1'], big: [1n], kind: ['a'] }), /id/);
    // @ts-expect-error -- a value outside the enum
    assert.throws(() => Item.fromRows([{ id: 1, big: 1n, kind: 'c' }]), /kind/);
    // @ts-expect-error -- a required column missing
    assert.throws(() => Item.fromRows([{ id: 1, kind: 'a' }]), /big/);
    // @ts-expect-error -- a key beyond the model when every field is named
    assert.throws(() => Item.fromColumns({ id: [1], big: [1n], label: ['x'], kind: ['a'], at: [null], extra: [1] }), /extra/);
  });

  it('input of unknown shape is accepted and checked at runtime', () => {
    const body: unknown = JSON.parse('{"id":[1],"big":[1],"kind":["b"]}');
    assert.equal(Item.fromColumns(body).shape[0], 1);
    const rows: unknown = [{ id: 'x' }];
    assert.throws(() => Item.fromRows(rows), /id/);
  });

  it('keys other than the field names are taken as aliases of the fields not named', () => {
    class Aliased extends DataFrameModel({ user_id: z.int32().meta({ alias: 'userId' }), amount: z.float64() }) {}
    assert.equal(Aliased.fromColumns({ userId: [1], amount: [2] }).shape[0], 1);
    // @ts-expect-error -- the alias's cells must fit the field it may stand for
    assert.throws(() => Aliased.fromColumns({ userId: ['u'], amount: [2] }), /user/);
  });
});

describe('static types: the dt namespace', () => {
  it('gives int32 fields, int64 epochs (int32 days), the input type from truncate and offsetBy, and null where an option asks for it', () => {
    const at = Sale.col('at');
    expectDType(at.dt.year()).toBe<'int32'>();
    expectValue(at.dt.nanosecond()).toBe<number>();
    expectDType(at.dt.epoch('ms')).toBe<'int64'>();
    expectValue(at.dt.epoch()).toBe<bigint>();
    expectDType(at.dt.epoch('d')).toBe<'int32'>();
    expectValue(at.dt.truncate('1h')).toBe<Date>();
    expectValue(at.dt.offsetBy('-1mo')).toBe<Date>();
    expectValue(at.dt.convertTimeZone('Europe/Paris')).toBe<Date>();
    expectValue(at.dt.replaceTimeZone('Europe/Paris')).toBe<Date>();
    expectValue(at.dt.replaceTimeZone('Europe/Paris', { ambiguous: 'null' })).toBe<Date | null>();
    expectValue(at.dt.replaceTimeZone(null, { nonExistent: 'null' })).toBe<Date | null>();
    expectValue(col('x').dt.hour()).toBe<number | null>();
  });
});
