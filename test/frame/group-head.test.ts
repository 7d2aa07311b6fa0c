// groupBy(...).head(n) through the public API: db-benchmark's q8 (the largest two v3 per id6) on data
// worked out by hand, plain per-group heads with null, NaN and multi-column keys, every way of running a
// frame, and the WebGPU engine handing the step to the CPU.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { col, createExecutor, DataFrameModel } from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';

const X = DataFrameModel({ id6: z.int32().nullable(), v3: z.float64().nullable(), tag: z.string() });
const x = X.fromColumns({
  id6: [3, 1, 3, 2, 1, 3, 2, 1, null, 3, null, 2],
  v3: [1.5, null, 9, 4, 7, 9, null, 7, 2, 0.5, 8, 3],
  tag: 'abcdefghijkl'.split(''),
});
const q8 = x.select('id6', 'v3').filter(col('v3').isNotNull()).sort('v3', { descending: true }).groupBy('id6').head(2);
// The largest two v3 per id6, ties in row order, listed as the sort lists them; null id6 is a group.
const q8Rows = [
  { id6: 3, v3: 9 },
  { id6: 3, v3: 9 },
  { id6: null, v3: 8 },
  { id6: 1, v3: 7 },
  { id6: 1, v3: 7 },
  { id6: 2, v3: 4 },
  { id6: 2, v3: 3 },
  { id6: null, v3: 2 },
];

const skip = await gpuSkip();
const pool = createExecutor({ backend: 'cpu', maxWorkers: 2, inlineThreshold: 0 });
after(() => pool.close());

describe('groupBy(...).head(n)', () => {
  it("answers q8 like DuckDB's row_number() over (partition by id6 order by v3 desc) <= 2", async () => {
    assert.deepEqual(q8.collectSync(), q8Rows);
    assert.deepEqual(await q8.collect(), q8Rows);
    assert.deepEqual(await q8.collect({ executor: pool }), q8Rows);
    assert.deepEqual(await q8.toColumns(), { id6: q8Rows.map((r) => r.id6), v3: q8Rows.map((r) => r.v3) });
    const batches = [];
    for await (const batch of q8.stream({ batchSize: 3 })) batches.push(batch.numRows);
    assert.deepEqual(batches, [3, 3, 2]);
  });

  it('runs q8 as one per-group top-n over the filtered source, with no sort of every row', async () => {
    assert.deepEqual(q8.explain().split('\n'), [
      'GroupHead keys=[id6] n=2 top by v3 desc [cpu]',
      '  Filter isNotNull(v3) [cpu]',
      '    Source Model [id6, v3] rows=12 [cpu]',
    ]);
    assert.match(await q8.explainAnalyze({ executor: pool }), /^GroupHead keys=\[id6\] n=2 top by v3 desc \[cpu [\d.]+ ms\]$/m);
  });

  it('keeps the first n rows of each group in row order, every column, five by default', () => {
    assert.deepEqual(
      x
        .groupBy('id6')
        .head(2)
        .collectSync()
        .map((r) => r.tag),
      ['a', 'b', 'c', 'd', 'e', 'g', 'i', 'k'],
    );
    assert.deepEqual(x.groupBy('id6').head(1).columns, ['id6', 'v3', 'tag']);
    assert.equal(x.groupBy('id6').head().collectSync().length, 12);
    assert.deepEqual(x.groupBy('id6').head(0).collectSync(), []);
  });

  it('groups NaN with NaN and -0 with 0, per column of a multi-column key', () => {
    const K = DataFrameModel({ f: z.float32(), s: z.string().nullable(), n: z.int32() });
    const k = K.fromColumns(
      { f: [NaN, -0, 0, NaN, 1, NaN, 0], s: ['x', 'x', 'x', 'x', 'y', null, 'x'], n: [0, 1, 2, 3, 4, 5, 6] },
      { trustedMode: 'shape_only' },
    );
    assert.deepEqual(
      k
        .groupBy('f', 's')
        .head(1)
        .collectSync()
        .map((r) => r.n),
      [0, 1, 4, 5],
    );
    assert.deepEqual(
      k
        .sort('n', { descending: true })
        .groupBy('f', 's')
        .head(1)
        .collectSync()
        .map((r) => r.n),
      [6, 5, 4, 3],
    );
  });
});

describe('groupBy(...).head(n) on the WebGPU engine', () => {
  it('runs the step on the CPU and says so in explainAnalyze', { skip }, async () => {
    const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    try {
      assert.deepEqual(await q8.collect({ executor: gpu }), q8Rows);
      const analyzed = (await q8.explainAnalyze({ executor: gpu })).split('\n');
      assert.match(analyzed[0]!, /^GroupHead keys=\[id6\] n=2 top by v3 desc \[cpu [\d.]+ ms\]$/);
      const plain = x.sort('tag').groupBy('id6').head(1);
      assert.deepEqual(
        (await plain.collect({ executor: gpu })).map((r) => r.tag),
        ['a', 'b', 'd', 'i'],
      );
    } finally {
      await gpu.close();
    }
  });
});
