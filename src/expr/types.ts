// The typed expression IR shared by the plan and both engines. Nodes are plain immutable data so they
// can be inspected, rewritten by the optimizer, and compiled to JS or WGSL. The operator names are listed
// once, as values, so that what enumerates them (the support matrix) cannot miss one.

import type { DType, TimeUnit, TypeParams, TypeSpec } from '../model/types.js';

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
 * The temporal `dt` namespace (src/expr/dt.ts), one node kind: the civil fields (int32), `epoch`, `truncate`,
 * `offsetBy`, the two time-zone changes, `date` and `time`; `parseDatetime` / `parseDate` are
 * `str.toDatetime(format)` / `str.toDate(format)`, which read utf8.
 */
export const DT_OPS = [
  'year',
  'quarter',
  'month',
  'week',
  'weekday',
  'day',
  'ordinalDay',
  'hour',
  'minute',
  'second',
  'millisecond',
  'microsecond',
  'nanosecond',
  'epoch',
  'truncate',
  'offsetBy',
  'convertTimeZone',
  'replaceTimeZone',
  'date',
  'time',
  'parseDatetime',
  'parseDate',
] as const;
/** The units `dt.epoch(unit)` counts in: Polars' 's', 'ms', 'us', 'ns' and 'd' (days). */
export const EPOCH_UNITS = ['s', 'ms', 'us', 'ns', 'd'] as const;
export const AMBIGUOUS_OPTIONS = ['raise', 'earliest', 'latest', 'null'] as const;
export const NON_EXISTENT_OPTIONS = ['raise', 'null'] as const;
export const AGG_OPS = ['count', 'countAll', 'sum', 'mean', 'min', 'max', 'median', 'std', 'var', 'first', 'last', 'nUnique', 'corr'] as const;

export type ArithmeticOp = (typeof ARITHMETIC_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type LogicOp = (typeof LOGIC_OPS)[number];
export type BinaryOp = ArithmeticOp | CompareOp | LogicOp;
export type UnaryOp = (typeof UNARY_OPS)[number];
export type StringMatchOp = (typeof STRING_MATCH_OPS)[number];
export type AggOp = (typeof AGG_OPS)[number];
export type DtOp = (typeof DT_OPS)[number];
export type EpochUnit = (typeof EPOCH_UNITS)[number];

/** The constant arguments of a `dt` operation; each op reads the ones it takes (src/expr/dt.ts). */
export interface DtParams {
  /** epoch: the unit counted in. */
  readonly epochUnit?: EpochUnit;
  /** truncate: the period; offsetBy: the duration (Polars duration strings, checked when built). */
  readonly every?: string;
  /** parseDatetime / parseDate: the chrono format. */
  readonly format?: string;
  /** convertTimeZone / replaceTimeZone / parseDatetime: the zone (null: replaceTimeZone drops it). */
  readonly timeZone?: string | null;
  /** parseDatetime: the unit of the timestamp made. */
  readonly unit?: TimeUnit;
  readonly ambiguous?: (typeof AMBIGUOUS_OPTIONS)[number];
  readonly nonExistent?: (typeof NON_EXISTENT_OPTIONS)[number];
  /** parseDatetime / parseDate: text that does not parse raises CastError when strict, else gives null. */
  readonly strict?: boolean;
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
  | { readonly kind: 'dt'; readonly op: DtOp; readonly arg: ExprNode; readonly params: DtParams }
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
  | { readonly kind: 'dt'; readonly op: DtOp; readonly arg: BoundExpr; readonly params: DtParams }
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
