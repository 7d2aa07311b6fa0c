// aggregate on the CPU: a generated kernel per morsel computes partial group states (kernels/aggregate.ts),
// merged in morsel order and finalised with the engine-neutral code in engines/shared. A filter below is
// fused into the kernel; median and nUnique also record each row's group for the holistic pass.

import type { BoundAgg, BoundExpr } from '../../../expr/types.js';
import { allocShared } from '../../../model/column.js';
import type { Column, ColumnBatch } from '../../../model/types.js';
import type { GroupPartial } from '../../shared/accumulators.js';
import { finalizeGroupBy } from '../../shared/aggregate-finalize.js';
import { chooseGroupMode, denseSlotLimit, groupByMorselRows, hashWidth, packHashKeys, type GroupMode } from '../../shared/group-mode.js';
import { prepareGroupBy } from '../kernels/aggregate.js';
import { mergeGroupPartials } from '../kernels/aggregate-merge.js';
import { evaluateAtRows } from '../kernels/filter-project.js';
import { columnMap, morselRanges, morselSize, runMorsels } from '../morsels.js';
import type { CpuRunOptions, Work } from '../work.js';
import type { CpuOperator } from './types.js';

export const aggregate: CpuOperator<'aggregate'> = {
  run(op, [input], options) {
    return aggregateWork(input!, op.predicate, op.keys, op.aggs, options);
  },
};

export function* aggregateWork(
  batch: ColumnBatch,
  predicate: BoundExpr | null,
  keys: readonly string[],
  aggs: readonly BoundAgg[],
  runOptions: CpuRunOptions,
): Work<ColumnBatch> {
  const columns = columnMap(batch);
  const { mode, options } = groupBySetup(columns, keys, batch.length, runOptions);
  const holistic = aggs.some((a) => a.op === 'median' || a.op === 'nUnique');
  const rowGroups = holistic ? allocShared(Int32Array, batch.length).fill(-1) : null;
  const prepared = prepareGroupBy(columns, predicate, mode, aggs, holistic);
  const partials = (yield* runMorsels(prepared, batch.length, () => ({ gids: rowGroups }), options)) as GroupPartial[];
  const { merged, exactInt, localToGlobal } = mergeGroupPartials(prepared, partials);
  if (rowGroups && mode.kind === 'hash') relabelRowGroups(rowGroups, localToGlobal, batch.length, options.morselRows);
  return finalizeGroupBy(prepared, columns, keys, merged, exactInt, rowGroups, batch.length, evaluateAtRows);
}

/** The group mode for `keys` (hash keys packed where their domains allow) and the run options with its morsel size. */
export function groupBySetup(
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
