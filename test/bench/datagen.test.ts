// The db-benchmark group-by generator: deterministic per seed, columns in groupby-datagen.R's domains,
// v3 on 4 decimals, and the Arrow IPC file (and its cache) giving back the same table.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import { cachePath, generateGroupByTable, GROUP_BY_COLUMNS, K, loadGroupByTable, parseCount, smallGroupCount, writeArrowFile } from '../../bench/datagen.js';

const ROWS = 20_000;
const table = generateGroupByTable(ROWS, 7);
const dir = mkdtempSync(join(tmpdir(), 'gpuframe-datagen-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every column's buffers: dictionary indices with their labels, or the values array. */
function buffers(t: arrow.Table): unknown[] {
  return GROUP_BY_COLUMNS.map((name) => {
    const data = t.getChild(name)!.data[0]!;
    return data.dictionary ? [data.values, data.dictionary.toArray()] : (data.values as unknown);
  });
}

function values(name: string): unknown[] {
  return [...table.getChild(name)!];
}

function distinct(name: string): Set<unknown> {
  return new Set(values(name));
}

describe('generateGroupByTable', () => {
  it('gives the same table for the same seed and a different one for another seed', () => {
    assert.deepEqual(buffers(generateGroupByTable(ROWS, 7)), buffers(table));
    assert.notDeepEqual(values('v3').slice(0, 50), [...generateGroupByTable(ROWS, 8).getChild('v3')!].slice(0, 50));
  });

  it('has the columns of groupby-datagen.R with their Arrow types', () => {
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      [...GROUP_BY_COLUMNS],
    );
    assert.equal(table.numRows, ROWS);
    for (const name of ['id1', 'id2', 'id3']) assert.ok(arrow.DataType.isDictionary(table.getChild(name)!.type), `${name} is dictionary-encoded`);
    for (const name of ['id4', 'id5', 'id6', 'v1', 'v2']) assert.equal(String(table.getChild(name)!.type), 'Int32');
    assert.equal(String(table.getChild('v3')!.type), 'Float64');
    for (const name of GROUP_BY_COLUMNS) assert.equal(table.getChild(name)!.nullCount, 0, `${name} has no NAs`);
  });

  it('draws the string ids from sprintf labels with K and N/K distinct values', () => {
    const small = smallGroupCount(ROWS);
    assert.equal(small, ROWS / K);
    for (const name of ['id1', 'id2']) {
      const seen = distinct(name);
      assert.equal(seen.size, K);
      for (const v of seen) assert.match(String(v), /^id(0\d\d|100)$/);
    }
    const id3 = distinct('id3');
    assert.equal(id3.size, small);
    for (const v of id3) assert.match(String(v), /^id\d{10}$/);
    const numbers = [...id3].map((v) => Number(String(v).slice(2)));
    assert.equal(Math.min(...numbers), 1);
    assert.equal(Math.max(...numbers), small);
  });

  it('draws the integer columns from 1..K, 1..N/K and 1..5, each column independently', () => {
    const range = (name: string): [number, number, number] => {
      const v = values(name) as number[];
      return [Math.min(...v), Math.max(...v), new Set(v).size];
    };
    assert.deepEqual(range('id4'), [1, K, K]);
    assert.deepEqual(range('id5'), [1, K, K]);
    assert.deepEqual(range('id6'), [1, ROWS / K, ROWS / K]);
    assert.deepEqual(range('v1'), [1, 5, 5]);
    assert.deepEqual(range('v2'), [1, 5, 5]);
    // Independent id4 and id5 fill about 1 - e^-2 of the K² pairs; copies of one stream would fill K.
    const id4 = values('id4') as number[];
    const id5 = values('id5') as number[];
    const pairs = new Set(id4.map((a, i) => a * 1000 + id5[i]!));
    assert.ok(pairs.size > 0.8 * K * K * (1 - Math.exp(-2)), `${pairs.size} distinct (id4, id5) pairs`);
  });

  it('rounds v3 to 4 decimals in [0, 100] and spreads it over the range', () => {
    const v3 = values('v3') as number[];
    let sum = 0;
    for (const v of v3) {
      assert.ok(v >= 0 && v <= 100, `${v} in [0, 100]`);
      assert.equal(v, Math.round(v * 1e4) / 1e4, `${v} has at most 4 decimals`);
      assert.ok(/^\d+(\.\d{1,4})?$/.test(String(v)), `${v} prints with at most 4 decimals`);
      sum += v;
    }
    assert.ok(Math.abs(sum / v3.length - 50) < 1, 'uniform on [0, 100): mean near 50');
    assert.ok(new Set(v3).size > 0.98 * v3.length, 'nearly every value distinct');
  });
});

describe('the Arrow IPC file', () => {
  it('round-trips the table', () => {
    const path = join(dir, 'table.arrow');
    const bytes = writeArrowFile(path, table);
    const back = arrow.tableFromIPC(bytes);
    assert.equal(back.numRows, ROWS);
    for (const name of GROUP_BY_COLUMNS) assert.deepEqual([...back.getChild(name)!], values(name), name);
  });

  it('is cached by rows and seed: the second load reads the file the first one wrote', () => {
    const first = loadGroupByTable(5_000, 3, dir);
    assert.equal(first.cached, false);
    assert.equal(first.path, cachePath(5_000, 3, dir));
    const second = loadGroupByTable(5_000, 3, dir);
    assert.equal(second.cached, true);
    assert.deepEqual(second.bytes, first.bytes);
    assert.notEqual(cachePath(5_000, 4, dir), first.path);
    assert.notEqual(cachePath(6_000, 3, dir), first.path);
  });
});

describe('parseCount', () => {
  it('reads 1e7 style integers and refuses the rest', () => {
    assert.equal(parseCount('1e7', 'rows'), 10_000_000);
    assert.equal(parseCount('20000', 'rows'), 20_000);
    assert.throws(() => parseCount('1.5', 'rows'), RangeError);
    assert.throws(() => parseCount(undefined, 'rows'), RangeError);
  });
});
