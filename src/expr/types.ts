// The typed expression IR shared by the plan and both engines. Nodes are plain immutable data so they
// can be inspected, rewritten by the optimizer, and compiled to JS or WGSL. The operator names are listed
// once, as values, so that what enumerates them (the support matrix) cannot miss one.

import type { DType, TypeParams, TypeSpec } from '../model/types.js';

export type LiteralValue = number | bigint | string | boolean | Date | null;

/**
 * `floorDiv` is integer division rounding toward −∞; `pow` and `logBase` (the logarithm of the left side in
 * the base on the right) give float64; `clipLow` / `clipHigh` raise / lower the left side to the bound on
 * the right (a null bound leaves it alone), keeping the left side's type: `clip(low, high)` is the two.
 */
export const ARITHMETIC_OPS = ['add', 'sub', 'mul', 'div', 'mod', 'floorDiv', 'pow', 'logBase', 'clipLow', 'clipHigh'] as const;
export const COMPARE_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
export const LOGIC_OPS = ['and', 'or'] as const;
export const UNARY_OPS = [
  'neg',
  'not',
  'abs',
  'floor',
  'ceil',
  'sign',
  'sqrt',
  'exp',
  'log',
  'log10',
  'log1p',
  'isNull',
  'isNotNull',
  'isNan',
  'isNotNan',
  'isFinite',
  'isInfinite',
  'lower',
  'upper',
  'length',
] as const;
export const STRING_MATCH_OPS = ['startsWith', 'endsWith', 'contains'] as const;
/**
 * The `str` namespace (src/expr/str.ts), one node kind: per-string operations, and `concat` (`concatStr`),
 * whose first input is `arg` and the others `args`. Patterns are JavaScript regular expressions with the
 * `u` flag unless `literal`.
 */
export const STR_OPS = [
  'lenChars',
  'lenBytes',
  'toLowerCase',
  'toUpperCase',
  'strip',
  'stripStart',
  'stripEnd',
  'slice',
  'padStart',
  'padEnd',
  'contains',
  'startsWith',
  'endsWith',
  'replace',
  'replaceAll',
  'extract',
  'countMatches',
  'concat',
] as const;
export const AGG_OPS = ['count', 'countAll', 'sum', 'mean', 'min', 'max', 'median', 'std', 'var', 'first', 'last', 'nUnique', 'corr'] as const;

/**
 * How `fillNull({ strategy })` fills: from the previous or next non-null value (`limit` bounds how many
 * nulls in a row one value fills), with the column's min, max or mean, or with 0 or 1.
 */
export const FILL_NULL_STRATEGIES = ['forward', 'backward', 'min', 'max', 'mean', 'zero', 'one'] as const;
export type FillNullStrategy = (typeof FILL_NULL_STRATEGIES)[number];

export type ArithmeticOp = (typeof ARITHMETIC_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type LogicOp = (typeof LOGIC_OPS)[number];
export type BinaryOp = ArithmeticOp | CompareOp | LogicOp;
export type UnaryOp = (typeof UNARY_OPS)[number];
export type StringMatchOp = (typeof STRING_MATCH_OPS)[number];
export type AggOp = (typeof AGG_OPS)[number];
export type StrOp = (typeof STR_OPS)[number];

/** The constant arguments of a `str` operation; each op reads the ones it takes (src/expr/str.ts). */
export interface StrParams {
  readonly pattern?: string;
  readonly literal?: boolean;
  /** replace / replaceAll: the replacement. */
  readonly value?: string;
  /** strip*: the characters to remove; absent: whitespace. */
  readonly chars?: string;
  readonly offset?: number;
  /** slice: code points to keep (absent: to the end); pad*: the target length. */
  readonly length?: number;
  readonly fill?: string;
  readonly group?: number;
  readonly separator?: string;
  readonly ignoreNulls?: boolean;
}

export type ExprNode =
  | { readonly kind: 'col'; readonly name: string }
  | { readonly kind: 'lit'; readonly value: LiteralValue }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly arg: ExprNode }
  | { readonly kind: 'round'; readonly arg: ExprNode; readonly decimals: number }
  | { readonly kind: 'isIn'; readonly arg: ExprNode; readonly values: readonly LiteralValue[] }
  | { readonly kind: 'match'; readonly op: StringMatchOp; readonly arg: ExprNode; readonly pattern: string }
  | { readonly kind: 'when'; readonly branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[]; readonly otherwise: ExprNode }
  /** `strict`: a value the target cannot hold raises CastError (ArithmeticOverflowError for integer range); else null. */
  | { readonly kind: 'cast'; readonly arg: ExprNode; readonly to: TypeSpec; readonly strict: boolean }
  | { readonly kind: 'coalesce'; readonly args: readonly ExprNode[] }
  /**
   * A null fill that reads the whole column (every strategy but 'zero' and 'one', which bind as `coalesce`):
   * the frame evaluates it as a FillNull plan node below the expression, never per row.
   */
  | { readonly kind: 'fillNull'; readonly arg: ExprNode; readonly strategy: FillNullStrategy; readonly limit: number | null }
  | { readonly kind: 'str'; readonly op: StrOp; readonly arg: ExprNode; readonly args: readonly ExprNode[]; readonly params: StrParams }
  /** `arg2` is the second argument of a two-column aggregation (`corr`), absent for every other op. */
  | { readonly kind: 'agg'; readonly op: AggOp; readonly arg: ExprNode | null; readonly arg2?: ExprNode };

/** Result type of an expression against a schema. */
export interface ExprType extends TypeParams {
  readonly dtype: DType;
  readonly nullable: boolean;
}

/**
 * An expression bound to a schema: every node carries its result type, literals are normalised to their
 * column representation (dates as epoch ms numbers, int64 as bigint) and implicit promotions are explicit
 * `cast` nodes, so an engine compiles each node knowing exactly what it computes.
 */
export type BoundExpr = (
  | { readonly kind: 'col'; readonly name: string }
  | { readonly kind: 'lit'; readonly value: number | bigint | string | boolean | null }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: BoundExpr; readonly right: BoundExpr }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly arg: BoundExpr }
  | { readonly kind: 'round'; readonly arg: BoundExpr; readonly decimals: number }
  | { readonly kind: 'isIn'; readonly arg: BoundExpr; readonly values: readonly (number | bigint | string | boolean)[] }
  | { readonly kind: 'match'; readonly op: StringMatchOp; readonly arg: BoundExpr; readonly pattern: string }
  | { readonly kind: 'when'; readonly branches: readonly { readonly cond: BoundExpr; readonly then: BoundExpr }[]; readonly otherwise: BoundExpr }
  | { readonly kind: 'cast'; readonly arg: BoundExpr; readonly strict: boolean }
  | { readonly kind: 'coalesce'; readonly args: readonly BoundExpr[] }
  | { readonly kind: 'str'; readonly op: StrOp; readonly arg: BoundExpr; readonly args: readonly BoundExpr[]; readonly params: StrParams }
) & { readonly type: ExprType };

/** One aggregation of a group-by, bound: its argument is a plain (non-aggregate) expression. */
export interface BoundAgg {
  readonly name: string;
  readonly op: AggOp;
  readonly arg: BoundExpr | null;
  /** The second argument of `corr`; absent for every other op. */
  readonly arg2?: BoundExpr;
  readonly type: ExprType;
}
