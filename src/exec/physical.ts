// The physical planner: lowers an optimised logical plan into physical operators (exec/operators.ts) that
// carry their fusions, and places each on an engine from what the engines declare (exec/registry.ts) and
// the executor's policy. This is the one place fusion and placement are decided: the dispatcher
// (dispatch.ts) runs its output, streaming reads it, and explain() prints it before anything runs.
//
// Fusions: filter and project chains become one filter-project; a head or slice above a filter-project
// becomes its row window (the scan stops early), and above a sort, the sort's window (top-k); an aggregate
// reads the filter below it inside its kernel; a group head reads the filter below it as a row selection,
// unless that filter would run on the device on its own.

import type { BoundExpr } from '../expr/types.js';
import { explainPlan } from '../plan/explain.js';
import type { NamedExpr, PlanNode } from '../plan/types.js';
import { operatorInputs, type Operator, type OperatorOf, type PhysicalOp, type Placement } from './operators.js';
import { deviceUnsupported } from './registry.js';
import { paramsOf } from '../model/dtype.js';

/** How operators are placed: on the CPU only, or on the device from a hand-off size. */
export interface PlacementPolicy {
  /** null: every operator on the CPU (backend 'cpu', work too small to look for a device, or none). */
  readonly gpu: {
    /** Operators reading fewer (estimated) rows stay on the CPU; Infinity keeps everything there. */
    readonly handoffRows: number;
    /** Why the hand-off size is what it is, when that keeps work off the device (a software adapter). */
    readonly handoffWhy?: string;
  } | null;
}

export const CPU_ONLY: PlacementPolicy = { gpu: null };

export function planPhysical(plan: PlanNode, policy: PlacementPolicy): PhysicalOp {
  return lower(plan, policy);
}

interface ScanParts {
  readonly input: PlanNode;
  readonly predicate: BoundExpr | null;
  readonly outputs: readonly NamedExpr[];
  readonly fused: readonly PlanNode[];
}

/** A project/filter chain as one filter-project: its input, predicate and outputs. */
function scanParts(node: PlanNode): ScanParts | null {
  if (node.kind === 'project') {
    if (node.input.kind === 'filter') return { input: node.input.input, predicate: node.input.predicate, outputs: node.exprs, fused: [node.input] };
    return { input: node.input, predicate: null, outputs: node.exprs, fused: [] };
  }
  if (node.kind === 'filter') return { input: node.input, predicate: node.predicate, outputs: passThrough(node), fused: [] };
  return null;
}

/** Every column of `node`'s schema, unchanged. */
export function passThrough(node: PlanNode): NamedExpr[] {
  return node.schema.map((f) => ({
    name: f.name,
    expr: { kind: 'col' as const, name: f.name, type: { dtype: f.dtype, ...paramsOf(f), nullable: f.nullable } },
  }));
}

const WHOLE = { offset: 0, length: Infinity } as const;

function lower(node: PlanNode, policy: PlacementPolicy): PhysicalOp {
  switch (node.kind) {
    case 'source':
      return place({ op: 'source', node, fused: [], batch: node.batch }, policy);
    case 'project':
    case 'filter': {
      const scan = scanParts(node)!;
      return place(
        { op: 'filter-project', node, fused: scan.fused, input: lower(scan.input, policy), predicate: scan.predicate, outputs: scan.outputs, window: WHOLE },
        policy,
      );
    }
    case 'slice': {
      const window = { offset: node.offset, length: node.length };
      const scan = scanParts(node.input);
      if (scan) {
        const fused = [node.input, ...scan.fused];
        return place({ op: 'filter-project', node, fused, input: lower(scan.input, policy), predicate: scan.predicate, outputs: scan.outputs, window }, policy);
      }
      if (node.input.kind === 'sort' && Number.isFinite(node.offset + node.length))
        return place({ op: 'sort', node, fused: [node.input], input: lower(node.input.input, policy), keys: node.input.keys, window }, policy);
      return place({ op: 'slice', node, fused: [], input: lower(node.input, policy), window }, policy);
    }
    case 'aggregate': {
      const filter = node.input.kind === 'filter' ? node.input : null;
      const input = lower(filter ? filter.input : node.input, policy);
      return place(
        { op: 'aggregate', node, fused: filter ? [filter] : [], input, predicate: filter?.predicate ?? null, keys: node.keys, aggs: node.aggs },
        policy,
      );
    }
    case 'sort':
      return place({ op: 'sort', node, fused: [], input: lower(node.input, policy), keys: node.keys, window: WHOLE }, policy);
    case 'unique':
      return place({ op: 'unique', node, fused: [], input: lower(node.input, policy), subset: node.subset }, policy);
    case 'fillNull':
      return place({ op: 'fill-null', node, fused: [], input: lower(node.input, policy), fills: node.fills }, policy);
    case 'groupHead': {
      const head = { node, keys: node.keys, n: node.n, order: node.order };
      if (node.input.kind === 'filter') {
        // The selection saves copying the filter's input, unless the device would run the filter.
        const filter = lower(node.input, policy) as OperatorOf<'filter-project'> & PhysicalOp;
        if (filter.placement.engine === 'webgpu') return place({ op: 'group-head', ...head, fused: [], input: filter, predicate: null }, policy);
        return place({ op: 'group-head', ...head, fused: [node.input], input: filter.input, predicate: node.input.predicate }, policy);
      }
      return place({ op: 'group-head', ...head, fused: [], input: lower(node.input, policy), predicate: null }, policy);
    }
    case 'join':
      return place(
        {
          op: 'join',
          node,
          fused: [],
          left: lower(node.left, policy),
          right: lower(node.right, policy),
          leftOn: node.leftOn,
          rightOn: node.rightOn,
          how: node.how,
          rightOutput: node.rightOutput,
        },
        policy,
      );
  }
}

function place(op: Operator, policy: PlacementPolicy): PhysicalOp {
  const inputs = operatorInputs(op as PhysicalOp);
  const inputRows = op.op === 'source' ? op.batch.length : Math.max(0, ...inputs.map((i) => i.placement.outputRows));
  const placement = (engine: Placement['engine'], why: string | null): PhysicalOp => ({
    ...op,
    placement: { engine, why, inputRows, outputRows: outputRows(op, inputs, inputRows) },
  });
  if (policy.gpu === null || op.op === 'source') return placement('cpu', null);
  const why = deviceUnsupported(op);
  if (why !== null) return placement('cpu', why);
  const { handoffRows, handoffWhy } = policy.gpu;
  if (inputRows < handoffRows) return placement('cpu', handoffWhy ?? `at most ${inputRows} rows, below the hand-off size (${handoffRows})`);
  return placement('webgpu', null);
}

/**
 * Rows an operator outputs at most, from its inputs' bounds. Being an upper bound, it never keeps work off
 * the device that the real rows would send there; the dispatcher compares the real rows once they exist.
 */
function outputRows(op: Operator, inputs: readonly PhysicalOp[], inputRows: number): number {
  switch (op.op) {
    case 'source':
      return op.batch.length;
    case 'filter-project':
    case 'sort':
    case 'slice':
      return Math.max(0, Math.min(inputRows - op.window.offset, op.window.length));
    case 'aggregate':
      return op.keys.length === 0 ? 1 : inputRows;
    case 'join': {
      const [left, right] = inputs.map((i) => i.placement.outputRows) as [number, number];
      if (op.how === 'semi' || op.how === 'anti') return left;
      // Every left row may match every right row; a left join keeps unmatched left rows too.
      return Math.min(Number.MAX_SAFE_INTEGER, op.how === 'left' ? left * Math.max(1, right) : left * right);
    }
    case 'unique':
    case 'group-head':
    case 'fill-null':
      return inputRows;
  }
}

/** The physical operator covering each logical node (the node it outputs, or a node fused into it). */
export function coveringOperators(root: PhysicalOp): Map<PlanNode, PhysicalOp> {
  const covering = new Map<PlanNode, PhysicalOp>();
  const visit = (op: PhysicalOp): void => {
    covering.set(op.node, op);
    for (const node of op.fused) covering.set(node, op);
    operatorInputs(op).forEach(visit);
  };
  visit(root);
  return covering;
}

/**
 * The optimised plan, each operator tagged with the engine it will run on: explain()'s text. An operator
 * kept off the device that the policy would give it says why; nodes fused into another show its engine.
 */
export function explainPhysical(plan: PlanNode, physical: PhysicalOp): string {
  const covering = coveringOperators(physical);
  return explainPlan(plan, (node) => {
    const op = covering.get(node);
    if (!op) return ' [cpu]';
    const { engine, why } = op.placement;
    return why !== null && op.node === node ? ` [${engine}: ${why}]` : ` [${engine}]`;
  });
}
