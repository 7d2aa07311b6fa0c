// sort on the CPU: a stable multi-key sort of row indices (kernels/sort.ts), then a gather of the rows in
// the operator's window.

import { gatherBatch, sliceBatch } from '../../shared/gather.js';
import { sortIndices } from '../kernels/sort.js';
import type { CpuOperator } from './types.js';

export const sort: CpuOperator<'sort'> = {
  *run(op, [input]) {
    const sorted = gatherBatch(input!, sortIndices(input!, op.keys));
    const { offset, length } = op.window;
    return offset === 0 && length === Infinity ? sorted : sliceBatch(sorted, offset, length);
  },
};
