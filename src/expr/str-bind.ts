// Binding of the `str` namespace's nodes: the input and result types of each operation, the regular
// expressions its patterns compile to, and which utf8 expressions make strings that no compile-time
// dictionary holds ("dynamic" strings: concatStr, numbers cast to utf8), which engines treat apart.

import type { DType } from '../model/types.js';
import type { BoundExpr, ExprNode, ExprType, StrOp, StrParams } from './types.js';

/** The ops whose pattern is a regular expression unless `literal`. */
export const REGEX_OPS: ReadonlySet<StrOp> = new Set(['contains', 'replace', 'replaceAll', 'extract', 'countMatches']);

const SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/**
 * The RegExp of a pattern: JavaScript syntax with the `u` flag (code points, not UTF-16 halves, and
 * strict escapes), or the text itself escaped when `literal`. `global` for the ops that visit every match.
 */
export function patternRegExp(pattern: string, literal: boolean, global: boolean): RegExp {
  return new RegExp(literal ? pattern.replace(SPECIAL, '\\$&') : pattern, global ? 'gu' : 'u');
}

/** Number of capture groups of a (valid) pattern: an alternative that matches the empty string shows them all. */
export function captureGroups(pattern: string): number {
  return new RegExp(`${pattern}|`, 'u').exec('')!.length - 1;
}

export interface StrBinding {
  readonly bind: (node: ExprNode) => BoundExpr;
  readonly fail: (why: string) => never;
  /** A cast of a bound expression to utf8 (numbers and booleans only; the binder's own rules). */
  readonly toUtf8: (expr: BoundExpr) => BoundExpr;
}

const RESULT: Record<StrOp, DType> = {
  lenChars: 'int32',
  lenBytes: 'int32',
  countMatches: 'int32',
  contains: 'bool',
  startsWith: 'bool',
  endsWith: 'bool',
  toLowerCase: 'utf8',
  toUpperCase: 'utf8',
  strip: 'utf8',
  stripStart: 'utf8',
  stripEnd: 'utf8',
  slice: 'utf8',
  padStart: 'utf8',
  padEnd: 'utf8',
  replace: 'utf8',
  replaceAll: 'utf8',
  extract: 'utf8',
  concat: 'utf8',
};

export function bindStr(node: Extract<ExprNode, { kind: 'str' }>, b: StrBinding): BoundExpr {
  if (node.op === 'concat') {
    // concat_str casts numbers and booleans to text, as Polars does.
    const parts = [node.arg, ...node.args].map((n) => {
      const bound = b.bind(n);
      if (bound.type.dtype === 'utf8') return bound;
      return b.toUtf8(bound);
    });
    const nullable = node.params.ignoreNulls === true ? false : parts.some((p) => p.type.nullable);
    return { kind: 'str', op: 'concat', arg: parts[0]!, args: parts.slice(1), params: node.params, type: { dtype: 'utf8', nullable } };
  }
  const arg = b.bind(node.arg);
  if (arg.type.dtype !== 'utf8') b.fail(`str.${node.op} needs a string, got ${arg.type.dtype}`);
  const type: ExprType = { dtype: RESULT[node.op], nullable: arg.type.nullable || node.op === 'extract' };
  return { kind: 'str', op: node.op, arg, args: [], params: node.params, type };
}

/**
 * True when a utf8 expression's values are made per row (a concatenation, a number cast to text) rather
 * than being codes into a dictionary known before the kernel runs.
 */
export function isDynamicString(expr: BoundExpr): boolean {
  if (expr.type.dtype !== 'utf8') return false;
  switch (expr.kind) {
    case 'col':
    case 'lit':
    case 'isIn':
    case 'match':
    case 'binary':
    case 'round':
      return false;
    case 'cast':
      return expr.arg.type.dtype !== 'utf8' && expr.arg.type.dtype !== 'bool';
    case 'unary':
      return isDynamicString(expr.arg);
    case 'str':
      return expr.op === 'concat' || isDynamicString(expr.arg);
    case 'when':
      return expr.branches.some((b) => isDynamicString(b.then)) || isDynamicString(expr.otherwise);
    case 'coalesce':
      return expr.args.some(isDynamicString);
  }
}

/** How `str.<op>` is written, for messages and explain(). */
export function describeStr(op: StrOp, params: StrParams, arg: string, args: readonly string[]): string {
  if (op === 'concat') return `concatStr([${[arg, ...args].join(', ')}], ${JSON.stringify(params)})`;
  return `${arg}.str.${op}(${JSON.stringify(params)})`;
}
