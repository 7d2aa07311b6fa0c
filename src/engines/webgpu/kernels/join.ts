// Hash equi-join on the device (shaders/join.wgsl): returns the same matching row pairs, in the same
// order, as the CPU engine's hashJoin. The keys are encoded on the device from resident columns; only
// utf8 dictionaries are matched up on the host. Gathering the output columns is the caller's.

import type { Column, DType } from '../../../model/types.js';
import type { JoinHow } from '../../../plan/types.js';
import { dictionaryRemap } from '../../shared/dictionaries.js';
import { GpuUnsupportedError, type GpuContext, type Recorder } from '../context.js';
import type { GpuColumn, ResidentColumns } from '../resident.js';
import { encodeExclusiveScan } from './prefix-sum.js';

const WG = 256;
/** Pairs a workgroup sorts in its own memory: the shader's tile of 2 * WG. */
const SORT_TILE = 2 * WG;
const MAX_OUTPUT_ROWS = 2 ** 31 - 1;
export const JOIN_KEY_DTYPES: ReadonlySet<DType> = new Set<DType>(['int32', 'float32', 'bool', 'utf8']);
const JOIN_HOW: Record<JoinHow, number> = { inner: 0, left: 1, semi: 2, anti: 3 };
/** How encode_key turns a column's values into a tuple word (the shader's KIND_* constants). */
const KIND = { words: 0, float: 1, bits: 2, remapped: 3 } as const;

/** The shader's binding numbers; each entry point uses a few of them. */
const BINDING = {
  params: 0,
  keyValues: 1,
  keyValidity: 2,
  keyRemap: 3,
  tuples: 4,
  buildTuples: 5,
  probeTuples: 6,
  table: 7,
  runEnds: 8,
  pairs: 9,
  matchStart: 10,
  outCounts: 11,
  total: 12,
  offsets: 13,
  outLeft: 14,
  outRight: 15,
} as const;

type BindingName = keyof typeof BINDING;

/** The shader's Params, field by field; what a dispatch leaves out is 0. */
interface ParamFields {
  readonly count: number;
  readonly width?: number;
  readonly masked?: boolean;
  readonly word?: number;
  readonly kind?: number;
  readonly nullable?: boolean;
  readonly tableMask?: number;
  readonly extent?: number;
  readonly stage?: number;
  readonly step?: number;
  readonly base?: number;
  readonly leftCount?: number;
}

/** Whether the GPU join handles these key columns: same dtype pairs among int32, float32, bool, utf8; sizes within ctx.bindingBytes. */
export function gpuJoinSupports(left: readonly Column[], right: readonly Column[], ctx: GpuContext): boolean {
  if (left.length === 0 || left.length !== right.length) return false;
  if (!left.every((l, k) => l.dtype === right[k]!.dtype && JOIN_KEY_DTYPES.has(l.dtype))) return false;
  const leftLength = left[0]!.length;
  const rightLength = right[0]!.length;
  const width = tupleWidth(left, right);
  const largest = Math.max(leftLength * width * 4, rightLength * width * 4, sortExtent(rightLength) * 8, tableSlots(rightLength) * 4);
  // Row indices and offsets are u32 on the device, with EMPTY reserved.
  return largest <= ctx.bindingBytes && leftLength < 2 ** 31 && rightLength < 2 ** 31;
}

/**
 * Hash equi-join. Returns matching row pairs in output order: left rows in order and, for each left row,
 * its matching right rows in ascending order. inner: only matches; left: unmatched left rows get right
 * index -1; semi: each left row with a match, once; anti: left rows without one (rightRows null for both).
 * Null keys never match. Floats compare as group-by groups them: -0 equals 0 and NaN equals NaN.
 */
export async function gpuHashJoin(
  ctx: GpuContext,
  resident: ResidentColumns,
  left: readonly Column[],
  right: readonly Column[],
  how: JoinHow,
): Promise<{ leftRows: Int32Array; rightRows: Int32Array | null }> {
  if (!gpuJoinSupports(left, right, ctx)) throw new GpuUnsupportedError('these join keys do not fit the device join');
  const leftLength = left[0]!.length;
  const rightLength = right[0]!.length;
  const width = tupleWidth(left, right);
  const masked = width > left.length;
  const tableMask = tableSlots(rightLength) - 1;
  const remaps = right.map((r, k) => (r.dtype === 'utf8' ? dictionaryRemap(r.dictionary ?? [], left[k]!.dictionary ?? []) : null));

  const pinned: Column[] = [];
  const pin = (column: Column): GpuColumn => {
    const gpu = resident.pin(column);
    pinned.push(column);
    return gpu;
  };
  let probed: ProbeBuffers;
  try {
    // Everything is pinned before anything is recorded, so a column that does not fit leaves no buffers behind.
    const rightColumns = right.map(pin);
    const leftColumns = left.map(pin);
    const run = ctx.begin();
    const rightTuples = recordTuples(ctx, run, rightColumns, remaps, rightLength, width, masked);
    const leftTuples = recordTuples(ctx, run, leftColumns, [], leftLength, width, masked);
    const build = recordBuild(ctx, run, rightTuples, rightLength, width, masked, tableMask);
    probed = recordProbe(ctx, run, build, leftTuples, rightTuples, leftLength, width, masked, tableMask, how);
    await run.submit(probed.held);
  } finally {
    for (const column of pinned) resident.unpin(column);
  }
  try {
    const [low, high] = new Uint32Array(await ctx.read(probed.total, 8));
    const total = high! * 2 ** 32 + low!;
    if (total > MAX_OUTPUT_ROWS) throw new RangeError(`join would produce ${total} rows, more than ${MAX_OUTPUT_ROWS}`);
    return await emitRows(ctx, probed, leftLength, total, how === 'inner' || how === 'left');
  } finally {
    ctx.recycle(probed.held);
  }
}

/** Words per key tuple: one per key column, plus a null flag when either side has a nullable key. */
function tupleWidth(left: readonly Column[], right: readonly Column[]): number {
  const masked = left.some((c) => c.validity !== null) || right.some((c) => c.validity !== null);
  return left.length + (masked ? 1 : 0);
}

/** Hash table slots: a power of two at least twice the right rows, so probes stay short and always end. */
function tableSlots(rightLength: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(32, 2 * rightLength)));
}

/** Elements of the sorted pair array: the right rows padded to a power of two, at least one tile. */
function sortExtent(rightLength: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(SORT_TILE, rightLength)));
}

function uniformParams(run: Recorder, p: ParamFields): GPUBuffer {
  const flag = (b: boolean | undefined): number => (b ? 1 : 0);
  return run.uniform(
    Uint32Array.of(
      p.count,
      p.width ?? 0,
      flag(p.masked),
      p.word ?? 0,
      p.kind ?? 0,
      flag(p.nullable),
      p.tableMask ?? 0,
      p.extent ?? 0,
      p.stage ?? 0,
      p.step ?? 0,
      p.base ?? 0,
      p.leftCount ?? 0,
    ),
  );
}

/** The dispatch bindings by name, at the shader's binding numbers. */
function bind(buffers: Partial<Record<BindingName, GPUBuffer>>): (GPUBuffer | null)[] {
  const list: (GPUBuffer | null)[] = Object.keys(BINDING).map(() => null);
  for (const [name, buffer] of Object.entries(buffers)) list[BINDING[name as BindingName]] = buffer;
  return list;
}

function workgroups(invocations: number): number {
  return Math.ceil(invocations / WG);
}

/** Records the encoding of `rows` key tuples from the (pinned) key columns. */
function recordTuples(
  ctx: GpuContext,
  run: Recorder,
  keys: readonly GpuColumn[],
  remaps: readonly (Int32Array | null)[],
  rows: number,
  width: number,
  masked: boolean,
): GPUBuffer {
  // Zeroed: null rows keep zero value words and a zero flag means "not null".
  const tuples = run.zeros(Math.max(4, rows * width * 4));
  const pipeline = ctx.pipeline('join', {}, { WG }, 'encode_key');
  // Bound where a column has no validity or remap; the shader reads neither then.
  const unused = run.temp(4);
  keys.forEach((gpu, word) => {
    const remap = remaps[word] ?? null;
    let keyRemap = unused;
    if (remap !== null) {
      keyRemap = run.temp(Math.max(4, remap.byteLength));
      ctx.write(keyRemap, 0, remap);
    }
    const dtype = gpu.column.dtype;
    const kind = remap !== null ? KIND.remapped : dtype === 'float32' ? KIND.float : dtype === 'bool' ? KIND.bits : KIND.words;
    const params = uniformParams(run, { count: rows, width, masked, word, kind, nullable: gpu.validity !== null });
    run.dispatch(pipeline, bind({ params, keyValues: gpu.values, keyValidity: gpu.validity ?? unused, keyRemap, tuples }), workgroups(rows));
  });
  return tuples;
}

interface BuildBuffers {
  /** Per slot: its key's run start + 1 (0 = empty). */
  readonly table: GPUBuffer;
  readonly runEnds: GPUBuffer;
  /** (slot, right row), sorted. */
  readonly pairs: GPUBuffer;
}

/** Records the build over the right tuples: claim slots, sort (slot, row) pairs, point slots at their runs. */
function recordBuild(
  ctx: GpuContext,
  run: Recorder,
  rightTuples: GPUBuffer,
  rightLength: number,
  width: number,
  masked: boolean,
  tableMask: number,
): BuildBuffers {
  const extent = sortExtent(rightLength);
  const table = run.zeros((tableMask + 1) * 4);
  const runEnds = run.temp((tableMask + 1) * 4);
  const pairs = run.temp(extent * 8);
  const insert = uniformParams(run, { count: rightLength, width, masked, tableMask, extent });
  run.dispatch(ctx.pipeline('join', {}, { WG }, 'insert_keys'), bind({ params: insert, buildTuples: rightTuples, table, pairs }), workgroups(extent));
  recordSort(ctx, run, pairs, extent);
  const mark = uniformParams(run, { count: rightLength });
  run.dispatch(ctx.pipeline('join', {}, { WG }, 'mark_runs'), bind({ params: mark, table, runEnds, pairs }), workgroups(rightLength));
  return { table, runEnds, pairs };
}

/**
 * Bitonic sort of the pairs: (slot, row) pairs are distinct, so an unstable sort gives each key's rows in
 * ascending order. Stages up to a tile run in workgroup memory; larger ones take one dispatch per compare
 * distance down to a tile, then finish in workgroup memory.
 */
function recordSort(ctx: GpuContext, run: Recorder, pairs: GPUBuffer, extent: number): void {
  const tiles = extent / SORT_TILE;
  run.dispatch(ctx.pipeline('join', {}, { WG }, 'sort_tiles'), bind({ params: uniformParams(run, { count: extent, extent }), pairs }), tiles);
  const step = ctx.pipeline('join', {}, { WG }, 'sort_step');
  const merge = ctx.pipeline('join', {}, { WG }, 'sort_merge_tile');
  for (let stage = 2 * SORT_TILE; stage <= extent; stage *= 2) {
    for (let distance = stage / 2; distance >= SORT_TILE; distance /= 2) {
      run.dispatch(step, bind({ params: uniformParams(run, { count: extent, extent, stage, step: distance }), pairs }), workgroups(extent / 2));
    }
    run.dispatch(merge, bind({ params: uniformParams(run, { count: extent, extent, stage }), pairs }), tiles);
  }
}

interface ProbeBuffers {
  readonly pairs: GPUBuffer;
  readonly matchStart: GPUBuffer;
  readonly offsets: GPUBuffer;
  /** The number of output rows as (low, high) words. */
  readonly total: GPUBuffer;
  /** The buffers above, held past the submit until the output is read. */
  readonly held: readonly GPUBuffer[];
}

/** Records the probe: each left row's run start and output count, then the exclusive scan of the counts. */
function recordProbe(
  ctx: GpuContext,
  run: Recorder,
  build: BuildBuffers,
  leftTuples: GPUBuffer,
  rightTuples: GPUBuffer,
  leftLength: number,
  width: number,
  masked: boolean,
  tableMask: number,
  how: JoinHow,
): ProbeBuffers {
  const matchStart = run.temp(Math.max(4, leftLength * 4));
  const outCounts = run.temp(Math.max(4, leftLength * 4));
  const offsets = run.temp(Math.max(4, leftLength * 4));
  const total = run.zeros(8);
  const params = uniformParams(run, { count: leftLength, width, masked, tableMask });
  const pipeline = ctx.pipeline('join', {}, { WG, JOIN_HOW: JOIN_HOW[how] }, 'probe_keys');
  run.dispatch(
    pipeline,
    bind({
      params,
      probeTuples: leftTuples,
      buildTuples: rightTuples,
      table: build.table,
      runEnds: build.runEnds,
      pairs: build.pairs,
      matchStart,
      outCounts,
      total,
    }),
    workgroups(leftLength),
  );
  encodeExclusiveScan(ctx, run, outCounts, offsets, leftLength);
  return { pairs: build.pairs, matchStart, offsets, total, held: [build.pairs, matchStart, offsets, total] };
}

/** Writes the output rows on the device in chunks that fit one binding, and reads them back. */
async function emitRows(
  ctx: GpuContext,
  probed: ProbeBuffers,
  leftLength: number,
  total: number,
  withRight: boolean,
): Promise<{ leftRows: Int32Array; rightRows: Int32Array | null }> {
  const leftRows = new Int32Array(total);
  const rightRows = withRight ? new Int32Array(total) : null;
  const chunk = Math.floor(ctx.bindingBytes / 4);
  const pipeline = ctx.pipeline('join', {}, { WG }, withRight ? 'emit_pairs' : 'emit_left');
  for (let base = 0; base < total; base += chunk) {
    const count = Math.min(chunk, total - base);
    const run = ctx.begin();
    const outLeft = run.temp(count * 4);
    const outRight = withRight ? run.temp(count * 4) : null;
    const params = uniformParams(run, { count, base, leftCount: leftLength });
    const shared = { params, offsets: probed.offsets, outLeft };
    run.dispatch(pipeline, bind(outRight === null ? shared : { ...shared, matchStart: probed.matchStart, pairs: probed.pairs, outRight }), workgroups(count));
    const outputs = outRight === null ? [outLeft] : [outLeft, outRight];
    await run.submit(outputs);
    const bytes = await ctx.readMany(outputs.map((buffer) => ({ buffer, bytes: count * 4 })));
    ctx.recycle(outputs);
    leftRows.set(new Int32Array(bytes[0]!), base);
    rightRows?.set(new Int32Array(bytes[1]!), base);
  }
  return { leftRows, rightRows };
}
