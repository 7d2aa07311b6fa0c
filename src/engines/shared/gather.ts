// Row movement for whole columns on the main thread: gather by index (sort, join, unique), slice, and
// concatenation. Results live in shared memory like every column; bools stay bit-packed and utf8 keeps
// dictionary codes (concatenation merges differing dictionaries once, never per row).

import { ExecutionError } from '../../errors.js';
import { allocBitmap, allocValues, emptyBatch, makeColumn } from '../../model/column.js';
import type { Column, ColumnBatch, DType, TypedValues } from '../../model/types.js';
import { uint32Words } from './key-table.js';
import { storageOf } from '../../model/dtype.js';

type WordValues = Int32Array | Float32Array | Float64Array | BigInt64Array;

/** Fixed-width values as 32-bit words: 8-byte values move as two words, never through BigInt or doubles. */
function wordsOf(values: TypedValues): Uint32Array {
  return uint32Words(values as WordValues);
}

function wordsPerValue(dtype: DType): number {
  const storage = storageOf(dtype);
  return storage === 'decimal' ? 4 : storage === 'int64' || storage === 'float64' ? 2 : 1;
}

function hasMissing(indices: Int32Array): boolean {
  for (let r = 0; r < indices.length; r++) if (indices[r]! < 0) return true;
  return false;
}

/**
 * New column whose row r is `column` row indices[r]; an index of -1 produces null (with value 0).
 * Indices must otherwise lie in [0, column.length).
 */
export function gatherColumn(column: Column, indices: Int32Array): Column {
  return gatherWith(column, indices, hasMissing(indices));
}

export function gatherBatch(batch: ColumnBatch, indices: Int32Array): ColumnBatch {
  const missing = hasMissing(indices);
  return { length: indices.length, names: batch.names, columns: batch.columns.map((c) => gatherWith(c, indices, missing)) };
}

function gatherWith(column: Column, indices: Int32Array, missing: boolean): Column {
  const n = indices.length;
  const values = allocValues(column.dtype, n);
  if (column.dtype === 'bool') {
    const src = column.values as Uint8Array;
    const dst = values as Uint8Array;
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      if (i >= 0 && ((src[i >> 3]! >> (i & 7)) & 1) === 1) dst[r >> 3] = dst[r >> 3]! | (1 << (r & 7));
    }
  } else if (wordsPerValue(column.dtype) === 2) {
    const src = wordsOf(column.values);
    const dst = wordsOf(values);
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      if (i < 0) continue;
      dst[2 * r] = src[2 * i]!;
      dst[2 * r + 1] = src[2 * i + 1]!;
    }
  } else if (wordsPerValue(column.dtype) === 4) {
    const src = wordsOf(column.values);
    const dst = wordsOf(values);
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      if (i < 0) continue;
      dst.set(src.subarray(4 * i, 4 * i + 4), 4 * r);
    }
  } else {
    const src = wordsOf(column.values);
    const dst = wordsOf(values);
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      if (i >= 0) dst[r] = src[i]!;
    }
  }
  let validity: Uint8Array | null = null;
  const source = column.validity;
  if (source !== null || missing) {
    validity = allocBitmap(n);
    for (let r = 0; r < n; r++) {
      const i = indices[r]!;
      if (i >= 0 && (source === null || ((source[i >> 3]! >> (i & 7)) & 1) === 1)) validity[r >> 3] = validity[r >> 3]! | (1 << (r & 7));
    }
  }
  return makeColumn(column, n, values, validity, column.dictionary);
}

/** ORs `count` bits of `src` from bit `from` into `dst` from bit `to` (dst starts zeroed). */
function copyBits(src: Uint8Array, from: number, dst: Uint8Array, to: number, count: number): void {
  let k = 0;
  if ((from & 7) === 0 && (to & 7) === 0) {
    const bytes = count >> 3;
    dst.set(src.subarray(from >> 3, (from >> 3) + bytes), to >> 3);
    k = bytes << 3;
  }
  for (; k < count; k++) {
    const i = from + k;
    if (((src[i >> 3]! >> (i & 7)) & 1) === 1) {
      const o = to + k;
      dst[o >> 3] = dst[o >> 3]! | (1 << (o & 7));
    }
  }
}

function setBits(dst: Uint8Array, to: number, count: number): void {
  for (let o = to; o < to + count; o++) dst[o >> 3] = dst[o >> 3]! | (1 << (o & 7));
}

/**
 * Rows [offset, offset + length) of `batch`, clamped to its rows, as a new batch. Values are copied rather
 * than viewed so that a small slice does not keep a large input's buffers alive.
 */
export function sliceBatch(batch: ColumnBatch, offset: number, length: number): ColumnBatch {
  const start = Math.min(batch.length, Math.max(0, offset));
  const end = Math.min(batch.length, start + Math.max(0, length));
  const n = end - start;
  const columns = batch.columns.map((column) => {
    const values = allocValues(column.dtype, n);
    if (column.dtype === 'bool') copyBits(column.values as Uint8Array, start, values as Uint8Array, 0, n);
    else {
      const width = wordsPerValue(column.dtype);
      wordsOf(values).set(wordsOf(column.values).subarray(start * width, end * width));
    }
    let validity: Uint8Array | null = null;
    if (column.validity !== null) {
      validity = allocBitmap(n);
      copyBits(column.validity, start, validity, 0, n);
    }
    return makeColumn(column, n, values, validity, column.dictionary);
  });
  return { length: n, names: batch.names, columns };
}

/**
 * Concatenates batches with identical names and dtypes. utf8 columns whose dictionaries differ get one
 * merged dictionary (the first batch's strings in order, then new strings as they first appear) and
 * remapped codes. A single batch is returned as it is: columns are immutable.
 */
export function concatBatches(batches: readonly ColumnBatch[]): ColumnBatch {
  const first = batches[0];
  if (first === undefined) return emptyBatch();
  if (batches.length === 1) return first;
  for (const batch of batches) {
    const same =
      batch.names.length === first.names.length &&
      batch.names.every((name, c) => name === first.names[c] && batch.columns[c]!.dtype === first.columns[c]!.dtype);
    if (!same) throw new ExecutionError(`cannot concatenate batches with different columns: [${first.names.join(', ')}] and [${batch.names.join(', ')}]`);
  }
  const total = batches.reduce((sum, batch) => sum + batch.length, 0);
  const columns = first.columns.map((_, c) =>
    concatColumns(
      batches.map((batch) => batch.columns[c]!),
      total,
    ),
  );
  return { length: total, names: first.names, columns };
}

function concatColumns(parts: readonly Column[], total: number): Column {
  const dtype = parts[0]!.dtype;
  const values = allocValues(dtype, total);
  const merged = dtype === 'utf8' ? mergeDictionaries(parts.map((p) => p.dictionary ?? [])) : null;
  let at = 0;
  parts.forEach((part, p) => {
    const remap = merged?.remaps[p] ?? null;
    if (dtype === 'bool') copyBits(part.values as Uint8Array, 0, values as Uint8Array, at, part.length);
    else if (remap !== null) {
      const src = part.values as Int32Array;
      const dst = values as Int32Array;
      // Null rows may hold any code; anything outside the dictionary becomes 0.
      for (let i = 0; i < part.length; i++) dst[at + i] = remap[src[i]!] ?? 0;
    } else {
      const width = wordsPerValue(dtype);
      wordsOf(values).set(wordsOf(part.values).subarray(0, part.length * width), at * width);
    }
    at += part.length;
  });
  let validity: Uint8Array | null = null;
  if (parts.some((part) => part.validity !== null)) {
    const bits = allocBitmap(total);
    at = 0;
    for (const part of parts) {
      if (part.validity === null) setBits(bits, at, part.length);
      else copyBits(part.validity, 0, bits, at, part.length);
      at += part.length;
    }
    validity = bits;
  }
  return makeColumn(parts[0]!, total, values, validity, merged === null ? parts[0]!.dictionary : merged.dictionary);
}

/** One dictionary for all parts, and per part the map from its codes to merged codes (null: unchanged). */
function mergeDictionaries(dictionaries: readonly (readonly string[])[]): { dictionary: readonly string[]; remaps: (Int32Array | null)[] } {
  const base = dictionaries[0]!;
  const sameAsBase = (d: readonly string[]): boolean => d === base || (d.length === base.length && d.every((s, code) => s === base[code]));
  if (dictionaries.every(sameAsBase)) return { dictionary: base, remaps: dictionaries.map(() => null) };
  const dictionary = [...base];
  const codeOf = new Map<string, number>();
  base.forEach((s, code) => {
    if (!codeOf.has(s)) codeOf.set(s, code);
  });
  const remaps = dictionaries.map((d) => {
    if (sameAsBase(d)) return null;
    return Int32Array.from(d, (s) => {
      let code = codeOf.get(s);
      if (code === undefined) {
        code = dictionary.length;
        dictionary.push(s);
        codeOf.set(s, code);
      }
      return code;
    });
  });
  return { dictionary, remaps };
}

/** The columns of `batch` with these names, in this order (a join's key columns). */
export function columnsNamed(batch: ColumnBatch, names: readonly string[]): Column[] {
  return names.map((n) => batch.columns[batch.names.indexOf(n)]!);
}

/**
 * A join's output from its matched row pairs (either engine's): the left columns, then the right ones
 * kept under their output names; right index -1 (a left join's unmatched row) gathers nulls.
 */
export function joinedBatch(
  rightOutput: readonly { readonly from: string; readonly as: string }[],
  left: ColumnBatch,
  right: ColumnBatch,
  leftRows: Int32Array,
  rightRows: Int32Array | null,
): ColumnBatch {
  const joined = gatherBatch(left, leftRows);
  if (rightRows === null) return joined;
  const extra = rightOutput.map((r) => gatherColumn(right.columns[right.names.indexOf(r.from)]!, rightRows));
  return { length: joined.length, names: [...joined.names, ...rightOutput.map((r) => r.as)], columns: [...joined.columns, ...extra] };
}
