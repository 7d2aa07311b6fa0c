// Allocation and access helpers for Arrow-layout columns in shared memory, and conversion between
// columns and Arrow Data/Table. Everything that builds a Column goes through here.

import * as arrow from 'apache-arrow';
import { allocShared, type TypedCtor } from './shared-memory.js';
import { formatDecimal, readDecimal } from './decimal.js';
import { DEFAULT_UNIT, paramsOf, storageOf } from './dtype.js';
import { formatIsoDate, formatIsoTime, floorDiv, UNITS_PER_SECOND } from './temporal.js';
import type { Column, ColumnBatch, DType, TimeUnit, TypedValues, TypeParams, TypeSpec } from './types.js';

export { allocShared };

export function bitmapBytes(length: number): number {
  return Math.ceil(length / 8);
}

export function allocBitmap(length: number): Uint8Array {
  return allocShared(Uint8Array, bitmapBytes(length));
}

export function getBit(bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
}

export function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3]! |= 1 << (i & 7);
}

/** Pack one byte per row (0/1) into an Arrow bitmap in shared memory. */
export function packBits(bytes: ArrayLike<number>, length: number): Uint8Array {
  const bits = allocBitmap(length);
  for (let i = 0; i < length; i++) if (bytes[i]) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

export function countNulls(validity: Uint8Array | null, length: number): number {
  if (validity === null) return 0;
  let valid = 0;
  const full = length >> 3;
  for (let b = 0; b < full; b++) valid += POPCOUNT[validity[b]!]!;
  for (let i = full << 3; i < length; i++) if (getBit(validity, i)) valid++;
  return length - valid;
}

const POPCOUNT = (() => {
  const table = new Uint8Array(256);
  for (let i = 1; i < 256; i++) table[i] = (i & 1) + table[i >> 1]!;
  return table;
})();

export function valuesCtor(dtype: DType): TypedCtor<TypedValues> {
  switch (storageOf(dtype)) {
    case 'int32':
    case 'utf8':
      return Int32Array;
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
    case 'int64':
    case 'decimal':
      return BigInt64Array;
    case 'bool':
      return Uint8Array;
  }
}

/** Elements of a dtype's values array for `length` rows: a decimal takes two 64-bit words a row, a bool one bit. */
export function valuesLength(dtype: DType, length: number): number {
  return dtype === 'decimal' ? 2 * length : dtype === 'bool' ? bitmapBytes(length) : length;
}

/** A zeroed values array for `length` rows of `dtype` in shared memory. */
export function allocValues(dtype: DType, length: number): TypedValues {
  return allocShared(valuesCtor(dtype), valuesLength(dtype, length));
}

/**
 * Builds a column, dropping a validity bitmap that marks nothing null. `params` are the dtype's parameters
 * (a decimal's precision and scale), kept on the column. `type` may itself be a type with its parameters (a
 * field, a column, a bound type: only its dtype and parameters are read); `params` add to those.
 */
export function makeColumn(
  type: DType | TypeSpec,
  length: number,
  values: TypedValues,
  validity: Uint8Array | null,
  dictionary: readonly string[] | null = null,
  params: TypeParams = {},
): Column {
  const nullCount = countNulls(validity, length);
  const spec = typeof type === 'string' ? { dtype: type } : { dtype: type.dtype, ...paramsOf(type) };
  return { ...spec, ...paramsOf(params), length, values, validity: nullCount === 0 ? null : validity, nullCount, dictionary };
}

export function isNull(column: Column, i: number): boolean {
  return column.validity !== null && !getBit(column.validity, i);
}

/**
 * The JS value of one cell: number, bigint, boolean, string (a decimal's exact text), Date, or null. Temporal values: a timestamp is a
 * Date (floored to the millisecond), a date 'YYYY-MM-DD', a time 'HH:MM:SS.fraction', a duration a bigint
 * count of its unit; README "Temporal types" states why.
 */
export function cellValue(column: Column, i: number): unknown {
  if (isNull(column, i)) return null;
  switch (column.dtype) {
    case 'int32':
    case 'float32':
    case 'float64':
      return (column.values as Int32Array | Float64Array | Float32Array)[i]!;
    case 'int64':
      return (column.values as BigInt64Array)[i]!;
    case 'bool':
      return getBit(column.values as Uint8Array, i);
    case 'utf8':
      return column.dictionary![(column.values as Int32Array)[i]!]!;
    case 'timestamp':
      return timestampToDate((column.values as BigInt64Array)[i]!, column.unit ?? DEFAULT_UNIT);
    case 'date':
      return formatIsoDate((column.values as Int32Array)[i]!);
    case 'time':
      return formatIsoTime((column.values as BigInt64Array)[i]!, column.unit ?? DEFAULT_UNIT);
    case 'duration':
      return (column.values as BigInt64Array)[i]!;
    case 'decimal':
      return formatDecimal(readDecimal(column.values as BigInt64Array, i), column.scale ?? 0);
  }
}

/** An epoch count as a JS Date, floored to the millisecond it falls in. */
export function timestampToDate(value: bigint, unit: TimeUnit): Date {
  return new Date(Number(floorDiv(value, UNITS_PER_SECOND[unit] / 1000n)));
}

const ARROW_UNITS: Readonly<Record<TimeUnit, arrow.TimeUnit>> = {
  ms: arrow.TimeUnit.MILLISECOND,
  us: arrow.TimeUnit.MICROSECOND,
  ns: arrow.TimeUnit.NANOSECOND,
};

/** The Arrow type of a column type; temporal types need their parameters (`unit`, `timeZone`). */
export function arrowType(type: DType | TypeSpec, params: TypeParams = {}): arrow.DataType {
  const spec: TypeSpec = typeof type === 'string' ? { dtype: type, ...paramsOf(params) } : { ...type, ...paramsOf(params) };
  const unit = ARROW_UNITS[spec.unit ?? DEFAULT_UNIT];
  switch (spec.dtype) {
    case 'timestamp':
      return new arrow.Timestamp(unit, spec.timeZone ?? null);
    case 'date':
      return new arrow.DateDay();
    case 'time':
      return new arrow.Time(unit, 64);
    case 'duration':
      return new arrow.Duration(unit);
    case 'decimal':
      // Decimal128: arrow-js's constructor takes (scale, precision, bitWidth).
      return new arrow.Decimal(spec.scale ?? 0, spec.precision ?? 38, 128);
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'float32':
      return new arrow.Float32();
    case 'float64':
      return new arrow.Float64();
    case 'bool':
      return new arrow.Bool();
    case 'utf8':
      return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  }
}

const dictionaryIds = { next: 0 };

// Dictionaries never change once built and many columns share one (every result of a group-by or filter
// over a utf8 key), so each is encoded to Arrow once.
const utf8Vectors = new WeakMap<readonly string[], arrow.Vector<arrow.Utf8>>();

/** The strings as an Arrow Utf8 vector: offsets from each string's byte length, then one write per string. */
export function utf8Vector(strings: readonly string[]): arrow.Vector<arrow.Utf8> {
  const cached = utf8Vectors.get(strings);
  if (cached) return cached;
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < strings.length; i++) {
    total += Buffer.byteLength(strings[i]!, 'utf8');
    if (total > 0x7fffffff) throw new RangeError('a dictionary of more than 2 GiB of UTF-8 does not fit Arrow Utf8 offsets');
    offsets[i + 1] = total;
  }
  const bytes = Buffer.alloc(total);
  for (let i = 0; i < strings.length; i++) bytes.write(strings[i]!, offsets[i]!, 'utf8');
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, total);
  const vector = arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: strings.length, nullCount: 0, valueOffsets: offsets, data }));
  utf8Vectors.set(strings, vector);
  return vector;
}

/** Wraps a column's buffers as Arrow Data without copying values or validity. */
export function columnToArrowData(column: Column): arrow.Data {
  const type = arrowType(column);
  const nullBitmap = column.validity ?? undefined;
  if (column.dtype === 'utf8') {
    const dictType = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), dictionaryIds.next++);
    const dictionary = utf8Vector(column.dictionary ?? []);
    return arrow.makeData({
      type: dictType,
      length: column.length,
      nullCount: column.nullCount,
      data: column.values as Int32Array,
      ...(nullBitmap ? { nullBitmap } : {}),
      dictionary,
    });
  }
  // Arrow reads Decimal128 values as 32-bit words: the same bytes, viewed as four words a row.
  const values = column.dtype === 'decimal' ? new Uint32Array(column.values.buffer, column.values.byteOffset, 4 * column.length) : column.values;
  return arrow.makeData({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- makeData's overloads are keyed by type class; the dictionary index type is Int32 here
    type: type as arrow.Int32,
    length: column.length,
    nullCount: column.nullCount,
    data: values as Int32Array,
    ...(nullBitmap ? { nullBitmap } : {}),
  });
}

export function batchToArrowTable(batch: ColumnBatch, nullable?: readonly boolean[]): arrow.Table {
  const data = batch.columns.map(columnToArrowData);
  const fields = batch.names.map((name, i) => new arrow.Field(name, data[i]!.type, nullable?.[i] ?? true));
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: batch.length, nullCount: 0, children: data });
  return new arrow.Table([new arrow.RecordBatch(new arrow.Schema(fields), struct)]);
}

export function emptyBatch(): ColumnBatch {
  return { length: 0, names: [], columns: [] };
}
