// The numeric and NaN expressions (pow, sqrt, exp, log, log10, log1p, sign, clip, floorDiv, isNan and
// friends, fillNull, fillNan, nullIf) on hand-picked edge cases whose answers are written out: NaN,
// ±Infinity, -0, nulls, the integer extremes, division by zero. Inline and on a worker pool with tiny
// morsels; the random plans of test/property/plan.test.ts cover them against the reference too.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { ArithmeticOverflowError, col, createExecutor, DataFrameModel, ExpressionTypeError, lit, type Expr, type Frame } from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 2 });
after(() => pool.close());
const noGpu = await gpuSkip();

const MIN32 = -2147483648;
const MAX32 = 2147483647;

const Numbers = DataFrameModel({
  i: z.int32().nullable(),
  j: z.int32().nullable(),
  l: z.int64().nullable(),
  m: z.int64().nullable(),
  f: z.float64().nullable(),
  g: z.float32().nullable(),
});

const frame = Numbers.fromColumns(
  {
    i: [7, -7, 0, null, MAX32, 5, -9],
    j: [2, 2, 3, 1, -1, 0, -4],
    l: [7n, -7n, 0n, null, 2n ** 63n - 1n, 5n, -9n],
    m: [2n, 2n, 3n, 1n, -1n, 0n, -4n],
    f: [2.25, -1, Number.NaN, null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0],
    g: [1.5, Number.NaN, -0, null, Number.POSITIVE_INFINITY, -2.5, 0],
  },
  { trustedMode: 'shape_only' },
);

/** One column's values, computed inline and on the pool (which must agree), with its dtype. */
async function values(expr: Expr, source: Frame = frame): Promise<{ dtype: string; values: unknown[] }> {
  const q = source.select({ x: expr });
  const inline = q.collectSync().map((r) => r.x);
  const pooled = (await q.collect({ executor: pool })).map((r) => r.x);
  assert.deepEqual(pooled, inline, 'pool and inline differ');
  return { dtype: q.schema[0]!.dtype, values: inline };
}

async function expectValues(expr: Expr, dtype: string, expected: unknown[]): Promise<void> {
  const got = await values(expr);
  assert.equal(got.dtype, dtype);
  // deepEqual compares with Object.is: NaN equals NaN and -0 differs from 0, which is what these cases pin.
  assert.deepEqual(got.values, expected);
}

describe('numeric expressions', () => {
  it('floorDiv rounds toward −∞ in the promoted integer type, null by zero', async () => {
    await expectValues(col('i').floorDiv(col('j')), 'int32', [3, -4, 0, null, -MAX32, null, 2]);
    await expectValues(col('l').floorDiv(col('m')), 'int64', [3n, -4n, 0n, null, -(2n ** 63n - 1n), null, 2n]);
    await expectValues(col('i').floorDiv(col('m')), 'int64', [3n, -4n, 0n, null, -BigInt(MAX32), null, 2n]);
    await expectValues(col('i').floorDiv(0), 'int32', [null, null, null, null, null, null, null]);
  });

  it('floorDiv of the integer minimum by −1 raises ArithmeticOverflowError, as mul does', async () => {
    const Pair = DataFrameModel({ a: z.int32(), b: z.int64() });
    const f = Pair.fromColumns({ a: [4, MIN32], b: [4n, -(2n ** 63n)] });
    assert.throws(() => f.select({ x: col('a').floorDiv(-1) }).collectSync(), ArithmeticOverflowError);
    assert.throws(() => f.select({ x: col('b').floorDiv(-1) }).collectSync(), ArithmeticOverflowError);
    assert.throws(() => f.select({ x: col('a').mul(-1) }).collectSync(), ArithmeticOverflowError);
    assert.deepEqual(f.select({ x: col('a').floorDiv(-2) }).collectSync(), [{ x: -2 }, { x: 1073741824 }]);
  });

  it('float floorDiv and div follow IEEE: ±Infinity and NaN by zero, not null', async () => {
    await expectValues(col('f').floorDiv(2), 'float64', [1, -1, Number.NaN, null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    await expectValues(col('f').floorDiv(0), 'float64', [Infinity, -Infinity, Number.NaN, null, Infinity, -Infinity, Number.NaN]);
    await expectValues(col('i').div(col('j')), 'float64', [3.5, -3.5, 0, null, -MAX32, Infinity, 2.25]);
    await expectValues(lit(0).div(col('j')), 'float64', [0, 0, 0, 0, -0, Number.NaN, -0]);
  });

  it('pow, sqrt, exp, log, log10 and log1p give float64 with IEEE edge values', async () => {
    await expectValues(col('i').pow(2), 'float64', [49, 49, 0, null, Math.pow(MAX32, 2), 25, 81]);
    await expectValues(col('f').pow(0.5), 'float64', [1.5, Number.NaN, Number.NaN, null, Infinity, Infinity, 0]);
    await expectValues(col('f').sqrt(), 'float64', [1.5, Number.NaN, Number.NaN, null, Infinity, Number.NaN, -0]);
    await expectValues(col('g').exp(), 'float64', [Math.exp(1.5), Number.NaN, 1, null, Infinity, Math.exp(-2.5), 1]);
    await expectValues(col('f').log(), 'float64', [Math.log(2.25), Number.NaN, Number.NaN, null, Infinity, Number.NaN, -Infinity]);
    await expectValues(lit(8).log(2), 'float64', Array<number>(7).fill(3));
    await expectValues(col('l').log10(), 'float64', [Math.log10(7), Number.NaN, -Infinity, null, Math.log10(2 ** 63), Math.log10(5), Number.NaN]);
    await expectValues(lit(1e-20).log1p(), 'float64', Array<number>(7).fill(1e-20));
  });

  it('sign keeps the type, NaN and the sign of zero', async () => {
    await expectValues(col('i').sign(), 'int32', [1, -1, 0, null, 1, 1, -1]);
    await expectValues(col('l').sign(), 'int64', [1n, -1n, 0n, null, 1n, 1n, -1n]);
    await expectValues(col('f').sign(), 'float64', [1, -1, Number.NaN, null, 1, -1, -0]);
    await expectValues(col('g').sign(), 'float32', [1, Number.NaN, -0, null, 1, -1, 0]);
  });

  it('clip keeps the input type, casts the bounds, skips a null bound and keeps NaN', async () => {
    await expectValues(col('i').clip(0, 5), 'int32', [5, 0, 0, null, 5, 5, 0]);
    await expectValues(col('i').clip(-1.5, 4.9), 'int32', [4, -1, 0, null, 4, 4, -1]);
    await expectValues(col('i').clip(null, col('j')), 'int32', [2, -7, 0, null, -1, 0, -9]);
    await expectValues(col('f').clip(-2, 2), 'float64', [2, -1, Number.NaN, null, 2, -2, -0]);
    await expectValues(col('g').clip(0, null), 'float32', [1.5, Number.NaN, -0, null, Infinity, 0, 0]);
    await expectValues(col('l').clip(0n, 3n), 'int64', [3n, 0n, 0n, null, 3n, 3n, 0n]);
    // low above high gives high, as NumPy's clip does.
    await expectValues(col('i').clip(10, 1), 'int32', [1, 1, 1, null, 1, 1, 1]);
    // A literal bound of an integer input rounds inward (low up, high down) and saturates to the type's
    // range instead of overflowing its cast: clip(0.5, Infinity) is clip(1, no bound).
    await expectValues(col('i').clip(0.5, Infinity), 'int32', [7, 1, 1, null, MAX32, 5, 1]);
    await expectValues(col('i').clip(null, -2.5), 'int32', [-3, -7, -3, null, -3, -3, -9]);
    await expectValues(col('i').clip(-1e12, 1e12), 'int32', [7, -7, 0, null, MAX32, 5, -9]);
    await expectValues(col('i').clip(1e12, null), 'int32', [MAX32, MAX32, MAX32, null, MAX32, MAX32, MAX32]);
    await expectValues(col('i').clip(Number.NaN, -Infinity), 'int32', [MIN32, MIN32, MIN32, null, MIN32, MIN32, MIN32]);
    await expectValues(col('l').clip(-1e19, 2n ** 70n), 'int64', [7n, -7n, 0n, null, 2n ** 63n - 1n, 5n, -9n]);
  });
});

describe('null and NaN expressions', () => {
  it('isNan, isNotNan, isFinite and isInfinite on floats; null stays null', async () => {
    await expectValues(col('f').isNan(), 'bool', [false, false, true, null, false, false, false]);
    await expectValues(col('f').isNotNan(), 'bool', [true, true, false, null, true, true, true]);
    await expectValues(col('f').isFinite(), 'bool', [true, true, false, null, false, false, true]);
    await expectValues(col('g').isInfinite(), 'bool', [false, false, false, null, true, false, false]);
  });

  it('refuses the NaN tests on anything but floats, as Polars does', () => {
    for (const e of [col('i').isNan(), col('l').isFinite(), col('i').fillNan(0), lit('a').isInfinite(), col('i').sqrt().isNotNan().not().isNan()]) {
      assert.throws(() => frame.select({ x: e }), ExpressionTypeError);
    }
    assert.throws(() => frame.select({ x: lit('a').sqrt() }), ExpressionTypeError);
    assert.throws(() => frame.select({ x: col('i').clip('a', 1) }), ExpressionTypeError);
    assert.throws(() => frame.select({ x: col('i').floorDiv(true) }), ExpressionTypeError);
  });

  it('fillNull, fillNan and nullIf', async () => {
    await expectValues(col('i').fillNull(-1), 'int32', [7, -7, 0, -1, MAX32, 5, -9]);
    await expectValues(col('i').fillNull(0.5), 'float64', [7, -7, 0, 0.5, MAX32, 5, -9]);
    await expectValues(col('f').fillNull(col('g')), 'float64', [2.25, -1, Number.NaN, null, Infinity, -Infinity, -0]);
    await expectValues(col('f').fillNan(0), 'float64', [2.25, -1, 0, null, Infinity, -Infinity, -0]);
    await expectValues(col('g').fillNan(null), 'float32', [1.5, null, -0, null, Infinity, -2.5, 0]);
    await expectValues(col('i').nullIf(0), 'int32', [7, -7, null, null, MAX32, 5, -9]);
    await expectValues(col('i').nullIf(col('j').add(5)), 'int32', [null, -7, 0, null, MAX32, null, -9]);
    // NaN equals nothing, so nullIf(NaN) keeps NaN: fillNan(null) is the way to null it.
    await expectValues(col('f').nullIf(Number.NaN), 'float64', [2.25, -1, Number.NaN, null, Infinity, -Infinity, -0]);
  });

  it('explain() names the new expressions, and the WebGPU engine says why transcendentals stay on the CPU', { skip: noGpu }, async () => {
    const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    try {
      const q = frame.select({ r: col('f').sqrt(), c: col('i').clip(0, 5), s: col('g').sign() });
      const text = q.explain({ executor: gpu });
      assert.match(text, /sqrt\(/);
      assert.match(text, /not correctly rounded/);
      const rows = await q.collect({ executor: gpu });
      assert.deepEqual(rows, q.collectSync());
    } finally {
      await gpu.close();
    }
  });
});
