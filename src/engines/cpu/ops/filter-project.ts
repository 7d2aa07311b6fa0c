// filter-project on the CPU: the predicate and every output expression in one generated kernel per
// morsel (kernels/filter-project.ts), kept rows written compactly; a row window stops the scan early.

import type { BoundExpr } from '../../../expr/types.js';
import type { Column, ColumnBatch } from '../../../model/types.js';
import type { NamedExpr } from '../../../plan/types.js';
import { sliceBatch } from '../../shared/gather.js';
import { allocScanOut, mergeScanDictionaries, prepareScan, prepareSelection, scanCount, scanOutColumns } from '../kernels/filter-project.js';
import type { ScanOut } from '../kernels/types.js';
import { columnMap, morselRanges, runMorsels } from '../morsels.js';
import type { CpuRunOptions, Work } from '../work.js';
import type { CpuOperator } from './types.js';

export const filterProject: CpuOperator<'filter-project'> = {
  *run(op, [input], options) {
    const { offset, length } = op.window;
    const wanted = offset + length;
    const scanned = yield* scanWork(input!, op.predicate, op.outputs, options, Number.isFinite(wanted) ? wanted : undefined);
    // A window copies its rows out, so a small head does not keep the whole input's output buffers alive.
    return offset === 0 && length === Infinity ? scanned : sliceBatch(scanned, offset, length);
  },
};

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
  const results = yield* runMorsels(
    prepared,
    batch.length,
    (start): ScanOut => ({ ...out, base: start }),
    options,
    limit === undefined ? undefined : (rs) => sum(rs.map(scanCount)) >= limit,
  );
  const ranges = morselRanges(batch.length, options.morselRows);
  let total = 0;
  const placed: number[] = [];
  results.map(scanCount).forEach((count, m) => {
    const start = ranges[m]![0];
    if (start !== total && count > 0) {
      for (const a of out.values) a.copyWithin(total, start, start + count);
      for (const a of out.valid) a?.copyWithin(total, start, start + count);
    }
    placed.push(total);
    total += count;
  });
  const length = limit === undefined ? total : Math.min(total, limit);
  const made = scanOutColumns(mergeScanDictionaries(prepared.outputs, out, results, placed), out, length);
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
