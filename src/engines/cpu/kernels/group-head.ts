// Per-group head on the main thread: the row indices of the first n rows of each distinct key tuple, in
// row order or under sort keys. Under sort keys it is a top-n per group over the sort kernel's own
// order-preserving words, so only the survivors are ever sorted. Keys are equal exactly when the group-by
// finds them equal (key-table encoding: nulls together, NaN with NaN, -0 with 0).

import type { Column, ColumnBatch } from '../../../model/types.js';
import type { SortKey } from '../../../plan/types.js';
import { gatherBatch } from '../../shared/gather.js';
import { chooseGroupMode, DENSE_SLOT_LIMIT } from '../../shared/group-mode.js';
import { groupRows } from '../../shared/key-table.js';
import { grow } from './runtime.js';
import { gatherWord, sortIndices, sortWords } from './sort.js';

/** Rows whose sort words are computed at a time: the word buffers stay in cache. */
const BLOCK_ROWS = 4096;
/** Above this n a group's list of best rows costs too much to keep sorted: the rows are sorted instead. */
const MAX_TOP_N = 64;

/** A group id per row, dense in order of first appearance. */
export interface GroupIds {
  readonly ids: Int32Array;
  readonly groups: number;
}

/**
 * Row indices of the first `n` rows of each group of `keys`, taken in the order of `order` ([]: row
 * order) with ties in row order, and listed in that order: what a stable sort by `order` followed by a
 * per-group head gives, without sorting rows that cannot survive. With a `selection` (row indices in
 * order, a filter's kept rows) only those rows take part.
 */
export function groupHeadIndices(batch: ColumnBatch, keys: readonly string[], n: number, order: readonly SortKey[], selection: Int32Array | null): Int32Array {
  const count = selection === null ? batch.length : selection.length;
  if (n === 0 || count === 0) return new Int32Array(0);
  const { ids, groups } = groupIds(batch, keys, selection);
  if (order.length === 0) return headInOrder(ids, groups, n, selection);
  // Past half the rows surviving, or long per-group lists, the top-n saves little over sorting everything.
  if (groups * n * 2 > count || n > MAX_TOP_N) return headInOrder(ids, groups, n, sortIndices(batch, order, selection ?? undefined));
  return topRows(batch, ids, groups, n, order, selection);
}

/**
 * Group ids of the rows (of `selection` only, the others -1): from the keys' codes when every key is a
 * column with a small domain, else from the key table.
 */
export function groupIds(batch: ColumnBatch, keys: readonly string[], selection: Int32Array | null): GroupIds {
  const columns = keys.map((k) => batch.columns[batch.names.indexOf(k)]!);
  return (
    denseGroupIds(columns, batch.length, selection) ??
    groupRows(
      columns.map((column) => ({ column })),
      batch.length,
      selection ?? undefined,
    )
  );
}

/** The first `n` rows of each group met walking `rows` (every row in order when null). */
function headInOrder(ids: Int32Array, groups: number, n: number, rows: Int32Array | null): Int32Array {
  const taken = new Int32Array(groups);
  const count = rows === null ? ids.length : rows.length;
  const out = new Int32Array(count);
  let k = 0;
  for (let r = 0; r < count; r++) {
    const row = rows === null ? r : rows[r]!;
    const g = ids[row]!;
    if (taken[g]! < n) {
      taken[g]!++;
      out[k++] = row;
    }
  }
  return out.slice(0, k);
}

/**
 * One key of the group-by's dense mode, with its values: int32 values less their minimum and string
 * codes (`ints`), bools (`bits`); `nullIndex` stands for null.
 */
interface DenseDomain {
  readonly validity: Uint8Array | null;
  readonly ints: Int32Array | null;
  readonly bits: Uint8Array | null;
  readonly offset: number;
  readonly nullIndex: number;
  readonly size: number;
}

/**
 * Ids from a mixed-radix code of the key values, relabelled in order of first appearance, when the
 * group-by would take its dense path (every key int32, utf8 dictionary codes or bool) with at most the
 * row count (or 2^16) slots: the code table is then no larger than the input.
 */
function denseGroupIds(columns: readonly Column[], length: number, selection: Int32Array | null): GroupIds | null {
  const names = columns.map((_, k) => `k${k}`);
  const mode = chooseGroupMode(new Map(names.map((name, k) => [name, columns[k]!])), names, 0, Math.max(DENSE_SLOT_LIMIT, length));
  if (mode.kind === 'hash') return null;
  const slots = mode.kind === 'dense' ? mode.slots : 1;
  const domains: DenseDomain[] = (mode.kind === 'dense' ? mode.keys : []).map((key, k) => {
    const column = columns[k]!;
    const bool = column.dtype === 'bool';
    return {
      validity: column.validity,
      ints: bool ? null : (column.values as Int32Array),
      bits: bool ? (column.values as Uint8Array) : null,
      offset: key.offset,
      nullIndex: key.nullIndex,
      size: key.size,
    };
  });
  // The last key's digit is added in the pass that turns codes into ids.
  const final = domains.pop();
  const codes = domains.length > 0 ? new Int32Array(length) : null;
  for (const domain of domains) addDigit(codes!, domain);
  const idOfCode = new Int32Array(slots).fill(-1);
  const ids = selection === null && codes !== null ? codes : new Int32Array(length);
  if (selection !== null) ids.fill(-1);
  const count = selection === null ? length : selection.length;
  const { validity, ints, bits, offset, nullIndex, size } = final ?? { validity: null, ints: null, bits: null, offset: 0, nullIndex: 0, size: 1 };
  let groups = 0;
  for (let r = 0; r < count; r++) {
    const row = selection === null ? r : selection[r]!;
    let digit = 0;
    if (validity !== null && ((validity[row >> 3]! >> (row & 7)) & 1) === 0) digit = nullIndex;
    else if (ints !== null) digit = ints[row]! - offset;
    else if (bits !== null) digit = (bits[row >> 3]! >> (row & 7)) & 1;
    const code = (codes === null ? 0 : codes[row]! * size) + digit;
    let id = idOfCode[code]!;
    if (id < 0) {
      id = groups++;
      idOfCode[code] = id;
    }
    ids[row] = id;
  }
  return { ids, groups };
}

/** codes[i] = codes[i] * size + (index of row i's value in the domain). */
function addDigit(codes: Int32Array, domain: DenseDomain): void {
  const { validity, ints, bits, offset, nullIndex, size } = domain;
  for (let i = 0; i < codes.length; i++) {
    let digit: number;
    if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) digit = nullIndex;
    else if (ints !== null) digit = ints[i]! - offset;
    else digit = (bits![i >> 3]! >> (i & 7)) & 1;
    codes[i] = codes[i]! * size + digit;
  }
}

/**
 * Top-n per group under `order`: one pass over the rows, a second over the few rows the first let in, and
 * a sort of the survivors only.
 *
 * The first pass keeps, per group, the sort words of its n best rows so far (a sorted list; all-ones words
 * stand for rows not met yet, which rank after every real row) and notes each row that ranked no worse
 * than the list's last entry when met. Every survivor is among those, since a list only improves. A
 * list's last entry ends up its group's threshold: a noted row ranking strictly before it survives, and of
 * the rows tying with it the first in row order, as many as the list holds entries equal to it (the stable
 * sort breaks ties by row index). A one-word summary of a row's words (`coarse`) that never ranks two rows
 * the wrong way round turns most rows away after reading one small array.
 */
function topRows(batch: ColumnBatch, ids: Int32Array, groups: number, n: number, order: readonly SortKey[], selection: Int32Array | null): Int32Array {
  const words = order.flatMap((key) => sortWords(batch, key));
  const width = words.length;
  const length = selection === null ? batch.length : selection.length;
  const list = n * width;
  const last = (n - 1) * width;
  const best = new Uint32Array(groups * list).fill(0xffffffff);
  // Per group the coarse word of its threshold: the first key's null flag, when it has one, then half its
  // first value word (floor((flag * 2^32 + word) / 2) keeps the order of the pair).
  const flagged = words[0]!.part === 'nulls';
  const screen = new Uint32Array(groups).fill(0xffffffff);
  // The noted rows, and their words (`width` per row) for the second pass.
  let noted = new Int32Array(Math.min(length, groups * n * 4));
  let notedWords = new Uint32Array(noted.length * width);
  let notedCount = 0;

  // Block by block: the coarse words of every row screen out most rows; the others get all their words.
  const coarseWidth = flagged ? 2 : 1;
  const block = words.map(() => new Uint32Array(BLOCK_ROWS));
  const lead = block[0]!;
  const next = block[coarseWidth - 1]!;
  const rowWords = new Uint32Array(width);
  const blockRows = new Int32Array(BLOCK_ROWS);
  const passed = new Int32Array(BLOCK_ROWS);
  for (let start = 0; start < length; start += BLOCK_ROWS) {
    const count = Math.min(BLOCK_ROWS, length - start);
    let rows: Int32Array;
    if (selection === null) {
      rows = count === BLOCK_ROWS ? blockRows : blockRows.subarray(0, count);
      for (let j = 0; j < count; j++) rows[j] = start + j;
    } else rows = selection.subarray(start, start + count);
    for (let w = 0; w < coarseWidth; w++) gatherWord(words[w]!, rows, block[w]!);
    // Thresholds only fall as rows enter, so a row screened out against them now stays out.
    let m = 0;
    for (let j = 0; j < count; j++) {
      const coarse = flagged ? ((lead[j]! << 31) | (next[j]! >>> 1)) >>> 0 : lead[j]!;
      const row = rows[j]!;
      if (coarse <= screen[ids[row]!]!) passed[m++] = row;
    }
    if (m === 0) continue;
    const candidates = passed.subarray(0, m);
    for (let w = 0; w < width; w++) gatherWord(words[w]!, candidates, block[w]!);
    for (let k = 0; k < m; k++) {
      const row = candidates[k]!;
      const g = ids[row]!;
      for (let w = 0; w < width; w++) rowWords[w] = block[w]![k]!;
      const t = g * list + last;
      const versus = compareWords(rowWords, 0, best, t, width);
      if (versus > 0) continue;
      if (notedCount === noted.length) {
        noted = grow(noted, Math.min(length, noted.length * 2));
        const grown = new Uint32Array(noted.length * width);
        grown.set(notedWords);
        notedWords = grown;
      }
      for (let w = 0; w < width; w++) notedWords[notedCount * width + w] = rowWords[w]!;
      noted[notedCount++] = row;
      if (versus === 0) continue;
      insertBest(best, g * list, n, width, rowWords);
      screen[g] = flagged ? ((best[t]! << 31) | (best[t + 1]! >>> 1)) >>> 0 : best[t]!;
    }
  }

  // Per group, how many rows tying with the threshold survive: the entries equal to it.
  const tiesLeft = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    const t = g * list + last;
    let equal = 1;
    while (equal < n && compareWords(best, t - equal * width, best, t, width) === 0) equal++;
    tiesLeft[g] = equal;
  }
  const survivors = new Int32Array(groups * n);
  let kept = 0;
  for (let k = 0; k < notedCount; k++) {
    const row = noted[k]!;
    const g = ids[row]!;
    const versus = compareWords(notedWords, k * width, best, g * list + last, width);
    if (versus > 0 || (versus === 0 && tiesLeft[g]! <= 0)) continue;
    if (versus === 0) tiesLeft[g]!--;
    survivors[kept++] = row;
  }

  // The survivors' sort columns, gathered in row order, sort in cache; ties keep row order.
  const sortColumns = [...new Set(order.map((k) => k.column))];
  const compact = gatherBatch(
    { length: batch.length, names: sortColumns, columns: sortColumns.map((c) => batch.columns[batch.names.indexOf(c)]!) },
    survivors.subarray(0, kept),
  );
  const ranked = sortIndices(compact, order);
  for (let k = 0; k < kept; k++) ranked[k] = survivors[ranked[k]!]!;
  return ranked;
}

/** Sign of the comparison of the word tuples at a and b. */
function compareWords(a: Uint32Array, at: number, b: Uint32Array, bt: number, width: number): number {
  for (let w = 0; w < width; w++) {
    const x = a[at + w]!;
    const y = b[bt + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Inserts `tuple`, which ranks strictly before the last of the sorted list of n tuples at `best[base]`, dropping that last. */
function insertBest(best: Uint32Array, base: number, n: number, width: number, tuple: Uint32Array): void {
  let to = base + (n - 1) * width;
  for (; to > base && compareWords(tuple, 0, best, to - width, width) < 0; to -= width) {
    for (let w = 0; w < width; w++) best[to + w] = best[to - width + w]!;
  }
  for (let w = 0; w < width; w++) best[to + w] = tuple[w]!;
}
