// Hashing of fixed-width key tuples: key columns are encoded as tuples of 32-bit words so that one
// open-addressing table serves group-by, unique, join and distinct counting. Pure typed-array code that
// runs the same on the main thread and in workers (generated kernels reach KeyTable through `lib`).

import type { Column } from '../../model/types.js';
import { storageOf } from '../../model/dtype.js';

/**
 * How to encode one key column. `as` lets a join encode int32 keys as int64 words to meet an int64 side;
 * `remap` maps utf8 codes into another dictionary's code space (-1 = not present: such a key never equals
 * any present key).
 */
export interface KeyColumn {
  readonly column: Column;
  readonly as?: 'int64';
  readonly remap?: Int32Array;
}

/** Every NaN is written as the quiet NaN (float64: high word below, low word 0) so that NaNs group together. */
const CANONICAL_NAN64_HIGH = 0x7ff80000;
const CANONICAL_NAN32 = 0x7fc00000;
/** The null mask is one word, one bit per key column. */
const MAX_MASKED_KEYS = 32;
/** Rows encoded per block: column-at-a-time encoding into a buffer that stays in cache. */
const BLOCK_ROWS = 4096;

/** Words one key column takes in a tuple. */
function valueWords(key: KeyColumn): number {
  switch (storageOf(key.column.dtype)) {
    case 'int64':
    case 'float64':
      return 2;
    case 'int32':
      return key.as === 'int64' ? 2 : 1;
    case 'decimal':
      return 4;
    case 'float32':
    case 'utf8':
    case 'bool':
      return 1;
  }
}

function hasNullMask(keys: readonly KeyColumn[]): boolean {
  return keys.some((k) => k.column.validity !== null);
}

/** Words per tuple without the null-mask word. */
export function valueWidth(keys: readonly KeyColumn[]): number {
  let width = 0;
  for (const key of keys) width += valueWords(key);
  return width;
}

/** Words per tuple: the keys' value words, plus one null-mask word when any key column has nulls. */
export function keyWidth(keys: readonly KeyColumn[]): number {
  return hasNullMask(keys) ? valueWidth(keys) + 1 : valueWidth(keys);
}

/**
 * The values of a 4- or 8-byte typed array as little-endian 32-bit words, without copying. Every platform
 * Node runs on is little-endian, so word 2i is the low half of an 8-byte element i.
 */
export function uint32Words(values: Int32Array | Float32Array | Float64Array | BigInt64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, (values.length * values.BYTES_PER_ELEMENT) >> 2);
}

/**
 * Writes the value words of one key column for rows [start, end) (row r is `rows[r]` when `rows` is given)
 * into `out` at `at`, `at + stride`, ... Null rows get zero words; the caller marks them in the mask word.
 */
function encodeColumnWords(key: KeyColumn, rows: Int32Array | null, start: number, end: number, out: Uint32Array, at: number, stride: number): void {
  const { column } = key;
  const validity = column.validity;
  let o = at;
  switch (storageOf(column.dtype)) {
    case 'bool': {
      const bits = column.values as Uint8Array;
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        out[o] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (bits[i >> 3]! >> (i & 7)) & 1;
      }
      return;
    }
    case 'utf8': {
      const codes = column.values as Int32Array;
      const remap = key.remap;
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) out[o] = 0;
        else out[o] = remap === undefined ? codes[i]! : remap[codes[i]!]!;
      }
      return;
    }
    case 'int32': {
      const ints = column.values as Int32Array;
      const wide = key.as === 'int64';
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        const v = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : ints[i]!;
        out[o] = v;
        // Sign extension gives the same words as the int64 holding this value.
        if (wide) out[o + 1] = v >> 31;
      }
      return;
    }
    case 'float32': {
      const words = uint32Words(column.values as Float32Array);
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) {
          out[o] = 0;
          continue;
        }
        const w = words[i]!;
        const magnitude = w & 0x7fffffff;
        // -0 joins 0; any NaN (exponent all ones, mantissa non-zero) joins the canonical NaN.
        out[o] = magnitude === 0 ? 0 : magnitude > 0x7f800000 ? CANONICAL_NAN32 : w;
      }
      return;
    }
    case 'float64': {
      const words = uint32Words(column.values as Float64Array);
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) {
          out[o] = 0;
          out[o + 1] = 0;
          continue;
        }
        const low = words[2 * i]!;
        const high = words[2 * i + 1]!;
        const magnitudeHigh = high & 0x7fffffff;
        if (magnitudeHigh === 0 && low === 0) {
          out[o] = 0;
          out[o + 1] = 0;
        } else if (magnitudeHigh > 0x7ff00000 || (magnitudeHigh === 0x7ff00000 && low !== 0)) {
          out[o] = 0;
          out[o + 1] = CANONICAL_NAN64_HIGH;
        } else {
          out[o] = low;
          out[o + 1] = high;
        }
      }
      return;
    }
    case 'int64': {
      const words = uint32Words(column.values as BigInt64Array);
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        const valid = validity === null || ((validity[i >> 3]! >> (i & 7)) & 1) === 1;
        out[o] = valid ? words[2 * i]! : 0;
        out[o + 1] = valid ? words[2 * i + 1]! : 0;
      }
      return;
    }
    case 'decimal': {
      // Equal decimals of one column have equal words (one scale, one two's-complement form).
      const words = uint32Words(column.values as BigInt64Array);
      for (let r = start; r < end; r++, o += stride) {
        const i = rows === null ? r : rows[r]!;
        const valid = validity === null || ((validity[i >> 3]! >> (i & 7)) & 1) === 1;
        for (let w = 0; w < 4; w++) out[o + w] = valid ? words[4 * i + w]! : 0;
      }
      return;
    }
  }
}

/**
 * Encodes rows [start, end) of `keys` (row r is `rows[r]` when given) as consecutive tuples of `width`
 * words from `out[at]`. With `withMask`, the last word of each tuple has bit k set when key k is null.
 */
export function encodeKeyBlock(
  keys: readonly KeyColumn[],
  rows: Int32Array | null,
  start: number,
  end: number,
  out: Uint32Array,
  at: number,
  width: number,
  withMask: boolean,
): void {
  if (withMask && keys.length > MAX_MASKED_KEYS) throw new RangeError(`at most ${MAX_MASKED_KEYS} key columns when keys can be null, got ${keys.length}`);
  let offset = at;
  keys.forEach((key) => {
    encodeColumnWords(key, rows, start, end, out, offset, width);
    offset += valueWords(key);
  });
  if (!withMask) return;
  const maskAt = offset;
  for (let o = maskAt, r = start; r < end; r++, o += width) out[o] = 0;
  keys.forEach((key, k) => {
    const validity = key.column.validity;
    if (validity === null) return;
    const bit = 1 << k;
    for (let o = maskAt, r = start; r < end; r++, o += width) {
      const i = rows === null ? r : rows[r]!;
      if (((validity[i >> 3]! >> (i & 7)) & 1) === 0) out[o] = out[o]! | bit;
    }
  });
}

/**
 * Writes the tuple of `row` at `out[at]`; false when any key is null. Null keys encode value words 0 and
 * set their bit in the mask word. Floats: -0 is written as 0 and every NaN as one canonical NaN.
 */
export function encodeKeys(keys: readonly KeyColumn[], row: number, out: Uint32Array, at: number): boolean {
  const withMask = hasNullMask(keys);
  const width = keyWidth(keys);
  encodeKeyBlock(keys, null, row, row + 1, out, at, width, withMask);
  return !withMask || out[at + width - 1] === 0;
}

/** murmur3's 32-bit mixing over the words of one tuple, as an unsigned value (slots store it as one). */
export function hashWords(words: Uint32Array, at: number, width: number): number {
  let h = 0x9747b28c;
  for (let k = 0; k < width; k++) {
    let w = Math.imul(words[at + k]!, 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    w = Math.imul(w, 0x1b873593);
    h ^= w;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= width;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Slots at most this many, so that slot offsets stay well inside the typed-array limits. */
const MAX_CAPACITY = 2 ** 28;

/**
 * Open-addressing hash table of word tuples with linear probing and a power-of-two capacity, kept at most
 * half full. Ids are dense, 0, 1, 2, ... in insertion order, so callers index their own typed arrays by
 * them. A slot holds id + 1 (0 = empty), the hash and the key words side by side, so a probe that hits
 * touches one cache line instead of following the id into a second array; the tuples are also kept in id
 * order for `keyWords`.
 */
export class KeyTable {
  readonly width: number;
  private readonly slotWidth: number;
  private slots: Uint32Array;
  private mask: number;
  private keys: Uint32Array;
  private count = 0;

  constructor(width: number, expected = 16) {
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`key width must be a non-negative integer, got ${width}`);
    this.width = width;
    this.slotWidth = width + 2;
    let capacity = 16;
    while (capacity < expected * 2 && capacity < MAX_CAPACITY) capacity *= 2;
    this.slots = new Uint32Array(capacity * this.slotWidth);
    this.mask = capacity - 1;
    this.keys = new Uint32Array((capacity >> 1) * width);
  }

  get size(): number {
    return this.count;
  }

  /** Id of the tuple at `words[at..at+width)`, inserting it if new. */
  findOrInsert(words: Uint32Array, at: number): number {
    const width = this.width;
    const slotWidth = this.slotWidth;
    const h = hashWords(words, at, width);
    const slots = this.slots;
    let base = (h & this.mask) * slotWidth;
    for (;;) {
      const stored = slots[base]!;
      if (stored === 0) break;
      if (slots[base + 1] === h && sameWords(slots, base + 2, words, at, width)) return stored - 1;
      base = base + slotWidth === slots.length ? 0 : base + slotWidth;
    }
    const id = this.count;
    slots[base] = id + 1;
    slots[base + 1] = h;
    if ((id + 1) * width > this.keys.length) this.growKeys();
    const keys = this.keys;
    for (let k = 0; k < width; k++) {
      const w = words[at + k]!;
      slots[base + 2 + k] = w;
      keys[id * width + k] = w;
    }
    this.count = id + 1;
    if (this.count * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    return id;
  }

  /** Id of the tuple at `words[at..at+width)`, or -1. */
  find(words: Uint32Array, at: number): number {
    const width = this.width;
    const slotWidth = this.slotWidth;
    const h = hashWords(words, at, width);
    const slots = this.slots;
    let base = (h & this.mask) * slotWidth;
    for (;;) {
      const stored = slots[base]!;
      if (stored === 0) return -1;
      if (slots[base + 1] === h && sameWords(slots, base + 2, words, at, width)) return stored - 1;
      base = base + slotWidth === slots.length ? 0 : base + slotWidth;
    }
  }

  /** A copy of the words of tuple `id`. */
  keyWords(id: number): Uint32Array {
    if (id < 0 || id >= this.count) throw new RangeError(`no key with id ${id}`);
    return this.keys.slice(id * this.width, (id + 1) * this.width);
  }

  /** Empties the table, keeping its capacity: ids start at 0 again. */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
  }

  /** The words of every tuple, `width` per id in id order, copied in one piece. */
  allWords(): Uint32Array {
    return this.keys.slice(0, this.count * this.width);
  }

  private growKeys(): void {
    const next = new Uint32Array(this.keys.length * 2);
    next.set(this.keys);
    this.keys = next;
  }

  private rehash(capacity: number): void {
    if (capacity > MAX_CAPACITY) throw new RangeError(`key table exceeds ${MAX_CAPACITY / 2} distinct keys`);
    const slotWidth = this.slotWidth;
    const old = this.slots;
    const slots = new Uint32Array(capacity * slotWidth);
    const mask = capacity - 1;
    for (let from = 0; from < old.length; from += slotWidth) {
      if (old[from] === 0) continue;
      let to = (old[from + 1]! & mask) * slotWidth;
      while (slots[to] !== 0) to = to + slotWidth === slots.length ? 0 : to + slotWidth;
      for (let k = 0; k < slotWidth; k++) slots[to + k] = old[from + k]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function sameWords(slots: Uint32Array, base: number, words: Uint32Array, at: number, width: number): boolean {
  for (let k = 0; k < width; k++) if (slots[base + k] !== words[at + k]) return false;
  return true;
}

/**
 * Group ids per row over whole columns: rows in order, ids dense in first-appearance order; null keys form
 * their own group. With `selection`, only those rows (in that order) are grouped and the others get -1.
 */
export function groupRows(keys: readonly KeyColumn[], length: number, selection?: Int32Array): { ids: Int32Array; firstRow: Int32Array; groups: number } {
  const width = keyWidth(keys);
  const withMask = hasNullMask(keys);
  const rows = selection ?? null;
  const count = rows === null ? length : rows.length;
  const ids = new Int32Array(length);
  if (rows !== null) ids.fill(-1);
  const table = new KeyTable(width, 1024);
  let firstRow = new Int32Array(1024);
  const block = new Uint32Array(Math.max(1, BLOCK_ROWS * width));
  for (let start = 0; start < count; start += BLOCK_ROWS) {
    const end = Math.min(count, start + BLOCK_ROWS);
    encodeKeyBlock(keys, rows, start, end, block, 0, width, withMask);
    for (let r = start, at = 0; r < end; r++, at += width) {
      const row = rows === null ? r : rows[r]!;
      const fresh = table.size;
      const id = table.findOrInsert(block, at);
      if (id === fresh) {
        if (id === firstRow.length) {
          const grown = new Int32Array(firstRow.length * 2);
          grown.set(firstRow);
          firstRow = grown;
        }
        firstRow[id] = row;
      }
      ids[row] = id;
    }
  }
  return { ids, firstRow: firstRow.slice(0, table.size), groups: table.size };
}
