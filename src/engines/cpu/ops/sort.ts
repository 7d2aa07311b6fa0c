// sort on the CPU: a stable multi-key sort of row indices (kernels/sort.ts), then a gather of the rows in
// the operator's window only.

import { gatherBatch } from '../../shared/gather.js';
import { sortIndices } from '../kernels/sort.js';
import type { CpuOperator } from './types.js';

export const sort: CpuOperator<'sort'> = {
  *run(op, [input]) {
    const order = sortIndices(input!, op.keys);
    const { offset, length } = op.window;
    // Only the window's rows are gathered: a head of a sort copies just those.
    return gatherBatch(
      input!,
      offset === 0 && length >= order.length ? order : order.subarray(Math.min(offset, order.length), Math.min(order.length, offset + length)),
    );
  },
};
