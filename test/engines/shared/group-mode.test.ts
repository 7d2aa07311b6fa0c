// The group-mode choice against references: packed hash keys (the packing chosen, and when keys stay
// unpacked), and the distinct-key estimate that picks morsel sizes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chooseGroupMode,
  estimateDistinct,
  groupByMorselRows,
  hashWidth,
  HIGH_CARDINALITY_MORSEL,
  packHashKeys,
} from '../../../src/engines/shared/group-mode.js';
import type { Column, ColumnBatch, DType } from '../../../src/model/types.js';
import { buildColumn, dictionaryFor, testBatch, type Cell, type TestColumn } from '../cpu/kernels/kernel-helpers.js';

const mapOf = (batch: ColumnBatch): Map<string, Column> => new Map(batch.names.map((n, k) => [n, batch.columns[k]!]));

function column(dtype: DType, cells: readonly Cell[]): TestColumn {
  return { dtype, cells, column: buildColumn(dtype, cells, dictionaryFor(cells, [], 0)) };
}

/** An int32 column spanning [min, max] (both present) with values in between. */
const intSpan = (min: number, max: number, rows: number): TestColumn =>
  column(
    'int32',
    Array.from({ length: rows }, (_, i) => (i === 0 ? min : i === 1 ? max : min + ((i * 7919) % (max - min + 1)))),
  );

describe('packHashKeys', () => {
  it('packs the six db-benchmark ids into two words, each word below 2^32', () => {
    const rows = 1000;
    const labels = (n: number): string[] => Array.from({ length: rows }, (_, i) => `id${i % n}`);
    // id3's dictionary holds N/K = 100,000 labels, as at 1e7 rows.
    const id3Cells = labels(1000);
    const id3: TestColumn = {
      dtype: 'utf8',
      cells: id3Cells,
      column: buildColumn(
        'utf8',
        id3Cells,
        Array.from({ length: 100_000 }, (_, i) => `id${i}`),
      ),
    };
    const batch = testBatch([
      column('utf8', labels(100)),
      column('utf8', labels(100)),
      id3,
      intSpan(1, 100, rows),
      intSpan(1, 100, rows),
      intSpan(1, 100_000, rows),
    ]);
    const mode = packHashKeys(mapOf(batch), chooseGroupMode(mapOf(batch), batch.names, hashWidth(mapOf(batch), batch.names)));
    assert.equal(mode.kind, 'hash');
    assert.equal(mode.kind, 'hash');
    assert.ok(mode.packed);
    assert.equal(mode.width, 2);
    assert.deepEqual(
      mode.packed.map((word) => word.map((k) => k.name)),
      [
        ['c0', 'c1', 'c2'],
        ['c3', 'c4', 'c5'],
      ],
    );
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

describe('estimateDistinct and groupByMorselRows', () => {
  const ints = (length: number, f: (i: number) => number | null): TestColumn =>
    column(
      'int32',
      Array.from({ length }, (_, i) => f(i)),
    );

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
