// What the CPU engine implements per physical operator: it runs every one.

import type { ColumnBatch } from '../../../model/types.js';
import type { OperatorName, OperatorOf } from '../../../exec/operators.js';
import type { CpuRunOptions, Work } from '../work.js';

export interface CpuOperator<N extends OperatorName> {
  /** Runs the operator over its inputs' outputs (in operatorInputs order). */
  run(op: OperatorOf<N>, inputs: readonly ColumnBatch[], options: CpuRunOptions): Work<ColumnBatch>;
}
