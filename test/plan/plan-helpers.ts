// Shared by the plan tests: a plan's shape as text, one operator per level (a group head over a folded
// sort is marked with *).

import type { PlanNode } from '../../src/plan/types.js';

export function kinds(node: PlanNode): string {
  switch (node.kind) {
    case 'source':
      return `source(${node.schema.map((f) => f.name).join(',')})`;
    case 'join':
      return `join(${kinds(node.left)}, ${kinds(node.right)})`;
    case 'groupHead':
      return `groupHead${node.order.length > 0 ? '*' : ''}(${kinds(node.input)})`;
    default:
      return `${node.kind}(${kinds(node.input)})`;
  }
}
