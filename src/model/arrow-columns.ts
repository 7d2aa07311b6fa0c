// Arrow columns whose layout already fits a gpuframe column, built with buffer copies instead of cell by cell:
// numeric values with one `set` per chunk into shared memory, validity with byte-wide bitmap copies, and
// dictionaries merged across record batches by remapping codes through one Int32Array per batch dictionary.
// Each builder either returns the column the cell-by-cell path would build, or null when the input holds
// anything that path would report (or anything it would treat specially), so that path then reports it.

import * as arrow from 'apache-arrow';
import { DEFAULT_UNIT } from './dtype.js';
import { allocBitmap, allocShared, getBit, makeColumn, setBit } from './column.js';
import type { ModelField } from './schema.js';
import type { Column, TrustedMode } from './types.js';

/**
 * The column for `vector` when it can be copied as it is, else null. `mode` decides the checks as in
 * validate.ts; a field zod must see cell by cell ('off' with refinements) never takes this path.
 */
export function copyArrowColumn(field: ModelField, vector: arrow.Vector<arrow.DataType>, mode: TrustedMode): Column | null {
  if (mode === 'off' && field.needsZod) return null;
  const { type } = vector;
  const checked = mode !== 'shape_only';
  switch (field.dtype) {
    case 'int32':
      return arrow.DataType.isInt(type) && type.isSigned && type.bitWidth === 32 ? copyNumeric(field, vector, Int32Array, null) : null;
    case 'int64':
      return arrow.DataType.isInt(type) && type.isSigned && type.bitWidth === 64 ? copyNumeric(field, vector, BigInt64Array, null) : null;
    case 'float32':
      return arrow.DataType.isFloat(type) && type.precision === arrow.Precision.SINGLE
        ? copyNumeric(field, vector, Float32Array, checked ? allFinite : null)
        : null;
    case 'float64': {
      if (!(arrow.DataType.isFloat(type) && type.precision === arrow.Precision.DOUBLE)) return null;
      const check = checked ? (field.integral ? allSafeIntegers : allFinite) : null;
      return copyNumeric(field, vector, Float64Array, check);
    }
    case 'utf8':
      return arrow.DataType.isDictionary(type) ? remapDictionary(field, vector) : null;
    case 'date':
      // Days need no check but the int32 range they already have.
      return arrow.DataType.isDate(type) && type.unit === arrow.DateUnit.DAY ? copyNumeric(field, vector, Int32Array, null) : null;
    case 'timestamp':
    case 'time':
    case 'duration':
      // Same unit only (a conversion is checked value by value); a timestamp's range check is left to the cell path.
      if (!sameUnit(field, type) || (checked && field.dtype !== 'duration')) return null;
      return copyNumeric(field, vector, BigInt64Array, null);
    case 'bool':
    case 'decimal':
      return null;
  }
}

const ARROW_UNITS = { ms: arrow.TimeUnit.MILLISECOND, us: arrow.TimeUnit.MICROSECOND, ns: arrow.TimeUnit.NANOSECOND } as const;

function sameUnit(field: ModelField, type: arrow.DataType): boolean {
  const unit = ARROW_UNITS[field.unit ?? DEFAULT_UNIT];
  if (field.dtype === 'timestamp') return arrow.DataType.isTimestamp(type) && type.unit === unit;
  if (field.dtype === 'time') return arrow.DataType.isTime(type) && type.bitWidth === 64 && type.unit === unit;
  return arrow.DataType.isDuration(type) && type.unit === unit;
}

type NumericArray = Int32Array | Float32Array | Float64Array | BigInt64Array;
type NumericCtor<T extends NumericArray> = { new (length: number): T; BYTES_PER_ELEMENT: number } & Parameters<typeof allocShared<T>>[0];

/** Every chunk's values copied whole; `check` sees each chunk's values (nulls included, which only costs a fallback). */
function copyNumeric<T extends NumericArray>(
  field: ModelField,
  vector: arrow.Vector<arrow.DataType>,
  ctor: NumericCtor<T>,
  check: ((values: Float32Array | Float64Array) => boolean) | null,
): Column | null {
  const length = vector.length;
  const validity = joinValidity(vector);
  if (validity !== null && !field.nullable && hasNull(validity, length)) return null;
  const values = allocShared(ctor, length);
  let base = 0;
  for (const chunk of vector.data) {
    const chunkValues = (chunk.values as T).subarray(0, chunk.length) as T;
    if (check !== null && !check(chunkValues as Float32Array | Float64Array)) return null;
    (values as Int32Array).set(chunkValues as Int32Array, base);
    base += chunk.length;
  }
  // The cell-by-cell path leaves a null cell's value zero; whatever Arrow held under a null must not leak.
  if (validity !== null) zeroNulls(values, validity, length);
  return makeColumn(field, length, values, validity);
}

/** Finite numbers only: `v - v` is 0 exactly for finite v and NaN for NaN and ±Infinity. */
function allFinite(values: Float32Array | Float64Array): boolean {
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) bad++;
  }
  return bad === 0;
}

function allSafeIntegers(values: Float32Array | Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isSafeInteger(values[i])) return false;
  return true;
}

function hasNull(validity: Uint8Array, length: number): boolean {
  const full = length >> 3;
  for (let b = 0; b < full; b++) if (validity[b] !== 0xff) return true;
  for (let i = full << 3; i < length; i++) if (!getBit(validity, i)) return true;
  return false;
}

function zeroNulls(values: NumericArray, validity: Uint8Array, length: number): void {
  const zero = values instanceof BigInt64Array ? 0n : 0;
  for (let b = 0; b < validity.length; b++) {
    if (validity[b] === 0xff) continue;
    const end = Math.min(length, (b + 1) << 3);
    for (let i = b << 3; i < end; i++) if (!getBit(validity, i)) (values as Int32Array)[i] = zero as number;
  }
}

/**
 * One validity bitmap over all chunks (in shared memory), or null when no chunk has a null. A chunk whose
 * nullCount is set but that has no bitmap counts as all valid, as apache-arrow reads it.
 */
export function joinValidity(vector: arrow.Vector<arrow.DataType>): Uint8Array | null {
  if (vector.nullCount === 0) return null;
  const bits = allocBitmap(vector.length);
  let base = 0;
  for (const chunk of vector.data) {
    const { nullBitmap, offset } = chunk;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- apache-arrow types nullBitmap as present, but a chunk without nulls may have none
    if (chunk.nullCount > 0 && nullBitmap !== undefined && nullBitmap.length > 0) copyBits(nullBitmap, offset, bits, base, chunk.length);
    else setBits(bits, base, chunk.length);
    base += chunk.length;
  }
  return bits;
}

/**
 * ORs `length` bits of `source` from bit `from` into `target` from bit `to`, a byte at a time between the
 * unaligned ends. `target`'s bits in the range must be clear (a fresh bitmap filled in row order).
 */
export function copyBits(source: Uint8Array, from: number, target: Uint8Array, to: number, length: number): void {
  let i = 0;
  for (; i < length && ((to + i) & 7) !== 0; i++) if (getBit(source, from + i)) setBit(target, to + i);
  const bytes = (length - i) >> 3;
  const shift = (from + i) & 7;
  const s = (from + i) >> 3;
  const t = (to + i) >> 3;
  if (shift === 0) {
    target.set(source.subarray(s, s + bytes), t);
  } else {
    for (let k = 0; k < bytes; k++) target[t + k] = ((source[s + k]! >> shift) | (source[s + k + 1]! << (8 - shift))) & 0xff;
  }
  for (i += bytes << 3; i < length; i++) if (getBit(source, from + i)) setBit(target, to + i);
}

/** Sets bits [from, from + length) of a bitmap. */
function setBits(target: Uint8Array, from: number, length: number): void {
  let i = from;
  const end = from + length;
  for (; i < end && (i & 7) !== 0; i++) setBit(target, i);
  const fullEnd = end & ~7;
  if (i < fullEnd) {
    target.fill(0xff, i >> 3, fullEnd >> 3);
    i = fullEnd;
  }
  for (; i < end; i++) setBit(target, i);
}

/** Decoded entries of one dictionary lineage: its first `chunks` chunks, the last of which is `last`. */
export interface DecodedDictionary {
  readonly values: unknown[];
  chunks: number;
  last: arrow.Data;
}

/**
 * The entries of `dictionary`, decoding only the chunks its lineage has not decoded yet. Batches share one
 * dictionary, and a delta dictionary batch makes a new dictionary that is the old one's chunks plus its own:
 * decoding each batch's dictionary whole would cost batches x dictionary size. So decoded entries are kept
 * per dictionary lineage (keyed by its first chunk) and extended by the chunks a delta adds.
 */
export function decodedDictionary(dictionary: arrow.Vector<arrow.DataType>, decoded: Map<arrow.Data, DecodedDictionary>): unknown[] {
  const chunks = dictionary.data;
  const first = chunks[0];
  if (first === undefined) return [];
  let entry = decoded.get(first);
  // The lineage goes on only if this dictionary holds the chunks decoded so far; else it starts afresh.
  if (entry === undefined || chunks.length < entry.chunks || chunks[entry.chunks - 1] !== entry.last) {
    entry = { values: [], chunks: 0, last: first };
    decoded.set(first, entry);
  }
  for (let c = entry.chunks; c < chunks.length; c++) {
    for (const value of new arrow.Vector([chunks[c]!])) entry.values.push(value);
    entry.last = chunks[c]!;
    entry.chunks = c + 1;
  }
  return entry.values;
}

/** Code of a dictionary entry not seen yet in any row, and of an entry that is null. */
const UNSEEN = -1;
const NULL_ENTRY = -2;

/**
 * A dictionary column re-coded into one dictionary in first-appearance order (an enum's: its values in
 * order), as buildUtf8 makes it. Each batch dictionary gets an Int32Array from its codes to the merged
 * ones, filled the first time a row uses a code, so string work is once per distinct entry and batch
 * dictionary, and each row costs one array read. Null for what the cell path reports: an index outside
 * the dictionary, a string outside the enum, a null in a non-nullable column.
 */
function remapDictionary(field: ModelField, vector: arrow.Vector<arrow.DataType>): Column | null {
  const length = vector.length;
  const enumValues = field.enumValues;
  const dictionary: string[] = enumValues === undefined ? [] : [...enumValues];
  const codes = new Map<string, number>(dictionary.map((value, code) => [value, code]));
  const values = allocShared(Int32Array, length);
  let validity = joinValidity(vector);
  const decoded = new Map<arrow.Data, DecodedDictionary>();
  const remaps = new Map<unknown[], Int32Array>();
  let base = 0;
  for (const chunk of vector.data) {
    const entries = chunk.dictionary === undefined ? [] : decodedDictionary(chunk.dictionary as arrow.Vector<arrow.DataType>, decoded);
    const size = chunk.dictionary?.length ?? 0;
    let remap = remaps.get(entries);
    // A delta dictionary extends its lineage's entries in place: the remap grows with them, keeping its codes.
    if (remap === undefined || remap.length < entries.length) {
      const grown = new Int32Array(entries.length).fill(UNSEEN);
      if (remap !== undefined) grown.set(remap);
      remap = grown;
      remaps.set(entries, remap);
    }
    const indices = chunk.values as ArrayLike<number | bigint>;
    const isBig = indices instanceof BigInt64Array || indices instanceof BigUint64Array;
    const hasNulls = validity !== null && chunk.nullCount > 0;
    for (let i = 0; i < chunk.length; i++) {
      // Without nulls, rows whose code is already mapped run in a tight loop; it stops at the first that is not.
      if (!hasNulls && !isBig) {
        i = remapKnown(indices as ArrayLike<number>, remap, values, base, i, chunk.length);
        if (i === chunk.length) break;
      }
      const row = base + i;
      if (hasNulls && !getBit(validity!, row)) continue;
      const index = isBig ? Number(indices[i]) : (indices[i] as number);
      if (!(index >= 0 && index < size)) return null;
      let code = remap[index]!;
      if (code === UNSEEN) {
        const entry = entries[index];
        if (typeof entry === 'string') {
          const known = codes.get(entry);
          if (known === undefined) {
            if (enumValues !== undefined) return null;
            code = dictionary.length;
            codes.set(entry, code);
            dictionary.push(entry);
          } else {
            code = known;
          }
        } else {
          code = NULL_ENTRY;
        }
        remap[index] = code;
      }
      if (code === NULL_ENTRY) {
        if (!field.nullable) return null;
        // A valid index to a null entry is a null cell; the bitmap exists only once the first such row shows.
        validity ??= allValid(length);
        validity[row >> 3]! &= ~(1 << (row & 7));
        continue;
      }
      values[row] = code;
    }
    base += chunk.length;
  }
  if (validity !== null && !field.nullable && hasNull(validity, length)) return null;
  return makeColumn('utf8', length, values, validity, dictionary);
}

/** Writes rows from..to-1 of a chunk whose codes are mapped already; returns the first row that is not (or `to`). */
function remapKnown(indices: ArrayLike<number>, remap: Int32Array, values: Int32Array, base: number, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    // An index outside the remap reads undefined, which fails the test too: the caller reports it.
    const code = remap[indices[i]!];
    if (code === undefined || code < 0) return i;
    values[base + i] = code;
  }
  return to;
}

function allValid(length: number): Uint8Array {
  const bits = allocBitmap(length);
  setBits(bits, 0, length);
  return bits;
}
