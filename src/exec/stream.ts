// Chunked execution. A physical plan that is a filter-project, a slice or nothing over a source streams
// incrementally: the source is cut into windows that run through the dispatcher one at a time, on the
// engine the planner chose, so memory stays bounded by the window. Plans with a blocking operator run
// whole, then are chunked.

import type * as arrow from 'apache-arrow';
import { runAsync } from '../engines/cpu/work.js';
import { batchToArrowTable, countNulls } from '../model/column.js';
import type { Column, ColumnBatch } from '../model/types.js';
import { dispatch, type DispatchOptions } from './dispatch.js';
import type { OperatorOf, PhysicalOp } from './operators.js';
import { passThrough } from './physical.js';

/** A physical plan that streams: a filter-project, slice or nothing over a source. */
interface StreamShape {
  readonly source: ColumnBatch;
  /** The operator each window runs through: its input is replaced by the window, its row window by what is left. */
  readonly scan: PhysicalOp & OperatorOf<'filter-project'>;
  readonly offset: number;
  readonly length: number;
}

function streamShape(plan: PhysicalOp): StreamShape | null {
  if (plan.op === 'source') return { source: plan.batch, scan: passingScan(plan), offset: 0, length: Infinity };
  if (plan.op === 'slice' && plan.input.op === 'source')
    return { source: plan.input.batch, scan: passingScan(plan.input), offset: plan.window.offset, length: plan.window.length };
  if (plan.op === 'filter-project' && plan.input.op === 'source')
    return { source: plan.input.batch, scan: plan, offset: plan.window.offset, length: plan.window.length };
  return null;
}

/** A filter-project that passes every column of a source through, on the CPU (there is nothing to compute). */
function passingScan(source: PhysicalOp & OperatorOf<'source'>): PhysicalOp & OperatorOf<'filter-project'> {
  const rows = source.batch.length;
  return {
    op: 'filter-project',
    node: source.node,
    fused: [],
    input: source,
    predicate: null,
    outputs: passThrough(source.node),
    window: { offset: 0, length: Infinity },
    placement: { engine: 'cpu', why: null, inputRows: rows, outputRows: rows },
  };
}

/** Rows [start, end) of a column as views; `start` must be a multiple of 8 so bitmaps stay aligned. */
function windowColumn(column: Column, start: number, end: number): Column {
  const bitmap = (bits: Uint8Array): Uint8Array => bits.subarray(start >> 3, (end + 7) >> 3);
  const values = column.dtype === 'bool' ? bitmap(column.values as Uint8Array) : column.values.subarray(start, end);
  const validity = column.validity ? bitmap(column.validity) : null;
  return { ...column, length: end - start, values, validity, nullCount: countNulls(validity, end - start) };
}

function windowBatch(batch: ColumnBatch, start: number, end: number): ColumnBatch {
  return { length: end - start, names: batch.names, columns: batch.columns.map((c) => windowColumn(c, start, end)) };
}

function* chunks(table: arrow.Table, batchSize: number): Generator<arrow.RecordBatch> {
  for (const batch of table.batches) {
    for (let start = 0; start < batch.numRows; start += batchSize) yield batch.slice(start, Math.min(batch.numRows, start + batchSize));
  }
}

/**
 * Streams a physical plan's output. A filter-project, slice or nothing over a source runs window by
 * window through the dispatcher, on the engine the planner placed it on, so memory stays bounded by the
 * window; any other plan runs whole, then is chunked.
 */
export async function* streamPlan(
  plan: PhysicalOp,
  batchSize: number,
  options: DispatchOptions,
  nullable: readonly boolean[],
  /** Each window's work runs through this (an executor tracks it, so close() waits for it). */
  window: <T>(job: () => Promise<T>) => Promise<T> = (job) => job(),
): AsyncGenerator<arrow.RecordBatch> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError('batchSize: a positive integer');
  const signal = options.cpu.signal;
  const shape = streamShape(plan);
  if (!shape) {
    const batch = await window(() => runAsync(dispatch(plan, options), signal));
    yield* chunks(batchToArrowTable(batch, nullable), batchSize);
    return;
  }
  const { source, scan } = shape;
  const workers = options.cpu.pool?.size ?? 1;
  // A window feeds every worker a morsel or more, and is a multiple of 8 rows (bitmap alignment).
  const rowsPerWindow = Math.ceil(Math.max(batchSize, 65_536 * workers) / 8) * 8;
  let skip = shape.offset;
  let remaining = shape.length;
  for (let start = 0; start < source.length && remaining > 0; start += rowsPerWindow) {
    const end = Math.min(source.length, start + rowsPerWindow);
    const input = { ...scan.input, op: 'source', batch: windowBatch(source, start, end) } as PhysicalOp;
    const part = await window(() => runAsync(dispatch({ ...scan, input, window: { offset: 0, length: skip + remaining } }, options), signal));
    const from = Math.min(skip, part.length);
    skip -= from;
    const to = Math.min(part.length, from + remaining);
    remaining -= to - from;
    if (to > from) yield* chunks(batchToArrowTable(part, nullable).slice(from, to), batchSize);
  }
}
