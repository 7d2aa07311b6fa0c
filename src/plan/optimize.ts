// Logical rewrites applied before execution: fuse projections, push filters down (through projections,
// sorts, into join sides, below group-bys and group heads on their keys), fold a sort into the group head
// above it, and prune columns no operator above needs.
// Every rewrite preserves results exactly, including row order.

import { dtCanRaise } from '../expr/dt-bind.js';
import { children, columnsOf, conjunction, conjuncts, renameColumns, substitute } from '../expr/visit.js';
import type { BoundExpr } from '../expr/types.js';
import type { DType } from '../model/types.js';
import type { NamedExpr, PlanNode } from './types.js';

export function optimize(plan: PlanNode): PlanNode {
  const pushed = pushDown(plan);
  return prune(
    pushed,
    plan.schema.map((f) => f.name),
  );
}

function withInput(node: PlanNode, input: PlanNode): PlanNode {
  return { ...node, input } as PlanNode;
}

function filterOver(input: PlanNode, terms: readonly BoundExpr[]): PlanNode {
  return terms.length === 0 ? input : pushDown({ kind: 'filter', schema: input.schema, input, predicate: conjunction(terms) });
}

function inlineProject(outer: Extract<PlanNode, { kind: 'project' }>, inner: Extract<PlanNode, { kind: 'project' }>): PlanNode {
  const defs = new Map(inner.exprs.map((e) => [e.name, e.expr]));
  const exprs: NamedExpr[] = outer.exprs.map((e) => ({ name: e.name, expr: substitute(e.expr, defs) }));
  return { kind: 'project', schema: outer.schema, input: inner.input, exprs };
}

function pushDown(node: PlanNode): PlanNode {
  switch (node.kind) {
    case 'source':
      return node;
    case 'join':
      return { ...node, left: pushDown(node.left), right: pushDown(node.right) };
    case 'project': {
      const input = pushDown(node.input);
      return input.kind === 'project' ? inlineProject(node, input) : withInput(node, input);
    }
    case 'filter':
      return pushFilter(node.predicate, pushDown(node.input));
    case 'groupHead': {
      const input = pushDown(node.input);
      // A sort right below becomes the node's order: a per-group top-n, not a sort of every row.
      if (input.kind === 'sort' && node.order.length === 0) return { ...node, order: input.keys, input: input.input };
      return withInput(node, input);
    }
    default:
      return withInput(node, pushDown(node.input));
  }
}

/** Places `predicate` as deep under `input` as it stays correct. `input` is already optimised. */
function pushFilter(predicate: BoundExpr, input: PlanNode): PlanNode {
  const keep = (terms: readonly BoundExpr[], under: PlanNode): PlanNode =>
    terms.length === 0 ? under : { kind: 'filter', schema: under.schema, input: under, predicate: conjunction(terms) };
  const terms = conjuncts(predicate);
  switch (input.kind) {
    case 'filter':
      return pushFilter(conjunction([input.predicate, ...terms]), input.input);
    case 'project': {
      const defs = new Map(input.exprs.map((e) => [e.name, e.expr]));
      return { ...input, input: pushFilter(substitute(predicate, defs), input.input) };
    }
    case 'sort':
      return { ...input, input: pushFilter(predicate, input.input) };
    case 'aggregate':
    case 'unique':
    case 'groupHead': {
      // A term on key columns keeps or drops whole groups, so it may run first: the groups that remain
      // aggregate, dedupe or take their first n rows the same. A whole-frame aggregation yields its one row
      // even over no input, and a head of 0 rows never runs a term above it, so nothing moves below those.
      if ((input.kind === 'aggregate' && input.keys.length === 0) || (input.kind === 'groupHead' && input.n === 0)) return keep(terms, input);
      // Float keys stay above: -0 and 0 share a group, yet a term can tell them apart (1 / k).
      const keys = input.kind === 'unique' ? input.subset : input.keys;
      const groupCols = new Set(keys.filter((k) => !isFloat(input.input.schema.find((f) => f.name === k)!.dtype)));
      const below: BoundExpr[] = [];
      const above: BoundExpr[] = [];
      for (const t of terms) {
        // A term that can raise must not overtake one that stays above: it would meet rows that one drops.
        const movable = [...columnsOf(t)].every((c) => groupCols.has(c)) && (above.length === 0 || !canRaise(t));
        (movable ? below : above).push(t);
      }
      if (below.length === 0) return keep(terms, input);
      return keep(above, { ...input, input: pushFilter(conjunction(below), input.input) });
    }
    case 'join': {
      const leftCols = new Set(input.left.schema.map((f) => f.name));
      const rightAs = new Map(input.rightOutput.map((r) => [r.as, r.from]));
      const toLeft: BoundExpr[] = [];
      const toRight: BoundExpr[] = [];
      const above: BoundExpr[] = [];
      for (const t of terms) {
        const cols = [...columnsOf(t)];
        // Below an inner, semi or anti join a term also meets rows the join drops, and below any join it
        // overtakes the terms left above: one that can raise (integer overflow) must do neither, or a plan
        // with an answer would fail. A left join keeps every left row.
        const safe = !canRaise(t);
        const raisingMayMove = input.how === 'left' && above.length === 0;
        if (cols.every((c) => leftCols.has(c)) && (safe || raisingMayMove)) toLeft.push(t);
        else if (input.how === 'inner' && safe && cols.every((c) => rightAs.has(c))) toRight.push(renameColumns(t, rightAs));
        else above.push(t);
      }
      if (toLeft.length === 0 && toRight.length === 0) return keep(terms, input);
      return keep(above, { ...input, left: filterOver(input.left, toLeft), right: filterOver(input.right, toRight) });
    }
    default:
      return keep(terms, input);
  }
}

function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** True when evaluating `expr` can throw: integer arithmetic that may overflow, or a narrowing cast. */
function canRaise(expr: BoundExpr): boolean {
  const integer = expr.type.dtype === 'int32' || expr.type.dtype === 'int64';
  if (expr.kind === 'binary' && integer && (expr.op === 'add' || expr.op === 'sub' || expr.op === 'mul' || expr.op === 'floorDiv')) return true;
  if (expr.kind === 'unary' && integer && (expr.op === 'neg' || expr.op === 'abs')) return true;
  if (expr.kind === 'cast') {
    const from = expr.arg.type.dtype;
    const fromFloat = from === 'float32' || from === 'float64';
    if ((expr.type.dtype === 'int32' && from !== 'bool') || ((expr.type.dtype === 'int64' || expr.type.dtype === 'date') && fromFloat)) return true;
  }
  if (expr.kind === 'dt' && dtCanRaise(expr.op, expr.params)) return true;
  return children(expr).some(canRaise);
}

/** Keeps only what `required` (column names of `node`'s output) depends on. */
function prune(node: PlanNode, required: readonly string[]): PlanNode {
  const need = new Set(required);
  switch (node.kind) {
    case 'source': {
      if (node.schema.every((f) => need.has(f.name))) return node;
      const keep = node.schema.map((f, i) => [f, i] as const).filter(([f]) => need.has(f.name));
      return {
        ...node,
        schema: keep.map(([f]) => f),
        batch: { length: node.batch.length, names: keep.map(([f]) => f.name), columns: keep.map(([, i]) => node.batch.columns[i]!) },
      };
    }
    case 'project': {
      const exprs = node.exprs.filter((e) => need.has(e.name));
      const inputNeed = new Set<string>();
      for (const e of exprs) columnsOf(e.expr, inputNeed);
      const input = prune(node.input, [...inputNeed]);
      const identity =
        exprs.length === input.schema.length && exprs.every((e, i) => e.expr.kind === 'col' && e.expr.name === e.name && input.schema[i]!.name === e.name);
      if (identity) return input;
      return { ...node, schema: node.schema.filter((f) => need.has(f.name)), exprs, input };
    }
    case 'filter': {
      const inputNeed = columnsOf(node.predicate, new Set(need));
      const input = prune(node.input, [...inputNeed]);
      return { ...node, schema: input.schema, input };
    }
    case 'sort':
    case 'slice':
    case 'unique': {
      const extra = node.kind === 'sort' ? node.keys.map((k) => k.column) : node.kind === 'unique' ? node.subset : [];
      const input = prune(node.input, [...need, ...extra]);
      return { ...node, schema: input.schema, input };
    }
    case 'groupHead': {
      const input = prune(node.input, [...need, ...node.keys, ...node.order.map((k) => k.column)]);
      return { ...node, schema: input.schema, input };
    }
    case 'aggregate': {
      const aggs = node.aggs.filter((a) => need.has(a.name));
      const inputNeed = new Set<string>(node.keys);
      for (const a of aggs) {
        if (a.arg) columnsOf(a.arg, inputNeed);
        if (a.arg2) columnsOf(a.arg2, inputNeed);
      }
      const input = prune(node.input, [...inputNeed]);
      return { ...node, aggs, input, schema: node.schema.filter((f) => node.keys.includes(f.name) || aggs.some((a) => a.name === f.name)) };
    }
    case 'join': {
      const rightOutput = node.rightOutput.filter((r) => need.has(r.as));
      const left = prune(node.left, [...node.left.schema.map((f) => f.name).filter((n) => need.has(n)), ...node.leftOn]);
      const right = prune(node.right, [...rightOutput.map((r) => r.from), ...node.rightOn]);
      const schema = node.schema.filter((f) => left.schema.some((l) => l.name === f.name) || rightOutput.some((r) => r.as === f.name));
      return { ...node, left, right, rightOutput, schema };
    }
  }
}
