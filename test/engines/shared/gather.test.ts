// gatherColumn, gatherBatch, sliceBatch and concatBatches against plain array operations on JS cells.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { concatBatches, gatherBatch, gatherColumn, sliceBatch } from '../../../src/engines/shared/gather.js';
import { ExecutionError } from '../../../src/errors.js';
import { countNulls } from '../../../src/model/column.js';
import type { Column, ColumnBatch, DType } from '../../../src/model/types.js';
import { buildColumn, cellsOf, columnArbitrary, DTYPES, TEST_DECIMAL, testBatch, type Cell, type TestColumn } from '../cpu/kernels/kernel-helpers.js';

/** Cells compared so that NaN equals NaN and -0 differs from 0 (gather moves bits, it does not normalise). */
const comparable = (cells: readonly Cell[]): unknown[] =>
  cells.map((c) => (typeof c === 'number' ? (Object.is(c, -0) ? '-0' : Number.isNaN(c) ? 'NaN' : c) : c));

function assertWellFormed(column: Column, dtype: DType): void {
  assert.equal(column.dtype, dtype);
  assert.ok(column.values.buffer instanceof SharedArrayBuffer, 'values in shared memory');
  assert.equal(column.nullCount, countNulls(column.validity, column.length));
  if (column.validity !== null) {
    assert.ok(column.validity.buffer instanceof SharedArrayBuffer, 'validity in shared memory');
    assert.ok(column.nullCount > 0, 'no validity bitmap without nulls');
  }
  if (dtype === 'bool') assert.equal(column.values.length, Math.ceil(column.length / 8), 'bool stays bit-packed');
  else if (dtype === 'decimal') {
    assert.equal(column.values.length, 2 * column.length, 'a decimal is two 64-bit words');
    assert.equal(column.scale, TEST_DECIMAL.scale, 'a decimal keeps its scale');
  } else assert.equal(column.values.length, column.length);
}

const anyColumn = (length: number): fc.Arbitrary<TestColumn> => fc.constantFrom(...DTYPES).chain((dtype) => columnArbitrary(dtype, length));

describe('gatherColumn and gatherBatch', () => {
  it('moves row indices[r] to row r, with null for -1', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 70 }).chain((length) => fc.tuple(anyColumn(length), fc.array(fc.integer({ min: -1, max: length - 1 }), { maxLength: 90 }))),
        ([source, indices]) => {
          const gathered = gatherColumn(source.column, Int32Array.from(indices));
          assertWellFormed(gathered, source.dtype);
          assert.equal(gathered.length, indices.length);
          assert.equal(gathered.dictionary, source.column.dictionary);
          assert.deepEqual(comparable(cellsOf(gathered)), comparable(indices.map((i) => (i < 0 ? null : source.cells[i]!))));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gathers every column of a batch with the same indices', () => {
    const batch: ColumnBatch = { length: 3, names: ['a', 'b'], columns: [buildColumn('int64', [1n, 2n, 3n]), buildColumn('bool', [true, false, true])] };
    const out = gatherBatch(batch, Int32Array.of(2, -1, 0, 2));
    assert.equal(out.length, 4);
    assert.deepEqual(out.names, ['a', 'b']);
    assert.deepEqual(cellsOf(out.columns[0]!), [3n, null, 1n, 3n]);
    assert.deepEqual(cellsOf(out.columns[1]!), [true, null, true, true]);
    assert.equal(gatherBatch(batch, Int32Array.of(1)).columns[0]!.validity, null);
  });
});

describe('sliceBatch', () => {
  it('copies rows [offset, offset + length), clamped', () => {
    fc.assert(
      fc.property(
        fc
          .nat({ max: 70 })
          .chain((length) =>
            fc.tuple(
              fc.constant(length),
              fc.array(anyColumn(length), { maxLength: 3 }),
              fc.integer({ min: -5, max: 80 }),
              fc.oneof(fc.integer({ min: -5, max: 80 }), fc.constant(Infinity)),
            ),
          ),
        ([length, columns, offset, count]) => {
          const batch = testBatch(columns, length);
          const out = sliceBatch(batch, offset, count);
          const start = Math.min(length, Math.max(0, offset));
          const end = Math.min(length, start + Math.max(0, count));
          assert.equal(out.length, end - start);
          assert.deepEqual(out.names, batch.names);
          out.columns.forEach((column, c) => {
            assertWellFormed(column, columns[c]!.dtype);
            assert.deepEqual(comparable(cellsOf(column)), comparable(columns[c]!.cells.slice(start, end)));
          });
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('concatBatches', () => {
  it('concatenates columns, merging differing dictionaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 30 }), { minLength: 2, maxLength: 4 }).chain((lengths) =>
          fc.tuple(
            fc.constant(lengths),
            fc
              .array(fc.constantFrom(...DTYPES), { minLength: 1, maxLength: 3 })
              .chain((dtypes) => fc.tuple(...lengths.map((length) => fc.tuple(...dtypes.map((d) => columnArbitrary(d, length)))))),
          ),
        ),
        ([lengths, parts]) => {
          const batches = parts.map((columns, b) => testBatch(columns, lengths[b]));
          const out = concatBatches(batches);
          const total = lengths.reduce((a, b) => a + b, 0);
          assert.equal(out.length, total);
          out.columns.forEach((column, c) => {
            const dtype = parts[0]![c]!.dtype;
            assertWellFormed(column, dtype);
            assert.deepEqual(comparable(cellsOf(column)), comparable(parts.flatMap((columns) => columns[c]!.cells)));
            if (dtype === 'utf8') assert.equal(new Set(column.dictionary).size, column.dictionary!.length, 'merged dictionary has each string once');
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a dictionary shared by every batch, and returns a lone batch as it is', () => {
    const dictionary = ['x', 'y'];
    const one: ColumnBatch = { length: 2, names: ['s'], columns: [buildColumn('utf8', ['y', 'x'], dictionary)] };
    const two: ColumnBatch = { length: 1, names: ['s'], columns: [buildColumn('utf8', ['y'], [...dictionary])] };
    const out = concatBatches([one, two]);
    assert.deepEqual(out.columns[0]!.dictionary, dictionary);
    assert.deepEqual(Array.from(out.columns[0]!.values as Int32Array), [1, 0, 1]);
    assert.equal(concatBatches([one]), one);
    assert.deepEqual(concatBatches([]), { length: 0, names: [], columns: [] });
  });

  it('rejects batches whose columns differ', () => {
    const a: ColumnBatch = { length: 1, names: ['x'], columns: [buildColumn('int32', [1])] };
    const b: ColumnBatch = { length: 1, names: ['x'], columns: [buildColumn('float64', [1])] };
    const c: ColumnBatch = { length: 1, names: ['y'], columns: [buildColumn('int32', [1])] };
    assert.throws(() => concatBatches([a, b]), ExecutionError);
    assert.throws(() => concatBatches([a, c]), ExecutionError);
  });
});
