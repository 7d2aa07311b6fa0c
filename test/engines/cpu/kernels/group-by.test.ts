// The CPU group-by's mechanics against references: packed hash keys (the packing chosen, and distinct tuples
// through packed words across many morsels against the unpacked key table), the partitioned merge of many
// groups, the distinct-key estimate that picks morsel sizes, and the ordering of groups by first row.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { firstRowsWork, runSync } from '../../../../src/engines/cpu/engine.js';
import { groupsByFirstRow } from '../../../../src/engines/shared/group-by-finalize.js';
import { chooseGroupMode, estimateDistinct, groupByMorselRows, hashWidth, HIGH_CARDINALITY_MORSEL, packHashKeys } from '../../../../src/engines/shared/group-mode.js';
import { groupRows } from '../../../../src/engines/shared/key-table.js';
import { col, countRows, createExecutor, DataFrameModel } from '../../../../src/index.js';
import type { Column, ColumnBatch, DType } from '../../../../src/model/types.js';
import { buildColumn, dictionaryFor, testBatch, type Cell, type TestColumn } from './kernel-helpers.js';

const mapOf = (batch: ColumnBatch): Map<string, Column> => new Map(batch.names.map((n, k) => [n, batch.columns[k]!]));

function column(dtype: DType, cells: readonly Cell[]): TestColumn {
  return { dtype, cells, column: buildColumn(dtype, cells, dictionaryFor(cells, [], 0)) };
}

/** An int32 column spanning [min, max] (both present) with values in between. */
const intSpan = (min: number, max: number, rows: number): TestColumn => column('int32', Array.from({ length: rows }, (_, i) => (i === 0 ? min : i === 1 ? max : min + ((i * 7919) % (max - min + 1)))));

describe('packHashKeys', () => {
  it('packs the six db-benchmark ids into two words, each word below 2^32', () => {
    const rows = 1000;
    const labels = (n: number): string[] => Array.from({ length: rows }, (_, i) => `id${i % n}`);
    // id3's dictionary holds N/K = 100,000 labels, as at 1e7 rows.
    const id3Cells = labels(1000);
    const id3: TestColumn = { dtype: 'utf8', cells: id3Cells, column: buildColumn('utf8', id3Cells, Array.from({ length: 100_000 }, (_, i) => `id${i}`)) };
    const batch = testBatch([column('utf8', labels(100)), column('utf8', labels(100)), id3, intSpan(1, 100, rows), intSpan(1, 100, rows), intSpan(1, 100_000, rows)]);
    const mode = packHashKeys(mapOf(batch), chooseGroupMode(mapOf(batch), batch.names, hashWidth(mapOf(batch), batch.names)));
    assert.equal(mode.kind, 'hash');
    assert.ok(mode.kind === 'hash' && mode.packed);
    assert.equal(mode.width, 2);
    assert.deepEqual(mode.packed.map((word) => word.map((k) => k.name)), [['c0', 'c1', 'c2'], ['c3', 'c4', 'c5']]);
    for (const word of mode.packed) assert.ok(word.reduce((product, k) => product * k.size, 1) <= 2 ** 32);
  });

  it('leaves keys unpacked when a domain needs more than a word or a key has no dense domain', () => {
    const wide = testBatch([column('int32', [-(2 ** 31), 2 ** 31 - 1, null]), column('int32', [0, 1, 2])]);
    const floats = testBatch([column('float64', [0.5, 1.5, 2.5]), column('int32', [0, 70_000, 2])]);
    for (const batch of [wide, floats]) {
      const hash = { kind: 'hash' as const, keys: batch.names, width: hashWidth(mapOf(batch), batch.names) };
      assert.deepEqual(packHashKeys(mapOf(batch), hash), hash);
    }
  });
});

/** Key columns of int32 (narrow, wide or full-range), utf8 and bool, any of them nullable. */
function keyColumn(rows: number): fc.Arbitrary<TestColumn> {
  const ints = (min: number, max: number): fc.Arbitrary<Cell> => fc.integer({ min, max });
  const kinds: fc.Arbitrary<{ dtype: DType; cell: fc.Arbitrary<Cell> }> = fc.constantFrom(
    { dtype: 'int32' as DType, cell: ints(-5, 5) },
    { dtype: 'int32' as DType, cell: fc.oneof(ints(-40_000, -39_990), ints(40_000, 40_010)) },
    { dtype: 'int32' as DType, cell: fc.oneof(ints(-(2 ** 31), -(2 ** 31) + 3), ints(2 ** 31 - 4, 2 ** 31 - 1)) },
    { dtype: 'utf8' as DType, cell: fc.constantFrom('a', 'b', 'c', 'é', '') },
    { dtype: 'bool' as DType, cell: fc.boolean() },
  );
  return fc.tuple(kinds, fc.boolean(), fc.integer()).chain(([{ dtype, cell }, nullable, seed]) =>
    fc.array(nullable ? fc.option(cell, { nil: null, freq: 4 }) : cell, { minLength: rows, maxLength: rows }).map((cells) => ({ dtype, cells, column: buildColumn(dtype, cells, dictionaryFor(cells, ['zz'], seed)) })),
  );
}

describe('group-by over packed keys', () => {
  it('finds the same distinct tuples, first rows in order, as the unpacked key table, over many morsels', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((rows) => fc.tuple(fc.array(keyColumn(rows), { minLength: 2, maxLength: 5 }), fc.constantFrom(4, 16, 64))),
        ([columns, morselRows]) => {
          const batch = testBatch(columns);
          const expected = Array.from(groupRows(batch.columns.map((c) => ({ column: c })), batch.length).firstRow);
          const actual = Array.from(runSync(firstRowsWork(batch, batch.names, { pool: null, inlineThreshold: Infinity, morselRows })));
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});

class Keyed extends DataFrameModel({ a: z.int32(), b: z.int32().nullable(), v: z.int32() }) {}

describe('group-by with many groups (partitioned merge)', () => {
  // 300,000 rows over about 260,000 key pairs in 19 morsels: more than 2^18 partial groups in all, so
  // partials merge partition by partition. Sums are of small integers and exact in any order.
  const rows = 300_000;
  let state = 0x9e3779b9;
  // An LCG's low bits repeat quickly: its top 20 bits only.
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 12;
  };
  const a = Array.from({ length: rows }, () => next() % 1000);
  const b = Array.from({ length: rows }, () => (next() % 1000 === 0 ? null : next() % 1000) as number | null);
  const v = Array.from({ length: rows }, () => next() % 7);
  const batch = testBatch([column('int32', a), column('int32', b)]);

  it('finds every distinct key tuple at its first row, as the unpacked key table does', () => {
    const expected = groupRows(batch.columns.map((c) => ({ column: c })), rows).firstRow;
    assert.ok(expected.length > 250_000);
    const actual = runSync(firstRowsWork(batch, batch.names, { pool: null, inlineThreshold: Infinity, morselRows: 1 << 14 }));
    assert.deepEqual(actual, expected);
  });

  it('sums and counts every group exactly, groups in first-appearance order, inline and on two workers', async () => {
    const reference = new Map<string, { a: number; b: number | null; sum: number; count: number }>();
    for (let i = 0; i < rows; i++) {
      const key = `${a[i]}|${b[i]}`;
      const group = reference.get(key) ?? { a: a[i]!, b: b[i]!, sum: 0, count: 0 };
      group.sum += v[i]!;
      group.count++;
      reference.set(key, group);
    }
    const frame = Keyed.fromColumns({ a, b, v }, { trustedMode: 'shape_only' });
    const query = frame.groupBy('a', 'b').agg({ sum: col('v').sum(), count: countRows() });
    const expected = [...reference.values()].map((g) => ({ a: g.a, b: g.b, sum: BigInt(g.sum), count: g.count }));
    await using executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 1 << 14 });
    for (const out of [query.collectSync(), await query.collect({ executor })]) {
      assert.equal(out.length, expected.length);
      assert.deepEqual(out, expected);
    }
  });
});

describe('estimateDistinct and groupByMorselRows', () => {
  const ints = (length: number, f: (i: number) => number | null): TestColumn => column('int32', Array.from({ length }, (_, i) => f(i)));

  it('estimates distinct keys from a sample: mostly distinct, and a thousand groups in a million rows', () => {
    const rows = 1_000_000;
    const distinct = testBatch([ints(rows, (i) => (i * 7919) % rows)]);
    const thousand = testBatch([ints(rows, (i) => ((i * 2654435761) >>> 7) % 1000), ints(rows, (i) => (i % 3 === 0 ? null : 1))]);
    assert.ok(estimateDistinct(mapOf(distinct), distinct.names, rows) >= rows / 4);
    const few = estimateDistinct(mapOf(thousand), thousand.names, rows);
    // 1,000 values × (null, 1): about 2,000 tuples, every one seen several times in the sample.
    assert.ok(few >= 1900 && few <= 2100, `estimate ${few}`);
  });

  it('picks small morsels only for mostly distinct hash keys, and never over an explicit morselRows', () => {
    const rows = 1_000_000;
    const distinct = testBatch([ints(rows, (i) => i), ints(rows, (i) => i % 5)]);
    const hash = packHashKeys(mapOf(distinct), chooseGroupMode(mapOf(distinct), distinct.names, hashWidth(mapOf(distinct), distinct.names)));
    assert.equal(hash.kind, 'hash');
    assert.equal(groupByMorselRows(mapOf(distinct), hash, rows, undefined), HIGH_CARDINALITY_MORSEL);
    assert.equal(groupByMorselRows(mapOf(distinct), hash, rows, 4096), 4096);
    const repeated = testBatch([ints(rows, (i) => (i % 10_000) * 1000), ints(rows, (i) => i % 5)]);
    const fewGroups = chooseGroupMode(mapOf(repeated), repeated.names, hashWidth(mapOf(repeated), repeated.names));
    assert.equal(fewGroups.kind, 'hash');
    assert.equal(groupByMorselRows(mapOf(repeated), fewGroups, rows, undefined), undefined);
    const dense = chooseGroupMode(mapOf(repeated), ['c1'], 1);
    assert.equal(groupByMorselRows(mapOf(repeated), dense, rows, undefined), undefined);
  });
});

describe('groupsByFirstRow', () => {
  it('orders the groups that saw a row by that row, across both of its methods and any row range', () => {
    fc.assert(
      fc.property(
        // Short lengths take the row-indexed table (8 or more rows per group is the sort), long ones the sort.
        fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).chain((length) =>
          fc.tuple(fc.constant(length), fc.uniqueArray(fc.integer({ min: 0, max: Math.min(length, 2 ** 31) - 1 }), { maxLength: Math.min(length, 400) }), fc.array(fc.boolean(), { maxLength: 400 }), fc.boolean()),
        ),
        ([length, rows, absent, sorted]) => {
          // Some ids saw no row (-1), as in a dense partial; hash group-bys come already in first-row order.
          if (sorted) rows.sort((a, b) => a - b);
          const firstRow = Int32Array.from(rows, (row, g) => (absent[g] && !sorted ? -1 : row));
          const expected = [...firstRow.keys()].filter((g) => firstRow[g]! >= 0).sort((a, b) => firstRow[a]! - firstRow[b]!);
          assert.deepEqual(Array.from(groupsByFirstRow(firstRow, firstRow.length, length)), expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
