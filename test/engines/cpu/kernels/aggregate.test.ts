// The CPU group-by's mechanics against references: distinct tuples through packed hash words across many
// morsels against the unpacked key table, and the partitioned merge of many groups. The mode choice and
// the ordering of groups by first row are tested with engines/shared.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { firstRowsWork } from '../../../../src/engines/cpu/ops/unique.js';
import { runSync } from '../../../../src/engines/cpu/work.js';
import { groupRows } from '../../../../src/engines/shared/key-table.js';
import { col, countRows, createExecutor, DataFrameModel } from '../../../../src/index.js';
import type { DType } from '../../../../src/model/types.js';
import { buildColumn, dictionaryFor, testBatch, type Cell, type TestColumn } from './kernel-helpers.js';

function column(dtype: DType, cells: readonly Cell[]): TestColumn {
  return { dtype, cells, column: buildColumn(dtype, cells, dictionaryFor(cells, [], 0)) };
}

/** Key columns of int32 (narrow, wide or full-range), utf8 and bool, any of them nullable. */
function keyColumn(rows: number): fc.Arbitrary<TestColumn> {
  const ints = (min: number, max: number): fc.Arbitrary<Cell> => fc.integer({ min, max });
  const kinds: fc.Arbitrary<{ dtype: DType; cell: fc.Arbitrary<Cell> }> = fc.constantFrom(
    { dtype: 'int32', cell: ints(-5, 5) },
    { dtype: 'int32', cell: fc.oneof(ints(-40_000, -39_990), ints(40_000, 40_010)) },
    { dtype: 'int32', cell: fc.oneof(ints(-(2 ** 31), -(2 ** 31) + 3), ints(2 ** 31 - 4, 2 ** 31 - 1)) },
    { dtype: 'utf8', cell: fc.constantFrom('a', 'b', 'c', 'é', '') },
    { dtype: 'bool', cell: fc.boolean() },
  );
  return fc
    .tuple(kinds, fc.boolean(), fc.integer())
    .chain(([{ dtype, cell }, nullable, seed]) =>
      fc
        .array(nullable ? fc.option(cell, { nil: null, freq: 4 }) : cell, { minLength: rows, maxLength: rows })
        .map((cells) => ({ dtype, cells, column: buildColumn(dtype, cells, dictionaryFor(cells, ['zz'], seed)) })),
    );
}

describe('group-by over packed keys', () => {
  it('finds the same distinct tuples, first rows in order, as the unpacked key table, over many morsels', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((rows) => fc.tuple(fc.array(keyColumn(rows), { minLength: 2, maxLength: 5 }), fc.constantFrom(4, 16, 64))),
        ([columns, morselRows]) => {
          const batch = testBatch(columns);
          const expected = Array.from(
            groupRows(
              batch.columns.map((c) => ({ column: c })),
              batch.length,
            ).firstRow,
          );
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
  const b = Array.from({ length: rows }, () => (next() % 1000 === 0 ? null : next() % 1000));
  const v = Array.from({ length: rows }, () => next() % 7);
  const batch = testBatch([column('int32', a), column('int32', b)]);

  it('finds every distinct key tuple at its first row, as the unpacked key table does', () => {
    const expected = groupRows(
      batch.columns.map((c) => ({ column: c })),
      rows,
    ).firstRow;
    assert.ok(expected.length > 250_000);
    const actual = runSync(firstRowsWork(batch, batch.names, { pool: null, inlineThreshold: Infinity, morselRows: 1 << 14 }));
    assert.deepEqual(actual, expected);
  });

  it('sums and counts every group exactly, groups in first-appearance order, inline and on two workers', async () => {
    const reference = new Map<string, { a: number; b: number | null; sum: number; count: number }>();
    for (let i = 0; i < rows; i++) {
      const key = `${String(a[i])}|${String(b[i])}`;
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
