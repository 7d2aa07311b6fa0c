// Ingest of columnar objects, row arrays and NDJSON: layout of the built columns, every bad-input case with
// its error class and issue codes, trusted modes, aliases, ignoreErrors and the issue cap.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ColumnLengthMismatchError, InvalidArgumentError, UnknownColumnError, ValidationError } from '../../src/errors.js';
import { getBit } from '../../src/model/column.js';
import { ingestColumns, ingestNdjson, ingestRows } from '../../src/model/ingest.js';
import { fieldsFromShape } from '../../src/model/schema.js';
import type { RowFailure } from '../../src/model/types.js';
import { parseIsoTimestamp } from '../../src/model/temporal.js';
import { batchValues, columnValues, issueKeys, validationError } from './ingest-helpers.js';

const everyType = fieldsFromShape({
  i32: z.int32(),
  i64: z.int64(),
  f32: z.float32(),
  f64: z.float64(),
  int: z.int(),
  flag: z.boolean(),
  text: z.string(),
  kind: z.enum(['low', 'mid', 'high']),
  when: z.date(),
});

describe('column layout', () => {
  it('builds every dtype in shared memory with the documented typed arrays', () => {
    const batch = ingestColumns(everyType, {
      i32: [1, -2],
      i64: [2n ** 62n, -5n],
      f32: [0.5, -1.25],
      f64: [Math.PI, -0],
      int: [2 ** 53 - 1, -3],
      flag: [true, false],
      text: ['b', 'a'],
      kind: ['high', 'low'],
      when: [new Date(86400000), new Date(-1)],
    });
    assert.equal(batch.length, 2);
    assert.deepEqual(
      batch.names,
      everyType.map((f) => f.name),
    );
    const ctors = [Int32Array, BigInt64Array, Float32Array, Float64Array, Float64Array, Uint8Array, Int32Array, Int32Array, BigInt64Array];
    batch.columns.forEach((column, i) => {
      assert.ok(column.values instanceof ctors[i]!, `${String(batch.names[i])} values`);
      assert.ok(column.values.buffer instanceof SharedArrayBuffer, `${String(batch.names[i])} is shared`);
      assert.equal(column.validity, null);
      assert.equal(column.nullCount, 0);
    });
    assert.deepEqual(batchValues(batch), {
      i32: [1, -2],
      i64: [2n ** 62n, -5n],
      f32: [0.5, -1.25],
      f64: [Math.PI, -0],
      int: [2 ** 53 - 1, -3],
      flag: [true, false],
      text: ['b', 'a'],
      kind: ['high', 'low'],
      when: [new Date(86400000), new Date(-1)],
    });
    assert.deepEqual([...(batch.columns[8]!.values as BigInt64Array)], [86400000n, -1n]);
    assert.equal((batch.columns[5]!.values as Uint8Array)[0], 0b01);
  });

  it('dictionary-encodes strings in first-appearance order and enums in declared order', () => {
    const fields = fieldsFromShape({ text: z.string(), kind: z.enum(['low', 'mid', 'high']) });
    const batch = ingestColumns(fields, { text: ['x', 'y', 'x', 'z'], kind: ['high', 'high', 'low', 'high'] });
    const [text, kind] = batch.columns;
    assert.deepEqual(text!.dictionary, ['x', 'y', 'z']);
    assert.deepEqual([...(text!.values as Int32Array)], [0, 1, 0, 2]);
    assert.deepEqual(kind!.dictionary, ['low', 'mid', 'high']);
    assert.deepEqual([...(kind!.values as Int32Array)], [2, 2, 0, 2]);
  });

  it('marks null cells with a 0 validity bit and a 0 value slot', () => {
    const fields = fieldsFromShape({ a: z.int32().nullable(), s: z.string().nullable(), b: z.boolean().nullable(), d: z.date().nullable() });
    const batch = ingestColumns(fields, { a: [7, null, 9], s: [undefined, 'q', null], b: [true, null, true], d: [null, new Date(5), null] });
    const [a, s, b, d] = batch.columns;
    assert.deepEqual([...(a!.values as Int32Array)], [7, 0, 9]);
    assert.equal(a!.nullCount, 1);
    assert.deepEqual(
      [0, 1, 2].map((i) => getBit(a!.validity!, i)),
      [true, false, true],
    );
    assert.deepEqual([...(s!.values as Int32Array)], [0, 0, 0]);
    assert.deepEqual(s!.dictionary, ['q']);
    assert.equal(s!.nullCount, 2);
    assert.equal((b!.values as Uint8Array)[0], 0b101);
    assert.deepEqual([...(d!.values as BigInt64Array)], [0n, 5n, 0n]);
    assert.deepEqual(batchValues(batch), { a: [7, null, 9], s: [null, 'q', null], b: [true, null, true], d: [null, new Date(5), null] });
  });

  it('accepts typed arrays as columns', () => {
    const fields = fieldsFromShape({ a: z.int32(), f: z.float64(), big: z.int64() });
    const batch = ingestColumns(fields, { a: new Int32Array([1, 2]), f: new Float64Array([0.5, 1.5]), big: new BigInt64Array([3n, 4n]) });
    assert.deepEqual(batchValues(batch), { a: [1, 2], f: [0.5, 1.5], big: [3n, 4n] });
    const error = validationError(() => ingestColumns(fields.slice(1, 2), { f: new Float64Array([1, Number.NaN]) }));
    assert.deepEqual(issueKeys(error), [{ column: 'f', row: 1, code: 'invalid_type' }]);
  });
});

describe("trustedMode 'off' (default): cell checks", () => {
  const cases: { name: string; shape: z.ZodType; cell: unknown; code: string }[] = [
    { name: 'string in int32', shape: z.int32(), cell: '1', code: 'invalid_type' },
    { name: 'bigint in int32', shape: z.int32(), cell: 1n, code: 'invalid_type' },
    { name: 'non-integer in int32', shape: z.int32(), cell: 1.5, code: 'invalid_type' },
    { name: 'NaN in int32', shape: z.int32(), cell: Number.NaN, code: 'invalid_type' },
    { name: '2^31 in int32', shape: z.int32(), cell: 2 ** 31, code: 'too_big' },
    { name: '-2^31-1 in int32', shape: z.int32(), cell: -(2 ** 31) - 1, code: 'too_small' },
    { name: 'NaN in float64', shape: z.float64(), cell: Number.NaN, code: 'invalid_type' },
    { name: 'Infinity in float64', shape: z.number(), cell: Number.POSITIVE_INFINITY, code: 'invalid_type' },
    { name: '-Infinity in float64', shape: z.float64(), cell: Number.NEGATIVE_INFINITY, code: 'invalid_type' },
    { name: 'string in float64', shape: z.number(), cell: '0.5', code: 'invalid_type' },
    { name: 'Infinity in float32', shape: z.float32(), cell: Number.POSITIVE_INFINITY, code: 'invalid_type' },
    { name: '1e39 in float32', shape: z.float32(), cell: 1e39, code: 'too_big' },
    { name: '-1e39 in float32', shape: z.float32(), cell: -1e39, code: 'too_small' },
    { name: 'non-integer in z.int()', shape: z.int(), cell: 0.5, code: 'invalid_type' },
    { name: '2^53 in z.int()', shape: z.int(), cell: 2 ** 53, code: 'too_big' },
    { name: '-2^53 in z.int()', shape: z.int(), cell: -(2 ** 53), code: 'too_small' },
    { name: 'Infinity in z.int()', shape: z.int(), cell: Number.POSITIVE_INFINITY, code: 'invalid_type' },
    { name: '2^63 in int64', shape: z.int64(), cell: 2n ** 63n, code: 'too_big' },
    { name: '-2^63-1 in int64', shape: z.bigint(), cell: -(2n ** 63n) - 1n, code: 'too_small' },
    { name: 'non-integer number in int64', shape: z.int64(), cell: 1.5, code: 'invalid_type' },
    { name: 'unsafe number in int64', shape: z.int64(), cell: 2 ** 60, code: 'invalid_type' },
    { name: 'string in int64', shape: z.int64(), cell: '5', code: 'invalid_type' },
    { name: 'number in string', shape: z.string(), cell: 5, code: 'invalid_type' },
    { name: 'object in string', shape: z.string(), cell: { a: 1 }, code: 'invalid_type' },
    { name: 'number in boolean', shape: z.boolean(), cell: 1, code: 'invalid_type' },
    { name: "'true' in boolean", shape: z.boolean(), cell: 'true', code: 'invalid_type' },
    { name: 'non-member in enum', shape: z.enum(['a', 'b']), cell: 'c', code: 'invalid_value' },
    { name: 'number in enum', shape: z.enum(['a', 'b']), cell: 0, code: 'invalid_type' },
    { name: 'invalid Date', shape: z.date(), cell: new Date(Number.NaN), code: 'invalid_type' },
    { name: 'fraction in timestamp', shape: z.date(), cell: 0.5, code: 'invalid_type' },
    { name: 'impossible calendar date', shape: z.date(), cell: '2023-02-29', code: 'invalid_type' },
    { name: 'date-time without offset', shape: z.date(), cell: '2024-01-01T10:00:00', code: 'invalid_type' },
    { name: 'sub-millisecond date-time', shape: z.date(), cell: '2024-01-01T10:00:00.0001Z', code: 'precision_loss' },
  ];
  for (const { name, shape, cell, code } of cases) {
    it(`rejects ${name} with '${code}'`, () => {
      const fields = fieldsFromShape({ col: shape });
      const error = validationError(() => ingestColumns(fields, { col: [cell] }));
      assert.deepEqual(issueKeys(error), [{ column: 'col', row: 0, code }]);
      assert.equal(error.truncatedIssues, 0);
    });
  }

  it('accepts the edges of every range', () => {
    const fields = fieldsFromShape({ i32: z.int32(), f32: z.float32(), int: z.int(), i64: z.int64() });
    const batch = ingestColumns(fields, {
      i32: [2 ** 31 - 1, -(2 ** 31)],
      f32: [3.4028234663852886e38, -3.4028234663852886e38],
      int: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
      i64: [2n ** 63n - 1n, -(2n ** 63n)],
    });
    assert.deepEqual(batchValues(batch), {
      i32: [2 ** 31 - 1, -(2 ** 31)],
      f32: [3.4028234663852886e38, -3.4028234663852886e38],
      int: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
      i64: [2n ** 63n - 1n, -(2n ** 63n)],
    });
  });

  it('converts a safe-integer number in an int64 column exactly, as JSON has no bigint', () => {
    const fields = fieldsFromShape({ big: z.int64() });
    const batch = ingestColumns(fields, { big: [Number.MAX_SAFE_INTEGER, -7, 0] });
    assert.deepEqual(columnValues(batch, 'big'), [2n ** 53n - 1n, -7n, 0n]);
  });

  it('reads ISO 8601 strings into date columns', () => {
    const fields = fieldsFromShape({ when: z.date() });
    const batch = ingestColumns(fields, {
      when: ['2024-02-29', '2024-01-01T10:00:00+02:00', '2024-01-01 08:00Z', '+010000-01-01T00:00:00.000Z', '0001-01-01T00:00:00.1230000Z'],
    });
    assert.deepEqual(columnValues(batch, 'when'), [
      new Date(Date.UTC(2024, 1, 29)),
      new Date(Date.UTC(2024, 0, 1, 8)),
      new Date(Date.UTC(2024, 0, 1, 8)),
      new Date('+010000-01-01T00:00:00.000Z'),
      new Date('0001-01-01T00:00:00.123Z'),
    ]);
  });

  it('runs zod refinements and reports zod’s codes', () => {
    const fields = fieldsFromShape({ n: z.int32().min(0), s: z.string().min(2), e: z.email(), b: z.bigint().min(0n) });
    assert.ok(fields.every((f) => f.needsZod));
    const error = validationError(() => ingestColumns(fields, { n: [1, -1, 2], s: ['ok', 'a', 'fine'], e: ['a@b.co', 'nope', 'c@d.org'], b: [1n, 2, -3] }));
    assert.deepEqual(issueKeys(error), [
      { column: 'n', row: 1, code: 'too_small' },
      { column: 's', row: 1, code: 'too_small' },
      { column: 'e', row: 1, code: 'invalid_format' },
      { column: 'b', row: 2, code: 'too_small' },
    ]);
    assert.match(error.issues[1]!.message, /2 characters/);
  });

  it('still applies the dtype check before a refinement', () => {
    const fields = fieldsFromShape({ n: z.int32().min(0) });
    const error = validationError(() => ingestColumns(fields, { n: [2 ** 40, 'x'] }));
    assert.deepEqual(issueKeys(error), [
      { column: 'n', row: 0, code: 'too_big' },
      { column: 'n', row: 1, code: 'invalid_type' },
    ]);
  });

  it('rejects null and undefined in a non-nullable column', () => {
    const fields = fieldsFromShape({ a: z.int32(), s: z.string() });
    const error = validationError(() => ingestColumns(fields, { a: [1, null, 3], s: ['x', 'y', undefined] }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 1, code: 'null_value' },
      { column: 's', row: 2, code: 'null_value' },
    ]);
  });

  it('collects every bad column before throwing one error', () => {
    const fields = fieldsFromShape({ a: z.int32(), b: z.float64(), c: z.string(), d: z.boolean().nullable() });
    const error = validationError(() => ingestColumns(fields, { a: [1, 'two'], b: [Number.NaN, 1], c: ['x', 'y'], d: [null, 0] }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 1, code: 'invalid_type' },
      { column: 'b', row: 0, code: 'invalid_type' },
      { column: 'd', row: 1, code: 'invalid_type' },
    ]);
  });
});

describe("trustedMode 'strict' and 'shape_only'", () => {
  it("'strict' checks exact dtypes but skips refinements", () => {
    const fields = fieldsFromShape({ n: z.int32().min(0), s: z.string().min(2) });
    const input = { n: [-1, 5], s: ['a', 'bb'] };
    const off = validationError(() => ingestColumns(fields, input));
    assert.deepEqual(issueKeys(off), [
      { column: 'n', row: 0, code: 'too_small' },
      { column: 's', row: 0, code: 'too_small' },
    ]);
    assert.deepEqual(batchValues(ingestColumns(fields, input, { trustedMode: 'strict' })), { n: [-1, 5], s: ['a', 'bb'] });
    assert.deepEqual(batchValues(ingestColumns(fields, input, { trustedMode: 'shape_only' })), { n: [-1, 5], s: ['a', 'bb'] });
  });

  it("'strict' rejects non-integers, non-finite and out-of-range numbers", () => {
    const fields = fieldsFromShape({ a: z.int32(), f: z.float64(), g: z.float32() });
    const error = validationError(() =>
      ingestColumns(fields, { a: [1.5, 2 ** 31], f: [Number.POSITIVE_INFINITY, 0], g: [1e39, Number.NaN] }, { trustedMode: 'strict' }),
    );
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 0, code: 'invalid_type' },
      { column: 'a', row: 1, code: 'too_big' },
      { column: 'f', row: 0, code: 'invalid_type' },
      { column: 'g', row: 0, code: 'too_big' },
      { column: 'g', row: 1, code: 'invalid_type' },
    ]);
  });

  it("'shape_only' trusts values: no integer, range or finiteness checks", () => {
    const fields = fieldsFromShape({ a: z.int32(), f: z.float64(), big: z.int64() });
    const batch = ingestColumns(fields, { a: [1.9, 7], f: [Number.NaN, Number.POSITIVE_INFINITY], big: [2 ** 60, 3n] }, { trustedMode: 'shape_only' });
    // Trusted cells are stored as their typed array stores them: int32 truncates.
    assert.deepEqual(batchValues(batch), { a: [1, 7], f: [Number.NaN, Number.POSITIVE_INFINITY], big: [2n ** 60n, 3n] });
  });

  it("'shape_only' still refuses a cell whose kind cannot be stored, and nulls in non-nullable columns", () => {
    const fields = fieldsFromShape({ a: z.int32(), s: z.string(), b: z.boolean(), big: z.int64(), when: z.date(), kind: z.enum(['x']) });
    const error = validationError(() =>
      ingestColumns(
        fields,
        { a: ['1', null], s: [1, 's'], b: [true, 'false'], big: [1.5, 1n], when: [new Date(Number.NaN), 'soon'], kind: ['x', 'y'] },
        { trustedMode: 'shape_only' },
      ),
    );
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: 0, code: 'invalid_type' },
      { column: 'a', row: 1, code: 'null_value' },
      { column: 's', row: 0, code: 'invalid_type' },
      { column: 'b', row: 1, code: 'invalid_type' },
      { column: 'big', row: 0, code: 'invalid_type' },
      { column: 'when', row: 0, code: 'invalid_type' },
      { column: 'when', row: 1, code: 'invalid_type' },
      { column: 'kind', row: 1, code: 'invalid_value' },
    ]);
  });
});

describe('frame shape of columnar input', () => {
  const fields = fieldsFromShape({ a: z.int32(), b: z.string().nullable(), c: z.float64().optional() });

  it('fills a missing nullable column with nulls', () => {
    const batch = ingestColumns(fields, { a: [1, 2] });
    assert.deepEqual(batchValues(batch), { a: [1, 2], b: [null, null], c: [null, null] });
    assert.equal(batch.columns[1]!.nullCount, 2);
    assert.deepEqual(batch.columns[1]!.dictionary, []);
  });

  it('reports a missing required column, and a missing nullable one when fillMissingOptional is false', () => {
    const error = validationError(() => ingestColumns(fields, { c: [1] }, { fillMissingOptional: false }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: null, code: 'missing_column' },
      { column: 'b', row: null, code: 'missing_column' },
    ]);
  });

  it('throws UnknownColumnError naming undeclared columns, or ignores them', () => {
    assert.throws(
      () => ingestColumns(fields, { a: [1], x: [1], y: [2] }),
      (error: unknown) => error instanceof UnknownColumnError && error.code === 'unknown_column' && error.status === 400 && error.columns.join() === 'x,y',
    );
    const batch = ingestColumns(fields, { a: [1], x: [1], y: 'not even an array' }, { extraColumns: 'ignore' });
    assert.deepEqual(batch.names, ['a', 'b', 'c']);
    assert.deepEqual(columnValues(batch, 'a'), [1]);
  });

  it('throws ColumnLengthMismatchError on unequal lengths', () => {
    assert.throws(
      () => ingestColumns(fields, { a: [1, 2, 3], b: ['x'] }),
      (error: unknown) =>
        error instanceof ColumnLengthMismatchError && error.code === 'column_length_mismatch' && error.lengths['a'] === 3 && error.lengths['b'] === 1,
    );
  });

  it("reports a column that is not an array as 'not_an_array'", () => {
    const error = validationError(() => ingestColumns(fields, { a: [1], b: 'x', c: null }));
    assert.deepEqual(issueKeys(error), [
      { column: 'b', row: null, code: 'not_an_array' },
      { column: 'c', row: null, code: 'not_an_array' },
    ]);
  });

  it('reports frame and cell issues together', () => {
    const error = validationError(() => ingestColumns(fields, { b: [5] }));
    assert.deepEqual(issueKeys(error), [
      { column: 'a', row: null, code: 'missing_column' },
      { column: 'b', row: 0, code: 'invalid_type' },
    ]);
  });

  it('rejects input that is not an object', () => {
    for (const input of [null, [1, 2], 'a', 3, undefined]) {
      const error = validationError(() => ingestColumns(fields, input));
      assert.deepEqual(issueKeys(error), [{ column: null, row: null, code: 'invalid_type' }]);
    }
  });

  it('accepts an empty frame with 0 rows', () => {
    const batch = ingestColumns(fields, { a: [], b: [], c: [] });
    assert.equal(batch.length, 0);
    assert.deepEqual(batch.names, ['a', 'b', 'c']);
    assert.ok(batch.columns.every((c) => c.length === 0 && c.nullCount === 0));
  });

  it('takes a 0-column body as 0 rows when every column may be filled', () => {
    const optional = fieldsFromShape({ b: z.string().nullable(), c: z.float64().optional() });
    const batch = ingestColumns(optional, {});
    assert.equal(batch.length, 0);
    assert.deepEqual(batch.names, ['b', 'c']);
    assert.deepEqual(
      batch.columns.map((c) => [c.dtype, c.length]),
      [
        ['utf8', 0],
        ['float64', 0],
      ],
    );
    const error = validationError(() => ingestColumns(fields, {}));
    assert.deepEqual(issueKeys(error), [{ column: 'a', row: null, code: 'missing_column' }]);
  });
});

describe('input keys and aliases', () => {
  const fields = fieldsFromShape({ userId: z.int32().meta({ alias: 'user_id' }), name: z.string() });

  it("defaults to 'aliases' when a field has an alias: the alias is read, the name is unknown", () => {
    const batch = ingestColumns(fields, { user_id: [1], name: ['a'] });
    assert.deepEqual(batch.names, ['userId', 'name']);
    assert.deepEqual(columnValues(batch, 'userId'), [1]);
    assert.throws(
      () => ingestColumns(fields, { userId: [1], name: ['a'] }),
      (error: unknown) => error instanceof UnknownColumnError && error.columns.join() === 'userId',
    );
  });

  it("reads names only under 'names'", () => {
    const batch = ingestColumns(fields, { userId: [1], name: ['a'] }, { inputKeyMode: 'names' });
    assert.deepEqual(columnValues(batch, 'userId'), [1]);
    assert.throws(() => ingestColumns(fields, { user_id: [1], name: ['a'] }, { inputKeyMode: 'names' }), UnknownColumnError);
  });

  it("takes either key under 'both', and reports both at once as 'duplicate_key'", () => {
    assert.deepEqual(columnValues(ingestColumns(fields, { userId: [1], name: ['a'] }, { inputKeyMode: 'both' }), 'userId'), [1]);
    assert.deepEqual(columnValues(ingestColumns(fields, { user_id: [2], name: ['a'] }, { inputKeyMode: 'both' }), 'userId'), [2]);
    const error = validationError(() => ingestColumns(fields, { user_id: [1], userId: [1], name: ['a'] }, { inputKeyMode: 'both' }));
    assert.deepEqual(issueKeys(error), [{ column: 'userId', row: null, code: 'duplicate_key' }]);
    const rowError = validationError(() =>
      ingestRows(
        fields,
        [
          { user_id: 1, name: 'a' },
          { user_id: 1, userId: 1, name: 'b' },
        ],
        { inputKeyMode: 'both' },
      ),
    );
    assert.deepEqual(issueKeys(rowError), [{ column: 'userId', row: 1, code: 'duplicate_key' }]);
  });

  it('names fields, never aliases, in issues', () => {
    const error = validationError(() => ingestColumns(fields, { user_id: ['x'], name: ['a'] }));
    assert.deepEqual(issueKeys(error), [{ column: 'userId', row: 0, code: 'invalid_type' }]);
  });

  it('does not read inherited properties as columns', () => {
    const tricky = fieldsFromShape({ toString: z.string().nullable(), constructor: z.int32().nullable() });
    const batch = ingestColumns(tricky, { toString: ['x'] });
    assert.deepEqual(batchValues(batch), { toString: ['x'], constructor: [null] });
    const rows = ingestRows(tricky, [{ toString: 'y' }]);
    assert.deepEqual(batchValues(rows), { toString: ['y'], constructor: [null] });
  });
});

describe('row input', () => {
  const fields = fieldsFromShape({ a: z.int32(), b: z.string().nullable() });

  it('builds the same columns as columnar input', () => {
    const batch = ingestRows(fields, [{ a: 1, b: 'x' }, { a: 2 }, { a: 3, b: null }]);
    assert.deepEqual(batchValues(batch), { a: [1, 2, 3], b: ['x', null, null] });
  });

  it("reports a missing required key as 'missing_value', and a missing nullable one when fillMissingOptional is false", () => {
    const error = validationError(() => ingestRows(fields, [{ a: 1, b: 'x' }, { b: 'y' }]));
    assert.deepEqual(issueKeys(error), [{ column: 'a', row: 1, code: 'missing_value' }]);
    const strictFill = validationError(() => ingestRows(fields, [{ a: 1 }, { a: 2, b: null }], { fillMissingOptional: false }));
    assert.deepEqual(issueKeys(strictFill), [{ column: 'b', row: 0, code: 'missing_value' }]);
  });

  it('throws UnknownColumnError for extra keys in any row, or ignores them', () => {
    assert.throws(
      () => ingestRows(fields, [{ a: 1 }, { a: 2, zz: 1 }, { a: 3, yy: 2, zz: 3 }]),
      (error: unknown) => error instanceof UnknownColumnError && error.columns.join() === 'zz,yy',
    );
    assert.deepEqual(columnValues(ingestRows(fields, [{ a: 1, zz: 1 }], { extraColumns: 'ignore' }), 'a'), [1]);
  });

  it('rejects rows that are not an array, and rows that are not objects', () => {
    const notArray = validationError(() => ingestRows(fields, { a: [1] }));
    assert.deepEqual(issueKeys(notArray), [{ column: null, row: null, code: 'invalid_type' }]);
    const badRows = validationError(() => ingestRows(fields, [{ a: 1 }, 7, null, [1], { a: 'x' }]));
    assert.deepEqual(issueKeys(badRows), [
      { column: null, row: 1, code: 'invalid_type' },
      { column: null, row: 2, code: 'invalid_type' },
      { column: null, row: 3, code: 'invalid_type' },
      { column: 'a', row: 4, code: 'invalid_type' },
    ]);
  });

  it('accepts an empty array as 0 rows, even with required fields', () => {
    const batch = ingestRows(fields, []);
    assert.equal(batch.length, 0);
    assert.deepEqual(batch.names, ['a', 'b']);
  });
});

describe('NDJSON input', () => {
  const fields = fieldsFromShape({ a: z.int32(), when: z.date().nullable(), big: z.int64().nullable() });

  it('reads one object per line and skips blank lines', () => {
    const text = '{"a":1,"when":"2024-05-01T00:00:00.000Z","big":9007199254740991}\r\n\n   \n{"a":2}\n';
    const batch = ingestNdjson(fields, text);
    assert.deepEqual(batchValues(batch), { a: [1, 2], when: [new Date('2024-05-01T00:00:00.000Z'), null], big: [2n ** 53n - 1n, null] });
    assert.deepEqual(batchValues(ingestNdjson(fields, new TextEncoder().encode(`\uFEFF${text}`))), batchValues(batch));
  });

  it("reports a malformed line as 'invalid_json' with its record index and line number", () => {
    const error = validationError(() => ingestNdjson(fields, '{"a":1}\n\n{"a":\n{"a":"x"}\n5\n'));
    assert.deepEqual(issueKeys(error), [
      { column: null, row: 1, code: 'invalid_json' },
      { column: null, row: 3, code: 'invalid_type' },
      { column: 'a', row: 2, code: 'invalid_type' },
    ]);
    assert.match(error.issues[0]!.message, /^line 3: /);
  });

  it('drops malformed lines under ignoreErrors and reports them', () => {
    let failures: readonly RowFailure[] = [];
    const batch = ingestNdjson(fields, '{"a":1}\nnot json\n{"a":3}', { ignoreErrors: true, onValidationErrors: (f) => (failures = f) });
    assert.deepEqual(columnValues(batch, 'a'), [1, 3]);
    assert.deepEqual(
      failures.map((f) => [f.row, f.errors.map((e) => e.code)]),
      [[1, ['invalid_json']]],
    );
  });

  it("rejects bytes that are not UTF-8 with 'invalid_encoding'", () => {
    const error = validationError(() => ingestNdjson(fields, new Uint8Array([0x7b, 0xff, 0x7d])));
    assert.deepEqual(issueKeys(error), [{ column: null, row: null, code: 'invalid_encoding' }]);
  });

  it('reads empty text as 0 rows', () => {
    assert.equal(ingestNdjson(fields, '').length, 0);
    assert.equal(ingestNdjson(fields, '\n\n').length, 0);
  });
});

describe('ignoreErrors', () => {
  const fields = fieldsFromShape({ a: z.int32(), s: z.string().nullable(), k: z.enum(['x', 'y']) });

  it('drops failing rows, keeps the rest in order, and reports each failure once', () => {
    const calls: (readonly RowFailure[])[] = [];
    const batch = ingestColumns(
      fields,
      { a: [1, 'bad', 3, 4, 2 ** 40], s: ['p', 'q', 'r', 5, 's'], k: ['x', 'y', 'z', 'y', 'x'] },
      { ignoreErrors: true, onValidationErrors: (failures) => calls.push(failures) },
    );
    assert.deepEqual(batchValues(batch), { a: [1], s: ['p'], k: ['x'] });
    assert.equal(calls.length, 1);
    assert.deepEqual(
      calls[0]!.map((f) => ({ row: f.row, errors: f.errors.map((e) => [e.column, e.row, e.code]) })),
      [
        { row: 1, errors: [['a', 1, 'invalid_type']] },
        { row: 2, errors: [['k', 2, 'invalid_value']] },
        { row: 3, errors: [['s', 3, 'invalid_type']] },
        { row: 4, errors: [['a', 4, 'too_big']] },
      ],
    );
  });

  it('rebuilds a plain string dictionary from the kept rows only', () => {
    const batch = ingestColumns(fields, { a: [1, null, 3], s: ['stays', 'dropped', null], k: ['x', 'x', 'y'] }, { ignoreErrors: true });
    assert.deepEqual(batchValues(batch), { a: [1, 3], s: ['stays', null], k: ['x', 'y'] });
    assert.deepEqual(batch.columns[1]!.dictionary, ['stays']);
    const rows = ingestRows(
      fields,
      [
        { a: null, s: 'gone', k: 'x' },
        { a: 2, s: 'kept', k: 'y' },
        { a: 3, k: 'x' },
      ],
      { ignoreErrors: true },
    );
    assert.deepEqual(rows.columns[1]!.dictionary, ['kept']);
    assert.deepEqual([...(rows.columns[1]!.values as Int32Array)], [0, 0]);
    assert.deepEqual(rows.columns[2]!.dictionary, ['x', 'y']);
    assert.deepEqual(batchValues(rows), { a: [2, 3], s: ['kept', null], k: ['y', 'x'] });
  });

  it('does not call onValidationErrors when nothing fails', () => {
    let called = false;
    const batch = ingestColumns(fields, { a: [1], s: [null], k: ['y'] }, { ignoreErrors: true, onValidationErrors: () => (called = true) });
    assert.equal(batch.length, 1);
    assert.equal(called, false);
  });

  it('keeps every issue of a failing row, past maxIssues', () => {
    let failures: readonly RowFailure[] = [];
    const batch = ingestRows(
      fields,
      [
        { a: 'x', s: 1, k: 'z' },
        { a: 1, k: 'x' },
      ],
      { ignoreErrors: true, maxIssues: 1, onValidationErrors: (f) => (failures = f) },
    );
    assert.equal(batch.length, 1);
    assert.deepEqual(
      failures[0]!.errors.map((e) => e.column),
      ['a', 's', 'k'],
    );
  });

  it('still throws on frame problems', () => {
    const options = { ignoreErrors: true, onValidationErrors: () => assert.fail('no rows should be reported') };
    const missing = validationError(() => ingestColumns(fields, { s: ['x'], k: ['y'] }, options));
    assert.deepEqual(issueKeys(missing), [{ column: 'a', row: null, code: 'missing_column' }]);
    assert.throws(() => ingestColumns(fields, { a: [1], k: ['x'], extra: [1] }, options), UnknownColumnError);
    assert.throws(() => ingestColumns(fields, { a: [1, 2], k: ['x'] }, options), ColumnLengthMismatchError);
  });
});

describe('issue cap', () => {
  const fields = fieldsFromShape({ a: z.int32(), b: z.string() });

  it('keeps maxIssues issues and counts the rest', () => {
    const error = validationError(() =>
      ingestColumns(fields, { a: Array.from({ length: 20 }, () => 'x'), b: Array.from({ length: 20 }, () => 1) }, { maxIssues: 5 }),
    );
    assert.equal(error.issues.length, 5);
    assert.equal(error.truncatedIssues, 35);
    assert.deepEqual(
      issueKeys(error).map((i) => i.row),
      [0, 1, 2, 3, 4],
    );
    assert.match(error.message, /^40 validation issues/);
  });

  it('defaults to 100 and always keeps frame issues first', () => {
    const many = validationError(() => ingestColumns(fields, { a: Array.from({ length: 150 }, () => null) }));
    assert.equal(many.issues.length, 100);
    assert.equal(many.truncatedIssues, 51);
    assert.deepEqual(many.issues[0], { column: 'b', row: null, code: 'missing_column', message: "column 'b' is missing" });
  });

  it('throws with no issues kept when maxIssues is 0', () => {
    const error = validationError(() => ingestColumns(fields, { a: [null], b: ['x'] }, { maxIssues: 0 }));
    assert.equal(error.issues.length, 0);
    assert.equal(error.truncatedIssues, 1);
  });
});

describe('options', () => {
  it('rejects unknown option values', () => {
    const fields = fieldsFromShape({ a: z.int32() });
    assert.throws(
      () => ingestColumns(fields, { a: [1] }, { trustedMode: 'lenient' as never }),
      (error: unknown) => error instanceof InvalidArgumentError && /'off', 'shape_only', 'strict'/.test(error.message),
    );
    assert.throws(() => ingestColumns(fields, { a: [1] }, { maxIssues: -1 }), InvalidArgumentError);
  });
});

describe('parseIsoTimestamp', () => {
  const ms = (text: string): bigint | null => {
    const parsed = parseIsoTimestamp(text, 'ms');
    return parsed.ok ? parsed.value : null;
  };
  it('parses dates and date-times with offsets, and refuses impossible ones', () => {
    assert.equal(ms('1970-01-01'), 0n);
    assert.equal(ms('1969-12-31T23:59:59.999-00:30'), 1800000n - 1n);
    assert.deepEqual(parseIsoTimestamp('2000-01-01T00:00:00.000000001Z', 'ms'), { ok: false, why: 'precision' });
    assert.equal(ms('0050-06-01'), BigInt(new Date('0050-06-01T00:00:00Z').getTime()));
    for (const bad of [
      '2024-02-30',
      '2024-13-01',
      '2024-01-01T24:00:00Z',
      '2024-01-01T10:60Z',
      '2024-1-1',
      '-000000-01-01',
      '2024-01-01T00:00:00',
      'tomorrow',
    ]) {
      assert.equal(ms(bad), null, bad);
    }
  });

  it('refuses an instant outside the range of a Date in a timestamp column', () => {
    const fields = fieldsFromShape({ at: z.date() });
    const error = validationError(() => ingestColumns(fields, { at: ['+275761-01-01'] }));
    assert.equal(error.issues[0]?.code, 'too_big');
  });
});

describe('errors', () => {
  it('are ValidationError with status 422 and a summary message', () => {
    const fields = fieldsFromShape({ a: z.int32() });
    const error = validationError(() => ingestColumns(fields, { a: [1, 'x'] }));
    assert.ok(error instanceof ValidationError);
    assert.equal(error.message, '1 validation issue; first: a[1]: expected an int32 number, received "x"');
  });
});
