// Filter: keeps the rows whose predicate is true (null counts as false, as in SQL).

import { bindExpr } from '../expr/bind.js';
import { ExpressionTypeError } from '../errors.js';
import type { ExprNode } from '../expr/types.js';
import type { PlanNode } from './types.js';

export function filterNode(input: PlanNode, predicate: ExprNode): PlanNode {
  const bound = bindExpr(predicate, { fields: input.schema, context: 'filter' });
  if (bound.type.dtype !== 'bool') throw new ExpressionTypeError(`filter: predicate must be boolean, got ${bound.type.dtype}`);
  return { kind: 'filter', schema: input.schema, input, predicate: bound };
}
