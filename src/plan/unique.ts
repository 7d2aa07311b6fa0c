// Unique: keeps the first row of each distinct tuple of `subset` columns (all columns by default).

import { requireColumns } from './project.js';
import type { PlanNode } from './types.js';

export function uniqueNode(input: PlanNode, subset?: readonly string[]): PlanNode {
  const columns = subset ?? input.schema.map((f) => f.name);
  requireColumns(input, columns, 'unique');
  return { kind: 'unique', schema: input.schema, input, subset: columns };
}
