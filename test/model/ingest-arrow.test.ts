// Ingest of Arrow tables and IPC bytes: exact types under 'strict', conversions with per-cell checks in the
// other modes, chunked and sliced data, and malformed input.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import { z } from 'zod';
import { MalformedArrowError, UnknownColumnError } from '../../src/errors.js';
import { batchToArrowTable } from '../../src/model/column.js';
import { ingestArrow, ingestColumns } from '../../src/model/ingest.js';
import { fieldsFromShape } from '../../src/model/schema.js';
import { batchValues, columnValues, issueKeys, validationError } from './ingest-helpers.js';

function vector<T extends arrow.DataType>(type: T, values: readonly unknown[]): arrow.Vector<T> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- Arrow's factory overloads cannot carry a generic T
  return arrow.vectorFromArray(values as never, type) as arrow.Vector<T>;
}

function rawVector<T extends arrow.DataType>(type: T, data: arrow.Data<T>['values']): arrow.Vector<T> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- Arrow's factory overloads cannot carry a generic T
  return arrow.makeVector(arrow.makeData({ type, length: data.length, data } as never)) as arrow.Vector<T>;
}

function table(columns: Record<string, arrow.Vector>): arrow.Table {
  return new arrow.Table(columns);
}

const everyType = fieldsFromShape({
  i32: z.int32(),
  i64: z.int64(),
  f32: z.float32(),
  f64: z.float64(),
  flag: z.boolean().nullable(),
  text: z.string().nullable(),
  kind: z.enum(['a', 'b']),
  when: z.date().nullable(),
});

const everyTypeInput = {
  i32: [1, -2, 3],
  i64: [2n ** 62n, 0n, -1n],
  f32: [0.5, 1.5, -2],
  f64: [Math.E, 0, -1e300],
  flag: [true, null, false],
  text: ['x', null, 'y'],
  kind: ['b', 'a', 'b'],
  when: [new Date(0), null, new Date(-86400000)],
};

describe('Arrow input', () => {
  it("takes a table in exactly the declared types under 'strict'", () => {
    const source = ingestColumns(everyType, everyTypeInput);
    const batch = ingestArrow(everyType, batchToArrowTable(source), { trustedMode: 'strict' });
    assert.deepEqual(batchValues(batch), everyTypeInput);
    assert.deepEqual(batch.columns[6]!.dictionary, ['a', 'b']);
    assert.ok(batch.columns.every((c) => c.values.buffer instanceof SharedArrayBuffer));
  });

  it('round-trips through IPC stream and file bytes and an ArrayBuffer', () => {
    const arrowTable = batchToArrowTable(ingestColumns(everyType, everyTypeInput));
    for (const format of ['stream', 'file'] as const) {
      const bytes = arrow.tableToIPC(arrowTable, format);
      assert.deepEqual(batchValues(ingestArrow(everyType, bytes, { trustedMode: 'strict' })), everyTypeInput, format);
      const copy = bytes.slice().buffer;
      assert.deepEqual(batchValues(ingestArrow(everyType, copy)), everyTypeInput, `${format} ArrayBuffer`);
    }
  });

  it("reports a column of another Arrow type as 'arrow_type_mismatch' under 'strict'", () => {
    const fields = fieldsFromShape({ a: z.int32(), f: z.float64(), s: z.string(), d: z.date(), big: z.int64() });
    const input = table({
      a: vector(new arrow.Float64(), [1, 2]),
      f: vector(new arrow.Float32(), [1, 2]),
      s: vector(new arrow.LargeUtf8(), ['x', 'y']),
      d: vector(new arrow.DateDay(), [new Date(0), new Date(0)]),
      big: vector(new arrow.Int32(), [1, 2]),
    });
    const error = validationError(() => ingestArrow(fields, input, { trustedMode: 'strict' }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: null, code: 'arrow_type_mismatch' },
      { column: 'f', row: null, code: 'arrow_type_mismatch' },
      { column: 's', row: null, code: 'arrow_type_mismatch' },
      { column: 'd', row: null, code: 'arrow_type_mismatch' },
      { column: 'big', row: null, code: 'arrow_type_mismatch' },
    ]);
    assert.deepEqual(batchValues(ingestArrow(fields, input)), { a: [1, 2], f: [1, 2], s: ['x', 'y'], d: [new Date(0), new Date(0)], big: [1n, 2n] });
  });

  it("accepts plain Utf8 for a string column under 'strict'", () => {
    const fields = fieldsFromShape({ s: z.string() });
    const batch = ingestArrow(fields, table({ s: vector(new arrow.Utf8(), ['p', 'q', 'p']) }), { trustedMode: 'strict' });
    assert.deepEqual(columnValues(batch, 's'), ['p', 'q', 'p']);
    assert.deepEqual(batch.columns[0]!.dictionary, ['p', 'q']);
  });

  it('converts other numeric types with the same cell checks as JSON', () => {
    const fields = fieldsFromShape({ a: z.int32(), b: z.int32(), c: z.int64(), d: z.int64(), e: z.int() });
    const good = table({
      a: vector(new arrow.Float64(), [1, -2]),
      b: vector(new arrow.Int64(), [5n, -(2n ** 31n)]),
      c: vector(new arrow.Int8(), [-7, 7]),
      d: vector(new arrow.Uint64(), [0n, 2n ** 63n - 1n]),
      e: vector(new arrow.Int64(), [2n ** 53n - 1n, 0n]),
    });
    assert.deepEqual(batchValues(ingestArrow(fields, good)), { a: [1, -2], b: [5, -(2 ** 31)], c: [-7n, 7n], d: [0n, 2n ** 63n - 1n], e: [2 ** 53 - 1, 0] });
    const bad = table({
      a: vector(new arrow.Float64(), [1.5, Number.NaN]),
      b: vector(new arrow.Int64(), [2n ** 40n, 1n]),
      c: vector(new arrow.Float32(), [0.5, 1]),
      d: vector(new arrow.Uint64(), [2n ** 63n, 1n]),
      e: vector(new arrow.Int64(), [2n ** 53n + 1n, 1n]),
    });
    const error = validationError(() => ingestArrow(fields, bad));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 0, code: 'invalid_type' },
      { column: 'a', row: 1, code: 'invalid_type' },
      { column: 'b', row: 0, code: 'too_big' },
      { column: 'c', row: 0, code: 'invalid_type' },
      { column: 'd', row: 0, code: 'too_big' },
      { column: 'e', row: 0, code: 'too_big' },
    ]);
  });

  it('decodes half-precision floats', () => {
    const fields = fieldsFromShape({ h: z.float32(), i: z.int32() });
    const batch = ingestArrow(fields, table({ h: vector(new arrow.Float16(), [0.5, -2]), i: vector(new arrow.Float16(), [3, 4]) }));
    assert.deepEqual(batchValues(batch), { h: [0.5, -2], i: [3, 4] });
  });

  it("trusts converted values under 'shape_only'", () => {
    const fields = fieldsFromShape({ a: z.int32() });
    const batch = ingestArrow(fields, table({ a: vector(new arrow.Float64(), [1.5, 7]) }), { trustedMode: 'shape_only' });
    assert.deepEqual(columnValues(batch, 'a'), [1, 7]);
  });

  it('refuses types that do not convert, in every mode', () => {
    const fields = fieldsFromShape({ s: z.string(), b: z.boolean(), n: z.float64() });
    const input = table({ s: vector(new arrow.Int32(), [1]), b: vector(new arrow.Utf8(), ['true']), n: vector(new arrow.Bool(), [true]) });
    for (const trustedMode of ['off', 'shape_only', 'strict'] as const) {
      const error = validationError(() => ingestArrow(fields, input, { trustedMode }));
      assert.deepEqual(issueKeys(error), [
        { column: 's', row: null, code: 'arrow_type_mismatch' },
        { column: 'b', row: null, code: 'arrow_type_mismatch' },
        { column: 'n', row: null, code: 'arrow_type_mismatch' },
      ]);
    }
  });

  it('checks enum membership and refinements on Arrow strings and numbers', () => {
    const fields = fieldsFromShape({ k: z.enum(['x', 'y']), n: z.int32().min(0), s: z.string().min(2) });
    const input = table({
      k: vector(new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), ['x', 'z', 'y']),
      n: vector(new arrow.Int32(), [1, -1, 2]),
      s: vector(new arrow.Utf8(), ['ok', 'ok', 'n']),
    });
    const error = validationError(() => ingestArrow(fields, input));
    assert.deepEqual(issueKeys(error), [
      { column: 'k', row: 1, code: 'invalid_value' },
      { column: 'n', row: 1, code: 'too_small' },
      { column: 's', row: 2, code: 'too_small' },
    ]);
    const strict = validationError(() => ingestArrow(fields, input, { trustedMode: 'strict' }));
    assert.deepEqual(issueKeys(strict), [{ column: 'k', row: 1, code: 'invalid_value' }]);
  });

  it("reports nulls in non-nullable columns and non-finite floats under 'strict'", () => {
    const fields = fieldsFromShape({ a: z.int32(), f: z.float64() });
    const input = table({ a: vector(new arrow.Int32(), [1, null]), f: vector(new arrow.Float64(), [Number.POSITIVE_INFINITY, 0]) });
    const error = validationError(() => ingestArrow(fields, input, { trustedMode: 'strict' }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 1, code: 'null_value' },
      { column: 'f', row: 0, code: 'invalid_type' },
    ]);
  });

  it('converts dates and timestamps of every unit to epoch milliseconds', () => {
    const fields = fieldsFromShape({ day: z.date(), sec: z.date(), micro: z.date(), nano: z.date().nullable() });
    const input = table({
      day: rawVector(new arrow.DateDay(), new Int32Array([1, -1])),
      sec: rawVector(new arrow.TimestampSecond(), new BigInt64Array([2n, -2n])),
      micro: rawVector(new arrow.TimestampMicrosecond('UTC'), new BigInt64Array([3000n, -4000n])),
      nano: rawVector(new arrow.TimestampNanosecond(), new BigInt64Array([5000000n, 0n])),
    });
    assert.deepEqual(batchValues(ingestArrow(fields, input)), {
      day: [new Date(86400000), new Date(-86400000)],
      sec: [new Date(2000), new Date(-2000)],
      micro: [new Date(3), new Date(-4)],
      nano: [new Date(5), new Date(0)],
    });
  });

  it("reports sub-millisecond timestamps as 'precision_loss', and floors them under 'shape_only'", () => {
    const fields = fieldsFromShape({ t: z.date() });
    const input = table({ t: rawVector(new arrow.TimestampMicrosecond(), new BigInt64Array([1500n, -1500n, 2000n])) });
    const error = validationError(() => ingestArrow(fields, input));
    assert.deepEqual(issueKeys(error), [
      { column: 't', row: 0, code: 'precision_loss' },
      { column: 't', row: 1, code: 'precision_loss' },
    ]);
    assert.deepEqual(columnValues(ingestArrow(fields, input, { trustedMode: 'shape_only' }), 't'), [new Date(1), new Date(-2), new Date(2)]);
  });

  it('reads an all-null Arrow column into a nullable field outside strict mode', () => {
    const fields = fieldsFromShape({ a: z.int32(), n: z.string().nullable(), m: z.float64() });
    const nulls = arrow.makeVector(arrow.makeData({ type: new arrow.Null(), length: 2 }));
    const input = table({ a: vector(new arrow.Int32(), [1, 2]), n: nulls, m: nulls });
    const error = validationError(() => ingestArrow(fields, input));
    assert.deepEqual(issueKeys(error), [
      { column: 'm', row: 0, code: 'null_value' },
      { column: 'm', row: 1, code: 'null_value' },
    ]);
    const ok = ingestArrow(fields.slice(0, 2), table({ a: vector(new arrow.Int32(), [1, 2]), n: nulls }));
    assert.deepEqual(batchValues(ok), { a: [1, 2], n: [null, null] });
  });

  it('joins chunks and honours slice offsets in validity and bool bits', () => {
    const fields = fieldsFromShape({ a: z.int32().nullable(), b: z.boolean().nullable(), s: z.string().nullable(), big: z.int64().nullable() });
    const part = (offset: number): arrow.Table =>
      table({
        a: vector(new arrow.Int32(), [offset, null, offset + 2, offset + 3, null, offset + 5, offset + 6, offset + 7, offset + 8, null]),
        b: vector(new arrow.Bool(), [true, false, null, true, true, false, true, null, false, true]),
        s: vector(new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), [`s${offset}`, null, 'z', 'z', 'q', null, 'z', 'q', 'y', 'x']),
        big: vector(new arrow.Int64(), [1n, 2n, null, 4n, 5n, 6n, 7n, 8n, 9n, 10n]),
      });
    const chunked = part(0).concat(part(100)).slice(3, 17);
    assert.ok(chunked.batches.length > 1);
    const batch = ingestArrow(fields, chunked);
    const expected = {
      a: [] as unknown[],
      b: [] as unknown[],
      s: [] as unknown[],
      big: [] as unknown[],
    };
    for (let row = 0; row < chunked.numRows; row++) {
      const values = chunked.get(row)!.toJSON() as Record<string, unknown>;
      expected.a.push(values['a']);
      expected.b.push(values['b']);
      expected.s.push(values['s']);
      expected.big.push(values['big']);
    }
    assert.deepEqual(batchValues(batch), expected);
    assert.equal(batch.length, 14);
    assert.deepEqual(batch.columns[2]!.dictionary, ['z', 'q', 'y', 'x', 's100']);
  });

  it('resolves aliases, missing, extra and repeated columns like columnar input', () => {
    const fields = fieldsFromShape({ userId: z.int32().meta({ alias: 'user_id' }), note: z.string().nullable(), must: z.float64() });
    const ids = vector(new arrow.Int32(), [1]);
    const missing = validationError(() => ingestArrow(fields, table({ user_id: ids })));
    assert.deepEqual(issueKeys(missing), [{ column: 'must', row: null, code: 'missing_column' }]);
    assert.throws(
      () => ingestArrow(fields, table({ userId: ids, must: vector(new arrow.Float64(), [1]) })),
      (error: unknown) => error instanceof UnknownColumnError && error.columns.join() === 'userId',
    );
    const batch = ingestArrow(fields, table({ user_id: ids, must: vector(new arrow.Float64(), [1]), other: ids }), { extraColumns: 'ignore' });
    assert.deepEqual(batchValues(batch), { userId: [1], note: [null], must: [1] });

    const arrowFields = [new arrow.Field('user_id', ids.type, false), new arrow.Field('user_id', ids.type, false)];
    const struct = arrow.makeData({ type: new arrow.Struct(arrowFields), length: 1, nullCount: 0, children: [ids.data[0]!, ids.data[0]!] });
    const repeated = new arrow.Table([new arrow.RecordBatch(new arrow.Schema(arrowFields), struct)]);
    const error = validationError(() => ingestArrow(fields.slice(0, 2), repeated));
    assert.deepEqual(issueKeys(error), [{ column: 'userId', row: null, code: 'duplicate_key' }]);
  });

  it("rejects bytes that are not Arrow IPC with MalformedArrowError (400 'malformed_arrow'), and other input with 'invalid_type'", () => {
    const fields = fieldsFromShape({ a: z.int32() });
    assert.throws(
      () => ingestArrow(fields, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
      (error: unknown) =>
        error instanceof MalformedArrowError &&
        error.status === 400 &&
        error.code === 'malformed_arrow' &&
        error.messageIndex === 0 &&
        /metadata of \d+ bytes runs past the end/.test(error.message),
    );
    const wrong = validationError(() => ingestArrow(fields, { a: [1] } as never));
    assert.deepEqual(issueKeys(wrong), [{ column: null, row: null, code: 'invalid_type' }]);
  });

  it('drops failing rows under ignoreErrors', () => {
    const fields = fieldsFromShape({ a: z.int32(), s: z.string() });
    const failures: number[] = [];
    const batch = ingestArrow(fields, table({ a: vector(new arrow.Float64(), [1, 1.5, 3]), s: vector(new arrow.Utf8(), ['x', 'y', null]) }), {
      ignoreErrors: true,
      onValidationErrors: (f) => failures.push(...f.map((failure) => failure.row)),
    });
    assert.deepEqual(batchValues(batch), { a: [1], s: ['x'] });
    assert.deepEqual(failures, [1, 2]);
  });
});
