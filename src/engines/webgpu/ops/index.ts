// The WebGPU engine's operators, by physical operator name. The others are declared CPU-only, with the
// reason, in exec/registry.ts.

import { GpuUnsupportedError } from '../context.js';
import { F32OverflowError } from '../kernels/aggregate.js';
import { aggregate } from './aggregate.js';
import { filterProject } from './filter-project.js';
import { join } from './join.js';
import { sort } from './sort.js';

export const WEBGPU_OPERATORS = { 'filter-project': filterProject, aggregate, sort, join } as const;

/**
 * Why the device declined work it was given, when the error means "run this on the CPU" rather than a
 * failure: an f32 overflow in a float sum (the CPU sums in f64) or a device limit a kernel met.
 */
export function deviceDeclined(error: unknown): string | null {
  return error instanceof F32OverflowError || error instanceof GpuUnsupportedError ? error.message : null;
}

/** Why the device cannot evaluate a bound expression (its types or operations), or null. */
export { unsupportedReason as expressionUnsupported } from '../wgsl-expr.js';
/** Why the device cannot run these aggregations over columns of these types, or null. */
export { groupByUnsupported as aggregationUnsupported } from '../kernels/aggregate.js';
