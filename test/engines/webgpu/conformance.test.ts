// One table of cases run on both engines over the same data: results must agree exactly for integers,
// booleans, strings and row order, and within the documented bound for float sums. Each case also
// names the operator that must have run on the device, so a silent CPU fallback cannot pass as agreement.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { coalesce, col, createExecutor, DataFrameModel, lit, when, type Frame } from '../../../src/index.js';
import { prng } from '../../property/harness.js';
import { gpuSkip } from './device.js';

const skip = await gpuSkip();

const Sales = DataFrameModel({
  region: z.enum(['north', 'south', 'east', 'west']),
  city: z.string(),
  store: z.int32(),
  units: z.int32().nullable(),
  price: z.float32(),
  discount: z.float32().nullable(),
  promo: z.boolean(),
  big: z.int32(),
});

const ROWS = 50_000;
const rand = prng(20261124);
const cities = Array.from({ length: 300 }, (_, k) => `city-${(k * 7919) % 1000}`);
const data = {
  region: [] as ('north' | 'south' | 'east' | 'west')[],
  city: [] as string[],
  store: [] as number[],
  units: [] as (number | null)[],
  price: [] as number[],
  discount: [] as (number | null)[],
  promo: [] as boolean[],
  big: [] as number[],
};
for (let i = 0; i < ROWS; i++) {
  data.region.push((['north', 'south', 'east', 'west'] as const)[Math.floor(rand() * 4)]!);
  data.city.push(cities[Math.floor(rand() * cities.length)]!);
  data.store.push(Math.floor(rand() * 5000) - 2500);
  data.units.push(rand() < 0.1 ? null : Math.floor(rand() * 200) - 50);
  data.price.push(Math.fround(rand() * 1000 - 100));
  data.discount.push(rand() < 0.2 ? null : rand() < 0.01 ? -0 : Math.fround(rand()));
  data.promo.push(rand() < 0.3);
  data.big.push(Math.floor(rand() * 2 ** 31) * (rand() < 0.5 ? -1 : 1));
}
const sales = Sales.fromColumns(data);
type SalesFrame = typeof sales;

interface Case {
  readonly name: string;
  readonly query: (f: SalesFrame) => Frame;
  /** The operator (explain line prefix) that must run on the device. */
  readonly onGpu: string;
  /** Columns compared with the float-sum bound instead of exactly. */
  readonly floatSums?: readonly string[];
  /** Hash group-by needs its input in one binding: with chunked columns it runs on the CPU. */
  readonly wholeColumnsOnly?: boolean;
}

const cases: readonly Case[] = [
  { name: 'filter on ints and enums', query: (f) => f.filter(col('units').gt(100).and(col('region').eq('east'))), onGpu: 'Filter' },
  { name: 'Kleene logic over nulls', query: (f) => f.filter(col('units').gt(10).or(col('discount').lt(0.5))), onGpu: 'Filter' },
  {
    name: 'projection with when, coalesce, casts and string functions',
    query: (f) =>
      f
        .withColumns({
          label: when(col('promo')).then(col('city').upper()).otherwise(col('region')),
          qty: coalesce(col('units'), lit(0)).mul(3).sub(col('store')),
          net: col('price').mul(lit(1).sub(coalesce(col('discount'), lit(0)))),
          long: col('city').length().gt(7),
        })
        .select('label', 'qty', 'net', 'long'),
    onGpu: 'Project',
  },
  {
    name: 'filter then projection, fused',
    query: (f) =>
      f
        .filter(col('city').startsWith('city-1'))
        .withColumns({ x: col('store').abs() })
        .select('city', 'x', 'promo'),
    onGpu: 'Project',
  },
  {
    name: 'group-by on a dictionary key, every device aggregation',
    query: (f) =>
      f.groupBy('region').agg({
        n: col('units').count(),
        rows: col('store').first(),
        total: col('units').sum(),
        mean: col('units').mean(),
        lo: col('store').min(),
        hi: col('price').max(),
        city: col('city').min(),
        spend: col('price').sum(),
        spread: col('units').std(),
        v: col('units').var(),
        last: col('city').last(),
      }),
    onGpu: 'Aggregate',
    floatSums: ['spend', 'spread', 'v'],
  },
  {
    name: 'group-by on two dense keys with a filter fused in',
    query: (f) =>
      f
        .filter(col('price').gt(0))
        .groupBy('region', 'promo')
        .agg({ s: col('big').sum(), m: col('price').mean() }),
    onGpu: 'Aggregate',
    floatSums: ['m'],
  },
  {
    name: 'group-by on a high-cardinality int key (hash table)',
    query: (f) => f.groupBy('store').agg({ s: col('units').sum(), c: col('units').count(), p: col('price').sum() }),
    onGpu: 'Aggregate',
    floatSums: ['p'],
    wholeColumnsOnly: true,
  },
  {
    name: 'group-by on string and float keys (hash table, -0 grouping with 0)',
    query: (f) => f.groupBy('city', 'discount').agg({ c: col('store').count() }),
    onGpu: 'Aggregate',
    wholeColumnsOnly: true,
  },
  {
    name: 'whole-frame reduction',
    query: (f) => f.groupBy().agg({ s: col('big').sum(), n: col('units').count(), mx: col('discount').max(), v: col('store').var() }),
    onGpu: 'Aggregate',
    floatSums: ['v'],
  },
  {
    name: 'sum that passes 2^53 stays exact',
    query: (f) =>
      f
        .withColumns({ b: col('big').abs() })
        .groupBy('promo')
        .agg({ s: col('b').sum() }),
    onGpu: 'Aggregate',
  },
];

/** Float sums on the device: |gpu − cpu| ≤ 2^-20 · Σ|x| (docs: README, "Numbers on the GPU"); here checked on the result scale. */
function closeFloat(gpu: number, cpu: number): boolean {
  if (Number.isNaN(cpu)) return Number.isNaN(gpu);
  return Math.abs(gpu - cpu) <= 2 ** -20 * Math.max(1, Math.abs(cpu));
}

function compareRows(gpu: readonly Record<string, unknown>[], cpu: readonly Record<string, unknown>[], floats: readonly string[], label: string): void {
  assert.equal(gpu.length, cpu.length, `${label}: row count`);
  cpu.forEach((row, i) => {
    for (const [key, want] of Object.entries(row)) {
      const got = gpu[i]![key];
      if (floats.includes(key) && typeof want === 'number')
        assert.ok(typeof got === 'number' && closeFloat(got, want), `${label}: row ${i} ${key}: ${String(got)} vs ${want}`);
      else assert.deepEqual(got, want, `${label}: row ${i} ${key}`);
    }
  });
}

describe('the WebGPU engine agrees with the CPU engine', { skip }, () => {
  const cpu = createExecutor({ backend: 'cpu', maxWorkers: 0 });
  // 64 KiB bindings: 16,384 rows a chunk, so these 50,000 rows cross chunk boundaries.
  const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { maxBindingBytes: 65536 } });
  const whole = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
  after(async () => {
    await Promise.all([cpu.close(), gpu.close(), whole.close()]);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const query = c.query(sales);
      const want = await query.collect({ executor: cpu });
      for (const [name, executor] of [
        ['chunked', gpu],
        ['whole columns', whole],
      ] as const) {
        const explained = await query.explainAnalyze({ executor });
        const line = explained.split('\n').find((l) => l.trimStart().startsWith(c.onGpu));
        const expected = name === 'chunked' && c.wholeColumnsOnly ? '[cpu' : '[webgpu';
        assert.ok(line?.includes(expected), `${c.name} (${name}): ${c.onGpu} should show ${expected}:\n${explained}`);
        compareRows(await query.collect({ executor }), want, c.floatSums ?? [], `${c.name} (${name})`);
      }
    });
  }

  test('a repeated query reads resident columns: nothing is uploaded twice', async () => {
    const query = sales.groupBy('region').agg({ s: col('units').sum() });
    await query.collect({ executor: whole });
    const before = whole.stats().gpu!.resident;
    const pipelines = whole.stats().gpu!.pipelines;
    await query.collect({ executor: whole });
    const afterStats = whole.stats().gpu!.resident;
    assert.equal(afterStats.uploads, before.uploads);
    assert.ok(afterStats.hits > before.hits);
    assert.equal(whole.stats().gpu!.pipelines, pipelines, 'the pipeline came from the cache');
  });
});

describe('device-produced columns', { skip }, () => {
  test('a filter output stays on the device: sorting it afterwards uploads nothing new', async () => {
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    const cpu = createExecutor({ backend: 'cpu', maxWorkers: 0 });
    try {
      const filtered = sales.filter(col('units').gt(50)).select('store', 'units');
      const query = filtered.sort('store');
      const want = await query.collect({ executor: cpu });
      assert.deepEqual(await query.collect({ executor }), want);
      const explained = await query.explainAnalyze({ executor });
      assert.match(explained, /^Sort store \[webgpu/m);
      // The source columns were uploaded once for the filter; the sort read the filter's own output.
      const { uploads } = executor.stats().gpu!.resident;
      assert.equal(uploads, 2, `uploads: ${uploads}`);
    } finally {
      await Promise.all([executor.close(), cpu.close()]);
    }
  });
});

describe('float min and max keep the first of equal zeros, as the CPU does', { skip }, () => {
  test('-0 and 0 tie: the first one in row order is the answer', async () => {
    const Zeros = DataFrameModel({ g: z.int32(), x: z.float32() });
    const frame = Zeros.fromColumns({ g: [1, 1, 2, 2, 3, 3, 3, 4, 4], x: [-0, 0, 0, -0, 5, -0, 0, 0, -0] });
    const query = frame.groupBy('g').agg({ lo: col('x').min(), hi: col('x').max() });
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    const cpu = createExecutor({ backend: 'cpu', maxWorkers: 0 });
    try {
      const want = [
        { g: 1, lo: -0, hi: -0 },
        { g: 2, lo: 0, hi: 0 },
        { g: 3, lo: -0, hi: 5 },
        { g: 4, lo: 0, hi: 0 },
      ];
      assert.deepEqual(await query.collect({ executor: cpu }), want);
      assert.deepEqual(await query.collect({ executor }), want);
      assert.match(await query.explainAnalyze({ executor }), /^Aggregate .*\[webgpu/m);
    } finally {
      await Promise.all([executor.close(), cpu.close()]);
    }
  });
});
