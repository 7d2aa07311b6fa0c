// join on the CPU: a hash equi-join of the key columns (kernels/join.ts) gives matching row pairs; the
// output is gathered from them as on the device (engines/shared/gather.ts's joinedBatch).

import { columnsNamed, joinedBatch } from '../../shared/gather.js';
import { hashJoin } from '../kernels/join.js';
import type { CpuOperator } from './types.js';

export const join: CpuOperator<'join'> = {
  *run(op, [left, right]) {
    const { leftRows, rightRows } = hashJoin(columnsNamed(left!, op.leftOn), columnsNamed(right!, op.rightOn), op.how);
    return joinedBatch(op.rightOutput, left!, right!, leftRows, rightRows);
  },
};
