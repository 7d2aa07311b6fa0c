// How a group-by finds a row's group, for both engines: dense slots indexed by key codes when every key
// has a small domain, else a hash table over key words (its width, and the packing of dense keys into
// fewer words); plus the distinct-key estimate that sizes the CPU engine's morsels.

import type { Column, DType } from '../../model/types.js';
import { encodeKeyBlock, KeyTable, keyWidth } from './key-table.js';
import { storageOf } from '../../model/dtype.js';

/** Most dense slots (product of key cardinalities) before the hash path is used. */
export const DENSE_SLOT_LIMIT = 1 << 16;

export interface DenseKey {
  readonly name: string;
  /** Value subtracted from the key to get its index (integer keys), else 0. */
  readonly offset: number;
  /** Index used for null. */
  readonly nullIndex: number;
  readonly size: number;
}

export type GroupMode =
  | { readonly kind: 'global' }
  | { readonly kind: 'dense'; readonly keys: readonly DenseKey[]; readonly slots: number }
  | {
      readonly kind: 'hash';
      readonly keys: readonly string[];
      readonly width: number;
      /**
       * Keys packed into fewer hash words (CPU engine only, see packHashKeys): word w holds its keys' dense
       * indices in mixed radix, first key lowest. Without it each key takes its own words (emitKeyWords).
       */
      readonly packed?: readonly (readonly DenseKey[])[];
    };

/**
 * Most dense slots for morsels of `morselRows` rows: DENSE_SLOT_LIMIT, or up to a quarter of a morsel
 * (at most 2^18) when morsels are large. A slot array much longer than a morsel costs more to allocate
 * and merge than hashing saves, but 100,000 groups over 1M-row morsels are far cheaper dense than hashed.
 */
export function denseSlotLimit(morselRows: number): number {
  return Math.max(DENSE_SLOT_LIMIT, Math.min(1 << 18, Math.floor(morselRows / 4)));
}

/** Chooses dense slots when every key is a column with a small domain. */
export function chooseGroupMode(columns: ReadonlyMap<string, Column>, keys: readonly string[], hashWidth: number, slotLimit = DENSE_SLOT_LIMIT): GroupMode {
  if (keys.length === 0) return { kind: 'global' };
  const dense: DenseKey[] = [];
  let slots = 1;
  for (const name of keys) {
    const key = denseKey(columns.get(name)!, name);
    if (key === null) return { kind: 'hash', keys, width: hashWidth };
    dense.push(key);
    slots *= key.size;
    if (slots > slotLimit) return { kind: 'hash', keys, width: hashWidth };
  }
  return { kind: 'dense', keys: dense, slots };
}

/** The dense domain of a key column (dictionary codes, booleans, an int32 range, plus a null index), or null. */
function denseKey(column: Column, name: string): DenseKey | null {
  let size: number;
  let offset = 0;
  if (column.dtype === 'utf8') size = column.dictionary!.length;
  else if (column.dtype === 'bool') size = 2;
  else if (column.dtype === 'int32') {
    const [min, max] = int32Range(column);
    if (max < min) size = 0;
    else {
      offset = min;
      size = max - min + 1;
    }
  } else return null;
  const total = size + (column.validity !== null ? 1 : 0);
  return { name, offset, nullIndex: size, size: Math.max(total, 1) };
}

/** Rows sampled to estimate how many distinct keys a hash group-by has. */
const DISTINCT_SAMPLE = 1 << 14;

/** Rows per morsel for a group-by whose keys are mostly distinct: each morsel's table then stays in cache. */
export const HIGH_CARDINALITY_MORSEL = 1 << 16;

/**
 * An estimate of the distinct key tuples among `length` rows: Chao1's (bias-corrected) from an evenly
 * strided sample of rows, d + f1(f1 - 1) / 2(f2 + 1) with f1 and f2 the tuples seen once and twice. Keys
 * compare as the group-by compares them (key-table encoding). Deterministic: the sample depends only on
 * the length.
 */
export function estimateDistinct(columns: ReadonlyMap<string, Column>, keys: readonly string[], length: number): number {
  const size = Math.min(length, DISTINCT_SAMPLE);
  if (size === 0) return 0;
  const rows = new Int32Array(size);
  for (let k = 0; k < size; k++) rows[k] = Math.floor((k * length) / size);
  const keyColumns = keys.map((name) => ({ column: columns.get(name)! }));
  const width = keyWidth(keyColumns);
  const words = new Uint32Array(Math.max(1, size * width));
  encodeKeyBlock(
    keyColumns,
    rows,
    0,
    size,
    words,
    0,
    width,
    keyColumns.some((k) => k.column.validity !== null),
  );
  const table = new KeyTable(width, size);
  const seen = new Int32Array(size);
  for (let r = 0; r < size; r++) seen[table.findOrInsert(words, r * width)]!++;
  let once = 0;
  let twice = 0;
  for (let g = 0; g < table.size; g++) {
    if (seen[g] === 1) once++;
    else if (seen[g] === 2) twice++;
  }
  return Math.min(length, table.size + (once * (once - 1)) / (2 * (twice + 1)));
}

/**
 * Rows per morsel for a group-by in `mode`: the default, except for hash keys estimated mostly distinct
 * (a quarter of the rows or more). Their morsels' tables hold about a group per row wherever the bounds
 * fall, so smaller morsels cost the merge almost nothing and keep every probe in cache. An explicit
 * `morselRows` always wins.
 */
export function groupByMorselRows(columns: ReadonlyMap<string, Column>, mode: GroupMode, length: number, morselRows: number | undefined): number | undefined {
  if (morselRows !== undefined || mode.kind !== 'hash' || length <= HIGH_CARDINALITY_MORSEL * 4) return morselRows;
  return estimateDistinct(columns, mode.keys, length) * 4 >= length ? HIGH_CARDINALITY_MORSEL : undefined;
}

/** Largest product of key domains one packed hash word holds. */
const PACKED_WORD_RANGE = 2 ** 32;

/**
 * A hash mode whose keys all have dense domains (too many slots together to go dense), packed into as few
 * 32-bit words as their domains allow: keys fill a word in order while the product of their sizes fits.
 * Fewer words per key hash faster and make the tables smaller: six db-benchmark ids take 2 words, not 6.
 * Any other mode is returned as it is. The packing is the same for every morsel of one group-by.
 */
export function packHashKeys(columns: ReadonlyMap<string, Column>, mode: GroupMode): GroupMode {
  if (mode.kind !== 'hash' || mode.packed) return mode;
  const words: DenseKey[][] = [];
  let range = PACKED_WORD_RANGE + 1;
  for (const name of mode.keys) {
    const key = denseKey(columns.get(name)!, name);
    // An int32 range with a null index can need more than one word: such a key keeps its own words.
    if (key === null || key.size > PACKED_WORD_RANGE) return mode;
    if (range * key.size > PACKED_WORD_RANGE) {
      words.push([]);
      range = 1;
    }
    words[words.length - 1]!.push(key);
    range *= key.size;
  }
  return words.length < mode.width ? { ...mode, width: words.length, packed: words } : mode;
}

// Columns never change once built, so the range of a key column without nulls is scanned once, not by
// every query over it. Keyed by the values array and checked against the length the column reads.
const int32Ranges = new WeakMap<object, { readonly length: number; readonly range: [number, number] }>();

function int32Range(column: Column): [number, number] {
  if (column.validity !== null) return scanInt32Range(column);
  const cached = int32Ranges.get(column.values);
  if (cached && cached.length === column.length) return cached.range;
  const range = scanInt32Range(column);
  int32Ranges.set(column.values, { length: column.length, range });
  return range;
}

function scanInt32Range(column: Column): [number, number] {
  const values = column.values as Int32Array;
  const validity = column.validity;
  let min = 2147483647;
  let max = -2147483648;
  for (let i = 0; i < column.length; i++) {
    if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) continue;
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Words one key column takes in hash mode. */
export function hashKeyWords(dtype: DType): number {
  const storage = storageOf(dtype);
  return storage === 'decimal' ? 4 : storage === 'int64' || storage === 'float64' ? 2 : 1;
}

export function hashWidth(columns: ReadonlyMap<string, Column>, keys: readonly string[]): number {
  let width = 0;
  let nullable = false;
  for (const k of keys) {
    const c = columns.get(k)!;
    width += hashKeyWords(c.dtype);
    nullable ||= c.validity !== null;
  }
  return width + (nullable ? 1 : 0);
}
