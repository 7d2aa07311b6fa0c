// Stable multi-key sort of row indices on the device (shaders/sort.wgsl): the same row order as the CPU
// engine's sortIndices. The host only plans the composite key (which fields, how many bits each, packed
// into u32 words) and ranks utf8 dictionaries; the key words are computed on the device from the
// resident columns and ordered by an LSD radix sort whose every pass is stable. When only the first rows
// of the order are wanted and they are few, a selection on the most significant digits first narrows the
// rows to those that can be among them, and only those are sorted.

import { UnknownColumnError } from '../../../errors.js';
import type { Column, ColumnBatch, DType } from '../../../model/types.js';
import type { SortKey } from '../../../plan/types.js';
import { dictionaryRanks } from '../../shared/dictionaries.js';
import { GpuUnsupportedError, type GpuContext, type Recorder } from '../context.js';
import type { GpuColumn, ResidentColumns } from '../resident.js';
import { encodeExclusiveScan } from './prefix-sum.js';

const WG = 256;
/** Rows per invocation and pass: a tile of 1024 rows keeps the digit-count scan at a quarter of the rows. */
const ITEMS = 4;
const TILE = WG * ITEMS;
/** 8-bit digits: a 32-bit word takes four passes, and a tile's per-digit bitmasks fit in 8 KiB. */
const DIGIT_BITS = 8;
const RADIX = 1 << DIGIT_BITS;
/** Rows per invocation when the selection counts digits (the shader's SELECT_ITEMS). */
const SELECT_ITEMS = 16;
const CONSTANTS = { WG, ITEMS, DIGIT_BITS, SELECT_ITEMS };
/** Digits of a 32-bit key word: the selection counts them all in one pass. */
const WORD_DIGITS = Math.ceil(32 / DIGIT_BITS);
/**
 * The selection costs a few light passes over all rows and a round trip per submit, so it pays where it
 * leaves most rows out (at most an eighth wanted) and the rows are many: on lavapipe it overtakes the full
 * sort between 8 and 16 tiles. A hardware GPU's round trips weigh more against its passes, so there it
 * likely pays only from more rows.
 */
const SELECTION_MAX_SHARE = 1 / 8;
const SELECTION_MIN_ROWS = 16 * TILE;
export const SORT_KEY_DTYPES: ReadonlySet<DType> = new Set<DType>(['int32', 'float32', 'bool', 'utf8']);
/** How the shader's encode_field derives a field (its FIELD_* constants). */
const FIELD_KIND = { nullFlag: 0, int32: 1, float32: 2, bool: 3, rank: 4, rowIndex: 5 } as const;

/** The shader's binding numbers; each entry point uses a few of them. */
const BINDING = {
  params: 0,
  orderIn: 1,
  columnValues: 2,
  columnValidity: 3,
  rankTable: 4,
  keysIn: 5,
  keysOut: 6,
  orderOut: 7,
  digitCounts: 8,
  digitOffsets: 9,
  digitTotals: 10,
  rowClass: 11,
  candidateCount: 12,
} as const;

type BindingName = keyof typeof BINDING;

/**
 * One field of the composite key: the null flag of a nullable key, or its value mapped to `bits` bits
 * whose unsigned order is the sort order (descending folded in), or the row index. Null rows get 0 in
 * value fields.
 */
interface KeyField {
  /** null for the row index. */
  readonly column: Column | null;
  readonly kind: (typeof FIELD_KIND)[keyof typeof FIELD_KIND];
  readonly bits: number;
  /** XORed into the value: all `bits` ones when descending, else 0. */
  readonly flip: number;
  readonly nullsLast: boolean;
  /** utf8 only: the position of each dictionary code in string order (equal strings share a rank). */
  readonly rank: Int32Array | null;
}

/** Fields packed into one u32 word of the key, each at its shift; a field never spans two words. */
interface KeyWord {
  readonly fields: readonly { readonly field: KeyField; readonly shift: number }[];
  readonly bits: number;
}

/** Whether the GPU sort handles these keys (dtypes int32, float32, bool, utf8) and this size. */
export function gpuSortSupports(batch: ColumnBatch, keys: readonly SortKey[], ctx: GpuContext): boolean {
  const columns = keys
    .map((key) => batch.columns[batch.names.indexOf(key.column)])
    .filter((column): column is Column => column !== undefined && SORT_KEY_DTYPES.has(column.dtype));
  if (columns.length !== keys.length) return false;
  // Each row buffer, the digit counts of all tiles and each rank table is a single binding.
  const tiles = Math.ceil(batch.length / TILE);
  const dictionaries = columns.map((column) => (column.dictionary?.length ?? 0) * 4);
  return Math.max(batch.length * 4, tiles * RADIX * 4, ...dictionaries) <= ctx.bindingBytes;
}

/**
 * Same result as CPU sortIndices(batch, keys).subarray(0, limit): row indices in stable sorted order, the
 * first `limit` of them (all by default).
 */
export async function gpuSortIndices(
  ctx: GpuContext,
  resident: ResidentColumns,
  batch: ColumnBatch,
  keys: readonly SortKey[],
  limit = batch.length,
): Promise<Int32Array> {
  const fields = keys.flatMap((key) => keyFields(batch, key));
  if (!gpuSortSupports(batch, keys, ctx)) throw new GpuUnsupportedError('these sort keys do not fit the device sort');
  const n = batch.length;
  const take = Math.max(0, Math.min(n, limit));
  if (take === 0 || n < 2 || fields.length === 0) return Int32Array.from({ length: take }, (_, i) => i);

  const pinned: Column[] = [];
  let order: GPUBuffer;
  try {
    order = selectionPays(n, take)
      ? await sortSelectedRows(ctx, resident, pinned, fields, n, take)
      : await sortAllRows(ctx, resident, pinned, packWords(fields), n);
  } finally {
    for (const column of pinned) resident.unpin(column);
  }
  try {
    return new Int32Array(await ctx.read(order, take * 4));
  } finally {
    ctx.recycle([order]);
  }
}

/** Whether the first `take` of `n` rows are found sooner by the selection than by sorting all rows. */
export function selectionPays(n: number, take: number): boolean {
  return take <= n * SELECTION_MAX_SHARE && n >= SELECTION_MIN_ROWS;
}

/** Records `build` and submits it; a buffer `build` returns outlives the submit (the caller recycles it). */
async function submitRecorded<Kept extends GPUBuffer | null>(ctx: GpuContext, build: (run: Recorder) => Kept): Promise<Kept> {
  const run = ctx.begin();
  try {
    const kept = build(run);
    await run.submit(kept === null ? [] : [kept]);
    return kept;
  } catch (error) {
    run.discard();
    throw error;
  }
}

/** Sorts all `n` rows; returns the buffer holding the order (the caller recycles it). */
function sortAllRows(ctx: GpuContext, resident: ResidentColumns, pinned: Column[], words: readonly KeyWord[], n: number): Promise<GPUBuffer> {
  return submitRecorded(ctx, (run) => {
    const identity = run.temp(n * 4);
    run.dispatch(
      ctx.pipeline('sort', {}, CONSTANTS, 'fill_identity'),
      bind({ params: uniformParams(run, { count: n }), orderOut: identity }),
      Math.ceil(n / WG),
    );
    return recordSort(ctx, run, resident, pinned, words, identity, n);
  });
}

/**
 * Top-k: finds the threshold bucket that holds the `take`-th row of the order, digit by digit from the
 * most significant, until the rows below it and in it are few; then sorts only those. Every row below the
 * threshold is among the first `take` and none above it is. The row index, as the least significant
 * field, makes every key distinct and its order the stable one: rows that tie on the sort keys are split
 * by the selection like any other digit, and the candidates may be gathered in any order.
 * Returns the buffer whose first `take` entries are the order (the caller recycles it).
 */
async function sortSelectedRows(
  ctx: GpuContext,
  resident: ResidentColumns,
  pinned: Column[],
  fields: readonly KeyField[],
  n: number,
  take: number,
): Promise<GPUBuffer> {
  const rowIndex: KeyField = { column: null, kind: FIELD_KIND.rowIndex, bits: 32 - Math.clz32(n - 1), flip: 0, nullsLast: false, rank: null };
  const words = packWords([...fields, rowIndex]);
  // Narrowing stops here: sorting this many candidates costs less than another pass over all rows.
  const enough = Math.max(2 * take, TILE);
  const bytes = n * 4;
  // These live across the selection's submits, so they come from the pool rather than one recording.
  const rows = ctx.buffer(bytes);
  const keys = ctx.buffer(bytes);
  const rowClass = ctx.buffer(bytes);
  const digitTotals = ctx.buffer(WORD_DIGITS * RADIX * 4);
  const rowGroups = Math.ceil(n / WG);
  const narrowBucket = ctx.pipeline('sort', {}, CONSTANTS, 'narrow_bucket');
  const countBucketDigits = ctx.pipeline('sort', {}, CONSTANTS, 'count_bucket_digits');
  try {
    let below = 0;
    let inBucket = n;
    // Of the first `take` rows, how many come from the bucket (at least 1, at most inBucket).
    let needed = take;
    // The last digit that split the bucket, applied on the device at the start of the next submit,
    // before the keys buffer moves on to another word.
    let pending: { readonly digitShift: number; readonly bucket: number } | null = null;
    let started = false;
    const recordNarrow = (run: Recorder): void => {
      if (pending === null) return;
      const params = uniformParams(run, { count: n, digitShift: pending.digitShift, bucket: pending.bucket });
      run.dispatch(narrowBucket, bind({ params, keysIn: keys, rowClass }), rowGroups);
      pending = null;
    };
    // Keys are distinct, so once every digit is decided the bucket holds the one row it needs.
    narrowing: for (let w = words.length - 1; w >= 0; w--) {
      const word = words[w]!;
      const digits = Math.ceil(word.bits / DIGIT_BITS);
      let encoded = false;
      for (let digit = digits - 1; digit >= 0;) {
        await submitRecorded(ctx, (run) => {
          if (!started)
            run.dispatch(
              ctx.pipeline('sort', {}, CONSTANTS, 'start_selection'),
              bind({ params: uniformParams(run, { count: n }), orderOut: rows, rowClass }),
              rowGroups,
            );
          started = true;
          recordNarrow(run);
          if (!encoded) recordEncodeWord(ctx, run, resident, pinned, word, rows, keys, n);
          encoded = true;
          run.clear(digitTotals, 0, digits * RADIX * 4);
          const params = uniformParams(run, { count: n, wordDigits: digits });
          run.dispatch(countBucketDigits, bind({ params, keysIn: keys, rowClass, digitTotals }), Math.ceil(n / (WG * SELECT_ITEMS)));
          return null;
        });
        const totals = new Uint32Array(await ctx.read(digitTotals, digits * RADIX * 4));
        // Lower digits were counted over the same bucket rows: their counts hold until a digit splits it.
        let split = false;
        for (; digit >= 0 && !split; digit--) {
          let bucket = 0;
          let before = 0;
          while (before + totals[digit * RADIX + bucket]! < needed) before += totals[digit * RADIX + bucket++]!;
          const kept = totals[digit * RADIX + bucket]!;
          split = kept < inBucket;
          if (split) pending = { digitShift: digit * DIGIT_BITS, bucket };
          below += before;
          needed -= before;
          inBucket = kept;
        }
        if (below + inBucket <= enough) break narrowing;
      }
    }
    const candidates = below + inBucket;
    return await submitRecorded(ctx, (run) => {
      recordNarrow(run);
      const order = run.temp(candidates * 4);
      const params = uniformParams(run, { count: n });
      run.dispatch(
        ctx.pipeline('sort', {}, CONSTANTS, 'gather_candidates'),
        bind({ params, rowClass, candidateCount: run.zeros(4), orderOut: order }),
        rowGroups,
      );
      return recordSort(ctx, run, resident, pinned, words, order, candidates);
    });
  } finally {
    ctx.recycle([rows, keys, rowClass, digitTotals]);
  }
}

/** The fields of one key, most significant first; a field whose value is the same in every row is left out. */
function keyFields(batch: ColumnBatch, key: SortKey): KeyField[] {
  const column = batch.columns[batch.names.indexOf(key.column)];
  if (column === undefined) throw new UnknownColumnError([key.column], batch.names, 'sort');
  const field = (kind: KeyField['kind'], bits: number, rank: Int32Array | null = null): KeyField => ({
    column,
    kind,
    bits,
    flip: key.descending && kind !== FIELD_KIND.nullFlag ? ones(bits) : 0,
    nullsLast: key.nullsLast,
    rank,
  });
  const fields: KeyField[] = column.validity === null ? [] : [field(FIELD_KIND.nullFlag, 1)];
  switch (column.dtype) {
    case 'int32':
      fields.push(field(FIELD_KIND.int32, 32));
      break;
    case 'float32':
      fields.push(field(FIELD_KIND.float32, 32));
      break;
    case 'bool':
      fields.push(field(FIELD_KIND.bool, 1));
      break;
    case 'utf8': {
      const dictionary = column.dictionary ?? [];
      // Ranks run below the dictionary's size, so they take only as many bits as that needs.
      if (dictionary.length > 1) fields.push(field(FIELD_KIND.rank, 32 - Math.clz32(dictionary.length - 1), dictionaryRanks(dictionary)));
      break;
    }
    default:
      throw new GpuUnsupportedError(`the device sort has no ${column.dtype} keys`);
  }
  return fields;
}

function ones(bits: number): number {
  return bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

/**
 * Packs fields (most significant first) into words, least significant word first, filling each word from
 * its low bits: small fields (null flags, bools, dictionary ranks) share words and so share passes.
 */
function packWords(fields: readonly KeyField[]): KeyWord[] {
  const words: { fields: { field: KeyField; shift: number }[]; bits: number }[] = [];
  for (let f = fields.length - 1; f >= 0; f--) {
    const field = fields[f]!;
    let word = words.at(-1);
    if (word === undefined || word.bits + field.bits > 32) words.push((word = { fields: [], bits: 0 }));
    word.fields.push({ field, shift: word.bits });
    word.bits += field.bits;
  }
  return words;
}

/** The shader's Params, field by field; what a dispatch leaves out is 0. */
interface ParamFields {
  readonly count: number;
  readonly kind?: number;
  readonly fieldShift?: number;
  readonly flip?: number;
  readonly nullsLast?: boolean;
  readonly nullable?: boolean;
  readonly digitShift?: number;
  readonly tiles?: number;
  readonly buckets?: number;
  readonly bucket?: number;
  readonly wordDigits?: number;
}

function uniformParams(run: Recorder, p: ParamFields): GPUBuffer {
  const flag = (b: boolean | undefined): number => (b ? 1 : 0);
  return run.uniform(
    Uint32Array.of(
      p.count,
      p.kind ?? 0,
      p.fieldShift ?? 0,
      p.flip ?? 0,
      flag(p.nullsLast),
      flag(p.nullable),
      p.digitShift ?? 0,
      p.tiles ?? 0,
      p.buckets ?? 0,
      p.bucket ?? 0,
      p.wordDigits ?? 0,
    ),
  );
}

/** The dispatch bindings by name, at the shader's binding numbers. */
function bind(buffers: Partial<Record<BindingName, GPUBuffer>>): (GPUBuffer | null)[] {
  const list: (GPUBuffer | null)[] = Object.keys(BINDING).map(() => null);
  for (const [name, buffer] of Object.entries(buffers)) list[BINDING[name as BindingName]] = buffer;
  return list;
}

/** Records `keys[j]` = the word's fields of row `order[j]`, for j < count. */
function recordEncodeWord(
  ctx: GpuContext,
  run: Recorder,
  resident: ResidentColumns,
  pinned: Column[],
  word: KeyWord,
  order: GPUBuffer,
  keys: GPUBuffer,
  count: number,
): void {
  const encode = ctx.pipeline('sort', {}, CONSTANTS, 'encode_field');
  // Bound where a field reads no column, validity or rank table; the shader does not read it then.
  const unused = run.temp(4);
  run.clear(keys, 0, count * 4);
  for (const { field, shift } of word.fields) {
    let gpu: GpuColumn | null = null;
    if (field.column !== null) {
      gpu = resident.pin(field.column);
      pinned.push(field.column);
    }
    let rankTable = unused;
    if (field.rank !== null) {
      rankTable = run.temp(field.rank.byteLength);
      ctx.write(rankTable, 0, field.rank);
    }
    const validity = gpu?.validity ?? null;
    const params = uniformParams(run, {
      count,
      kind: field.kind,
      fieldShift: shift,
      flip: field.flip,
      nullsLast: field.nullsLast,
      nullable: validity !== null,
    });
    run.dispatch(
      encode,
      bind({ params, orderIn: order, columnValues: gpu?.values ?? unused, columnValidity: validity ?? unused, rankTable, keysOut: keys }),
      Math.ceil(count / WG),
    );
  }
}

/**
 * Records the sort of the `count` rows that `order` lists (a temporary of `run`): for each word from the
 * least significant, its fields are gathered through the current order into the key buffer, then one
 * stable pass per digit reorders keys and rows together, so rows with equal keys keep their order there.
 * Returns the buffer holding the final order (kept past the submit; the caller recycles it).
 */
function recordSort(
  ctx: GpuContext,
  run: Recorder,
  resident: ResidentColumns,
  pinned: Column[],
  words: readonly KeyWord[],
  order: GPUBuffer,
  count: number,
): GPUBuffer {
  const bytes = count * 4;
  const tiles = Math.ceil(count / TILE);
  let keys = run.temp(bytes);
  let keysScratch = run.temp(bytes);
  let orderScratch = run.temp(bytes);
  const digitCounts = run.temp(tiles * RADIX * 4);
  const digitOffsets = run.temp(tiles * RADIX * 4);
  const countDigits = ctx.pipeline('sort', {}, CONSTANTS, 'count_digits');
  const scatter = ctx.pipeline('sort', {}, CONSTANTS, 'scatter_tile');
  for (const word of words) {
    recordEncodeWord(ctx, run, resident, pinned, word, order, keys, count);
    for (let digitShift = 0; digitShift < word.bits; digitShift += DIGIT_BITS) {
      // Digits above the word's top bit are always 0, so the top digit may need fewer counters.
      const buckets = 1 << Math.min(DIGIT_BITS, word.bits - digitShift);
      const params = uniformParams(run, { count, digitShift, tiles, buckets });
      run.dispatch(countDigits, bind({ params, keysIn: keys, digitCounts }), tiles);
      encodeExclusiveScan(ctx, run, digitCounts, digitOffsets, buckets * tiles);
      run.dispatch(scatter, bind({ params, keysIn: keys, orderIn: order, digitOffsets, keysOut: keysScratch, orderOut: orderScratch }), tiles);
      [keys, keysScratch] = [keysScratch, keys];
      [order, orderScratch] = [orderScratch, order];
    }
  }
  return order;
}
