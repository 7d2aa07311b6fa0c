// Property tests: any valid columns (nulls included) survive ingest cell for cell, and the columnar, row,
// NDJSON and Arrow routes build the same batch from the same data.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { z } from 'zod';
import { batchToArrowTable } from '../../src/model/column.js';
import { ingestArrow, ingestColumns, ingestNdjson, ingestRows } from '../../src/model/ingest.js';
import { fieldsFromShape } from '../../src/model/schema.js';
import type { ColumnBatch } from '../../src/model/types.js';
import { batchValues } from './ingest-helpers.js';

const fields = fieldsFromShape({
  i32: z.int32().nullable(),
  i64: z.int64().nullable(),
  f32: z.float32().nullable(),
  f64: z.float64().nullable(),
  int: z.int().nullable(),
  flag: z.boolean().nullable(),
  text: z.string().nullable(),
  kind: z.enum(['a', 'b', 'c']).nullable(),
  when: z.date().nullable(),
});

type Columns = Record<string, unknown[]>;
type CellArbitraries = Record<string, fc.Arbitrary<unknown>>;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE = 2n ** 53n - 1n;

/** The whole value range of every dtype, -0 and lone surrogates included. */
const fullRangeCells: CellArbitraries = {
  i32: fc.integer(),
  i64: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  f32: fc.float({ noNaN: true, noDefaultInfinity: true }),
  f64: fc.double({ noNaN: true, noDefaultInfinity: true }),
  int: fc.maxSafeInteger(),
  flag: fc.boolean(),
  text: fc.string({ unit: 'binary' }),
  kind: fc.constantFrom('a', 'b', 'c'),
  when: fc.date({ noInvalidDate: true }),
};

/** What survives every route: JSON has no -0 or bigint, and UTF-8 has no lone surrogates. */
const portableCells: CellArbitraries = {
  ...fullRangeCells,
  i64: fc.bigInt({ min: -SAFE, max: SAFE }),
  f32: fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v)),
  f64: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v)),
  text: fc.string({ unit: 'grapheme' }),
};

function columnsOf(cells: CellArbitraries): fc.Arbitrary<Columns> {
  return fc
    .nat({ max: 40 })
    .chain((length) =>
      fc.record(
        Object.fromEntries(
          Object.entries(cells).map(([name, cell]) => [name, fc.array(fc.option(cell, { nil: null, freq: 4 }), { minLength: length, maxLength: length })]),
        ),
      ),
    )
    .map((columns) => ({ ...columns })); // fc.record may build a null-prototype object, which deepEqual tells apart
}

function firstAppearance(values: readonly unknown[]): unknown[] {
  return [...new Set(values.filter((v) => v !== null))];
}

function rowsOf(columns: Columns): Record<string, unknown>[] {
  const length = columns['i32']!.length;
  return Array.from({ length }, (_, row) => {
    const record: Record<string, unknown> = {};
    for (const [name, values] of Object.entries(columns)) {
      const value = values[row];
      // Every other null is left out, so both a null and a missing key are exercised.
      if (value !== null || row % 2 === 1) record[name] = value;
    }
    return record;
  });
}

function ndjsonOf(columns: Columns): string {
  return rowsOf(columns)
    .map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)))
    .join('\n');
}

/** An Arrow table built by arrow-js itself, in plain Utf8 and Dictionary types rather than our own layout. */
function arrowTableOf(columns: Columns): arrow.Table {
  const types: Record<string, arrow.DataType> = {
    i32: new arrow.Int32(),
    i64: new arrow.Int64(),
    f32: new arrow.Float32(),
    f64: new arrow.Float64(),
    int: new arrow.Float64(),
    flag: new arrow.Bool(),
    text: new arrow.Utf8(),
    kind: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    when: new arrow.TimestampMillisecond(),
  };
  return new arrow.Table(Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, arrow.vectorFromArray(values as never, types[name]!)])));
}

function assertSameBatch(actual: ColumnBatch, expected: ColumnBatch, route: string): void {
  assert.deepEqual(batchValues(actual), batchValues(expected), route);
  assert.deepEqual(
    actual.columns.map((c) => c.dictionary),
    expected.columns.map((c) => c.dictionary),
    `${route} dictionaries`,
  );
  assert.deepEqual(
    actual.columns.map((c) => c.nullCount),
    expected.columns.map((c) => c.nullCount),
    `${route} null counts`,
  );
}

describe('ingest properties', () => {
  it('reads back every cell of random valid columns', () => {
    fc.assert(
      fc.property(columnsOf(fullRangeCells), (columns) => {
        const batch = ingestColumns(fields, columns);
        assert.deepEqual(batchValues(batch), columns);
        batch.columns.forEach((column, i) => {
          const values = columns[batch.names[i]!]!;
          assert.equal(column.nullCount, values.filter((v) => v === null).length);
          assert.equal(column.validity === null, column.nullCount === 0);
        });
        assert.deepEqual(batch.columns[6]!.dictionary, firstAppearance(columns['text']!));
        assert.deepEqual(batch.columns[7]!.dictionary, ['a', 'b', 'c']);
      }),
    );
  });

  it('builds the same batch from columns, rows, NDJSON and Arrow', () => {
    fc.assert(
      fc.property(columnsOf(portableCells), (columns) => {
        const expected = ingestColumns(fields, columns);
        assert.deepEqual(batchValues(expected), columns);
        assertSameBatch(ingestRows(fields, rowsOf(columns)), expected, 'rows');
        assertSameBatch(ingestNdjson(fields, ndjsonOf(columns)), expected, 'ndjson');
        const ours = batchToArrowTable(expected);
        assertSameBatch(ingestArrow(fields, ours, { trustedMode: 'strict' }), expected, 'arrow table');
        assertSameBatch(ingestArrow(fields, arrow.tableToIPC(ours, 'stream')), expected, 'arrow IPC');
        assertSameBatch(ingestArrow(fields, arrowTableOf(columns), { trustedMode: 'strict' }), expected, 'arrow-js table');
      }),
    );
  });

  it('agrees across trusted modes on valid input', () => {
    fc.assert(
      fc.property(columnsOf(fullRangeCells), (columns) => {
        const off = ingestColumns(fields, columns);
        assertSameBatch(ingestColumns(fields, columns, { trustedMode: 'strict' }), off, 'strict');
        assertSameBatch(ingestColumns(fields, columns, { trustedMode: 'shape_only' }), off, 'shape_only');
      }),
    );
  });
});
