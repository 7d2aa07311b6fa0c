// group-head on the CPU: the first n rows of each group, in the input's order or the folded sort's
// (kernels/group-head.ts); a filter below is read as a row selection, so its input is never copied.

import { gatherBatch } from '../../shared/gather.js';
import { groupHeadIndices } from '../kernels/group-head.js';
import { selectionWork } from './filter-project.js';
import type { CpuOperator } from './types.js';

export const groupHead: CpuOperator<'group-head'> = {
  *run(op, [input], options) {
    const selection = op.predicate ? yield* selectionWork(input!, op.predicate, options) : null;
    return gatherBatch(input!, groupHeadIndices(input!, op.keys, op.n, op.order, selection));
  },
};
