// Aggregate: one row per distinct key tuple (in order of first appearance), or one row for the whole
// frame without keys. Output expressions that combine aggregations become a projection on top.

import { bindAgg } from '../expr/bind.js';
import type { BoundAgg, ExprNode } from '../expr/types.js';
import type { Field } from '../model/types.js';
import { requireColumns } from './project.js';
import type { PlanNode } from './types.js';
import { paramsOf } from '../model/dtype.js';

export function aggregateNode(
  input: PlanNode,
  keys: readonly string[],
  aggs: readonly { readonly name: string; readonly node: Extract<ExprNode, { kind: 'agg' }> }[],
): PlanNode {
  requireColumns(input, keys, 'groupBy');
  if (new Set(keys).size !== keys.length) throw new TypeError('groupBy keys must be distinct');
  const bound: BoundAgg[] = aggs.map((a) => bindAgg(a.name, a.node, { fields: input.schema, context: `agg(${a.name})` }, keys.length > 0));
  const keyFields: Field[] = keys.map((k) => input.schema.find((f) => f.name === k)!);
  const names = new Set(keys);
  for (const a of bound) {
    if (names.has(a.name)) throw new TypeError(`agg output '${a.name}' collides with another output column`);
    names.add(a.name);
  }
  const schema: Field[] = [...keyFields, ...bound.map((a) => ({ name: a.name, dtype: a.type.dtype, ...paramsOf(a.type), nullable: a.type.nullable }))];
  return { kind: 'aggregate', schema, input, keys, aggs: bound };
}
