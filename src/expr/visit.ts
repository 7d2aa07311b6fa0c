// Small structural helpers over bound expressions used by the optimizer and engines: the columns an
// expression reads, and substitution of column references.

import { describeDt } from './dt-bind.js';
import type { BoundExpr } from './types.js';

export function children(expr: BoundExpr): readonly BoundExpr[] {
  switch (expr.kind) {
    case 'col':
    case 'lit':
      return [];
    case 'binary':
      return [expr.left, expr.right];
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'dt':
      return [expr.arg];
    case 'when':
      return [...expr.branches.flatMap((b) => [b.cond, b.then]), expr.otherwise];
    case 'coalesce':
      return expr.args;
  }
}

export function columnsOf(expr: BoundExpr, into: Set<string> = new Set()): Set<string> {
  if (expr.kind === 'col') into.add(expr.name);
  for (const child of children(expr)) columnsOf(child, into);
  return into;
}

/** Rebuilds `expr` with each child replaced by `map(child)`. */
export function mapChildren(expr: BoundExpr, map: (child: BoundExpr) => BoundExpr): BoundExpr {
  switch (expr.kind) {
    case 'col':
    case 'lit':
      return expr;
    case 'binary':
      return { ...expr, left: map(expr.left), right: map(expr.right) };
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'dt':
      return { ...expr, arg: map(expr.arg) };
    case 'when':
      return { ...expr, branches: expr.branches.map((b) => ({ cond: map(b.cond), then: map(b.then) })), otherwise: map(expr.otherwise) };
    case 'coalesce':
      return { ...expr, args: expr.args.map(map) };
  }
}

/** Replaces column references by the expressions that define them (inlining a projection). */
export function substitute(expr: BoundExpr, definitions: ReadonlyMap<string, BoundExpr>): BoundExpr {
  if (expr.kind === 'col') return definitions.get(expr.name) ?? expr;
  return mapChildren(expr, (child) => substitute(child, definitions));
}

/** Renames column references. */
export function renameColumns(expr: BoundExpr, names: ReadonlyMap<string, string>): BoundExpr {
  if (expr.kind === 'col') {
    const to = names.get(expr.name);
    return to === undefined ? expr : { ...expr, name: to };
  }
  return mapChildren(expr, (child) => renameColumns(child, names));
}

/** Splits a conjunction into its terms. */
export function conjuncts(expr: BoundExpr): BoundExpr[] {
  if (expr.kind === 'binary' && expr.op === 'and') return [...conjuncts(expr.left), ...conjuncts(expr.right)];
  return [expr];
}

export function conjunction(terms: readonly BoundExpr[]): BoundExpr {
  return terms.reduce((acc, t) => ({
    kind: 'binary',
    op: 'and',
    left: acc,
    right: t,
    type: { dtype: 'bool', nullable: acc.type.nullable || t.type.nullable },
  }));
}

/** A short, stable text form used by explain() and as part of compiled-kernel cache keys. */
export function exprToString(expr: BoundExpr): string {
  switch (expr.kind) {
    case 'col':
      return expr.name;
    case 'lit':
      return typeof expr.value === 'string' ? JSON.stringify(expr.value) : `${String(expr.value)}${typeof expr.value === 'bigint' ? 'n' : ''}`;
    case 'binary':
      return `(${exprToString(expr.left)} ${expr.op} ${exprToString(expr.right)})`;
    case 'unary':
      return `${expr.op}(${exprToString(expr.arg)})`;
    case 'round':
      return `round(${exprToString(expr.arg)}, ${expr.decimals})`;
    case 'isIn':
      return `${exprToString(expr.arg)} in [${expr.values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ')}]`;
    case 'match':
      return `${expr.op}(${exprToString(expr.arg)}, ${JSON.stringify(expr.pattern)})`;
    case 'when':
      return `when(${expr.branches.map((b) => `${exprToString(b.cond)} -> ${exprToString(b.then)}`).join('; ')}; else ${exprToString(expr.otherwise)})`;
    case 'cast':
      return `cast(${exprToString(expr.arg)} as ${expr.type.dtype})`;
    case 'coalesce':
      return `coalesce(${expr.args.map(exprToString).join(', ')})`;
    case 'dt':
      return describeDt(expr.op, expr.params, exprToString(expr.arg));
  }
}
