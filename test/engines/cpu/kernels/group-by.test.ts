// Packed hash keys in the CPU group-by: the packing chosen for key domains, and distinct key tuples found
// through packed words (across many morsels) against the unpacked key table's grouping.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { firstRowsWork, runSync } from '../../../../src/engines/cpu/engine.js';
import { chooseGroupMode, hashWidth, packHashKeys } from '../../../../src/engines/cpu/kernels/group-by.js';
import { groupRows } from '../../../../src/engines/cpu/kernels/key-table.js';
import type { Column, ColumnBatch, DType } from '../../../../src/model/types.js';
import { buildColumn, dictionaryFor, type Cell, type TestColumn } from './kernel-helpers.js';

const batchOf = (columns: readonly TestColumn[]): ColumnBatch => ({ length: columns[0]!.cells.length, names: columns.map((_, c) => `c${c}`), columns: columns.map((c) => c.column) });
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
    const batch = batchOf([column('utf8', labels(100)), column('utf8', labels(100)), id3, intSpan(1, 100, rows), intSpan(1, 100, rows), intSpan(1, 100_000, rows)]);
    const mode = packHashKeys(mapOf(batch), chooseGroupMode(mapOf(batch), batch.names, hashWidth(mapOf(batch), batch.names)));
    assert.equal(mode.kind, 'hash');
    assert.ok(mode.kind === 'hash' && mode.packed);
    assert.equal(mode.width, 2);
    assert.deepEqual(mode.packed.map((word) => word.map((k) => k.name)), [['c0', 'c1', 'c2'], ['c3', 'c4', 'c5']]);
    for (const word of mode.packed) assert.ok(word.reduce((product, k) => product * k.size, 1) <= 2 ** 32);
  });

  it('leaves keys unpacked when a domain needs more than a word or a key has no dense domain', () => {
    const wide = batchOf([column('int32', [-(2 ** 31), 2 ** 31 - 1, null]), column('int32', [0, 1, 2])]);
    const floats = batchOf([column('float64', [0.5, 1.5, 2.5]), column('int32', [0, 70_000, 2])]);
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
          const batch = batchOf(columns);
          const expected = Array.from(groupRows(batch.columns.map((c) => ({ column: c })), batch.length).firstRow);
          const actual = Array.from(runSync(firstRowsWork(batch, batch.names, { pool: null, inlineThreshold: Infinity, morselRows })));
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: 400 },
    );
  });
});
