// What the WebGPU engine declares per physical operator it implements: whether it can run one (decided
// when planning, from types and expressions), whether given inputs fit the device (checked when they
// exist), and how it runs it. Operators it does not implement are declared CPU-only in exec/registry.ts.

import type { OperatorName, OperatorOf } from '../../../exec/operators.js';
import type { ColumnBatch } from '../../../model/types.js';
import type { RowEvaluator } from '../../shared/aggregate-finalize.js';
import type { GpuContext } from '../context.js';
import type { ResidentColumns } from '../resident.js';

export interface GpuRun {
  readonly ctx: GpuContext;
  readonly resident: ResidentColumns;
  /** Evaluates expressions at chosen rows on the host (key columns and first/last of an aggregate). */
  readonly evaluateAtRows: RowEvaluator;
}

export interface GpuOperator<N extends OperatorName> {
  /** Why the device cannot run this operator (types, expressions), or null; known before running. */
  unsupported(op: OperatorOf<N>): string | null;
  /** Why these inputs do not fit the device's bindings, or null; known once the inputs exist. */
  misfit(op: OperatorOf<N>, inputs: readonly ColumnBatch[], ctx: GpuContext): string | null;
  run(op: OperatorOf<N>, inputs: readonly ColumnBatch[], gpu: GpuRun): Promise<ColumnBatch>;
}
