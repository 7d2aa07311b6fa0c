// Projection: computes named expressions over its input. select, withColumns, rename and drop all
// become a projection, so the optimizer has one operator to fuse and prune.

import { bindExpr } from '../expr/bind.js';
import type { ExprNode } from '../expr/types.js';
import { UnknownColumnError } from '../errors.js';
import type { Field } from '../model/types.js';
import type { NamedExpr, PlanNode } from './types.js';
import { paramsOf } from '../model/dtype.js';

export function projectNode(input: PlanNode, exprs: readonly NamedExpr[]): PlanNode {
  const seen = new Set<string>();
  for (const e of exprs) {
    if (seen.has(e.name)) throw new TypeError(`projection defines column '${e.name}' twice`);
    seen.add(e.name);
  }
  const schema: Field[] = exprs.map((e): Field => {
    // A passed-through column keeps its field (enum categories included) under its new name.
    const source = e.expr.kind === 'col' ? input.schema.find((f) => f.name === (e.expr as { name: string }).name) : undefined;
    return source ? { ...source, name: e.name } : { name: e.name, dtype: e.expr.type.dtype, ...paramsOf(e.expr.type), nullable: e.expr.type.nullable };
  });
  return { kind: 'project', schema, input, exprs };
}

function passThrough(field: Field): NamedExpr {
  return { name: field.name, expr: { kind: 'col', name: field.name, type: { dtype: field.dtype, ...paramsOf(field), nullable: field.nullable } } };
}

export function requireColumns(input: PlanNode, names: readonly string[], context: string): void {
  const available = input.schema.map((f) => f.name);
  const missing = names.filter((n) => !available.includes(n));
  if (missing.length > 0) throw new UnknownColumnError(missing, available, context);
}

export function selectNode(input: PlanNode, items: readonly (string | { readonly name: string; readonly node: ExprNode })[]): PlanNode {
  const exprs = items.map((item): NamedExpr => {
    if (typeof item === 'string') {
      requireColumns(input, [item], 'select');
      return passThrough(input.schema.find((f) => f.name === item)!);
    }
    return { name: item.name, expr: bindExpr(item.node, { fields: input.schema, context: `select(${item.name})` }) };
  });
  return projectNode(input, exprs);
}

export function withColumnsNode(input: PlanNode, defs: Readonly<Record<string, ExprNode>>): PlanNode {
  const added = new Map(Object.entries(defs).map(([name, node]) => [name, bindExpr(node, { fields: input.schema, context: `withColumns(${name})` })]));
  const exprs: NamedExpr[] = input.schema.map((f) => (added.has(f.name) ? { name: f.name, expr: added.get(f.name)! } : passThrough(f)));
  for (const [name, expr] of added) if (!input.schema.some((f) => f.name === name)) exprs.push({ name, expr });
  return projectNode(input, exprs);
}

export function renameNode(input: PlanNode, mapping: Readonly<Record<string, string>>): PlanNode {
  requireColumns(input, Object.keys(mapping), 'rename');
  return projectNode(
    input,
    input.schema.map((f) => ({ ...passThrough(f), name: mapping[f.name] ?? f.name })),
  );
}

export function dropNode(input: PlanNode, names: readonly string[]): PlanNode {
  requireColumns(input, names, 'drop');
  return projectNode(input, input.schema.filter((f) => !names.includes(f.name)).map(passThrough));
}
