// Backend selection, device loss and memory limits of the executor's WebGPU engine.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { BackendUnavailableError, col, createExecutor, DataFrameModel, GpuMemoryError } from '../../../src/index.js';
import { allocShared, makeColumn } from '../../../src/model/column.js';
import { ResidentColumns } from '../../../src/engines/webgpu/resident.js';
import { testGpu } from './device.js';

const { ctx, skip } = await testGpu();
after(() => ctx?.destroy());

const Model = DataFrameModel({ k: z.enum(['x', 'y', 'z']), a: z.int32(), b: z.int32().nullable(), c: z.float32() });
const N = 20_000;
const frame = Model.fromColumns({
  k: Array.from({ length: N }, (_, i) => (['x', 'y', 'z'] as const)[(i * 31) % 3]!),
  a: Array.from({ length: N }, (_, i) => (i * 7) % 1001),
  b: Array.from({ length: N }, (_, i) => (i % 9 === 0 ? null : i % 50)),
  c: Array.from({ length: N }, (_, i) => Math.fround(i / 7)),
});
const query = (column: 'a' | 'b' | 'c') =>
  frame
    .filter(col('a').gt(10))
    .groupBy('k')
    .agg({ s: col(column).sum(), n: col(column).count() });
const cpu = createExecutor({ backend: 'cpu', maxWorkers: 0 });
after(() => cpu.close());
const expected = await query('a').collect({ executor: cpu });

/** Where the group-by ran, from explainAnalyze. */
async function engineOf(run: () => Promise<string>): Promise<string> {
  const line = (await run()).split('\n').find((l) => l.startsWith('Aggregate'))!;
  return /\[(\w+) [\d.]+ ms\]$/.exec(line)![1]!;
}

describe('without an adapter', () => {
  // Dawn has no D3D12 backend on Linux, so this asks for an adapter that cannot exist.
  const noAdapter = { dawn: { options: ['backend=d3d12'] }, handoffRows: 0 };

  test("'auto' runs on the CPU and says why", async () => {
    const executor = createExecutor({ backend: 'auto', maxWorkers: 0, gpu: noAdapter });
    try {
      assert.deepEqual(await query('a').collect({ executor }), expected);
      assert.equal(await engineOf(() => query('a').explainAnalyze({ executor })), 'cpu');
      assert.equal(executor.stats().gpu, null);
      assert.match(executor.stats().gpuUnavailable ?? '', /no WebGPU adapter/);
    } finally {
      await executor.close();
    }
  });

  test("'webgpu' fails clearly, with a 503", async () => {
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: noAdapter });
    try {
      await assert.rejects(
        query('a').collect({ executor }),
        (error: unknown) => error instanceof BackendUnavailableError && error.status === 503 && /no device: no WebGPU adapter/.test(error.message),
      );
      await assert.rejects(executor.warmUp(), BackendUnavailableError);
    } finally {
      await executor.close();
    }
  });
});

describe('with an adapter', { skip }, () => {
  test("'auto' leaves work below the hand-off size, and all work on a software adapter, to the CPU", async () => {
    const small = createExecutor({ backend: 'auto', maxWorkers: 0, gpu: { handoffRows: N + 1 } });
    const software = createExecutor({ backend: 'auto', maxWorkers: 0, gpu: { handoffRows: 0 } });
    const defaults = createExecutor({ backend: 'auto', maxWorkers: 0 });
    try {
      assert.equal(await engineOf(() => query('a').explainAnalyze({ executor: small })), 'cpu');
      assert.equal(await engineOf(() => query('a').explainAnalyze({ executor: software })), 'webgpu');
      const adapter = await defaults.warmUp();
      if (adapter?.architecture === 'software') assert.equal(await engineOf(() => query('a').explainAnalyze({ executor: defaults })), 'cpu');
    } finally {
      await Promise.all([small.close(), software.close(), defaults.close()]);
    }
  });

  test('a device lost between queries: the next query falls back to the CPU, then a new device is acquired', async () => {
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { reacquireDelayMs: 20 } });
    try {
      assert.deepEqual(await query('a').collect({ executor }), expected);
      executor.gpuDevice()!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(await query('a').collect({ executor }), expected);
      assert.equal(executor.stats().deviceLosses, 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await engineOf(() => query('a').explainAnalyze({ executor })), 'webgpu');
      assert.deepEqual(await query('a').collect({ executor }), expected);
      assert.notEqual(executor.stats().gpu, null);
    } finally {
      await executor.close();
    }
  });

  test('a device lost at any point of a query does not lose or corrupt its result', async () => {
    // Larger input so that the upload and kernel take long enough for the loss to land inside them at
    // some of these delays; whichever phase it hits, the result must be the CPU's.
    const rows = 400_000;
    const big = Model.fromColumns({
      k: Array.from({ length: rows }, (_, i) => (['x', 'y', 'z'] as const)[i % 3]!),
      a: Array.from({ length: rows }, (_, i) => i % 1000),
      b: Array.from({ length: rows }, () => null),
      c: Array.from({ length: rows }, (_, i) => Math.fround(i / 3)),
    });
    const bigQuery = big.groupBy('k').agg({ s: col('a').sum(), m: col('c').max() });
    const want = await bigQuery.collect({ executor: cpu });
    for (const delay of [0, 1, 5, 20, 50]) {
      const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { reacquireDelayMs: 60_000 } });
      try {
        await executor.warmUp();
        const running = bigQuery.collect({ executor });
        await new Promise((resolve) => setTimeout(resolve, delay));
        executor.gpuDevice()?.destroy();
        assert.deepEqual(await running, want, `lost after ${delay} ms`);
        assert.deepEqual(await bigQuery.collect({ executor }), want, `the query after the loss (${delay} ms)`);
        assert.equal(executor.stats().deviceLosses, 1);
      } finally {
        await executor.close();
      }
    }
  });

  test("columns over the memory budget: 'webgpu' refuses with GpuMemoryError (507), 'auto' runs them on the CPU", async () => {
    const strict = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { memoryBudget: 1024 } });
    const auto = createExecutor({ backend: 'auto', maxWorkers: 0, gpu: { memoryBudget: 1024, handoffRows: 0 } });
    try {
      await assert.rejects(
        query('a').collect({ executor: strict }),
        (error: unknown) => error instanceof GpuMemoryError && error.status === 507 && error.code === 'gpu_memory_exhausted',
      );
      assert.deepEqual(await query('a').collect({ executor: auto }), expected);
      assert.equal(await engineOf(() => query('a').explainAnalyze({ executor: auto })), 'cpu');
    } finally {
      await Promise.all([strict.close(), auto.close()]);
    }
  });

  test('the least recently used columns leave the device when the budget is reached', async () => {
    // Room for the key and two value columns (N int32 each), not three.
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { memoryBudget: N * 4 * 3 + 4096 } });
    try {
      for (const column of ['a', 'b', 'c'] as const) {
        assert.deepEqual(await query(column).collect({ executor }), await query(column).collect({ executor: cpu }));
      }
      const stats = executor.stats().gpu!.resident;
      assert.ok(stats.evictions >= 1, `evictions: ${stats.evictions}`);
      assert.ok(stats.bytes <= stats.budget);
    } finally {
      await executor.close();
    }
  });
});

describe('ResidentColumns', { skip }, () => {
  const column = (n: number, seed: number) =>
    makeColumn(
      'int32',
      n,
      allocShared(Int32Array, n).map((_, i) => i * seed),
      null,
    );

  test('pinned columns are never evicted: a query that needs more than the budget is refused', () => {
    const resident = new ResidentColumns(ctx!, 3000);
    const one = column(500, 1);
    const two = column(500, 2);
    resident.pin(one);
    assert.throws(() => resident.pin(two), GpuMemoryError);
    resident.unpin(one);
    resident.pin(two);
    assert.equal(resident.has(one), false, 'the unpinned column made room');
    assert.deepEqual({ uploads: resident.stats().uploads, evictions: resident.stats().evictions }, { uploads: 2, evictions: 1 });
  });

  test('eviction takes the least recently used first', () => {
    const resident = new ResidentColumns(ctx!, 4100);
    const [a, b, c] = [column(500, 1), column(500, 2), column(500, 3)];
    for (const x of [a, b]) {
      resident.pin(x);
      resident.unpin(x);
    }
    resident.pin(a);
    resident.unpin(a);
    resident.pin(c);
    assert.deepEqual([resident.has(a), resident.has(b), resident.has(c)], [true, false, true]);
  });

  test('a column larger than the whole budget is refused at once', () => {
    const resident = new ResidentColumns(ctx!, 100);
    assert.throws(() => resident.pin(column(1000, 1)), /exceeds the device memory budget/);
  });
});
