// FillNull: null fills that read the whole column (forward, backward, min, max, mean). An expression that
// holds one is lowered here before it is bound: each fill's argument is projected below, filled by a
// FillNull node into a hidden column, and the expression reads that column instead.

import { bindExpr, isNumeric } from '../expr/bind.js';
import { ExpressionTypeError } from '../errors.js';
import type { ExprNode } from '../expr/types.js';
import type { Field } from '../model/types.js';
import type { NamedExpr, NullFill, PlanNode } from './types.js';

export function fillNullNode(input: PlanNode, fills: readonly NullFill[]): PlanNode {
  const added = fills.map((fill): Field => {
    const source = input.schema.find((f) => f.name === fill.column)!;
    if ((fill.strategy === 'min' || fill.strategy === 'max' || fill.strategy === 'mean') && !isNumeric(source.dtype))
      throw new ExpressionTypeError(`fillNull: strategy '${fill.strategy}' fills numbers, not ${source.dtype} (column '${fill.column}')`);
    if (fill.strategy === 'mean') return { name: fill.as, dtype: 'float64', nullable: source.nullable };
    return { ...source, name: fill.as };
  });
  return { kind: 'fillNull', schema: [...input.schema, ...added], input, fills };
}

/** Whether an expression holds a whole-column fill. */
function holdsFill(node: ExprNode): boolean {
  let found = false;
  visitNodes(node, (n) => {
    if (n.kind === 'fillNull' && n.strategy !== 'zero' && n.strategy !== 'one') found = true;
  });
  return found;
}

/**
 * Rewrites `nodes` (the expressions of one select, withColumns or filter over `input`) so that none holds a
 * whole-column fill: returns the plan they now read (with FillNull nodes and hidden columns added below) and
 * the rewritten expressions, and the hidden columns it added (for the caller to drop). A fill inside another's argument is filled first, one level at a time.
 */
export function lowerFills(
  input: PlanNode,
  nodes: readonly ExprNode[],
): { readonly input: PlanNode; readonly nodes: readonly ExprNode[]; readonly hidden: readonly string[] } {
  if (!nodes.some(holdsFill)) return { input, nodes, hidden: [] };
  const taken = new Set(input.schema.map((f) => f.name));
  const hidden = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  let plan = input;
  let current = nodes;
  // Each round lowers the fills whose argument holds no fill, so their arguments bind against `plan`.
  while (current.some(holdsFill)) {
    const fills: { readonly arg: ExprNode; readonly fill: NullFill }[] = [];
    const innermost = (node: ExprNode): ExprNode => {
      if (node.kind === 'fillNull' && node.strategy !== 'zero' && node.strategy !== 'one' && !holdsFill(node.arg)) {
        const column = node.arg.kind === 'col' ? node.arg.name : hidden(`__fill_arg${fills.length}`);
        const fill: NullFill = { column, as: hidden(`__fill${fills.length}`), strategy: node.strategy, limit: node.limit };
        fills.push({ arg: node.arg, fill });
        return { kind: 'col', name: fill.as };
      }
      return mapNodes(node, innermost);
    };
    current = current.map(innermost);
    const computed = fills.filter((f) => f.arg.kind !== 'col' || f.arg.name !== f.fill.column);
    if (computed.length > 0) {
      const through = plan.schema.map((f): NamedExpr => ({
        name: f.name,
        expr: { kind: 'col', name: f.name, type: { dtype: f.dtype, nullable: f.nullable } },
      }));
      const args = computed.map(({ arg, fill }): NamedExpr => ({ name: fill.column, expr: bindExpr(arg, { fields: plan.schema, context: 'fillNull' }) }));
      const exprs = [...through, ...args];
      plan = {
        kind: 'project',
        input: plan,
        exprs,
        schema: [...plan.schema, ...args.map((a): Field => ({ name: a.name, dtype: a.expr.type.dtype, nullable: a.expr.type.nullable }))],
      };
    }
    plan = fillNullNode(
      plan,
      fills.map((f) => f.fill),
    );
  }
  return { input: plan, nodes: current, hidden: plan.schema.slice(input.schema.length).map((f) => f.name) };
}

function visitNodes(node: ExprNode, visit: (node: ExprNode) => void): void {
  visit(node);
  mapNodes(node, (child) => {
    visitNodes(child, visit);
    return child;
  });
}

/** Rebuilds `node` with each child replaced by `f(child)`. */
export function mapNodes(node: ExprNode, f: (child: ExprNode) => ExprNode): ExprNode {
  switch (node.kind) {
    case 'col':
    case 'lit':
      return node;
    case 'agg':
      return node.arg ? { ...node, arg: f(node.arg), ...(node.arg2 ? { arg2: f(node.arg2) } : {}) } : node;
    case 'binary':
      return { ...node, left: f(node.left), right: f(node.right) };
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'fillNull':
      return { ...node, arg: f(node.arg) };
    case 'when':
      return { ...node, branches: node.branches.map((b) => ({ cond: f(b.cond), then: f(b.then) })), otherwise: f(node.otherwise) };
    case 'coalesce':
      return { ...node, args: node.args.map(f) };
    case 'str':
      return { ...node, arg: f(node.arg), args: node.args.map(f) };
  }
}
