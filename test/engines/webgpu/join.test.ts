// gpuHashJoin against the CPU engine's hashJoin, which is the specification: same pairs, same order.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { hashJoin } from '../../../src/engines/cpu/kernels/join.js';
import { gpuHashJoin, gpuJoinSupports } from '../../../src/engines/webgpu/kernels/join.js';
import { ResidentColumns } from '../../../src/engines/webgpu/resident.js';
import { allocShared, makeColumn, packBits } from '../../../src/model/column.js';
import type { Column, DType } from '../../../src/model/types.js';
import type { JoinHow } from '../../../src/plan/types.js';
import { buildColumn, columnArbitrary } from '../cpu/kernels/kernel-helpers.js';
import { testGpu } from './device.js';

const { ctx, skip } = await testGpu();
// A second device whose bindings are capped, so the output is written and read in several chunks.
const small = await testGpu({ maxBindingBytes: 1 << 16 });
after(() => {
  ctx?.destroy();
  small.ctx?.destroy();
});

const HOWS: readonly JoinHow[] = ['inner', 'left', 'semi', 'anti'];
const KEY_DTYPES: readonly DType[] = ['int32', 'float32', 'bool', 'utf8'];

async function assertSameAsCpu(
  gpu: NonNullable<typeof ctx>,
  resident: ResidentColumns,
  left: readonly Column[],
  right: readonly Column[],
  how: JoinHow,
): Promise<void> {
  const want = hashJoin(left, right, how);
  const got = await gpuHashJoin(gpu, resident, left, right, how);
  assert.deepEqual(got.leftRows, want.leftRows, `${how}: left rows`);
  assert.deepEqual(got.rightRows, want.rightRows, `${how}: right rows`);
}

/** 1–2 key columns per side, of equal dtypes, each side with its own nulls, duplicates and dictionary. */
const joinCase = fc
  .record({
    dtypes: fc.array(fc.constantFrom(...KEY_DTYPES), { minLength: 1, maxLength: 2 }),
    leftLength: fc.nat({ max: 120 }),
    rightLength: fc.nat({ max: 120 }),
  })
  .chain(({ dtypes, leftLength, rightLength }) =>
    fc.record({
      left: fc.tuple(...dtypes.map((d) => columnArbitrary(d, leftLength))),
      right: fc.tuple(...dtypes.map((d) => columnArbitrary(d, rightLength))),
    }),
  );

test('gpuHashJoin returns the CPU join for every how, key dtype, null pattern and dictionary', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  await fc.assert(
    fc.asyncProperty(joinCase, async ({ left, right }) => {
      const leftKeys = left.map((c) => c.column);
      const rightKeys = right.map((c) => c.column);
      assert.ok(gpuJoinSupports(leftKeys, rightKeys, ctx!));
      for (const how of HOWS) await assertSameAsCpu(ctx!, resident, leftKeys, rightKeys, how);
    }),
    { numRuns: 150 },
  );
});

test('float keys: -0 meets 0, NaN meets NaN whatever its bits, nulls meet nothing', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const left = [buildColumn('float32', [0, -0, NaN, NaN, null, 1.5, 2])];
  const right = [buildColumn('float32', [NaN, -0, null, 1.5, 0, NaN])];
  const inner = await gpuHashJoin(ctx!, resident, left, right, 'inner');
  assert.deepEqual(Array.from(inner.leftRows), [0, 0, 1, 1, 2, 2, 3, 3, 5]);
  assert.deepEqual(Array.from(inner.rightRows!), [1, 4, 1, 4, 0, 5, 0, 5, 3]);
  assert.deepEqual(Array.from((await gpuHashJoin(ctx!, resident, left, right, 'anti')).leftRows), [4, 6]);
});

test('strings match by value across dictionaries, and a string the left lacks matches nothing', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const left = [buildColumn('utf8', ['a', 'b', 'c', null], ['c', 'b', 'a'])];
  const right = [buildColumn('utf8', ['z', 'b', 'a', 'b', null], ['b', 'z', 'a'])];
  const joined = await gpuHashJoin(ctx!, resident, left, right, 'left');
  assert.deepEqual(Array.from(joined.leftRows), [0, 1, 1, 2, 3]);
  assert.deepEqual(Array.from(joined.rightRows!), [2, 1, 3, -1, -1]);
});

test('empty sides: nothing to match, or nothing to look up', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const some = [buildColumn('int32', [1, null, 2])];
  const none = [buildColumn('int32', [])];
  for (const how of HOWS) {
    await assertSameAsCpu(ctx!, resident, some, none, how);
    await assertSameAsCpu(ctx!, resident, none, some, how);
    await assertSameAsCpu(ctx!, resident, none, none, how);
  }
  assert.deepEqual(Array.from((await gpuHashJoin(ctx!, resident, some, none, 'left')).rightRows!), [-1, -1, -1]);
});

test('a column joined with itself pins and releases it once per use', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const keys = [buildColumn('int32', [3, 1, 3, null, 1, 3])];
  const joined = await gpuHashJoin(ctx!, resident, keys, keys, 'inner');
  assert.deepEqual(Array.from(joined.leftRows), [0, 0, 0, 1, 1, 2, 2, 2, 4, 4, 5, 5, 5]);
  assert.deepEqual(Array.from(joined.rightRows!), [0, 2, 5, 1, 4, 0, 2, 5, 1, 4, 0, 2, 5]);
  resident.clear();
  assert.equal(resident.stats().columns, 0, 'a column left pinned would stay resident');
});

/** Random int32 keys in [0, range) with every `nullEvery`-th row null (none when 0). */
function intColumn(length: number, range: number, seed: number, nullEvery: number): Column {
  const values = allocShared(Int32Array, length);
  // mulberry32: an LCG's low bits repeat with short periods, which would correlate the keys with row order.
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) % range;
  }
  const validity =
    nullEvery === 0
      ? null
      : packBits(
          Array.from({ length }, (_, i) => (i % nullEvery === 0 ? 0 : 1)),
          length,
        );
  return makeColumn('int32', length, values, validity);
}

/** utf8 keys over `dictionary`, row i taking code (i * stride) mod its size. */
function stringColumn(length: number, dictionary: readonly string[], stride: number): Column {
  const codes = allocShared(Int32Array, length);
  for (let i = 0; i < length; i++) codes[i] = (i * stride) % dictionary.length;
  return makeColumn('utf8', length, codes, null, dictionary);
}

test('a 200k × 50k join on two keys with duplicates and nulls matches the CPU', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const left = [intColumn(200_000, 6_000, 1, 97), stringColumn(200_000, ['x', 'y', 'z', 'w'], 7)];
  const right = [intColumn(50_000, 6_000, 2, 0), stringColumn(50_000, ['w', 'v', 'x', 'y'], 3)];
  for (const how of HOWS) await assertSameAsCpu(ctx!, resident, left, right, how);
  const inner = hashJoin(left, right, 'inner');
  assert.ok(inner.leftRows.length > 100_000, `the case should produce many pairs, got ${inner.leftRows.length}`);
});

test('output larger than one binding is written in chunks', { skip: small.skip }, async () => {
  const gpu = small.ctx!;
  const resident = new ResidentColumns(gpu, 1 << 30);
  // 8 keys: each left row meets about 250 right rows, so the inner join has about 500k pairs.
  const left = [intColumn(2_000, 8, 3, 0)];
  const right = [intColumn(2_000, 8, 4, 0)];
  assert.ok(hashJoin(left, right, 'inner').leftRows.length * 4 > 4 * (1 << 16), 'the output must span several bindings');
  for (const how of HOWS) await assertSameAsCpu(gpu, resident, left, right, how);
});

test('a join of more than 2^31 - 1 rows is refused as on the CPU, also when the count wraps 32 bits', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  // 65536 × 65537 pairs of one key: 2^32 + 65536, whose low word alone would look small.
  const left = [intColumn(65_536, 1, 8, 0)];
  const right = [intColumn(65_537, 1, 9, 0)];
  const refused = { name: 'RangeError', message: `join would produce ${2 ** 32 + 65_536} rows, more than ${2 ** 31 - 1}` };
  assert.throws(() => hashJoin(left, right, 'inner'), refused);
  await assert.rejects(gpuHashJoin(ctx!, resident, left, right, 'inner'), refused);
});

test('repeated joins reuse pooled buffers instead of allocating new ones', { skip }, async () => {
  const resident = new ResidentColumns(ctx!, 1 << 30);
  const left = [
    intColumn(5_000, 500, 5, 13),
    buildColumn(
      'bool',
      Array.from({ length: 5_000 }, (_, i) => i % 3 === 0),
    ),
  ];
  const right = [
    intColumn(3_000, 500, 6, 11),
    buildColumn(
      'bool',
      Array.from({ length: 3_000 }, (_, i) => i % 5 === 0),
    ),
  ];
  await gpuHashJoin(ctx!, resident, left, right, 'left');
  const created = ctx!.counters.buffersCreated;
  await gpuHashJoin(ctx!, resident, left, right, 'left');
  assert.equal(ctx!.counters.buffersCreated, created);
});

test('gpuJoinSupports takes equal 32-bit dtypes within the binding size, and nothing else', { skip }, () => {
  const ints = [buildColumn('int32', [1, 2])];
  assert.equal(gpuJoinSupports(ints, [buildColumn('int64', [1n, 2n])], ctx!), false);
  assert.equal(gpuJoinSupports([buildColumn('float64', [1])], [buildColumn('float64', [1])], ctx!), false);
  assert.equal(gpuJoinSupports(ints, [buildColumn('float32', [1])], ctx!), false);
  assert.equal(gpuJoinSupports([], [], ctx!), false);
  assert.equal(gpuJoinSupports(ints, [...ints, ...ints], ctx!), false);
  assert.equal(gpuJoinSupports(ints, [buildColumn('int32', [1])], ctx!), true);
  // 10k right rows need a 16k-element pair array of 128 KiB: more than the capped device's 64 KiB bindings.
  assert.equal(gpuJoinSupports(ints, [intColumn(10_000, 10, 7, 0)], small.ctx!), false);
});
