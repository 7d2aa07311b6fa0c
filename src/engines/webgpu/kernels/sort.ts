// Stable multi-key sort of row indices on the device (shaders/sort.wgsl): the same row order as the CPU
// engine's sortIndices. The host only plans the composite key (which fields, how many bits each, packed
// into u32 words) and ranks utf8 dictionaries; the key words are computed on the device from the
// resident columns and ordered by an LSD radix sort whose every pass is stable.

import { UnknownColumnError } from '../../../errors.js';
import type { Column, ColumnBatch, DType } from '../../../model/types.js';
import type { SortKey } from '../../../plan/types.js';
import { dictionaryRanks } from '../../cpu/kernels/sort.js';
import { GpuUnsupportedError, type GpuContext, type Recorder } from '../context.js';
import type { ResidentColumns } from '../resident.js';
import { encodeExclusiveScan } from './prefix-sum.js';

const WG = 256;
/** Rows per invocation and pass: a tile of 1024 rows keeps the digit-count scan at a quarter of the rows. */
const ITEMS = 4;
const TILE = WG * ITEMS;
/** 8-bit digits: a 32-bit word takes four passes, and a tile's per-digit bitmasks fit in 8 KiB. */
const DIGIT_BITS = 8;
const CONSTANTS = { WG, ITEMS, DIGIT_BITS };
const KEY_DTYPES: ReadonlySet<DType> = new Set<DType>(['int32', 'float32', 'bool', 'utf8']);
/** How the shader's encode_field derives a field (its FIELD_* constants). */
const FIELD_KIND = { nullFlag: 0, int32: 1, float32: 2, bool: 3, rank: 4 } as const;

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
} as const;

type BindingName = keyof typeof BINDING;

/**
 * One field of the composite key: the null flag of a nullable key, or its value mapped to `bits` bits
 * whose unsigned order is the sort order (descending folded in). Null rows get 0 in value fields.
 */
interface KeyField {
  readonly column: Column;
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
  const columns = keys.map((key) => batch.columns[batch.names.indexOf(key.column)]).filter((column): column is Column => column !== undefined && KEY_DTYPES.has(column.dtype));
  if (columns.length !== keys.length) return false;
  // Each row buffer, the digit counts of all tiles and each rank table is a single binding.
  const tiles = Math.ceil(batch.length / TILE);
  const dictionaries = columns.map((column) => (column.dictionary?.length ?? 0) * 4);
  return Math.max(batch.length * 4, tiles * (1 << DIGIT_BITS) * 4, ...dictionaries) <= ctx.bindingBytes;
}

/** Same result as CPU sortIndices(batch, keys): row indices in stable sorted order. */
export async function gpuSortIndices(ctx: GpuContext, resident: ResidentColumns, batch: ColumnBatch, keys: readonly SortKey[]): Promise<Int32Array> {
  const fields = keys.flatMap((key) => keyFields(batch, key));
  if (!gpuSortSupports(batch, keys, ctx)) throw new GpuUnsupportedError('these sort keys do not fit the device sort');
  const n = batch.length;
  const words = packWords(fields);
  if (n < 2 || words.length === 0) return Int32Array.from({ length: n }, (_, i) => i);

  const run = ctx.begin();
  const pinned: Column[] = [];
  let order: GPUBuffer;
  try {
    order = recordSort(ctx, run, resident, pinned, words, n);
    await run.submit([order]);
  } catch (error) {
    run.discard();
    throw error;
  } finally {
    for (const column of pinned) resident.unpin(column);
  }
  try {
    return new Int32Array(await ctx.read(order, n * 4));
  } finally {
    ctx.recycle([order]);
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
}

function uniformParams(run: Recorder, p: ParamFields): GPUBuffer {
  const flag = (b: boolean | undefined): number => (b ? 1 : 0);
  return run.uniform(Uint32Array.of(p.count, p.kind ?? 0, p.fieldShift ?? 0, p.flip ?? 0, flag(p.nullsLast), flag(p.nullable), p.digitShift ?? 0, p.tiles ?? 0, p.buckets ?? 0));
}

/** The dispatch bindings by name, at the shader's binding numbers. */
function bind(buffers: Partial<Record<BindingName, GPUBuffer>>): (GPUBuffer | null)[] {
  const list: (GPUBuffer | null)[] = Object.keys(BINDING).map(() => null);
  for (const [name, buffer] of Object.entries(buffers)) list[BINDING[name as BindingName]] = buffer;
  return list;
}

/**
 * Records the whole sort: for each word from the least significant, its fields are gathered through the
 * current order into the key buffer, then one stable pass per digit reorders keys and rows together.
 * Returns the buffer holding the final order (kept past the submit; the caller recycles it).
 */
function recordSort(ctx: GpuContext, run: Recorder, resident: ResidentColumns, pinned: Column[], words: readonly KeyWord[], n: number): GPUBuffer {
  const bytes = n * 4;
  const tiles = Math.ceil(n / TILE);
  let keys = run.temp(bytes);
  let keysScratch = run.temp(bytes);
  let order = run.temp(bytes);
  let orderScratch = run.temp(bytes);
  const digitCounts = run.temp(tiles * (1 << DIGIT_BITS) * 4);
  const digitOffsets = run.temp(tiles * (1 << DIGIT_BITS) * 4);
  // Bound where a field reads no validity or rank table; the shader does not read it then.
  const unused = run.temp(4);
  const rowGroups = Math.ceil(n / WG);

  run.dispatch(ctx.pipeline('sort', {}, CONSTANTS, 'fill_identity'), bind({ params: uniformParams(run, { count: n }), orderOut: order }), rowGroups);
  const encode = ctx.pipeline('sort', {}, CONSTANTS, 'encode_field');
  const count = ctx.pipeline('sort', {}, CONSTANTS, 'count_digits');
  const scatter = ctx.pipeline('sort', {}, CONSTANTS, 'scatter_tile');
  for (const word of words) {
    run.clear(keys, 0, bytes);
    for (const { field, shift } of word.fields) {
      const gpu = resident.pin(field.column);
      pinned.push(field.column);
      let rankTable = unused;
      if (field.rank !== null) {
        rankTable = run.temp(field.rank.byteLength);
        ctx.write(rankTable, 0, field.rank);
      }
      const params = uniformParams(run, { count: n, kind: field.kind, fieldShift: shift, flip: field.flip, nullsLast: field.nullsLast, nullable: gpu.validity !== null });
      run.dispatch(encode, bind({ params, orderIn: order, columnValues: gpu.values, columnValidity: gpu.validity ?? unused, rankTable, keysOut: keys }), rowGroups);
    }
    for (let digitShift = 0; digitShift < word.bits; digitShift += DIGIT_BITS) {
      // Digits above the word's top bit are always 0, so the top digit may need fewer counters.
      const buckets = 1 << Math.min(DIGIT_BITS, word.bits - digitShift);
      const params = uniformParams(run, { count: n, digitShift, tiles, buckets });
      run.dispatch(count, bind({ params, keysIn: keys, digitCounts }), tiles);
      encodeExclusiveScan(ctx, run, digitCounts, digitOffsets, buckets * tiles);
      run.dispatch(scatter, bind({ params, keysIn: keys, orderIn: order, digitOffsets, keysOut: keysScratch, orderOut: orderScratch }), tiles);
      [keys, keysScratch] = [keysScratch, keys];
      [order, orderScratch] = [orderScratch, order];
    }
  }
  return order;
}
