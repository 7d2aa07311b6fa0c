// Stable multi-key sort of row indices on the main thread. Every key becomes one or more order-preserving
// unsigned 32-bit words (nulls, direction, NaN and string order folded in), and a least-significant-digit
// radix sort orders the rows by those words: no comparator, no string comparison per row.

import { UnknownColumnError } from '../../../errors.js';
import type { Column, ColumnBatch } from '../../../model/types.js';
import { storageOf } from '../../../model/dtype.js';
import type { SortKey } from '../../../plan/types.js';
import { dictionaryRanks } from '../../shared/dictionaries.js';
import { uint32Words } from '../../shared/key-table.js';

/** 11-bit digits: the 2048 counters stay in L1, and a word takes three passes (11 + 11 + 10 bits). */
const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
const DIGIT_SHIFTS = [0, DIGIT_BITS, 2 * DIGIT_BITS] as const;

/**
 * One word of the composite sort key. `part` says which: the null flag of a nullable key, or the high or
 * low half of a value (32-bit values have only a 'high' word).
 */
export interface SortWord {
  readonly column: Column;
  readonly part: 'nulls' | 'high' | 'low' | 'middleHigh' | 'middleLow';
  readonly descending: boolean;
  readonly nullsLast: boolean;
  /** utf8 only: the position of each dictionary code in string order (equal strings share a rank). */
  readonly rank: Int32Array | null;
}

/**
 * Stable ordering of rows by `keys`: the row indices in sorted order. `rows` restricts the sort to a subset;
 * ties keep the order in which rows appear there (or row order without it). Nulls come first unless
 * `nullsLast`, whatever the direction; NaN is larger than every number; strings compare by UTF-16 code units.
 */
export function sortIndices(batch: ColumnBatch, keys: readonly SortKey[], rows?: Int32Array): Int32Array {
  const words = keys.flatMap((key) => sortWords(batch, key));
  let order: Int32Array = rows === undefined ? identity(batch.length) : rows.slice();
  const n = order.length;
  if (n < 2 || words.length === 0) return order;
  let scratchOrder: Int32Array = new Int32Array(n);
  let word: Uint32Array = new Uint32Array(n);
  let scratchWord: Uint32Array = new Uint32Array(n);
  const counts = new Int32Array(BUCKETS * DIGIT_SHIFTS.length);
  // LSD radix sort: least significant word first, each counting pass stable, so after the pass over the
  // most significant word rows are ordered by the whole key, and equal keys keep their incoming order.
  // That incoming order is the tie-break: the caller's row order, made explicit by starting from it.
  for (let w = words.length - 1; w >= 0; w--) {
    gatherWord(words[w]!, order, word);
    counts.fill(0);
    for (let j = 0; j < n; j++) {
      const v = word[j]!;
      counts[v & DIGIT_MASK]!++;
      counts[BUCKETS + ((v >>> DIGIT_BITS) & DIGIT_MASK)]!++;
      counts[2 * BUCKETS + (v >>> (2 * DIGIT_BITS))]!++;
    }
    for (let d = 0; d < DIGIT_SHIFTS.length; d++) {
      const base = d * BUCKETS;
      const shift = DIGIT_SHIFTS[d]!;
      // A digit whose value is the same in every row would move nothing.
      if (counts[base + digitOf(word[0]!, shift)] === n) continue;
      let sum = 0;
      for (let b = base; b < base + BUCKETS; b++) {
        const c = counts[b]!;
        counts[b] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const v = word[j]!;
        const at = counts[base + ((v >>> shift) & DIGIT_MASK)]!++;
        scratchWord[at] = v;
        scratchOrder[at] = order[j]!;
      }
      [word, scratchWord] = [scratchWord, word];
      [order, scratchOrder] = [scratchOrder, order];
    }
  }
  return order;
}

function identity(length: number): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  return order;
}

function digitOf(value: number, shift: number): number {
  return (value >>> shift) & DIGIT_MASK;
}

/** The words of one sort key, most significant first. */
export function sortWords(batch: ColumnBatch, key: SortKey): SortWord[] {
  const index = batch.names.indexOf(key.column);
  const column = batch.columns[index];
  if (index < 0 || column === undefined) throw new UnknownColumnError([key.column], batch.names, 'sort');
  const rank = column.dtype === 'utf8' ? dictionaryRanks(column.dictionary ?? []) : null;
  const word = (part: SortWord['part']): SortWord => ({ column, part, descending: key.descending, nullsLast: key.nullsLast, rank });
  const words: SortWord[] = column.validity === null ? [] : [word('nulls')];
  words.push(word('high'));
  // A decimal's four words: its unscaled values (one scale per column) order as 128-bit integers.
  const storage = storageOf(column.dtype);
  if (storage === 'decimal') words.push(word('middleHigh'), word('middleLow'));
  if (storage === 'int64' || storage === 'float64' || storage === 'decimal') words.push(word('low'));
  return words;
}

/**
 * Writes `word` of each row of `order` into `out` (out[j] is the word of row order[j]), as an unsigned
 * value whose order is the sort order. Null rows get 0 in value words so that they tie among themselves.
 */
export function gatherWord(word: SortWord, order: Int32Array, out: Uint32Array): void {
  const { column, part } = word;
  const validity = column.validity;
  const n = order.length;
  if (part === 'nulls') {
    const nullFlag = word.nullsLast ? 1 : 0;
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      out[j] = ((validity![i >> 3]! >> (i & 7)) & 1) === 0 ? nullFlag : 1 - nullFlag;
    }
    return;
  }
  // Descending flips every value bit; the null flag above stays as it is.
  const flip = word.descending ? 0xffffffff : 0;
  switch (storageOf(column.dtype)) {
    case 'int32': {
      const ints = column.values as Int32Array;
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        out[j] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (ints[i]! ^ 0x80000000 ^ flip) >>> 0;
      }
      return;
    }
    case 'utf8': {
      const codes = column.values as Int32Array;
      const rank = word.rank!;
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        out[j] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (rank[codes[i]!]! ^ flip) >>> 0;
      }
      return;
    }
    case 'bool': {
      const bits = column.values as Uint8Array;
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        out[j] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (((bits[i >> 3]! >> (i & 7)) & 1) ^ flip) >>> 0;
      }
      return;
    }
    case 'float32': {
      const bitsOf = uint32Words(column.values as Float32Array);
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        out[j] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (orderedFloat32(bitsOf[i]!) ^ flip) >>> 0;
      }
      return;
    }
    case 'float64': {
      const words = uint32Words(column.values as Float64Array);
      const high = part === 'high';
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) {
          out[j] = 0;
          continue;
        }
        const h = words[2 * i + 1]!;
        const l = words[2 * i]!;
        out[j] = ((high ? orderedFloat64High(h, l) : orderedFloat64Low(h, l)) ^ flip) >>> 0;
      }
      return;
    }
    case 'int64':
    case 'decimal': {
      const words = uint32Words(column.values as BigInt64Array);
      // Two's complement orders like unsigned once the sign bit of the high word is flipped.
      const perValue = column.dtype === 'decimal' ? 4 : 2;
      const offset = { high: perValue - 1, middleHigh: 2, middleLow: 1, low: 0 }[part];
      const sign = part === 'high' ? 0x80000000 : 0;
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        out[j] = validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0 ? 0 : (words[perValue * i + offset]! ^ sign ^ flip) >>> 0;
      }
      return;
    }
  }
}

/**
 * IEEE floats order like unsigned integers once negatives have all bits flipped and positives the sign bit.
 * -0 is taken as 0 (they tie) and every NaN as the largest value.
 */
function orderedFloat32(bits: number): number {
  const magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) return 0xffffffff;
  if (magnitude === 0) return 0x80000000;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

function isNaN64(high: number, low: number): boolean {
  const magnitude = high & 0x7fffffff;
  return magnitude > 0x7ff00000 || (magnitude === 0x7ff00000 && low !== 0);
}

function orderedFloat64High(high: number, low: number): number {
  if (isNaN64(high, low)) return 0xffffffff;
  if ((high & 0x7fffffff) === 0 && low === 0) return 0x80000000;
  return high & 0x80000000 ? ~high >>> 0 : (high | 0x80000000) >>> 0;
}

function orderedFloat64Low(high: number, low: number): number {
  if (isNaN64(high, low)) return 0xffffffff;
  if ((high & 0x7fffffff) === 0 && low === 0) return 0;
  return high & 0x80000000 ? ~low >>> 0 : low;
}
