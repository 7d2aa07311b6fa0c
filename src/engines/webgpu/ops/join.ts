// join on the device: kernels/join.ts (shaders/join.wgsl) finds the matching row pairs in the CPU's
// order; the output is gathered from them on the host, as on the CPU.

import { columnsNamed, joinedBatch } from '../../shared/gather.js';
import { gpuHashJoin, gpuJoinSupports, JOIN_KEY_DTYPES } from '../kernels/join.js';
import type { GpuOperator } from './types.js';

export const join: GpuOperator<'join'> = {
  unsupported(op) {
    if (op.leftOn.length === 0) return 'a join without keys';
    for (const [k, name] of op.leftOn.entries()) {
      const left = op.left.node.schema.find((f) => f.name === name)?.dtype;
      const right = op.right.node.schema.find((f) => f.name === op.rightOn[k])?.dtype;
      if (left === undefined || !JOIN_KEY_DTYPES.has(left)) return `join key '${name}' is ${String(left)}`;
      if (left !== right) return `join key '${name}' is ${left} on the left and ${String(right)} on the right`;
    }
    return null;
  },
  misfit: (op, [left, right], ctx) =>
    gpuJoinSupports(columnsNamed(left!, op.leftOn), columnsNamed(right!, op.rightOn), ctx)
      ? null
      : 'its key tuples or hash table do not fit one storage binding',
  async run(op, [left, right], { ctx, resident }) {
    const { leftRows, rightRows } = await gpuHashJoin(ctx, resident, columnsNamed(left!, op.leftOn), columnsNamed(right!, op.rightOn), op.how);
    return joinedBatch(op.rightOutput, left!, right!, leftRows, rightRows);
  },
};
