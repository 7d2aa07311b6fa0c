// Chunked execution. Plans made only of filters, projections and slices over a source stream
// incrementally: the source is cut into windows that run through the fused scan kernel one at a time,
// so memory stays bounded by the window. Plans with a blocking operator run whole, then are chunked.

import type * as arrow from 'apache-arrow';
import { executeNode, runAsync, scanWork, type CpuRunOptions } from '../engines/cpu/engine.js';
import type { BoundExpr } from '../expr/types.js';
import { batchToArrowTable, countNulls } from '../model/column.js';
import type { Column, ColumnBatch } from '../model/types.js';
import type { NamedExpr, PlanNode } from '../plan/types.js';

interface StreamShape {
  readonly source: Extract<PlanNode, { kind: 'source' }>;
  readonly predicate: BoundExpr | null;
  readonly outputs: readonly NamedExpr[];
  readonly offset: number;
  readonly length: number;
}

/** Recognises slice? (project | filter)* over a source; the optimiser has already fused projections. */
function streamShape(plan: PlanNode): StreamShape | null {
  let node = plan;
  let offset = 0;
  let length = Infinity;
  if (node.kind === 'slice') {
    offset = node.offset;
    length = node.length;
    node = node.input;
  }
  let outputs: readonly NamedExpr[] | null = null;
  let predicate: BoundExpr | null = null;
  if (node.kind === 'project') {
    outputs = node.exprs;
    node = node.input;
  }
  if (node.kind === 'filter') {
    predicate = node.predicate;
    node = node.input;
  }
  if (node.kind !== 'source') return null;
  const source = node;
  outputs ??= source.schema.map((f) => ({ name: f.name, expr: { kind: 'col', name: f.name, type: { dtype: f.dtype, nullable: f.nullable } } }));
  return { source, predicate, outputs, offset, length };
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

export async function* streamPlan(plan: PlanNode, batchSize: number, options: CpuRunOptions, nullable: readonly boolean[]): AsyncGenerator<arrow.RecordBatch> {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError('batchSize: a positive integer');
  const shape = streamShape(plan);
  if (!shape) {
    const batch = await runAsync(executeNode(plan, options), options.signal);
    yield* chunks(batchToArrowTable(batch, nullable), batchSize);
    return;
  }
  const { source, predicate, outputs } = shape;
  const workers = options.pool?.size ?? 1;
  // A window feeds every worker a morsel or more, and is a multiple of 8 rows (bitmap alignment).
  const window = Math.ceil(Math.max(batchSize, 65_536 * workers) / 8) * 8;
  let skip = shape.offset;
  let remaining = shape.length;
  for (let start = 0; start < source.batch.length && remaining > 0; start += window) {
    const end = Math.min(source.batch.length, start + window);
    const wanted = Number.isFinite(remaining) ? skip + remaining : undefined;
    const part = await runAsync(scanWork(windowBatch(source.batch, start, end), predicate, outputs, options, wanted), options.signal);
    const from = Math.min(skip, part.length);
    skip -= from;
    const to = Math.min(part.length, from + remaining);
    remaining -= to - from;
    if (to > from) yield* chunks(batchToArrowTable(part, nullable).slice(from, to), batchSize);
  }
}
