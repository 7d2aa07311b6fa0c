// sortIndices against Array.prototype.sort with a plain comparator over JS cells.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sortIndices } from '../../../../src/engines/cpu/kernels/sort.js';
import { UnknownColumnError } from '../../../../src/errors.js';
import type { ColumnBatch, DType } from '../../../../src/model/types.js';
import type { SortKey } from '../../../../src/plan/types.js';
import { buildColumn, columnArbitrary, DTYPES, referenceOrder, sortKey, testBatch, type TestColumn } from './kernel-helpers.js';

function sortCase(maxLength: number, wide: boolean, dtypes: readonly DType[] = DTYPES) {
  return fc
    .record({ length: fc.nat({ max: maxLength }), dtypes: fc.array(fc.constantFrom(...dtypes), { minLength: 1, maxLength: 3 }) })
    .chain(({ length, dtypes: chosen }) =>
      fc.record({
        length: fc.constant(length),
        columns: fc.tuple(...chosen.map((d) => columnArbitrary(d, length, wide))),
        keys: fc.array(sortKey(chosen.length), { minLength: 1, maxLength: 4 }),
        rows: fc.option(fc.shuffledSubarray(Array.from({ length }, (_, i) => i)), { nil: undefined }),
      }),
    );
}

function checkSort({ length, columns, keys, rows }: { length: number; columns: TestColumn[]; keys: SortKey[]; rows: number[] | undefined }): void {
  const result = sortIndices(testBatch(columns, length), keys, rows === undefined ? undefined : Int32Array.from(rows));
  const expected = referenceOrder(columns, keys, rows ?? Array.from({ length }, (_, i) => i));
  assert.deepEqual(Array.from(result), expected);
}

describe('sortIndices', () => {
  it('matches a stable reference sort for random multi-key specs over every dtype', () => {
    fc.assert(fc.property(sortCase(60, false), checkSort), { numRuns: 600 });
  });

  it('matches the reference over full-range values, where every radix digit varies', () => {
    fc.assert(fc.property(sortCase(3000, true), checkSort), { numRuns: 25 });
  });

  it('sorts a single key of each dtype with many ties and nulls', () => {
    for (const dtype of DTYPES) {
      fc.assert(fc.property(sortCase(2000, false, [dtype]), checkSort), { numRuns: 10 });
    }
  });

  it('orders NaN after every number ascending and before them descending, apart from nulls', () => {
    const column = buildColumn('float64', [1, NaN, null, -Infinity, Infinity, NaN, -0, 0]);
    const batch: ColumnBatch = { length: 8, names: ['x'], columns: [column] };
    assert.deepEqual(Array.from(sortIndices(batch, [{ column: 'x', descending: false, nullsLast: false }])), [2, 3, 6, 7, 0, 4, 1, 5]);
    assert.deepEqual(Array.from(sortIndices(batch, [{ column: 'x', descending: true, nullsLast: false }])), [2, 1, 5, 4, 0, 6, 7, 3]);
    assert.deepEqual(Array.from(sortIndices(batch, [{ column: 'x', descending: true, nullsLast: true }])), [1, 5, 4, 0, 6, 7, 3, 2]);
  });

  it('orders strings by UTF-16 code units through their dictionary codes', () => {
    const column = buildColumn('utf8', ['\uFFFF', '\u{1F600}', 'b', 'B', ''], ['b', '\u{1F600}', '', 'B', '\uFFFF']);
    const batch: ColumnBatch = { length: 5, names: ['s'], columns: [column] };
    assert.deepEqual(Array.from(sortIndices(batch, [{ column: 's', descending: false, nullsLast: false }])), [4, 3, 2, 1, 0]);
  });

  it('keeps the given rows order for ties and leaves the input untouched', () => {
    const column = buildColumn('int32', [1, 0, 1, 0]);
    const batch: ColumnBatch = { length: 4, names: ['k'], columns: [column] };
    const rows = Int32Array.of(3, 2, 1, 0);
    assert.deepEqual(Array.from(sortIndices(batch, [{ column: 'k', descending: false, nullsLast: false }], rows)), [3, 1, 2, 0]);
    assert.deepEqual(Array.from(rows), [3, 2, 1, 0]);
  });

  it('rejects an unknown key column', () => {
    const batch: ColumnBatch = { length: 0, names: ['k'], columns: [buildColumn('int32', [])] };
    assert.throws(() => sortIndices(batch, [{ column: 'nope', descending: false, nullsLast: false }]), UnknownColumnError);
  });
});
