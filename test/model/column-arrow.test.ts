// Columns to Arrow: the Utf8 dictionary encoder against Arrow's own builder, its cache, and IPC round trips.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { columnToArrowData, makeColumn, utf8Vector } from '../../src/model/column.js';

describe('utf8Vector', () => {
  it('encodes any strings (lone surrogates included) as Arrow builds them, offsets and bytes alike', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string()), { maxLength: 60 }), (strings) => {
        const ours = utf8Vector(strings).data[0]!;
        const theirs = arrow.vectorFromArray(strings, new arrow.Utf8()).data[0]!;
        assert.equal(ours.length, strings.length);
        assert.equal(ours.nullCount, 0);
        assert.deepEqual(Array.from(ours.valueOffsets), Array.from(theirs.valueOffsets.subarray(0, strings.length + 1)));
        assert.deepEqual(Buffer.from(ours.values), Buffer.from(theirs.values.subarray(0, theirs.valueOffsets[strings.length])));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a dictionary once and reuses it for every column that shares it', () => {
    const dictionary = ['b', 'a', 'ü'];
    assert.equal(utf8Vector(dictionary), utf8Vector(dictionary));
    assert.notEqual(utf8Vector(dictionary), utf8Vector([...dictionary]));
    const column = makeColumn('utf8', 4, Int32Array.of(2, 0, 1, 2), null, dictionary);
    const table = new arrow.Table({ s: arrow.makeVector(columnToArrowData(column)) });
    const back = arrow.tableFromIPC(arrow.tableToIPC(table, 'stream'));
    assert.deepEqual(back.getChild('s')!.toArray(), ['ü', 'b', 'a', 'ü']);
  });
});
