// unique on the CPU: the aggregation kernel with no accumulators finds each distinct key tuple's first
// row; those rows, in input order, are gathered.

import type { ColumnBatch } from '../../../model/types.js';
import type { GroupPartial } from '../../shared/accumulators.js';
import { gatherBatch } from '../../shared/gather.js';
import { prepareGroupBy } from '../kernels/aggregate.js';
import { mergeGroupPartials } from '../kernels/aggregate-merge.js';
import { columnMap, runMorsels } from '../morsels.js';
import type { CpuRunOptions, Work } from '../work.js';
import { groupBySetup } from './aggregate.js';
import type { CpuOperator } from './types.js';

export const unique: CpuOperator<'unique'> = {
  *run(op, [input], options) {
    return gatherBatch(input!, yield* firstRowsWork(input!, op.subset, options));
  },
};

/** Row indices of the first row of each distinct key tuple, in order. */
export function* firstRowsWork(batch: ColumnBatch, keys: readonly string[], runOptions: CpuRunOptions): Work<Int32Array> {
  const columns = columnMap(batch);
  const { mode, options } = groupBySetup(columns, keys, batch.length, runOptions);
  const prepared = prepareGroupBy(columns, null, mode.kind === 'global' ? { kind: 'dense', keys: [], slots: 1 } : mode, [], false);
  const partials = (yield* runMorsels(prepared, batch.length, () => null, options)) as GroupPartial[];
  const { merged } = mergeGroupPartials(prepared, partials);
  const firsts: number[] = [];
  for (let g = 0; g < merged.groups; g++) if (merged.firstRow[g]! >= 0) firsts.push(merged.firstRow[g]!);
  return Int32Array.from(firsts.sort((a, b) => a - b));
}
