// aggregate on the device: kernels/aggregate.ts (shaders/aggregate.wgsl with keys, aggregate-reduce.wgsl
// without), finalised on the host by the engine-neutral code in engines/shared.

import { groupByFits, groupByUnsupported, gpuGroupBy } from '../kernels/aggregate.js';
import type { GpuOperator } from './types.js';

export const aggregate: GpuOperator<'aggregate'> = {
  unsupported: (op) => groupByUnsupported(new Map(op.input.node.schema.map((f) => [f.name, f])), op.keys, op.aggs, op.predicate),
  misfit: (op, [input], ctx) => (groupByFits(ctx, input!, op.keys, op.aggs) ? null : 'its group table does not fit one storage binding'),
  run: (op, [input], { ctx, resident, evaluateAtRows }) =>
    gpuGroupBy(ctx, resident, input!, { predicate: op.predicate, keys: op.keys, aggs: op.aggs }, evaluateAtRows),
};
