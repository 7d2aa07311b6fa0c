// groupHeadIndices and groupIds against references: group ids equal the key table's for every dtype,
// and the per-group top-n equals a stable reference sort followed by a per-group head.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { groupHeadIndices, groupIds } from '../../../../src/engines/cpu/kernels/group-head.js';
import { groupRows } from '../../../../src/engines/shared/key-table.js';
import type { ColumnBatch, DType } from '../../../../src/model/types.js';
import type { SortKey } from '../../../../src/plan/types.js';
import {
  buildColumn,
  cellArbitrary,
  cellIdentity,
  columnArbitrary,
  dictionaryFor,
  DTYPES,
  referenceOrder,
  sortKey,
  testBatch,
  type Cell,
  type TestColumn,
} from './kernel-helpers.js';

/** The first n rows of each group met walking `rows`, groups by cell identity (NaN = NaN, -0 = 0). */
function referenceHead(columns: readonly TestColumn[], keys: readonly number[], n: number, rows: readonly number[]): number[] {
  const taken = new Map<string, number>();
  return rows.filter((row) => {
    const id = keys.map((k) => cellIdentity(columns[k]!.cells[row]!)).join('|');
    const before = taken.get(id) ?? 0;
    taken.set(id, before + 1);
    return before < n;
  });
}

/** A column whose cells come from a pool of at most `poolSize` values (plus nulls), so groups repeat. */
function lowColumn(dtype: DType, length: number, poolSize: number): fc.Arbitrary<TestColumn> {
  return fc
    .record({ pool: fc.array(cellArbitrary(dtype), { minLength: 1, maxLength: poolSize }), nullable: fc.boolean(), seed: fc.integer() })
    .chain(({ pool, nullable, seed }) =>
      fc
        .array(nullable ? fc.option(fc.constantFrom(...pool), { nil: null, freq: 5 }) : fc.constantFrom(...pool), { minLength: length, maxLength: length })
        .map((cells) => ({
          dtype,
          cells,
          column: buildColumn(dtype, cells, dictionaryFor(cells, [], seed)),
        })),
    );
}

/** Key columns first (low cardinality or not), then value columns of any dtype; sort keys over all of them. */
function headCase(maxLength: number, lowKeys: boolean) {
  return fc
    .record({
      length: fc.nat({ max: maxLength }),
      keyTypes: fc.array(fc.constantFrom(...DTYPES), { minLength: 0, maxLength: 3 }),
      valueTypes: fc.array(fc.constantFrom(...DTYPES), { minLength: 1, maxLength: 2 }),
    })
    .chain(({ length, keyTypes, valueTypes }) =>
      fc.record({
        length: fc.constant(length),
        keyCount: fc.constant(keyTypes.length),
        columns: fc.tuple(
          ...keyTypes.map((d) => (lowKeys ? lowColumn(d, length, 4) : columnArbitrary(d, length))),
          ...valueTypes.map((d) => columnArbitrary(d, length)),
        ),
        order: fc.array(sortKey(keyTypes.length + valueTypes.length), { minLength: 0, maxLength: 3 }),
        n: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4, max: 50 })),
        // A filter's kept rows (in row order), or any order of any subset.
        selection: fc.option(fc.oneof(fc.subarray(Array.from({ length }, (_, i) => i)), fc.shuffledSubarray(Array.from({ length }, (_, i) => i))), {
          nil: undefined,
        }),
      }),
    );
}

describe('groupIds', () => {
  it('gives the key table ids for every dtype, dense codes or not, over all rows or a selection', () => {
    fc.assert(
      fc.property(
        fc
          .record({ length: fc.nat({ max: 80 }), dtypes: fc.array(fc.constantFrom(...DTYPES), { minLength: 0, maxLength: 3 }), low: fc.boolean() })
          .chain(({ length, dtypes, low }) =>
            fc.record({
              length: fc.constant(length),
              columns: fc.tuple(...dtypes.map((d) => (low ? lowColumn(d, length, 5) : columnArbitrary(d, length)))),
              selection: fc.option(fc.shuffledSubarray(Array.from({ length }, (_, i) => i)), { nil: undefined }),
            }),
          ),
        ({ length, columns, selection }) => {
          const batch = testBatch(columns, length);
          const keys = batch.names;
          const rows = selection === undefined ? undefined : Int32Array.from(selection);
          const expected = groupRows(
            columns.map((c) => ({ column: c.column })),
            length,
            rows,
          );
          const actual = groupIds(batch, keys, rows ?? null);
          assert.deepEqual(Array.from(actual.ids), Array.from(expected.ids));
          assert.equal(actual.groups, expected.groups);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('groups a wide int32 domain (past the dense limit) through the key table', () => {
    const cells = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? -(2 ** 31) : i % 3 === 1 ? 2 ** 31 - 1 : i % 7));
    const column = buildColumn('int32', cells);
    const { ids, groups } = groupIds({ length: cells.length, names: ['k'], columns: [column] }, ['k'], null);
    assert.deepEqual(Array.from(ids), Array.from(groupRows([{ column }], cells.length).ids));
    assert.equal(groups, 2 + 7);
  });
});

describe('groupHeadIndices', () => {
  let topPathRuns = 0;
  type Case = { length: number; keyCount: number; columns: TestColumn[]; order: SortKey[]; n: number; selection: number[] | undefined };
  const check = ({ length, keyCount, columns, order, n, selection }: Case): void => {
    const batch = testBatch(columns, length);
    const keyIndexes = Array.from({ length: keyCount }, (_, k) => k);
    const actual = groupHeadIndices(
      batch,
      keyIndexes.map((k) => `c${k}`),
      n,
      order,
      selection === undefined ? null : Int32Array.from(selection),
    );
    const taking = selection ?? Array.from({ length }, (_, i) => i);
    const rows = order.length === 0 ? taking : referenceOrder(columns, order, taking);
    assert.deepEqual(Array.from(actual), referenceHead(columns, keyIndexes, n, rows));
    const groups = new Set(taking.map((row) => keyIndexes.map((k) => cellIdentity(columns[k]!.cells[row]!)).join('|'))).size;
    if (order.length > 0 && n > 0 && groups * n * 2 <= taking.length) topPathRuns++;
  };

  it('equals a stable sort then a per-group head, for every dtype of key and sort key', () => {
    fc.assert(fc.property(headCase(120, false), check), { numRuns: 400 });
  });

  it('equals it where groups are few, so the per-group heaps decide (ties, nulls and NaN in the sort keys)', () => {
    topPathRuns = 0;
    fc.assert(fc.property(headCase(300, true), check), { numRuns: 400 });
    // About a third of these runs have few enough groups for the heaps rather than a full sort.
    assert.ok(topPathRuns > 80, `only ${topPathRuns} runs took the per-group heaps`);
  });

  it('keeps the first two per group by a descending float, ties by row, NaN first, in sorted order', () => {
    const key = buildColumn('int32', [1, 2, 1, 1, 2, 3, 1, 2, 2, 1, 1, 2]);
    const value = buildColumn('float64', [5, 1, 7, 7, 9, NaN, 6, -0, 0, NaN, 7, 9]);
    const batch: ColumnBatch = { length: 12, names: ['k', 'v'], columns: [key, value] };
    const top = groupHeadIndices(batch, ['k'], 2, [{ column: 'v', descending: true, nullsLast: false }], null);
    // Group 1: NaN (9), then 7 at rows 2, 3 and 10 (row 2 wins the tie); group 2: 9 at rows 4 and 11; group 3: NaN (5).
    assert.deepEqual(Array.from(top), [5, 9, 4, 11, 2]);
    assert.deepEqual(Array.from(groupHeadIndices(batch, ['k'], 2, [], null)), [0, 1, 2, 4, 5]);
  });

  it('groups null keys together and NaN keys together, whatever their payload, and -0 with 0', () => {
    const key = buildColumn('float64', [NaN, 0, null, NaN, -0, null, NaN, 0]);
    const batch: ColumnBatch = { length: 8, names: ['k'], columns: [key] };
    assert.deepEqual(Array.from(groupHeadIndices(batch, ['k'], 2, [], null)), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(groupHeadIndices(batch, ['k'], 1, [], null)), [0, 1, 2]);
  });

  it('returns nothing for n = 0 or no rows, and every row when n covers every group', () => {
    const batch: ColumnBatch = { length: 3, names: ['k'], columns: [buildColumn('utf8', ['a', 'b', 'a'], ['b', 'a'])] };
    assert.deepEqual(Array.from(groupHeadIndices(batch, ['k'], 0, [], null)), []);
    assert.deepEqual(Array.from(groupHeadIndices({ length: 0, names: ['k'], columns: [buildColumn('int32', [])] }, ['k'], 3, [], null)), []);
    assert.deepEqual(Array.from(groupHeadIndices(batch, ['k'], 5, [{ column: 'k', descending: false, nullsLast: false }], null)), [0, 2, 1]);
    assert.deepEqual(Array.from(groupHeadIndices(batch, [], 2, [], null)), [0, 1]);
  });

  it('agrees with the reference over 20,000 rows in 2,000 groups (dense codes and key-table ids)', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 4294967296;
    };
    const length = 20_000;
    const ints: Cell[] = Array.from({ length }, () => (random() < 0.02 ? null : Math.floor(random() * 2000)));
    const wide: Cell[] = ints.map((v) => (v === null ? null : BigInt(v) * 2n ** 40n));
    const values: Cell[] = Array.from({ length }, () => (random() < 0.05 ? null : Math.round(random() * 50) / 2));
    const columns: TestColumn[] = [
      { dtype: 'int32', cells: ints, column: buildColumn('int32', ints) },
      { dtype: 'int64', cells: wide, column: buildColumn('int64', wide) },
      { dtype: 'float64', cells: values, column: buildColumn('float64', values) },
    ];
    const order: SortKey[] = [{ column: 'c2', descending: true, nullsLast: true }];
    for (const keys of [[0], [1]]) {
      const all = Array.from({ length }, (_, i) => i);
      const actual = groupHeadIndices(
        testBatch(columns, length),
        keys.map((k) => `c${k}`),
        3,
        order,
        null,
      );
      assert.deepEqual(Array.from(actual), referenceHead(columns, keys, 3, referenceOrder(columns, order, all)));
      // A filter's selection: every third row dropped.
      const kept = all.filter((row) => row % 3 !== 0);
      const selected = groupHeadIndices(
        testBatch(columns, length),
        keys.map((k) => `c${k}`),
        3,
        order,
        Int32Array.from(kept),
      );
      assert.deepEqual(Array.from(selected), referenceHead(columns, keys, 3, referenceOrder(columns, order, kept)));
    }
  });
});
