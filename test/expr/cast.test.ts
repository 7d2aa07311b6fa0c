// cast(to, { strict }): a strict cast raises where the value does not fit its target, a non-strict one gives
// null there and leaves every other value as the strict cast would; the WebGPU engine declares non-strict
// casts CPU-only and explain() says so.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { ArithmeticOverflowError, col, createExecutor, DataFrameModel, InvalidArgumentError } from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 8 });
after(() => pool.close());
const noGpu = await gpuSkip();

class Wide extends DataFrameModel({ x: z.bigint().nullable(), f: z.float64().nullable() }) {}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const fitsInt32 = (v: bigint): boolean => v >= INT32_MIN && v <= INT32_MAX;

describe('cast strictness', () => {
  it('a non-strict int64 -> int32 cast is null exactly where the value is out of range, on a worker pool', async () => {
    const value = fc.oneof(fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), fc.bigInt({ min: -(2n ** 31n) - 4n, max: -(2n ** 31n) + 4n }), fc.constant(null));
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 60 }), async (xs) => {
        const frame = Wide.fromColumns({ x: xs, f: xs.map(() => null) });
        const out = await frame.select({ y: col('x').cast('int32', { strict: false }) }).collect({ executor: pool });
        assert.deepEqual(
          out.map((r) => r.y),
          xs.map((v) => (v === null || !fitsInt32(v) ? null : Number(v))),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('the strict cast of the same values raises ArithmeticOverflowError when one does not fit', async () => {
    const frame = Wide.fromColumns({ x: [1n, 2n ** 31n, null], f: [null, null, null] });
    await assert.rejects(frame.select({ y: col('x').cast('int32') }).collect({ executor: pool }), ArithmeticOverflowError);
    assert.throws(() => frame.select({ y: col('x').cast('int32', { strict: true }) }).collectSync(), ArithmeticOverflowError);
  });

  it('non-strict float -> int64 gives null for NaN, ±Infinity and values past 2^63', () => {
    const f = [1.9, Number.NaN, Infinity, -Infinity, 2 ** 63, -(2 ** 63), -2.5, null];
    const out = Wide.fromColumns({ x: f.map(() => null), f }, { trustedMode: 'shape_only' })
      .select({ y: col('f').cast('int64', { strict: false }) })
      .collectSync();
    assert.deepEqual(
      out.map((r) => r.y),
      [1n, null, null, null, null, -(2n ** 63n), -2n, null],
    );
  });

  it('refuses an unknown option, a non-boolean strict and parameters the dtype does not take', () => {
    assert.throws(() => col('x').cast('int32', { strict: 'no' } as never), InvalidArgumentError);
    assert.throws(() => col('x').cast('int32', { strictly: true } as never), InvalidArgumentError);
    assert.throws(() => col('x').cast({ dtype: 'int32', scale: 2 } as never), InvalidArgumentError);
  });

  it('the WebGPU engine runs a non-strict cast on the CPU and explain() says why', { skip: noGpu }, async () => {
    class Small extends DataFrameModel({ f: z.float32() }) {}
    const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    try {
      const frame = Small.fromColumns({ f: [1.5, 3e9, -7.25] }).select({ y: col('f').cast('int32', { strict: false }) });
      assert.match(frame.explain({ executor: gpu }), /non-strict cast/);
      assert.deepEqual(await frame.collect({ executor: gpu }), [{ y: 1 }, { y: null }, { y: -7 }]);
    } finally {
      await gpu.close();
    }
  });
});
