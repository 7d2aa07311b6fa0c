// Group-by on the device (shaders/aggregate.wgsl). The kernel text is generated from the plan: the
// filter, the group slot computation and one state update per aggregation are spliced in. The result
// is decoded into the engines' shared merged group state (engines/shared/accumulators.ts), so one
// finalisation (output order by first appearance, key columns, means, variances, nulls) serves both
// engines and they agree by construction.

import { paramsOf } from '../../../model/dtype.js';
import type { BoundAgg, BoundExpr } from '../../../expr/types.js';
import type { Column, ColumnBatch, DType } from '../../../model/types.js';
import { groupByAccumulators, stateArity, type GroupByLayout, type GroupPartial } from '../../shared/accumulators.js';
import { stringRanks } from '../../shared/dictionaries.js';
import { finalizeGroupBy, type RowEvaluator } from '../../shared/aggregate-finalize.js';
import { chooseGroupMode, hashWidth, type GroupMode } from '../../shared/group-mode.js';
import { combineMoments } from '../../shared/moments.js';
import type { Binding, BindingType, GpuContext, Recorder } from '../context.js';
import type { ResidentColumns } from '../resident.js';
import { bindInputs, tablesBuffer } from './inputs.js';
import { encodeExclusiveScan } from './prefix-sum.js';
import { compileWgsl, compileWgslFilter, F32_OVERFLOW_FLAG, raiseOverflow, unsupportedReason, WgslBuilder } from '../wgsl-expr.js';

const WG = 256;
/** Workgroups of a privatised (dense, small) group-by: each loops over rows, so partials stay few. */
const PRIVATE_WORKGROUPS = 256;
/** Workgroups of a whole-frame tree reduction: enough to fill a large GPU, few partials for the host. */
const REDUCE_WORKGROUPS = 1024;
const EMPTY = 0xffffffff;

/** Raised when the device's float sums overflowed f32 where f64 would not: the step reruns on the CPU. */
export class F32OverflowError extends Error {}

type StateKind = 'count' | 'sumInt' | 'sumFloat' | 'minMax' | 'momentsInt' | 'none';

interface AggLayout {
  readonly agg: BoundAgg;
  readonly kind: StateKind;
  readonly at: number;
}

interface Layout {
  readonly words: number;
  readonly rowsAt: number | null;
  readonly lastAt: number | null;
  readonly aggs: readonly AggLayout[];
  readonly init: Uint32Array;
}

/** sumFloat: the f32 sum, its TwoSum compensation (itself accumulated with TwoSum), the error of that, a count. */
const WIDTH: Record<StateKind, number> = { count: 1, sumInt: 3, sumFloat: 4, minMax: 2, momentsInt: 6, none: 0 };

function stateKind(agg: BoundAgg): StateKind | null {
  const d = agg.arg?.type.dtype;
  switch (agg.op) {
    case 'countAll':
    case 'first':
    case 'last':
      return 'none';
    case 'count':
      return 'count';
    case 'sum':
    case 'mean':
      return d === 'float32' ? 'sumFloat' : d === 'int32' || d === 'bool' ? 'sumInt' : null;
    case 'min':
    case 'max':
      return d === 'int32' || d === 'bool' || d === 'float32' || d === 'utf8' ? 'minMax' : null;
    case 'var':
    case 'std':
      // Float moments from f32 sums of squares cancel badly when the mean dwarfs the spread: they stay on
      // the CPU (Welford in f64). Integer moments are exact sums.
      return d === 'int32' || d === 'bool' ? 'momentsInt' : null;
    case 'corr':
      // Co-moments are Welford updates in f64 (f32 ones cancel as float var would): always the CPU engine.
      return null;
    default:
      return null;
  }
}

/** Why this aggregation cannot run on the device, or null: from the input columns' types (a schema or the columns themselves). */
export function groupByUnsupported(
  columns: ReadonlyMap<string, { readonly dtype: DType }>,
  keys: readonly string[],
  aggs: readonly BoundAgg[],
  predicate: BoundExpr | null,
): string | null {
  for (const key of keys) {
    const dtype = columns.get(key)?.dtype;
    if (dtype !== 'int32' && dtype !== 'utf8' && dtype !== 'bool' && dtype !== 'float32') return `key '${key}' is ${String(dtype)}`;
  }
  for (const agg of aggs) {
    if (stateKind(agg) === null) return `${agg.op}(${agg.arg?.type.dtype ?? '*'})`;
    // first/last only need their group's row: the CPU evaluates the argument there, whatever its type.
    const reason = agg.arg && agg.op !== 'first' && agg.op !== 'last' ? unsupportedReason(agg.arg) : null;
    if (reason) return reason;
  }
  return predicate ? unsupportedReason(predicate) : null;
}

/**
 * Words of an aggregation's state. A float min or max has a third: the first row (×2, plus the sign
 * bit) holding a zero, because the CPU keeps the first of equal values and ±0 compare equal.
 */
function widthOf(kind: StateKind, agg: BoundAgg): number {
  return kind === 'minMax' && agg.arg?.type.dtype === 'float32' ? 3 : WIDTH[kind];
}

function layoutOf(aggs: readonly BoundAgg[]): Layout {
  let words = 1;
  const rowsAt = aggs.some((a) => a.op === 'countAll') ? words++ : null;
  const lastAt = aggs.some((a) => a.op === 'last') ? words++ : null;
  const init: number[] = [EMPTY];
  if (rowsAt !== null) init.push(0);
  if (lastAt !== null) init.push(0);
  const out = aggs.map((agg) => {
    const kind = stateKind(agg)!;
    const at = words;
    const width = widthOf(kind, agg);
    words += width;
    for (let k = 0; k < width; k++) init.push(kind === 'minMax' && ((k === 0 && agg.op === 'min') || k === 2) ? EMPTY : 0);
    return { agg, kind, at };
  });
  return { words, rowsAt, lastAt, aggs: out, init: Uint32Array.from(init) };
}

export interface GpuGroupByOptions {
  readonly predicate: BoundExpr | null;
  readonly keys: readonly string[];
  readonly aggs: readonly BoundAgg[];
}

/** A chunk's state words: `partials` copies of `slots` groups × the layout's words. */
interface ChunkState {
  readonly words: Uint32Array;
  readonly partials: number;
  readonly slots: number;
}

/**
 * Runs the aggregation on the device over `batch` (chunked by the binding size) and finalises on the host,
 * where `evaluateAtRows` computes key columns and first/last arguments at their groups' rows.
 */
export async function gpuGroupBy(
  ctx: GpuContext,
  resident: ResidentColumns,
  batch: ColumnBatch,
  options: GpuGroupByOptions,
  evaluateAtRows: RowEvaluator,
): Promise<ColumnBatch> {
  const columns = new Map(batch.names.map((name, k) => [name, batch.columns[k]!]));
  const mode = chooseGroupMode(columns, options.keys, hashWidth(columns, options.keys));
  // The accumulator kinds and utf8 rank dictionaries finalisation expects, read from the plan.
  const groupBy: GroupByLayout = { mode, accs: groupByAccumulators(columns, options.aggs) };
  const layout = layoutOf(options.aggs);
  const slots = mode.kind === 'global' ? 1 : mode.kind === 'dense' ? mode.slots : tableSize(batch.length);
  // A hash table comes back compacted to its occupied slots, so its group count is known only then.
  let merged: GroupPartial | null = null;
  const exact: (bigint | undefined)[][] = options.aggs.map(() => []);
  /** Per float min/max: each group's first zero as row × 2 + sign bit. */
  const zeros: (Float64Array | undefined)[] = [];
  const rowsPerChunk = chunkRows(ctx, batch.length);
  for (let start = 0; start < batch.length; start += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, batch.length - start);
    const result = await runChunk(ctx, resident, columns, mode, options, layout, slots, start, count);
    merged ??= emptyMerged(groupBy, result.slots);
    mergeChunk(result, layout, merged, exact, zeros, start);
  }
  merged ??= emptyMerged(groupBy, mode.kind === 'hash' ? 0 : slots);
  signZeros(merged, zeros);
  return finalizeGroupBy(groupBy, columns, options.keys, merged, exact, null, batch.length, evaluateAtRows);
}

/** A float min or max that came out zero takes the sign of the group's first zero, as on the CPU. */
function signZeros(merged: GroupPartial, zeros: readonly (Float64Array | undefined)[]): void {
  zeros.forEach((firsts, j) => {
    if (!firsts) return;
    const values = merged.states[j]![0] as Float64Array;
    for (let g = 0; g < merged.groups; g++) {
      if (values[g] === 0 && firsts[g]! !== Infinity) values[g] = firsts[g]! % 2 === 1 ? -0 : 0;
    }
  });
}

function tableSize(rows: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(64, rows * 2)));
}

/** Rows per chunk: whole columns when they fit a binding; else a multiple of 2048 rows (256-byte offsets). */
function chunkRows(ctx: GpuContext, length: number): number {
  const perBinding = Math.floor(ctx.bindingBytes / 4);
  if (length <= perBinding) return Math.max(1, length);
  return Math.max(2048, Math.floor(perBinding / 2048) * 2048);
}

/** The device memory a group-by needs beyond its inputs fits one binding. */
export function groupByFits(ctx: GpuContext, batch: ColumnBatch, keys: readonly string[], aggs: readonly BoundAgg[]): boolean {
  const columns = new Map(batch.names.map((name, k) => [name, batch.columns[k]!]));
  const mode = chooseGroupMode(columns, keys, hashWidth(columns, keys));
  const slots = mode.kind === 'global' ? 1 : mode.kind === 'dense' ? mode.slots : tableSize(batch.length);
  return slots * layoutOf(aggs).words * 4 <= ctx.bindingBytes && (mode.kind !== 'hash' || batch.length <= Math.floor(ctx.bindingBytes / 4));
}

function emptyMerged(groupBy: GroupByLayout, slots: number): GroupPartial {
  return {
    groups: slots,
    firstRow: new Int32Array(slots).fill(-1),
    lastRow: new Int32Array(slots).fill(-1),
    rows: new Float64Array(slots),
    states: groupBy.accs.map((acc) => {
      return Array.from({ length: stateArity(acc.kind) }, () => new Float64Array(slots));
    }),
    keys: null,
  };
}

/** Generates and runs the kernel over rows [start, start + count); returns the state words per partial. */
async function runChunk(
  ctx: GpuContext,
  resident: ResidentColumns,
  columns: ReadonlyMap<string, Column>,
  mode: GroupMode,
  options: GpuGroupByOptions,
  layout: Layout,
  slots: number,
  start: number,
  count: number,
): Promise<ChunkState> {
  const reduceWg = treeWorkgroupSize(ctx, layout);
  if (mode.kind === 'global' && reduceWg !== null) return runReduce(ctx, resident, columns, mode, options, layout, start, count, reduceWg);
  const b = new WgslBuilder(columns);
  const privateState = mode.kind !== 'hash' && slots * layout.words * 4 <= Math.min(ctx.limits.maxComputeWorkgroupStorageSize, 16384) - 64;
  const state = privateState ? 'wstate' : 'out_state';
  const row = b.capture(() => {
    emitRow(b, mode, options, layout, columns);
  });
  const inputs = b.inputDeclarations(4);
  const decls: string[] = [inputs.text];
  let tableBinding: number | null = null;
  if (mode.kind === 'hash') {
    tableBinding = inputs.next;
    decls.push(`@group(0) @binding(${tableBinding}) var<storage, read_write> claims: array<atomic<u32>>;`);
  }
  const total = slots * layout.words;
  if (privateState) decls.push(`var<workgroup> wstate: array<atomic<u32>, ${total}>;`);
  decls.push(stateInit(layout));
  const init = privateState
    ? `  for (var w = lid; w < ${total}u; w += WG) { atomicStore(&wstate[w], STATE_INIT[w % ${layout.words}u]); }\n  workgroupBarrier();`
    : '';
  const flush = privateState
    ? `  workgroupBarrier();\n  for (var w = lid; w < ${total}u; w += WG) { atomicStore(&out_state[wg * ${total}u + w], atomicLoad(&wstate[w])); }`
    : '';
  const bindingTypes = aggregationBindingTypes(inputs.next - 4);
  if (tableBinding !== null) bindingTypes.push('storage');
  const pipeline = ctx.pipeline(
    'aggregate',
    { DECLS: decls.join('\n'), ROW: row.join('\n'), INIT: init, FLUSH: flush, $STATE: state },
    { WG },
    'main',
    bindingTypes,
  );

  const partials = privateState ? Math.min(PRIVATE_WORKGROUPS, Math.ceil(count / WG)) : 1;
  const workgroups = privateState ? partials : Math.min(Math.ceil(count / WG), 4096);
  const run = ctx.begin();
  const flags = run.zeros(4);
  const tables = tablesBuffer(ctx, run, b);
  const out = run.temp(partials * total * 4);
  if (!privateState) ctx.write(out, 0, repeat(layout.init, slots));
  const params = run.uniform(Uint32Array.of(count, workgroups, layout.words, slots - 1, 0));
  const compacted = await submitAggregation(run, resident, b, start, count, (inputs) => {
    run.dispatch(pipeline, [params, flags, tables, out, ...inputs, ...(tableBinding === null ? [] : [run.zeros(slots * 4)])], workgroups);
    if (mode.kind !== 'hash') return { keep: [out, flags], result: null };
    const table = compactTable(ctx, run, out, slots, layout.words);
    return { keep: [table.states, table.groups, flags], result: table };
  });
  if (compacted === null) return { ...(await readState(ctx, out, flags, partials * total * 4, partials)), slots };
  const { states, groups: groupCount } = compacted;
  const [groupBytes] = await ctx.readMany([{ buffer: groupCount, bytes: 4 }]);
  const groups = new Uint32Array(groupBytes!)[0]!;
  ctx.recycle([groupCount]);
  return { ...(await readState(ctx, states, flags, groups * layout.words * 4, 1)), slots: groups };
}

/**
 * Pins the kernel's inputs, lets `record` dispatch with their bindings (and add work to the same
 * submit), and submits keeping the buffers `record` names; inputs are unpinned either way, and an
 * abandoned recording gives its buffers back. Returns `record`'s result once the submit completed.
 */
async function submitAggregation<T>(
  run: Recorder,
  resident: ResidentColumns,
  b: WgslBuilder,
  start: number,
  count: number,
  record: (inputs: Binding[]) => { keep: GPUBuffer[]; result: T },
): Promise<T> {
  const pinned: Column[] = [];
  try {
    const { keep, result } = record(bindInputs(b, resident, pinned, start, count));
    await run.submit(keep);
    return result;
  } catch (error) {
    run.discard();
    throw error;
  } finally {
    for (const column of pinned) resident.unpin(column);
  }
}

/** Binding types of an aggregation kernel: params, flags, lookup tables, state, then `inputs` input buffers. */
function aggregationBindingTypes(inputs: number): BindingType[] {
  return ['uniform', 'storage', 'read-only-storage', 'storage', ...Array.from({ length: inputs }, (): BindingType => 'read-only-storage')];
}

/** The WGSL constant holding one group's initial state words. */
function stateInit(layout: Layout): string {
  return `const STATE_INIT = array<u32, ${layout.words}>(${[...layout.init].map((w) => `${w}u`).join(', ')});`;
}

/** Records the compaction of a hash table's state to its occupied slots (shaders/aggregate-compact.wgsl). */
function compactTable(ctx: GpuContext, run: Recorder, state: GPUBuffer, slots: number, words: number): { states: GPUBuffer; groups: GPUBuffer } {
  const keep = run.temp(slots * 4);
  const positions = run.temp(slots * 4);
  const groups = run.zeros(4);
  const states = run.temp(slots * words * 4);
  const params = run.uniform(Uint32Array.of(slots, words));
  const layout: BindingType[] = ['uniform', 'read-only-storage', 'storage', 'read-only-storage', 'storage'];
  const bindings = [params, state, keep, positions, states];
  const workgroups = Math.ceil(slots / WG);
  run.dispatch(ctx.pipeline('aggregate-compact', {}, { WG }, 'mark_groups', layout), bindings, workgroups);
  encodeExclusiveScan(ctx, run, keep, positions, slots, groups);
  run.dispatch(ctx.pipeline('aggregate-compact', {}, { WG }, 'gather_groups', layout), bindings, workgroups);
  return { states, groups };
}

/** Invocations per workgroup of the tree reduction: its states must fit workgroup memory; null if even 32 do not. */
function treeWorkgroupSize(ctx: GpuContext, layout: Layout): number | null {
  const bytes = Math.min(ctx.limits.maxComputeWorkgroupStorageSize, 16384);
  let wg = 256;
  while (wg >= 32 && wg * layout.words * 4 > bytes) wg /= 2;
  return wg >= 32 ? wg : null;
}

/** WGSL that merges state b into state a, word group by word group, for the tree reduction. */
function mergeCode(layout: Layout): string {
  const lines = ['merge_min(a, b);'];
  if (layout.rowsAt !== null) lines.push(`merge_add(a + ${layout.rowsAt}u, b + ${layout.rowsAt}u);`);
  if (layout.lastAt !== null) lines.push(`merge_max(a + ${layout.lastAt}u, b + ${layout.lastAt}u);`);
  for (const { agg, kind, at } of layout.aggs) {
    const w = (k: number): string => `a + ${at + k}u, b + ${at + k}u`;
    switch (kind) {
      case 'count':
        lines.push(`merge_add(${w(0)});`);
        break;
      case 'sumInt':
        lines.push(`merge_u64(${w(0)}); merge_add(${w(2)});`);
        break;
      case 'sumFloat':
        lines.push(`merge_f32_compensated(${w(0)}); merge_add(${w(3)});`);
        break;
      case 'minMax':
        lines.push(`merge_${agg.op === 'min' ? 'min' : 'max'}(${w(0)}); merge_add(${w(1)});${widthOf(kind, agg) === 3 ? ` merge_min(${w(2)});` : ''}`);
        break;
      case 'momentsInt':
        lines.push(`merge_u64(${w(0)}); merge_u96(${w(2)}); merge_add(${w(5)});`);
        break;
      case 'none':
        break;
    }
  }
  return lines.join('\n');
}

/** Whole-frame aggregation as a tree reduction (shaders/aggregate-reduce.wgsl): one partial per workgroup. */
async function runReduce(
  ctx: GpuContext,
  resident: ResidentColumns,
  columns: ReadonlyMap<string, Column>,
  mode: GroupMode,
  options: GpuGroupByOptions,
  layout: Layout,
  start: number,
  count: number,
  wg: number,
): Promise<ChunkState> {
  const b = new WgslBuilder(columns);
  const row = b.capture(() => {
    emitRow(b, mode, options, layout, columns);
  });
  const inputs = b.inputDeclarations(4);
  const decls = [
    inputs.text,
    `const WORDS: u32 = ${layout.words}u;`,
    stateInit(layout),
    `var<private> acc: array<u32, ${layout.words}>;`,
    `var<workgroup> tree: array<u32, ${wg * layout.words}>;`,
  ];
  const bindingTypes = aggregationBindingTypes(inputs.next - 4);
  const pipeline = ctx.pipeline(
    'aggregate-reduce',
    { DECLS: decls.join('\n'), ROW: row.join('\n'), MERGE: mergeCode(layout) },
    { WG: wg },
    'main',
    bindingTypes,
  );
  const partials = Math.min(REDUCE_WORKGROUPS, Math.ceil(count / wg));
  const run = ctx.begin();
  const flags = run.zeros(4);
  const tables = tablesBuffer(ctx, run, b);
  const out = run.temp(partials * layout.words * 4);
  const params = run.uniform(Uint32Array.of(count, partials, layout.words, 0, 0));
  await submitAggregation(run, resident, b, start, count, (inputs) => {
    run.dispatch(pipeline, [params, flags, tables, out, ...inputs], partials);
    return { keep: [out, flags], result: null };
  });
  return { ...(await readState(ctx, out, flags, partials * layout.words * 4, partials)), slots: 1 };
}

async function readState(
  ctx: GpuContext,
  out: GPUBuffer,
  flags: GPUBuffer,
  bytes: number,
  partials: number,
): Promise<{ words: Uint32Array; partials: number }> {
  const [stateBytes, flagBytes] = await ctx.readMany([
    { buffer: out, bytes },
    { buffer: flags, bytes: 4 },
  ]);
  ctx.recycle([out, flags]);
  const flagWord = new Uint32Array(flagBytes!)[0]!;
  raiseOverflow(flagWord);
  if (flagWord & F32_OVERFLOW_FLAG) throw new F32OverflowError('a float sum overflowed f32');
  return { words: new Uint32Array(stateBytes!), partials };
}

function repeat(pattern: Uint32Array, times: number): Uint32Array {
  const out = new Uint32Array(pattern.length * times);
  for (let k = 0; k < times; k++) out.set(pattern, k * pattern.length);
  return out;
}

/** The WGSL body for one row: filter, slot `g`, then each state update. */
function emitRow(b: WgslBuilder, mode: GroupMode, options: GpuGroupByOptions, layout: Layout, columns: ReadonlyMap<string, Column>): void {
  if (options.predicate) compileWgslFilter(b, options.predicate, 'return;');
  const colExpr = (name: string): BoundExpr => ({
    kind: 'col',
    name,
    type: { dtype: columns.get(name)!.dtype, nullable: columns.get(name)!.validity !== null },
  });
  if (mode.kind === 'global') b.line('let g = 0u;');
  else if (mode.kind === 'dense') {
    const terms: string[] = [];
    let stride = 1;
    for (const key of mode.keys) {
      const k = compileWgsl(b, colExpr(key.name));
      const index = k.dtype === 'bool' ? `select(0u, 1u, ${k.v})` : `u32(${k.v} - i32(${key.offset}))`;
      terms.push(`${k.n === 'false' ? index : `select(${index}, ${key.nullIndex}u, ${k.n})`} * ${stride}u`);
      stride *= key.size;
    }
    b.line(`let g = ${terms.join(' + ')};`);
  } else {
    emitHashSlot(b, mode.keys, columns);
  }
  b.line(`let base = g * ${layout.words}u;`);
  b.line('state_min(base, i);');
  if (layout.rowsAt !== null) b.line(`state_add(base + ${layout.rowsAt}u, 1u);`);
  if (layout.lastAt !== null) b.line(`state_max(base + ${layout.lastAt}u, i + 1u);`);
  for (const { agg, kind, at } of layout.aggs) {
    if (kind === 'none' || !agg.arg) continue;
    const lines = b.capture(() => {
      const a = compileWgsl(b, agg.arg!);
      const s = `base + ${at}u`;
      const guard = a.n === 'false' ? '' : `if (!${a.n}) `;
      const asInt = a.dtype === 'bool' ? `select(0i, 1i, ${a.v})` : a.v;
      switch (kind) {
        case 'count':
          b.line(`${guard}{ state_add(${s}, 1u); }`);
          break;
        case 'sumInt':
          b.line(`${guard}{ add_u64(${s}, ${asInt}); state_add(${s} + 2u, 1u); }`);
          break;
        case 'sumFloat':
          b.line(`${guard}{ add_f32_compensated(${s}, ${a.v}); state_add(${s} + 3u, 1u); }`);
          break;
        case 'minMax': {
          let key: string;
          if (a.dtype === 'float32') key = `order_f32(${a.v})`;
          else if (a.dtype === 'utf8') {
            const { rank } = stringRanks(a.dictionary ?? []);
            key = rank.length === 0 ? '0u' : `order_i32(${b.table(rank, a.v)})`;
          } else key = `order_i32(${asInt})`;
          const firstZero =
            a.dtype === 'float32'
              ? ` if ((bitcast<u32>(${a.v}) & 0x7fffffffu) == 0u) { state_min(${s} + 2u, (i << 1u) | (bitcast<u32>(${a.v}) >> 31u)); }`
              : '';
          b.line(`${guard}{ state_${agg.op}(${s}, ${key}); state_add(${s} + 1u, 1u);${firstZero} }`);
          break;
        }
        case 'momentsInt':
          b.line(
            `${guard}{ let x = ${asInt}; add_u64(${s}, x); let m = u32(abs(x)); let lo = (m & 0xffffu) * (m & 0xffffu); let mid = (m >> 16u) * (m & 0xffffu); let hi = (m >> 16u) * (m >> 16u);`,
          );
          // |x|² = hi·2^32 + 2·mid·2^16 + lo, split into exact (high, low) words before the 96-bit add.
          b.line(
            `  let mid_lo = mid << 17u; let mid_hi = mid >> 15u; let low = lo + mid_lo; let c = select(0u, 1u, low < lo); add_u96(${s} + 2u, hi + mid_hi + c, low); state_add(${s} + 5u, 1u); }`,
          );
          break;
      }
    });
    lines.forEach((l) => {
      b.line(l);
    });
  }
}

/** Hash mode: key words of row i, claim or find the table slot whose representative row has equal words. */
function emitHashSlot(b: WgslBuilder, keys: readonly string[], columns: ReadonlyMap<string, Column>): void {
  const wordsAt = (row: string): string[] => {
    const words: string[] = [];
    const nullTerms: string[] = [];
    keys.forEach((name, index) => {
      const column = columns.get(name)!;
      const k = compileWgsl(b, { kind: 'col', name, type: { dtype: column.dtype, ...paramsOf(column), nullable: column.validity !== null } }, row);
      const word = column.dtype === 'float32' ? `canonical_f32_key(${k.v})` : column.dtype === 'bool' ? `select(0u, 1u, ${k.v})` : `bitcast<u32>(${k.v})`;
      words.push(k.n === 'false' ? word : `select(${word}, 0u, ${k.n})`);
      if (k.n !== 'false') nullTerms.push(`select(0u, ${1 << index}u, ${k.n})`);
    });
    if (nullTerms.length > 0) words.push(`(${nullTerms.join(' | ')})`);
    return words;
  };
  const mine = wordsAt('i');
  const mineVars = mine.map((w) => {
    const v = b.tmp('kw');
    b.line(`let ${v} = ${w};`);
    return v;
  });
  b.line(`var h = 0x9747b28cu;`);
  for (const v of mineVars) b.line(`h = mix32(h, ${v});`);
  b.line(`var g = finish32(h) & params.table_mask;`);
  b.line('loop {');
  b.line('  let claim = atomicCompareExchangeWeak(&claims[g], 0u, i + 1u);');
  b.line('  if (claim.exchanged) { break; }');
  b.line('  if (claim.old_value == 0u) { continue; }');
  b.line('  let r = claim.old_value - 1u;');
  const theirs = b.capture(() => {
    const words = wordsAt('r');
    b.line(`let same = ${words.map((w, k) => `(${w}) == ${String(mineVars[k])}`).join(' && ')};`);
  });
  b.line('  {');
  theirs.forEach((l) => {
    b.line(`    ${l}`);
  });
  b.line('    if (same) { break; }');
  b.line('  }');
  b.line('  g = (g + 1u) & params.table_mask;');
  b.line('}');
}

/** Folds one chunk's partial state words into the CPU-format merged state. */
function mergeChunk(
  result: ChunkState,
  layout: Layout,
  merged: GroupPartial,
  exact: (bigint | undefined)[][],
  zeros: (Float64Array | undefined)[],
  start: number,
): void {
  const { words, partials } = result;
  const slots = merged.groups;
  const per = slots * layout.words;
  const f32 = new Float32Array(words.buffer, words.byteOffset, words.length);
  const i32 = new Int32Array(words.buffer, words.byteOffset, words.length);
  for (let p = 0; p < partials; p++) {
    for (let g = 0; g < slots; g++) {
      const base = p * per + g * layout.words;
      const first = words[base]!;
      if (first === EMPTY) continue;
      const firstRow = first + start;
      // Chunks come in row order, so a group's first row is in the first chunk that has it.
      if (merged.firstRow[g]! < 0 || firstRow < merged.firstRow[g]!) merged.firstRow[g] = firstRow;
      if (layout.rowsAt !== null) merged.rows[g] = merged.rows[g]! + words[base + layout.rowsAt]!;
      if (layout.lastAt !== null) merged.lastRow[g] = Math.max(merged.lastRow[g]!, words[base + layout.lastAt]! - 1 + start);
      layout.aggs.forEach(({ kind, agg, at }, j) => {
        const s = base + at;
        const st = merged.states[j] as Float64Array[];
        switch (kind) {
          case 'count':
            st[0]![g] = st[0]![g]! + words[s]!;
            break;
          case 'sumInt': {
            addExact(st[0]!, exact[j]!, g, BigInt(i32[s + 1]!) * 4294967296n + BigInt(words[s]!));
            st[1]![g] = st[1]![g]! + words[s + 2]!;
            break;
          }
          case 'sumFloat': {
            const sum = f32[s]!;
            // A non-finite sum carries NaN compensation words: the sum alone is the answer then.
            st[0]![g] = st[0]![g]! + (Number.isFinite(sum) ? sum + f32[s + 1]! + f32[s + 2]! : sum);
            st[1]![g] = st[1]![g]! + words[s + 3]!;
            break;
          }
          case 'minMax': {
            const n = words[s + 1]!;
            if (n === 0) break;
            const value = decodeOrdered(words[s]!, agg.arg!.type.dtype);
            const had = st[1]![g]! > 0;
            const better = !had || (agg.op === 'min' ? lessNaNLast(value, st[0]![g]!) : lessNaNLast(st[0]![g]!, value));
            if (better) st[0]![g] = value;
            st[1]![g] = st[1]![g]! + n;
            const zero = agg.arg!.type.dtype === 'float32' ? words[s + 2]! : EMPTY;
            if (zero !== EMPTY) {
              const firsts = (zeros[j] ??= new Float64Array(merged.groups).fill(Infinity));
              firsts[g] = Math.min(firsts[g]!, (start + (zero >>> 1)) * 2 + (zero & 1));
            }
            break;
          }
          case 'momentsInt': {
            const n = words[s + 5]!;
            if (n === 0) break;
            const sum = BigInt(i32[s + 1]!) * 4294967296n + BigInt(words[s]!);
            const squares = (BigInt(words[s + 4]!) << 64n) + (BigInt(words[s + 3]!) << 32n) + BigInt(words[s + 2]!);
            combineMoments(st, g, n, Number(sum) / n, Number(BigInt(n) * squares - sum * sum) / n);
            break;
          }
          case 'none':
            break;
        }
      });
    }
  }
}

const SAFE = Number.MAX_SAFE_INTEGER;

function addExact(values: Float64Array, exact: (bigint | undefined)[], g: number, add: bigint): void {
  const current = exact[g] ?? BigInt(values[g]!);
  const total = current + add;
  values[g] = Number(total);
  if (total > BigInt(SAFE) || total < -BigInt(SAFE)) exact[g] = total;
  else exact[g] = undefined;
}

function decodeOrdered(word: number, dtype: string): number {
  if (dtype === 'float32') {
    const bits = word & 0x80000000 ? word & 0x7fffffff : ~word >>> 0;
    return new Float32Array(Uint32Array.of(bits).buffer)[0]!;
  }
  return (word ^ 0x80000000) | 0;
}

function lessNaNLast(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}
