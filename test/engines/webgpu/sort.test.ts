import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { sortIndices } from '../../../src/engines/cpu/kernels/sort.js';
import { gpuSortIndices, gpuSortSupports, selectionPays } from '../../../src/engines/webgpu/kernels/sort.js';
import { createExecutor, DataFrameModel, type Frame } from '../../../src/index.js';
import { ResidentColumns } from '../../../src/engines/webgpu/resident.js';
import { allocShared, makeColumn, packBits } from '../../../src/model/column.js';
import type { Column, ColumnBatch } from '../../../src/model/types.js';
import type { SortKey } from '../../../src/plan/types.js';
import { prng } from '../../property/harness.js';
import { testGpu } from './device.js';

const { ctx, skip } = await testGpu();
const resident = ctx ? new ResidentColumns(ctx, 1 << 30) : null;
after(() => ctx?.destroy());

type KeyDType = 'int32' | 'float32' | 'bool' | 'utf8';

interface ColumnPlan {
  readonly dtype: KeyDType;
  /** Share of null rows (0 leaves the column without a validity bitmap). */
  readonly nullShare: number;
  /** Draw from a handful of values, so many rows tie. */
  readonly few: boolean;
  readonly dictionarySize: number;
}

/** Float bit patterns the sort must map specially: zeros of both signs, infinities, NaNs of every sign and payload, subnormals. */
const FLOAT_BITS = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffffffff, 0x00000001, 0x80000001, 0x3fc00000, 0xc0000000,
];
const INT_EDGES = [2147483647, -2147483648, 2147483646, -2147483647, 0, -1, 1];
// Out of order, with a repeated string (equal strings must tie) and strings whose UTF-16 and code point orders differ.
const STRINGS = ['mid', 'a', 'B', '', 'ｚ', '😀', 'a', 'ab', 'zz', 'ß'];

function randomColumn(plan: ColumnPlan, n: number, rand: () => number): Column {
  const validity = packBits(
    Array.from({ length: n }, () => (rand() < plan.nullShare ? 0 : 1)),
    n,
  );
  const pick = (count: number): number => Math.floor(rand() * count);
  switch (plan.dtype) {
    case 'int32': {
      const values = allocShared(Int32Array, n);
      for (let i = 0; i < n; i++) values[i] = plan.few ? pick(5) - 2 : rand() < 0.1 ? INT_EDGES[pick(INT_EDGES.length)]! : (rand() * 2 ** 32) | 0;
      return makeColumn('int32', n, values, validity);
    }
    case 'float32': {
      const values = allocShared(Float32Array, n);
      const bits = new Uint32Array(values.buffer, 0, n);
      for (let i = 0; i < n; i++) {
        if (plan.few || rand() < 0.3) bits[i] = FLOAT_BITS[pick(plan.few ? 6 : FLOAT_BITS.length)]!;
        else values[i] = (rand() - 0.5) * 10 ** pick(8);
      }
      return makeColumn('float32', n, values, validity);
    }
    case 'bool':
      return makeColumn(
        'bool',
        n,
        packBits(
          Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)),
          n,
        ),
        validity,
      );
    case 'utf8': {
      const dictionary = Array.from(
        { length: plan.dictionarySize },
        (_, k) => STRINGS[k % STRINGS.length]! + (k >= STRINGS.length ? String((k * 7919) % 1000) : ''),
      );
      const values = allocShared(Int32Array, n);
      // An empty dictionary only holds null rows; their codes are 0 then.
      for (let i = 0; i < n; i++) values[i] = dictionary.length === 0 ? 0 : pick(plan.few ? Math.min(3, dictionary.length) : dictionary.length);
      return makeColumn('utf8', n, values, dictionary.length === 0 ? packBits([], n) : validity, dictionary);
    }
  }
}

function randomBatch(plans: readonly ColumnPlan[], n: number, seed: number): ColumnBatch {
  const rand = prng(seed);
  return { length: n, names: plans.map((_, k) => `c${k}`), columns: plans.map((plan) => randomColumn(plan, n, rand)) };
}

async function sortOnDevice(batch: ColumnBatch, keys: readonly SortKey[], limit?: number): Promise<Int32Array> {
  assert.ok(gpuSortSupports(batch, keys, ctx!), 'the device sort should take these keys');
  return gpuSortIndices(ctx!, resident!, batch, keys, limit);
}

const columnPlan: fc.Arbitrary<ColumnPlan> = fc.record({
  dtype: fc.constantFrom<KeyDType>('int32', 'float32', 'bool', 'utf8'),
  nullShare: fc.constantFrom(0, 0.15, 0.9, 1),
  few: fc.boolean(),
  dictionarySize: fc.constantFrom(0, 1, 2, 10, 300),
});

// The tile is 1024 rows: sizes just around one and two tiles, and a few tiles, cross its edges.
const rowCount = fc.oneof(fc.constantFrom(0, 1, 2, 255, 256, 257, 1023, 1024, 1025, 2047, 2049, 4097), fc.integer({ min: 0, max: 3500 }));

/** Random column plans and 1–3 sort keys over them, for `n` rows. */
function scenario(rows: fc.Arbitrary<number>) {
  return fc.record({ plans: fc.array(columnPlan, { minLength: 1, maxLength: 3 }), n: rows, seed: fc.integer() }).chain(({ plans, n, seed }) =>
    fc.record({
      plans: fc.constant(plans),
      n: fc.constant(n),
      seed: fc.constant(seed),
      keys: fc.array(
        fc.record({ column: fc.integer({ min: 0, max: plans.length - 1 }).map((k) => `c${k}`), descending: fc.boolean(), nullsLast: fc.boolean() }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  );
}

test('the device sort gives the CPU sort order on random keys of every dtype', { skip }, async () => {
  await fc.assert(
    fc.asyncProperty(scenario(rowCount), async ({ plans, n, seed, keys }) => {
      const batch = randomBatch(plans, n, seed);
      assert.deepEqual(await sortOnDevice(batch, keys), sortIndices(batch, keys));
    }),
    { numRuns: 200 },
  );
});

// From 16 tiles of rows the selection narrows before sorting when at most an eighth of them is wanted.
const topRowCount = fc.oneof(rowCount, fc.constantFrom(16_383, 16_384, 16_385), fc.integer({ min: 16_384, max: 40_000 }));

/** Limits at the edges: none, one, a few, around the 1024-row tile, around an eighth of the rows, all and more. */
function limitFor(n: number): fc.Arbitrary<number> {
  const eighth = Math.floor(n / 8);
  return fc.oneof(
    fc.constantFrom(0, 1, 2, 1023, 1024, 1025, 2047, eighth, eighth + 1, n - 1, n, n + 7),
    fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 0, max: Math.max(0, eighth) }),
    fc.integer({ min: 0, max: n }),
  );
}

test('a limited device sort gives the first rows of the CPU sort order', { skip }, async () => {
  const limited = scenario(topRowCount).chain((s) => fc.record({ s: fc.constant(s), limit: limitFor(s.n) }));
  let selected = 0;
  await fc.assert(
    fc.asyncProperty(limited, async ({ s: { plans, n, seed, keys }, limit }) => {
      const batch = randomBatch(plans, n, seed);
      if (selectionPays(n, limit)) selected++;
      assert.deepEqual(await sortOnDevice(batch, keys, limit), sortIndices(batch, keys).subarray(0, Math.max(0, limit)));
    }),
    { numRuns: 250 },
  );
  // The property must have reached the selection, not only the full sort.
  assert.ok(selected >= 50, `only ${selected} runs took the selection`);
});

test('the selection keeps ties at the threshold in row order, across key words and when every row ties', { skip }, async () => {
  const n = 60_000;
  const rand = prng(5);
  // Word by word: a nullable bool and a 3-string key share the top word, an int with three values the
  // next, and a float the last, so the threshold falls inside each in turn.
  const flag = makeColumn(
    'bool',
    n,
    packBits(
      Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)),
      n,
    ),
    packBits(
      Array.from({ length: n }, () => (rand() < 0.1 ? 0 : 1)),
      n,
    ),
  );
  const codes = allocShared(Int32Array, n).map(() => Math.floor(rand() * 3));
  const name = makeColumn('utf8', n, codes, null, ['b', 'a', 'c']);
  const small = makeColumn(
    'int32',
    n,
    allocShared(Int32Array, n).map(() => Math.floor(rand() * 3) - 1),
    null,
  );
  const fine = allocShared(Float32Array, n).map(() => Math.fround(Math.floor(rand() * 50) / 7));
  const batch: ColumnBatch = { length: n, names: ['flag', 'name', 'small', 'fine'], columns: [flag, name, small, makeColumn('float32', n, fine, null)] };
  const keys: SortKey[] = [
    { column: 'flag', descending: true, nullsLast: false },
    { column: 'name', descending: false, nullsLast: false },
    { column: 'small', descending: true, nullsLast: false },
    { column: 'fine', descending: false, nullsLast: false },
  ];
  const expected = sortIndices(batch, keys);
  for (const limit of [1, 7, 300, 1024, 1500, 7000]) {
    assert.ok(selectionPays(n, limit));
    assert.deepEqual(await sortOnDevice(batch, keys, limit), expected.subarray(0, limit), `limit ${limit}`);
  }
  // Every row ties: the first rows in row order are the answer, whatever the direction.
  const same = makeColumn('int32', n, allocShared(Int32Array, n).fill(42), null);
  const tied: ColumnBatch = { length: n, names: ['same'], columns: [same] };
  for (const descending of [false, true]) {
    assert.deepEqual(
      [...(await sortOnDevice(tied, [{ column: 'same', descending, nullsLast: false }], 100))],
      Array.from({ length: 100 }, (_, i) => i),
    );
  }
});

test('the selection runs only where it pays, in extra round trips, and returns every buffer it used', { skip }, async () => {
  const n = 40_000;
  const batch = randomBatch(
    [
      { dtype: 'int32', nullShare: 0.1, few: false, dictionarySize: 0 },
      { dtype: 'utf8', nullShare: 0, few: false, dictionarySize: 300 },
    ],
    n,
    3,
  );
  const keys: SortKey[] = [
    { column: 'c1', descending: true, nullsLast: false },
    { column: 'c0', descending: false, nullsLast: true },
  ];
  const expected = sortIndices(batch, keys);
  const submitsFor = async (limit: number): Promise<number> => {
    const before = ctx!.counters.submits;
    assert.deepEqual(await sortOnDevice(batch, keys, limit), expected.subarray(0, limit));
    return ctx!.counters.submits - before;
  };
  // The full sort is one submit and one read; the selection adds a count and a read per round.
  assert.equal(await submitsFor(n / 4), 2);
  assert.ok((await submitsFor(10)) > 2);
  const created = ctx!.counters.buffersCreated;
  await submitsFor(10);
  assert.equal(ctx!.counters.buffersCreated, created, 'a repeated top-k took all its buffers from the pool');
  assert.equal(selectionPays(1000, 10), false, 'a small input is sorted whole');
});

test('floats order as -Inf < -0 = 0 < +Inf < NaN with nulls placed by nullsLast in both directions', { skip }, async () => {
  const cells = [Number.NaN, 1, -0, null, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, 0];
  const values = allocShared(Float32Array, cells.length);
  cells.forEach((v, i) => (values[i] = v ?? 0));
  // A NaN with the sign bit set must still sort with the other NaNs.
  new Uint32Array(values.buffer, 0, cells.length)[7] = 0xffc00000;
  const column = makeColumn(
    'float32',
    cells.length,
    values,
    packBits(
      cells.map((v) => (v === null ? 0 : 1)),
      cells.length,
    ),
  );
  const batch: ColumnBatch = { length: cells.length, names: ['x'], columns: [column] };
  const ascending = await sortOnDevice(batch, [{ column: 'x', descending: false, nullsLast: false }]);
  assert.deepEqual([...ascending], [3, 5, 2, 4, 8, 1, 6, 0, 7]);
  const descending = await sortOnDevice(batch, [{ column: 'x', descending: true, nullsLast: true }]);
  assert.deepEqual([...descending], [0, 7, 6, 1, 2, 4, 8, 5, 3]);
});

test('300k rows over three keys give the CPU sort order', { skip }, async () => {
  const n = 300_000;
  const batch = randomBatch(
    [
      { dtype: 'utf8', nullShare: 0.1, few: false, dictionarySize: 300 },
      { dtype: 'float32', nullShare: 0, few: true, dictionarySize: 0 },
      { dtype: 'int32', nullShare: 0.05, few: false, dictionarySize: 0 },
    ],
    n,
    20240611,
  );
  const keys: SortKey[] = [
    { column: 'c0', descending: false, nullsLast: true },
    { column: 'c1', descending: true, nullsLast: false },
    { column: 'c2', descending: false, nullsLast: false },
  ];
  assert.deepEqual(await sortOnDevice(batch, keys), sortIndices(batch, keys));
});

test('a repeated sort takes every buffer from the pool: the first one returned all it used', { skip }, async () => {
  const batch = randomBatch(
    [
      { dtype: 'utf8', nullShare: 0.2, few: false, dictionarySize: 10 },
      { dtype: 'float32', nullShare: 0, few: false, dictionarySize: 0 },
    ],
    3000,
    11,
  );
  const keys: SortKey[] = [
    { column: 'c0', descending: true, nullsLast: false },
    { column: 'c1', descending: false, nullsLast: false },
  ];
  const first = await sortOnDevice(batch, keys);
  const created = ctx!.counters.buffersCreated;
  assert.deepEqual(await sortOnDevice(batch, keys), first);
  assert.equal(ctx!.counters.buffersCreated, created);
});

test('unknown key columns throw as the CPU sort does; other dtypes and oversized columns are not taken', { skip }, async () => {
  const batch = randomBatch([{ dtype: 'int32', nullShare: 0, few: false, dictionarySize: 0 }], 5000, 7);
  const keys: SortKey[] = [{ column: 'c0', descending: false, nullsLast: false }];
  assert.ok(gpuSortSupports(batch, keys, ctx!));
  const missing: SortKey[] = [{ column: 'nope', descending: false, nullsLast: false }];
  assert.equal(gpuSortSupports(batch, missing, ctx!), false);
  await assert.rejects(gpuSortIndices(ctx!, resident!, batch, missing), { code: 'unknown_column' });
  const wide: ColumnBatch = { length: 3, names: ['w'], columns: [makeColumn('float64', 3, allocShared(Float64Array, 3), null)] };
  assert.equal(gpuSortSupports(wide, [{ column: 'w', descending: false, nullsLast: false }], ctx!), false);
  // 5000 rows take 20000 bytes per row buffer: past a 16 KiB binding.
  const small = await testGpu({ maxBindingBytes: 16 * 1024 });
  try {
    assert.equal(gpuSortSupports(batch, keys, small.ctx!), false);
    assert.ok(gpuSortSupports(randomBatch([{ dtype: 'int32', nullShare: 0, few: false, dictionarySize: 0 }], 4000, 7), keys, small.ctx!));
  } finally {
    small.ctx?.destroy();
  }
});

describe('sort then head on the WebGPU engine', { skip }, () => {
  const Model = DataFrameModel({ region: z.enum(['north', 'south', 'east', 'west']), units: z.int32().nullable(), price: z.float32(), wide: z.float64() });
  const rows = 20_000;
  const rand = prng(99);
  const frame = Model.fromColumns({
    region: Array.from({ length: rows }, () => (['north', 'south', 'east', 'west'] as const)[Math.floor(rand() * 4)]!),
    units: Array.from({ length: rows }, () => (rand() < 0.1 ? null : Math.floor(rand() * 40))),
    price: Array.from({ length: rows }, () => (rand() < 0.01 ? -0 : Math.fround(Math.floor(rand() * 500) / 4 - 20))),
    wide: Array.from({ length: rows }, () => rand()),
  });
  type Sales = typeof frame;
  const cpu = createExecutor({ backend: 'cpu', maxWorkers: 0 });
  const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
  after(async () => {
    await Promise.all([cpu.close(), gpu.close()]);
  });

  const cases: readonly { readonly name: string; readonly query: (f: Sales) => Frame; readonly slice: 'webgpu' | 'cpu' }[] = [
    {
      name: 'head of a two-key sort with ties and nulls (top-k)',
      query: (f) => f.sort(['region', 'units'], { descending: [false, true], nullsLast: true }).head(25),
      slice: 'webgpu',
    },
    { name: 'a slice past the start of a float sort (top-k)', query: (f) => f.sort('price', { descending: true }).slice(300, 40), slice: 'webgpu' },
    { name: 'a head too long for the selection (whole sort)', query: (f) => f.sort('units').head(9000), slice: 'webgpu' },
    { name: 'a float64 key the device does not sort', query: (f) => f.sort('wide').head(10), slice: 'cpu' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const query = c.query(frame);
      const want = await query.collect({ executor: cpu });
      assert.deepEqual(await query.collect({ executor: gpu }), want);
      const lines = (await query.explainAnalyze({ executor: gpu })).split('\n').map((line) => line.trim());
      assert.ok(lines.find((line) => line.startsWith('Slice'))?.includes(`[${c.slice} `), lines.join('\n'));
      assert.ok(lines.find((line) => line.startsWith('Sort'))?.endsWith('[fused into parent]'), lines.join('\n'));
    });
  }
});
