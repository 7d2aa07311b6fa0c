// GroupHead: the first n rows of each distinct key tuple, all columns kept, in the input's row order.
// Keys group as in the group-by (nulls together, NaN with NaN, -0 with 0).

import { requireColumns } from './project.js';
import type { PlanNode } from './types.js';

export function groupHeadNode(input: PlanNode, keys: readonly string[], n: number): PlanNode {
  requireColumns(input, keys, 'groupBy');
  if (new Set(keys).size !== keys.length) throw new TypeError('groupBy keys must be distinct');
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('groupBy(...).head(n): n must be a non-negative integer');
  return { kind: 'groupHead', schema: input.schema, input, keys, n, order: [] };
}
