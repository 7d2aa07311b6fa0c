// The CPU engine: executes an optimised plan over Arrow-layout columns. Filter and projection chains
// fuse into one generated scan kernel, a filter under a group-by fuses into its aggregation kernel (under
// a group head, into a row selection), and these run morsel by morsel, inline or on the worker pool.
// Sort, join, unique, group head and slice run on the main thread over whole columns. Work is written as
// a generator that yields pool promises, so the same code runs synchronously (collectSync, no pool) or
// asynchronously with cancellation between morsels.

import { setMaxListeners } from 'node:events';
import { CancelledError } from '../../errors.js';
import type { BoundExpr } from '../../expr/types.js';
import type { Column, ColumnBatch } from '../../model/types.js';
import { allocShared } from '../../model/column.js';
import type { OperatorTiming } from '../../plan/explain.js';
import type { NamedExpr, PlanNode } from '../../plan/types.js';
import { compileKernel } from './kernels/compile.js';
import { gatherBatch, gatherColumn, sliceBatch } from '../shared/gather.js';
import type { GroupPartial } from '../shared/accumulators.js';
import { finalizeGroupBy } from '../shared/group-by-finalize.js';
import { chooseGroupMode, denseSlotLimit, groupByMorselRows, hashWidth, packHashKeys, type GroupMode } from '../shared/group-mode.js';
import { mergeGroupPartials, prepareGroupBy, type PreparedGroupBy } from './kernels/group-by.js';
import { groupHeadIndices } from './kernels/group-head.js';
import { hashJoin } from './kernels/join.js';
import { kernelLib } from './kernels/runtime.js';
import { allocScanOut, evaluateAtRows, prepareScan, prepareSelection, scanOutColumns } from './kernels/scan.js';
import { sortIndices } from './kernels/sort.js';
import { kernelColumns, type PreparedKernel, type ScanOut } from './kernels/types.js';
import type { WorkerPool } from './pool.js';

/** Yielded by engine work: a promise to await, or a tick at which cancellation is checked. */
export const TICK = Symbol('tick');
export type Step = Promise<unknown> | typeof TICK;
export type Work<T> = Generator<Step, T, unknown>;

export interface CpuRunOptions {
  readonly pool: WorkerPool | null;
  readonly signal?: AbortSignal;
  /** Inputs with fewer rows run inline even when a pool exists. */
  readonly inlineThreshold: number;
  /** Rows per morsel; by default a function of the row count only, so results never depend on threads. */
  readonly morselRows?: number;
  readonly timings?: Map<PlanNode, OperatorTiming>;
}

/** Exact integer partial sums need a morsel of at most 2^21 rows of int32 (|sum| < 2^52). */
export const MAX_MORSEL = 1 << 20;
const MIN_MORSEL = 1 << 14;

/** Rows per morsel for an input of `length` rows. */
export function morselSize(length: number, morselRows?: number): number {
  return Math.min(MAX_MORSEL, morselRows ?? Math.max(MIN_MORSEL, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(length / 16))))));
}

export function morselRanges(length: number, morselRows?: number): [number, number][] {
  const size = morselSize(length, morselRows);
  const ranges: [number, number][] = [];
  for (let start = 0; start < length; start += size) ranges.push([start, Math.min(length, start + size)]);
  return ranges;
}

export function columnMap(batch: ColumnBatch): Map<string, Column> {
  return new Map(batch.names.map((name, i) => [name, batch.columns[i]!]));
}

/** Runs a kernel over every morsel; stops early (in morsel order) once `enough(results)` holds. */
function* runMorsels(
  prepared: PreparedKernel,
  length: number,
  outFor: (start: number) => unknown,
  options: CpuRunOptions,
  enough?: (results: readonly unknown[]) => boolean,
): Work<unknown[]> {
  const ranges = morselRanges(length, options.morselRows);
  const cols = kernelColumns(prepared.inputs);
  const results: unknown[] = [];
  const { pool } = options;
  if (pool === null || length < options.inlineThreshold) {
    const fn = compileKernel(prepared.source);
    for (const [start, end] of ranges) {
      yield TICK;
      results.push(fn(cols, prepared.params, start, end, outFor(start), kernelLib));
      if (enough?.(results)) break;
    }
    return results;
  }
  // Every queued task listens on the query's signal; many morsels are expected, not a listener leak.
  if (options.signal) setMaxListeners(ranges.length + 16, options.signal);
  // With an early stop, dispatch one wave of pool.size morsels at a time; otherwise everything at once.
  const wave = enough ? pool.size : ranges.length;
  for (let w = 0; w < ranges.length; w += wave) {
    const tasks = ranges
      .slice(w, w + wave)
      .map(([start, end]) => pool.run({ source: prepared.source, cols, params: prepared.params, start, end, out: outFor(start) }, options.signal));
    results.push(...((yield Promise.all(tasks)) as unknown[]));
    if (enough?.(results)) break;
  }
  return results;
}

/** Filter and/or projection of `batch` in one pass; `limit` stops after that many kept rows. */
export function* scanWork(
  batch: ColumnBatch,
  predicate: BoundExpr | null,
  outputs: readonly NamedExpr[],
  options: CpuRunOptions,
  limit?: number,
): Work<ColumnBatch> {
  const columns = columnMap(batch);
  // Without a predicate, a column passed through unchanged is reused, not copied.
  const computed = predicate ? outputs : outputs.filter((o) => o.expr.kind !== 'col');
  const prepared = prepareScan(columns, predicate, computed, 'range');
  const out = allocScanOut(prepared.outputs, batch.length, 0, null);
  const counts = (yield* runMorsels(
    prepared,
    batch.length,
    (start): ScanOut => ({ ...out, base: start }),
    options,
    limit === undefined ? undefined : (rs) => sum(rs as number[]) >= limit,
  )) as number[];
  const ranges = morselRanges(batch.length, options.morselRows);
  let total = 0;
  counts.forEach((count, m) => {
    const start = ranges[m]![0];
    if (start !== total && count > 0) {
      for (const a of out.values) a.copyWithin(total, start, start + count);
      for (const a of out.valid) a?.copyWithin(total, start, start + count);
    }
    total += count;
  });
  const length = limit === undefined ? total : Math.min(total, limit);
  const made = scanOutColumns(prepared.outputs, out, length);
  const byName = new Map(prepared.outputs.map((o, k) => [o.name, made[k]!]));
  const reused = (name: string): Column => {
    const column = columns.get(name)!;
    // A limit stops the scan early, and a reused column must still be exactly `length` rows long.
    return column.length === length ? column : sliceBatch({ length: column.length, names: [name], columns: [column] }, 0, length).columns[0]!;
  };
  return {
    length,
    names: outputs.map((o) => o.name),
    columns: outputs.map((o) => byName.get(o.name) ?? reused((o.expr as { name: string }).name)),
  };
}

/** Indices of the rows of `batch` whose predicate is true, in order; null when that is every row. */
export function* selectionWork(batch: ColumnBatch, predicate: BoundExpr, options: CpuRunOptions): Work<Int32Array | null> {
  const prepared = prepareSelection(columnMap(batch), predicate);
  const out = allocScanOut(prepared.outputs, batch.length, 0, null);
  const counts = (yield* runMorsels(prepared, batch.length, (start): ScanOut => ({ ...out, base: start }), options)) as number[];
  const rows = out.values[0] as Int32Array;
  const ranges = morselRanges(batch.length, options.morselRows);
  let total = 0;
  counts.forEach((count, m) => {
    const start = ranges[m]![0];
    if (start !== total && count > 0) rows.copyWithin(total, start, start + count);
    total += count;
  });
  return total === batch.length ? null : rows.subarray(0, total);
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function* aggregateWork(
  batch: ColumnBatch,
  predicate: BoundExpr | null,
  node: Extract<PlanNode, { kind: 'aggregate' }>,
  runOptions: CpuRunOptions,
): Work<ColumnBatch> {
  const columns = columnMap(batch);
  const { mode, options } = groupBySetup(columns, node.keys, batch.length, runOptions);
  const holistic = node.aggs.some((a) => a.op === 'median' || a.op === 'nUnique');
  const rowGroups = holistic ? allocShared(Int32Array, batch.length).fill(-1) : null;
  const prepared = prepareGroupBy(columns, predicate, mode, node.aggs, holistic);
  const partials = (yield* runMorsels(prepared, batch.length, () => ({ gids: rowGroups }), options)) as GroupPartial[];
  const { merged, exactInt, localToGlobal } = mergeGroupPartials(prepared, partials);
  if (rowGroups && mode.kind === 'hash') relabelRowGroups(rowGroups, localToGlobal, batch.length, options.morselRows);
  return finalizeGroupBy(prepared, columns, node.keys, merged, exactInt, rowGroups, batch.length, evaluateAtRows);
}

/** The group mode for `keys` (hash keys packed where their domains allow) and the run options with its morsel size. */
function groupBySetup(
  columns: ReadonlyMap<string, Column>,
  keys: readonly string[],
  length: number,
  options: CpuRunOptions,
): { mode: GroupMode; options: CpuRunOptions } {
  const mode = packHashKeys(columns, chooseGroupMode(columns, keys, hashWidth(columns, keys), denseSlotLimit(morselSize(length, options.morselRows))));
  const morselRows = groupByMorselRows(columns, mode, length, options.morselRows);
  return { mode, options: morselRows === options.morselRows ? options : { ...options, morselRows: morselRows! } };
}

function relabelRowGroups(rowGroups: Int32Array, localToGlobal: readonly Int32Array[], length: number, morselRows: number | undefined): void {
  morselRanges(length, morselRows).forEach(([start, end], m) => {
    const map = localToGlobal[m]!;
    for (let i = start; i < end; i++) {
      const g = rowGroups[i]!;
      if (g >= 0) rowGroups[i] = map[g]!;
    }
  });
}

/** Row indices of the first row of each distinct key tuple, in order. */
export function* firstRowsWork(batch: ColumnBatch, keys: readonly string[], runOptions: CpuRunOptions): Work<Int32Array> {
  const columns = columnMap(batch);
  const { mode, options } = groupBySetup(columns, keys, batch.length, runOptions);
  const prepared: PreparedGroupBy = prepareGroupBy(columns, null, mode.kind === 'global' ? { kind: 'dense', keys: [], slots: 1 } : mode, [], false);
  const partials = (yield* runMorsels(prepared, batch.length, () => null, options)) as GroupPartial[];
  const { merged } = mergeGroupPartials(prepared, partials);
  const firsts: number[] = [];
  for (let g = 0; g < merged.groups; g++) if (merged.firstRow[g]! >= 0) firsts.push(merged.firstRow[g]!);
  return Int32Array.from(firsts.sort((a, b) => a - b));
}

function timed<T>(node: PlanNode, options: CpuRunOptions, started: number, result: T): T {
  options.timings?.set(node, { engine: 'cpu', ms: performance.now() - started });
  return result;
}

/** Splits project/filter chains into (input, predicate, outputs) for the fused scan kernel. */
export function scanShape(node: PlanNode): { input: PlanNode; predicate: BoundExpr | null; outputs: readonly NamedExpr[] } | null {
  if (node.kind === 'project') {
    if (node.input.kind === 'filter') return { input: node.input.input, predicate: node.input.predicate, outputs: node.exprs };
    return { input: node.input, predicate: null, outputs: node.exprs };
  }
  if (node.kind === 'filter') {
    const outputs = node.schema.map((f) => ({
      name: f.name,
      expr: { kind: 'col' as const, name: f.name, type: { dtype: f.dtype, nullable: f.nullable } },
    }));
    return { input: node.input, predicate: node.predicate, outputs };
  }
  return null;
}

/** The columns of `batch` with these names, in this order (a join's key columns). */
export function columnsNamed(batch: ColumnBatch, names: readonly string[]): Column[] {
  return names.map((n) => batch.columns[batch.names.indexOf(n)]!);
}

/** The output of a join from its matched row pairs (either engine's): left columns, then the kept right ones. */
export function joinedBatch(
  node: Extract<PlanNode, { kind: 'join' }>,
  left: ColumnBatch,
  right: ColumnBatch,
  leftRows: Int32Array,
  rightRows: Int32Array | null,
): ColumnBatch {
  const joined = gatherBatch(left, leftRows);
  if (rightRows === null) return joined;
  const extra = node.rightOutput.map((r) => gatherColumn(right.columns[right.names.indexOf(r.from)]!, rightRows));
  return { length: joined.length, names: [...joined.names, ...node.rightOutput.map((r) => r.as)], columns: [...joined.columns, ...extra] };
}

export function* executeNode(node: PlanNode, options: CpuRunOptions): Work<ColumnBatch> {
  if (options.signal?.aborted) throw new CancelledError('execution was cancelled', { cause: options.signal.reason });
  switch (node.kind) {
    case 'source':
      return node.batch;
    case 'project':
    case 'filter': {
      const shape = scanShape(node)!;
      const input = yield* executeNode(shape.input, options);
      const started = performance.now();
      return timed(node, options, started, yield* scanWork(input, shape.predicate, shape.outputs, options));
    }
    case 'slice': {
      const shape = scanShape(node.input);
      const wanted = node.offset + node.length;
      if (shape && Number.isFinite(wanted)) {
        const input = yield* executeNode(shape.input, options);
        const started = performance.now();
        const scanned = yield* scanWork(input, shape.predicate, shape.outputs, options, wanted);
        return timed(node, options, started, sliceBatch(scanned, node.offset, node.length));
      }
      const input = yield* executeNode(node.input, options);
      return timed(node, options, performance.now(), sliceBatch(input, node.offset, node.length));
    }
    case 'aggregate': {
      const fused = node.input.kind === 'filter';
      const input = yield* executeNode(fused ? node.input.input : node.input, options);
      const started = performance.now();
      const predicate = fused ? node.input.predicate : null;
      return timed(node, options, started, yield* aggregateWork(input, predicate, node, options));
    }
    case 'sort': {
      const input = yield* executeNode(node.input, options);
      const started = performance.now();
      return timed(node, options, started, gatherBatch(input, sortIndices(input, node.keys)));
    }
    case 'unique': {
      const input = yield* executeNode(node.input, options);
      const started = performance.now();
      const rows = yield* firstRowsWork(input, node.subset, options);
      return timed(node, options, started, gatherBatch(input, rows));
    }
    case 'groupHead': {
      // A filter right below becomes a selection of rows: its input's columns are never copied.
      const fused = node.input.kind === 'filter' ? node.input : null;
      const input = yield* executeNode(fused ? fused.input : node.input, options);
      const started = performance.now();
      const selection = fused ? yield* selectionWork(input, fused.predicate, options) : null;
      return timed(node, options, started, gatherBatch(input, groupHeadIndices(input, node.keys, node.n, node.order, selection)));
    }
    case 'join': {
      const left = yield* executeNode(node.left, options);
      const right = yield* executeNode(node.right, options);
      const started = performance.now();
      const { leftRows, rightRows } = hashJoin(columnsNamed(left, node.leftOn), columnsNamed(right, node.rightOn), node.how);
      return timed(node, options, started, joinedBatch(node, left, right, leftRows, rightRows));
    }
  }
}

/** Drives engine work to completion on this thread; only valid without a pool. */
export function runSync<T>(work: Work<T>): T {
  let step = work.next();
  while (!step.done) {
    if (step.value !== TICK) throw new Error('synchronous execution met asynchronous work');
    step = work.next();
  }
  return step.value;
}

/** Drives engine work, awaiting pool results and yielding to the event loop between inline morsels. */
export async function runAsync<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
  let step = work.next();
  while (!step.done) {
    let value: unknown;
    try {
      if (step.value === TICK) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
      } else value = await step.value;
    } catch (error) {
      step = work.throw(error);
      continue;
    }
    step = work.next(value);
  }
  return step.value;
}
