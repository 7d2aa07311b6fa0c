// Slice: `length` rows starting at `offset` (head is slice(0, n)).

import type { PlanNode } from './types.js';

export function sliceNode(input: PlanNode, offset: number, length: number): PlanNode {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('slice offset: a non-negative integer');
  if (!(Number.isSafeInteger(length) || length === Infinity) || length < 0) throw new RangeError('slice length: a non-negative integer');
  return { kind: 'slice', schema: input.schema, input, offset, length };
}
