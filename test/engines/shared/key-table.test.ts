// KeyTable, key encoding and groupRows against Map-based references.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeKeys, groupRows, KeyTable, keyWidth, type KeyColumn } from '../../../src/engines/shared/key-table.js';
import type { DType } from '../../../src/model/types.js';
import { buildColumn, cellIdentity, columnArbitrary, DTYPES, type Cell, type TestColumn } from '../cpu/kernels/kernel-helpers.js';

describe('KeyTable', () => {
  it('assigns dense ids in insertion order and finds them again across growth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 600 }), (width, seeds) => {
        const table = new KeyTable(width, 1);
        const reference = new Map<string, number>();
        const words = new Uint32Array(Math.max(1, width));
        const fill = (seed: number): void => {
          // Words that differ only in their high bits or only by position catch weak hashing and comparison.
          for (let k = 0; k < width; k++) words[k] = (seed * 2654435761 + k * 0x80000000) >>> 0;
        };
        for (const seed of seeds) {
          fill(seed);
          const key = Array.from(words.subarray(0, width)).join(',');
          const expected = reference.get(key) ?? reference.size;
          reference.set(key, expected);
          assert.equal(table.findOrInsert(words, 0), expected);
          assert.equal(table.size, reference.size);
        }
        for (const [key, id] of reference) {
          const tuple = key === '' ? [] : key.split(',').map(Number);
          assert.deepEqual(Array.from(table.keyWords(id)), tuple);
          words.set(tuple);
          assert.equal(table.find(words, 0), id);
        }
        assert.deepEqual(
          Array.from(table.allWords()),
          [...reference.keys()].flatMap((key) => (key === '' ? [] : key.split(',').map(Number))),
        );
        fill(41);
        if (width > 0 || reference.size === 0) assert.equal(table.find(words, 0), -1);
      }),
      { numRuns: 150 },
    );
  });

  it('reads tuples at an offset inside a larger buffer', () => {
    const table = new KeyTable(2);
    const buffer = Uint32Array.of(9, 1, 2, 1, 2, 3, 4);
    assert.equal(table.findOrInsert(buffer, 1), 0);
    assert.equal(table.findOrInsert(buffer, 3), 0);
    assert.equal(table.findOrInsert(buffer, 5), 1);
    assert.equal(table.find(buffer, 0), -1);
    assert.deepEqual(Array.from(table.keyWords(1)), [3, 4]);
    assert.throws(() => table.keyWords(2), RangeError);
  });

  it('keeps one id per key through a hundred thousand distinct keys', () => {
    const table = new KeyTable(2);
    const words = new Uint32Array(2);
    for (let i = 0; i < 100_000; i++) {
      words[0] = i;
      words[1] = i & 0xff;
      assert.equal(table.findOrInsert(words, 0), i);
    }
    for (let i = 99_999; i >= 0; i -= 997) {
      words[0] = i;
      words[1] = i & 0xff;
      assert.equal(table.find(words, 0), i);
    }
    assert.equal(table.size, 100_000);
  });
});

describe('key encoding', () => {
  const column = (dtype: DType, cells: Cell[], dictionary: string[] = []): KeyColumn => ({ column: buildColumn(dtype, cells, dictionary) });
  const encode = (keys: KeyColumn[], row: number): { words: number[]; valid: boolean } => {
    const out = new Uint32Array(keyWidth(keys) + 2).fill(0xdead);
    const valid = encodeKeys(keys, row, out, 1);
    assert.equal(out[0], 0xdead, 'writes before its offset');
    assert.equal(out[keyWidth(keys) + 1], 0xdead, 'writes past its tuple');
    return { words: Array.from(out.subarray(1, 1 + keyWidth(keys))), valid };
  };

  it('takes one word per 32-bit key, two per 64-bit key, and one for the null mask', () => {
    assert.equal(keyWidth([column('int32', [1]), column('utf8', ['a'], ['a']), column('bool', [true]), column('float32', [1])]), 4);
    assert.equal(keyWidth([column('int64', [1n]), column('float64', [1]), column('timestamp', [0n])]), 6);
    assert.equal(keyWidth([{ column: buildColumn('int32', [1]), as: 'int64' }]), 2);
    assert.equal(keyWidth([column('int32', [1, null]), column('int64', [1n, 2n])]), 4);
    assert.equal(keyWidth([]), 0);
  });

  it('normalises -0 to 0 and every NaN to one NaN', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const keys = [column(dtype, [0, -0, NaN, NaN, 1])];
      assert.deepEqual(encode(keys, 1), encode(keys, 0), `${dtype} -0`);
      // Row 3 holds a negative NaN with a payload (see buildColumn).
      assert.deepEqual(encode(keys, 3), encode(keys, 2), `${dtype} NaN`);
      assert.notDeepEqual(encode(keys, 4), encode(keys, 0));
    }
  });

  it('writes zero words and a mask bit for nulls, and reports them', () => {
    const keys = [column('int32', [5, 6]), column('float64', [null, 2.5]), column('utf8', ['x', null], ['w', 'x'])];
    assert.deepEqual(encode(keys, 0), { words: [5, 0, 0, 1, 0b010], valid: false });
    const second = encode(keys, 1);
    assert.equal(second.valid, false);
    assert.equal(second.words[4], 0b100);
    assert.equal(second.words[3], 0);
    const noNulls = [column('int32', [5])];
    assert.deepEqual(encode(noNulls, 0), { words: [5], valid: true });
  });

  it('encodes an int32 key as int64 with the words of the same int64 value', () => {
    const values = [0, -1, 1, -(2 ** 31), 2 ** 31 - 1];
    const narrow: KeyColumn[] = [{ column: buildColumn('int32', values), as: 'int64' }];
    const wide = [column('int64', values.map(BigInt))];
    values.forEach((_, row) => {
      assert.deepEqual(encode(narrow, row), encode(wide, row));
    });
  });

  it('remaps utf8 codes, with -1 for strings the other dictionary lacks', () => {
    const keys: KeyColumn[] = [{ column: buildColumn('utf8', ['a', 'b', 'c'], ['c', 'a', 'b']), remap: Int32Array.of(-1, 7, 9) }];
    assert.deepEqual(
      [0, 1, 2].map((row) => encode(keys, row).words[0]),
      [7, 9, 0xffffffff],
    );
  });
});

/** The Map-based reference of groupRows. */
function referenceGroups(columns: readonly TestColumn[], length: number, selection?: readonly number[]): { ids: number[]; firstRow: number[] } {
  const ids = new Array<number>(length).fill(selection === undefined ? 0 : -1);
  const firstRow: number[] = [];
  const seen = new Map<string, number>();
  for (const row of selection ?? Array.from({ length }, (_, i) => i)) {
    const key = columns.map((c) => cellIdentity(c.cells[row]!)).join('|');
    let id = seen.get(key);
    if (id === undefined) {
      id = seen.size;
      seen.set(key, id);
      firstRow.push(row);
    }
    ids[row] = id;
  }
  return { ids, firstRow };
}

describe('groupRows', () => {
  const groupCase = fc
    .record({ length: fc.nat({ max: 80 }), dtypes: fc.array(fc.constantFrom(...DTYPES), { minLength: 0, maxLength: 3 }) })
    .chain(({ length, dtypes }) =>
      fc.record({
        length: fc.constant(length),
        columns: fc.tuple(...dtypes.map((d) => columnArbitrary(d, length))),
        selection: fc.option(fc.shuffledSubarray(Array.from({ length }, (_, i) => i)), { nil: undefined }),
      }),
    );

  it('matches a Map-based reference for every dtype, nulls, NaN and -0 included', () => {
    fc.assert(
      fc.property(groupCase, ({ length, columns, selection }) => {
        const keys = columns.map((c) => ({ column: c.column }));
        const result = groupRows(keys, length, selection === undefined ? undefined : Int32Array.from(selection));
        const expected = referenceGroups(columns, length, selection);
        assert.deepEqual(Array.from(result.ids), expected.ids);
        assert.deepEqual(Array.from(result.firstRow), expected.firstRow);
        assert.equal(result.groups, expected.firstRow.length);
      }),
      { numRuns: 400 },
    );
  });

  it('groups many rows with many distinct keys', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 5000 }).chain((length) => fc.tuple(fc.constant(length), columnArbitrary('int64', length, true), columnArbitrary('int32', length))),
        ([length, wide, narrow]) => {
          const result = groupRows([{ column: wide.column }, { column: narrow.column }], length);
          const expected = referenceGroups([wide, narrow], length);
          assert.deepEqual(Array.from(result.ids), expected.ids);
          assert.deepEqual(Array.from(result.firstRow), expected.firstRow);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('puts every row in one group when there are no keys, and none when there are no rows', () => {
    assert.deepEqual(groupRows([], 3), { ids: Int32Array.of(0, 0, 0), firstRow: Int32Array.of(0), groups: 1 });
    assert.deepEqual(groupRows([{ column: buildColumn('int32', []) }], 0), { ids: new Int32Array(0), firstRow: new Int32Array(0), groups: 0 });
  });
});
