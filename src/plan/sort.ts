// Sort: stable, multi-key; strings order by code point, nulls first unless nullsLast.

import type { PlanNode, SortKey } from './types.js';
import { requireColumns } from './project.js';

export function sortNode(input: PlanNode, keys: readonly SortKey[]): PlanNode {
  if (keys.length === 0) throw new TypeError('sort needs at least one key');
  requireColumns(
    input,
    keys.map((k) => k.column),
    'sort',
  );
  return { kind: 'sort', schema: input.schema, input, keys };
}
