// Text form of a plan for explain(): one operator per line, indented by depth, each tagged with the
// engine that runs it and, after a run, how long it took.

import { exprToString } from '../expr/visit.js';
import type { PlanNode, SortKey } from './types.js';

export interface OperatorTiming {
  readonly engine: string;
  readonly ms: number;
  /** Why an operator placed on the device ran on the CPU instead. */
  readonly fallback?: string;
}

export function describeNode(node: PlanNode): string {
  switch (node.kind) {
    case 'source':
      return `Source ${node.label} [${node.schema.map((f) => f.name).join(', ')}] rows=${node.batch.length}`;
    case 'project':
      return `Project ${node.exprs.map((e) => (e.expr.kind === 'col' && e.expr.name === e.name ? e.name : `${e.name}=${exprToString(e.expr)}`)).join(', ')}`;
    case 'filter':
      return `Filter ${exprToString(node.predicate)}`;
    case 'sort':
      return `Sort ${describeSortKeys(node.keys)}`;
    case 'slice':
      return `Slice offset=${node.offset} length=${node.length}`;
    case 'aggregate':
      return `Aggregate keys=[${node.keys.join(', ')}] ${node.aggs.map((a) => `${a.name}=${a.op}(${a.arg ? exprToString(a.arg) : '*'}${a.arg2 ? `, ${exprToString(a.arg2)}` : ''})`).join(', ')}`;
    case 'join':
      return `Join ${node.how} on ${node.leftOn.map((l, i) => (l === node.rightOn[i] ? l : `${l}=${String(node.rightOn[i])}`)).join(', ')}`;
    case 'unique':
      return `Unique [${node.subset.join(', ')}]`;
    case 'fillNull':
      return `FillNull ${node.fills.map((f) => `${f.as}=${f.column}.fillNull(${f.strategy}${f.limit === null ? '' : `, limit=${f.limit}`})`).join(', ')}`;
    case 'groupHead':
      return `GroupHead keys=[${node.keys.join(', ')}] n=${node.n}${node.order.length > 0 ? ` top by ${describeSortKeys(node.order)}` : ''}`;
  }
}

function describeSortKeys(keys: readonly SortKey[]): string {
  return keys.map((k) => `${k.column}${k.descending ? ' desc' : ''}${k.nullsLast ? ' nulls last' : ''}`).join(', ');
}

export function planInputs(node: PlanNode): readonly PlanNode[] {
  switch (node.kind) {
    case 'source':
      return [];
    case 'join':
      return [node.left, node.right];
    default:
      return [node.input];
  }
}

export function explainPlan(node: PlanNode, annotate: (node: PlanNode) => string, depth = 0): string {
  const line = `${'  '.repeat(depth)}${describeNode(node)}${annotate(node)}`;
  return [line, ...planInputs(node).map((child) => explainPlan(child, annotate, depth + 1))].join('\n');
}
