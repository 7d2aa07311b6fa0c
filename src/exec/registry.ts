// The operator registry: per physical operator, the CPU engine's implementation (always), and the WebGPU
// engine's or an explicit CPU-only declaration with its reason. The physical planner places operators
// from it, the dispatcher runs them from it, and `npm run ops` prints it, so none of them can drift.

import { CPU_OPERATORS } from '../engines/cpu/ops/index.js';
import type { CpuOperator } from '../engines/cpu/ops/types.js';
import { WEBGPU_OPERATORS } from '../engines/webgpu/ops/index.js';
import type { GpuOperator } from '../engines/webgpu/ops/types.js';
import type { Operator, OperatorName } from './operators.js';

export type ComputeOperator = Exclude<OperatorName, 'source'>;

export type RegistryEntry<N extends ComputeOperator> = {
  /** The logical nodes the physical planner lowers into this operator. */
  readonly from: string;
  readonly cpu: CpuOperator<N>;
} & ({ readonly webgpu: GpuOperator<N>; readonly cpuOnly?: never } | { readonly webgpu: null; readonly cpuOnly: string });

export const REGISTRY: { readonly [N in ComputeOperator]: RegistryEntry<N> } = {
  'filter-project': {
    from: 'Filter and Project chains; a Slice (head) above one becomes its row window',
    cpu: CPU_OPERATORS['filter-project'],
    webgpu: WEBGPU_OPERATORS['filter-project'],
  },
  aggregate: { from: 'Aggregate, with a Filter right below it', cpu: CPU_OPERATORS.aggregate, webgpu: WEBGPU_OPERATORS.aggregate },
  sort: { from: 'Sort; a Slice (head) above one becomes its window (top-k)', cpu: CPU_OPERATORS.sort, webgpu: WEBGPU_OPERATORS.sort },
  join: { from: 'Join', cpu: CPU_OPERATORS.join, webgpu: WEBGPU_OPERATORS.join },
  slice: { from: 'Slice over anything else', cpu: CPU_OPERATORS.slice, webgpu: null, cpuOnly: 'views of rows already in host memory: nothing to compute' },
  unique: { from: 'Unique', cpu: CPU_OPERATORS.unique, webgpu: null, cpuOnly: 'no device kernel yet (first row per distinct tuple)' },
  'fill-null': {
    from: 'FillNull (fillNull with a forward, backward, min, max or mean strategy)',
    cpu: CPU_OPERATORS['fill-null'],
    webgpu: null,
    cpuOnly: 'one pass over the whole column that carries values across rows, as fast as reading it',
  },
  'group-head': {
    from: 'GroupHead, with a Filter right below it (unless the device runs that Filter)',
    cpu: CPU_OPERATORS['group-head'],
    webgpu: null,
    cpuOnly: 'no device kernel yet (first n rows per group, in order)',
  },
};

/** Why the WebGPU engine cannot run `op` (CPU-only, or its types and expressions), or null. */
export function deviceUnsupported(op: Exclude<Operator, { op: 'source' }>): string | null {
  const entry = REGISTRY[op.op] as RegistryEntry<ComputeOperator>;
  if (entry.webgpu === null) return `CPU-only: ${entry.cpuOnly}`;
  return (entry.webgpu as GpuOperator<typeof op.op>).unsupported(op);
}
