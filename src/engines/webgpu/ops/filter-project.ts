// filter-project on the device: kernels/filter-project.ts (shaders/filter-project.wgsl), chunked by the
// binding size, so any input fits; the window is cut from its output.

import { sliceBatch } from '../../shared/gather.js';
import { filterProjectUnsupported, gpuFilterProject } from '../kernels/filter-project.js';
import type { GpuOperator } from './types.js';

export const filterProject: GpuOperator<'filter-project'> = {
  unsupported: (op) => filterProjectUnsupported(op.predicate, op.outputs),
  misfit: () => null,
  async run(op, [input], { ctx, resident }) {
    const out = await gpuFilterProject(ctx, resident, input!, op.predicate, op.outputs);
    const { offset, length } = op.window;
    return offset === 0 && out.length <= length ? out : sliceBatch(out, offset, length);
  },
};
