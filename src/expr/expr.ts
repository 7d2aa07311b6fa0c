// The user-facing expression builder: `col`, `lit`, `when` and the fluent methods on `Expr`. Each method
// returns a new Expr wrapping an IR node; nothing is checked until the expression meets a schema.

import type { DType } from '../model/types.js';
import { arrayOf, fail, integer, oneOf, string, type Check } from '../options.js';
import type { AggOp, BinaryOp, ExprNode, LiteralValue, StringMatchOp, UnaryOp } from './types.js';

type Operand = Expr | LiteralValue;

export const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date'];
const LITERAL = 'a number, bigint, string, boolean, valid Date or null';

function isLiteral(value: unknown): value is LiteralValue {
  return (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (value instanceof Date && !Number.isNaN(value.getTime()))
  );
}

const literal: Check<LiteralValue> = (value, name) => (isLiteral(value) ? value : fail(name, value, LITERAL));
const castTarget = oneOf(DTYPES);
const decimalPlaces = integer({ min: 0, max: 15 });
const pattern = string();

/** An expression or a literal; anything else (undefined, an object, an array) is refused, not taken as a literal. */
function nodeOf(value: unknown, name: string): ExprNode {
  if (value instanceof Expr) return value.node;
  return { kind: 'lit', value: isLiteral(value) ? value : fail(name, value, `an expression or a literal (${LITERAL})`) };
}

function exprArg(value: unknown, name: string): Expr {
  return value instanceof Expr ? value : fail(name, value, "an expression such as col('x')");
}

const NODE_KINDS: ReadonlySet<string> = new Set(['col', 'lit', 'binary', 'unary', 'round', 'isIn', 'match', 'when', 'cast', 'coalesce', 'agg']);

/** An expression; `T` is the JS type of its values where TypeScript can know it (`unknown` otherwise). */
export class Expr<T = unknown> {
  declare readonly __type?: T;
  readonly node: ExprNode;

  constructor(node: ExprNode) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers can pass anything: checked at runtime
    const kind = typeof node === 'object' && node !== null ? (node as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !NODE_KINDS.has(kind)) fail('new Expr(node)', node, 'an expression node (build expressions with col(), lit(), when())');
    this.node = node;
  }

  private binary<R>(op: BinaryOp, other: Operand): Expr<R> {
    return new Expr<R>({ kind: 'binary', op, left: this.node, right: nodeOf(other, `${op}(other)`) });
  }
  private unary<R>(op: UnaryOp): Expr<R> {
    return new Expr<R>({ kind: 'unary', op, arg: this.node });
  }
  private aggregate<R>(op: AggOp): Expr<R> {
    return new Expr<R>({ kind: 'agg', op, arg: this.node });
  }

  add(other: Operand): Expr<T> {
    return this.binary('add', other);
  }
  sub(other: Operand): Expr<T> {
    return this.binary('sub', other);
  }
  mul(other: Operand): Expr<T> {
    return this.binary('mul', other);
  }
  /** True division: integer operands give float64. */
  div(other: Operand): Expr<number | null> {
    return this.binary('div', other);
  }
  /** Remainder with the sign of the dividend; an integer modulo by zero is null. */
  mod(other: Operand): Expr<T> {
    return this.binary('mod', other);
  }
  neg(): Expr<T> {
    return this.unary('neg');
  }
  /**
   * Integer division rounding toward −∞ (Polars' `floordiv`): integers give the promoted integer type, null
   * where the divisor is zero, and raise ArithmeticOverflowError for the minimum divided by −1; floats give
   * `floor(a / b)` in the float type (±Infinity or NaN by zero, as IEEE division does).
   */
  floorDiv(other: Operand): Expr<T> {
    return this.binary('floorDiv', other);
  }
  /** `this` raised to `exponent`, as float64 whatever the operand types (JavaScript's `Math.pow`). */
  pow(exponent: Operand): Expr<number | null> {
    return new Expr({ kind: 'binary', op: 'pow', left: this.node, right: nodeOf(exponent, 'pow(exponent)') });
  }
  /** Square root as float64; NaN below zero. */
  sqrt(): Expr<number | null> {
    return this.unary('sqrt');
  }
  /** e to the power of the value, as float64. */
  exp(): Expr<number | null> {
    return this.unary('exp');
  }
  /**
   * Logarithm as float64: natural without `base`, else `ln(x) / ln(base)` (as Polars computes it; `log10()`
   * is the exact base-10 one). NaN below zero, −Infinity at zero.
   */
  log(base?: Operand): Expr<number | null> {
    if (base === undefined) return this.unary('log');
    return new Expr({ kind: 'binary', op: 'logBase', left: this.node, right: nodeOf(base, 'log(base)') });
  }
  /** Base-10 logarithm as float64. */
  log10(): Expr<number | null> {
    return this.unary('log10');
  }
  /** `ln(1 + x)` as float64, exact near zero. */
  log1p(): Expr<number | null> {
    return this.unary('log1p');
  }
  /** −1, 0 or 1 in the input's type; floats keep NaN and the sign of zero. */
  sign(): Expr<T> {
    return this.unary('sign');
  }
  /**
   * Limits the value to `[low, high]`, keeping its type: the bounds are cast to it (a fractional bound of an
   * integer truncates), a null bound is no bound, NaN stays NaN, and `low > high` gives `high`.
   */
  clip(low: Operand, high: Operand): Expr<T> {
    const lower = nodeOf(low, 'clip(low)');
    const upper = nodeOf(high, 'clip(high)');
    return new Expr<T>({ kind: 'binary', op: 'clipHigh', left: { kind: 'binary', op: 'clipLow', left: this.node, right: lower }, right: upper });
  }

  eq(other: Operand): Expr<boolean | null> {
    return this.binary('eq', other);
  }
  ne(other: Operand): Expr<boolean | null> {
    return this.binary('ne', other);
  }
  gt(other: Operand): Expr<boolean | null> {
    return this.binary('gt', other);
  }
  ge(other: Operand): Expr<boolean | null> {
    return this.binary('ge', other);
  }
  lt(other: Operand): Expr<boolean | null> {
    return this.binary('lt', other);
  }
  le(other: Operand): Expr<boolean | null> {
    return this.binary('le', other);
  }

  /** Kleene AND: false wins over null. */
  and(other: Operand): Expr<boolean | null> {
    return this.binary('and', other);
  }
  /** Kleene OR: true wins over null. */
  or(other: Operand): Expr<boolean | null> {
    return this.binary('or', other);
  }
  not(): Expr<boolean | null> {
    return this.unary('not');
  }

  isNull(): Expr<boolean> {
    return this.unary('isNull');
  }
  isNotNull(): Expr<boolean> {
    return this.unary('isNotNull');
  }
  /** Floats only (other types are an ExpressionTypeError, as in Polars); null stays null. */
  isNan(): Expr<boolean | null> {
    return this.unary('isNan');
  }
  /** Floats only; null stays null. */
  isNotNan(): Expr<boolean | null> {
    return this.unary('isNotNan');
  }
  /** Neither NaN nor ±Infinity; floats only; null stays null. */
  isFinite(): Expr<boolean | null> {
    return this.unary('isFinite');
  }
  /** ±Infinity; floats only; null stays null. */
  isInfinite(): Expr<boolean | null> {
    return this.unary('isInfinite');
  }
  /** Nulls replaced by `value` (an expression or a literal): `coalesce(this, value)`, with its type promotion. */
  fillNull(value: Operand): Expr<T> {
    return new Expr<T>({ kind: 'coalesce', args: [this.node, nodeOf(value, 'fillNull(value)')] });
  }
  /** NaN replaced by `value` (which may be null); floats only. */
  fillNan(value: Operand): Expr<T> {
    const replacement = nodeOf(value, 'fillNan(value)');
    return new Expr<T>({ kind: 'when', branches: [{ cond: { kind: 'unary', op: 'isNan', arg: this.node }, then: replacement }], otherwise: this.node });
  }
  /** Null where the value equals `value` (SQL's NULLIF; NaN equals nothing), else the value. */
  nullIf(value: Operand): Expr<T | null> {
    const other = nodeOf(value, 'nullIf(value)');
    return new Expr<T | null>({
      kind: 'when',
      branches: [{ cond: { kind: 'binary', op: 'eq', left: this.node, right: other }, then: { kind: 'lit', value: null } }],
      otherwise: this.node,
    });
  }
  isIn(values: readonly LiteralValue[]): Expr<boolean | null> {
    return new Expr({ kind: 'isIn', arg: this.node, values: arrayOf(literal)(values, 'isIn(values)') });
  }
  /** Inclusive on both ends. */
  between(low: Operand, high: Operand): Expr<boolean | null> {
    nodeOf(low, 'between(low)');
    nodeOf(high, 'between(high)');
    return this.ge(low).and(this.le(high));
  }

  cast(to: DType): Expr {
    return new Expr({ kind: 'cast', arg: this.node, to: castTarget(to, 'cast(to)') });
  }
  abs(): Expr<T> {
    return this.unary('abs');
  }
  floor(): Expr<T> {
    return this.unary('floor');
  }
  ceil(): Expr<T> {
    return this.unary('ceil');
  }
  /** Round half away from zero to `decimals` places. */
  round(decimals = 0): Expr<T> {
    return new Expr({ kind: 'round', arg: this.node, decimals: decimalPlaces(decimals, 'round(decimals)') });
  }

  startsWith(prefix: string): Expr<boolean | null> {
    return this.match('startsWith', prefix);
  }
  endsWith(suffix: string): Expr<boolean | null> {
    return this.match('endsWith', suffix);
  }
  contains(substring: string): Expr<boolean | null> {
    return this.match('contains', substring);
  }
  lower(): Expr<T> {
    return this.unary('lower');
  }
  upper(): Expr<T> {
    return this.unary('upper');
  }
  /** Length in UTF-16 code units, as JS strings count it. */
  length(): Expr<number | null> {
    return this.unary('length');
  }
  private match(op: StringMatchOp, text: string): Expr<boolean | null> {
    return new Expr({ kind: 'match', op, arg: this.node, pattern: pattern(text, `${op}(pattern)`) });
  }

  count(): Expr<number> {
    return this.aggregate('count');
  }
  countAll(): Expr<number> {
    return this.aggregate('countAll');
  }
  sum(): Expr<number | bigint | null> {
    return this.aggregate('sum');
  }
  mean(): Expr<number | null> {
    return this.aggregate('mean');
  }
  min(): Expr<T | null> {
    return this.aggregate('min');
  }
  max(): Expr<T | null> {
    return this.aggregate('max');
  }
  median(): Expr<number | null> {
    return this.aggregate('median');
  }
  /** Sample standard deviation (n − 1); null below two values. */
  std(): Expr<number | null> {
    return this.aggregate('std');
  }
  /** Sample variance (n − 1); null below two values. */
  var(): Expr<number | null> {
    return this.aggregate('var');
  }
  first(): Expr<T | null> {
    return this.aggregate('first');
  }
  last(): Expr<T | null> {
    return this.aggregate('last');
  }
  nUnique(): Expr<number> {
    return this.aggregate('nUnique');
  }
  /**
   * Pearson correlation with `other` over the rows where both are non-null, as float64. Null below two
   * such pairs or when either side takes a single value over them, as in the SQL standard and PostgreSQL
   * (DuckDB answers NaN there). NaN and ±Infinity are values, as in
   * `var`: any in the pairs makes the result NaN, and so do deviations whose squares leave float64's
   * range (|x| beyond about 1e154, or a spread below about 1e-154). Numeric columns only; int64 paired
   * with an integer is exact, int64 paired with a float is converted to float64 first.
   */
  corr(other: Expr): Expr<number | null> {
    return new Expr({ kind: 'agg', op: 'corr', arg: this.node, arg2: exprArg(other, 'corr(other)').node });
  }
}

export function col<T = unknown>(name: string): Expr<T> {
  if (typeof name !== 'string' || name.length === 0) fail('col(name)', name, 'a non-empty string');
  return new Expr<T>({ kind: 'col', name });
}

export function lit<V extends LiteralValue>(value: V): Expr<V> {
  return new Expr<V>({ kind: 'lit', value: literal(value, 'lit(value)') as V });
}

/** Number of rows in each group (or the frame): `countAll()` without a column. */
export function countRows(): Expr<number> {
  return new Expr<number>({ kind: 'agg', op: 'countAll', arg: null });
}

export function coalesce<T>(...args: Expr<T>[]): Expr<T> {
  if (args.length === 0) fail('coalesce(...exprs)', args.length, 'at least one expression');
  return new Expr<T>({ kind: 'coalesce', args: args.map((a, i) => exprArg(a, `coalesce(...exprs)[${i}]`).node) });
}

/** `when(cond).then(a).when(cond2).then(b).otherwise(c)`; without `otherwise` the result is null. */
export function when(cond: Expr): WhenBuilder {
  return new WhenBuilder([], exprArg(cond, 'when(condition)').node);
}

export class WhenBuilder {
  constructor(
    private readonly branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[],
    private readonly pending: ExprNode,
  ) {}
  then(value: Operand): ChainedWhen {
    return new ChainedWhen([...this.branches, { cond: this.pending, then: nodeOf(value, 'when(...).then(value)') }]);
  }
}

export class ChainedWhen extends Expr {
  private readonly branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[];
  constructor(branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[]) {
    super({ kind: 'when', branches, otherwise: { kind: 'lit', value: null } });
    this.branches = branches;
  }
  when(cond: Expr): WhenBuilder {
    return new WhenBuilder(this.branches, exprArg(cond, 'when(...).when(condition)').node);
  }
  otherwise(value: Operand): Expr {
    return new Expr({ kind: 'when', branches: this.branches, otherwise: nodeOf(value, 'when(...).otherwise(value)') });
  }
}
