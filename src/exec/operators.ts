// Physical operators: what the physical planner (physical.ts) lowers an optimised logical plan into, and
// what each engine implements, one file per operator under the same name (engines/cpu/ops/<name>.ts,
// engines/webgpu/ops/<name>.ts, shaders/<name>.wgsl). Each carries its fusions explicitly: a
// filter-project has its predicate, outputs and row window; an aggregate or group head the filter it reads
// through; a sort the window it is cut to (top-k). Engines read only these types from exec/.

import type { BoundAgg, BoundExpr } from '../expr/types.js';
import type { ColumnBatch } from '../model/types.js';
import type { JoinHow, NamedExpr, NullFill, PlanNode, SortKey } from '../plan/types.js';

/** The engines operators are placed on. */
export type EngineName = 'cpu' | 'webgpu';
export const ENGINES: readonly EngineName[] = ['cpu', 'webgpu'];

/** Every physical operator, by the name it has in the plan, both engines and shaders/. */
export const OPERATOR_NAMES = ['source', 'filter-project', 'aggregate', 'sort', 'slice', 'unique', 'group-head', 'fill-null', 'join'] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

interface Common {
  /** The logical node whose output this operator produces (its timing goes there). */
  readonly node: PlanNode;
  /** Logical nodes below `node` fused into this operator: they produce nothing of their own. */
  readonly fused: readonly PlanNode[];
}

/** A row window: rows [offset, offset + length) of the operator's output; length may be Infinity. */
export interface RowWindow {
  readonly offset: number;
  readonly length: number;
}

export type Operator = Common &
  (
    | { readonly op: 'source'; readonly batch: ColumnBatch }
    | {
        readonly op: 'filter-project';
        readonly input: PhysicalOp;
        readonly predicate: BoundExpr | null;
        readonly outputs: readonly NamedExpr[];
        /** Rows kept of the filtered output: a head or slice above stops the scan early. */
        readonly window: RowWindow;
      }
    | {
        readonly op: 'aggregate';
        readonly input: PhysicalOp;
        readonly predicate: BoundExpr | null;
        readonly keys: readonly string[];
        readonly aggs: readonly BoundAgg[];
      }
    | { readonly op: 'sort'; readonly input: PhysicalOp; readonly keys: readonly SortKey[]; readonly window: RowWindow }
    | { readonly op: 'slice'; readonly input: PhysicalOp; readonly window: RowWindow }
    | { readonly op: 'unique'; readonly input: PhysicalOp; readonly subset: readonly string[] }
    | { readonly op: 'fill-null'; readonly input: PhysicalOp; readonly fills: readonly NullFill[] }
    | {
        readonly op: 'group-head';
        readonly input: PhysicalOp;
        /** A filter below, read as a row selection: its input's columns are never copied. */
        readonly predicate: BoundExpr | null;
        readonly keys: readonly string[];
        readonly n: number;
        readonly order: readonly SortKey[];
      }
    | {
        readonly op: 'join';
        readonly left: PhysicalOp;
        readonly right: PhysicalOp;
        readonly leftOn: readonly string[];
        readonly rightOn: readonly string[];
        readonly how: JoinHow;
        readonly rightOutput: readonly { readonly from: string; readonly as: string }[];
      }
  );

/** Where the planner put an operator, and why not on the device when it was asked for. */
export interface Placement {
  readonly engine: EngineName;
  /** Why the operator is not on the device although the policy would use one; null otherwise. */
  readonly why: string | null;
  /** Rows of the operator's largest input, estimated from the sources' sizes (an upper bound but for joins). */
  readonly inputRows: number;
  /** Rows it outputs, estimated the same way. */
  readonly outputRows: number;
}

export type PhysicalOp = Operator & { readonly placement: Placement };

/** An operator of one kind, as engines see it (placement is the dispatcher's business). */
export type OperatorOf<N extends OperatorName> = Extract<Operator, { op: N }>;

/** The operators a physical operator reads, in order. */
export function operatorInputs(op: PhysicalOp): readonly PhysicalOp[] {
  switch (op.op) {
    case 'source':
      return [];
    case 'join':
      return [op.left, op.right];
    default:
      return [op.input];
  }
}
