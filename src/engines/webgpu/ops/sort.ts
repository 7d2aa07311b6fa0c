// sort on the device: kernels/sort.ts (shaders/sort.wgsl), a stable radix sort of row indices. With a
// window that ends early only its first rows are ordered (top-k), then gathered on the host.

import { gatherBatch, sliceBatch } from '../../shared/gather.js';
import { gpuSortIndices, gpuSortSupports, SORT_KEY_DTYPES } from '../kernels/sort.js';
import type { GpuOperator } from './types.js';

export const sort: GpuOperator<'sort'> = {
  unsupported(op) {
    for (const key of op.keys) {
      const dtype = op.input.node.schema.find((f) => f.name === key.column)?.dtype;
      if (dtype === undefined || !SORT_KEY_DTYPES.has(dtype)) return `sort key '${key.column}' is ${String(dtype)}`;
    }
    return null;
  },
  misfit: (op, [input], ctx) => (gpuSortSupports(input!, op.keys, ctx) ? null : 'its rows or dictionaries do not fit one storage binding'),
  async run(op, [input], { ctx, resident }) {
    const { offset, length } = op.window;
    const wanted = offset + length;
    if (!Number.isFinite(wanted)) {
      const sorted = gatherBatch(input!, await gpuSortIndices(ctx, resident, input!, op.keys));
      return offset === 0 ? sorted : sliceBatch(sorted, offset, length);
    }
    return sliceBatch(gatherBatch(input!, await gpuSortIndices(ctx, resident, input!, op.keys, wanted)), offset, length);
  },
};
