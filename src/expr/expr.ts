// The user-facing expression builder: `col`, `lit`, `when` and the fluent methods on `Expr`. Each method
// returns a new Expr wrapping an IR node; nothing is checked until the expression meets a schema.

import { typeSpec } from '../model/dtype.js';
import type { DType, TypeSpec } from '../model/types.js';
import { arrayOf, boolean, fail, integer, options, string, type Check } from '../options.js';
import type { DivDType, DTypeOf, JsOf, LiteralDType, LiteralNear, NullOf, NumericDType, Promote, SumDType } from './infer.js';
import type { AggOp, BinaryOp, ExprNode, LiteralValue, StringMatchOp, UnaryOp } from './types.js';

/** Any expression, whatever its value type. */
export type AnyExpr = Expr<unknown, DType>;
/** What a binary method takes: an expression or a literal. */
export type Operand = AnyExpr | LiteralValue;

/** The dtype an operand takes beside an expression of dtype `H`: an expression keeps its own, a literal adapts. */
type OperandDType<O, H extends DType> = O extends Expr<unknown, infer OD> ? OD : O extends LiteralValue ? LiteralNear<O, H> : never;
/** `null` when the operand may be null. */
type OperandNull<O> = O extends Expr<infer OT, DType> ? NullOf<OT> : O extends null ? null : never;
/** The result dtype of `add`, `sub`, `mul`, `mod`, paired per member of `D` (a literal adapts to each). */
type ArithOf<D extends DType, O> = D extends DType ? Promote<D, OperandDType<O, D>> : never;
type DivOf<D extends DType, O> = D extends DType ? DivDType<D, OperandDType<O, D>> : never;
/** An expression of dtype `D` whose values may also be null when `N` includes null. */
type Typed<D extends DType, N> = Expr<JsOf<D> | N, D>;
/** The non-null values of an expression: `T` when known, else what its dtypes read back as. */
type Known<T, D extends DType> = unknown extends T ? JsOf<D> : NonNullable<T>;
type Bool<N> = Expr<boolean | N, 'bool'>;
/**
 * What replacing values by `O` gives (fillNull, fillNan): numbers promote with the replacement as the binder
 * unifies them (int32 filled with a float is float64); other types keep theirs.
 */
type FillOf<T, D extends DType, O> = [D] extends [NumericDType] ? Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O>> : Expr<T | OperandNull<O>, D>;
/** `coalesce` is null only where every argument is. */
type AllNull<E extends readonly AnyExpr[]> = [{ [K in keyof E]: E[K] extends Expr<infer U, DType> ? (null extends U ? never : K) : never }[number]] extends [
  never,
]
  ? null
  : never;
type ValuesOf<E extends readonly AnyExpr[]> = { [K in keyof E]: E[K] extends Expr<infer U, DType> ? U : never }[number];
type DTypesOf<E extends readonly AnyExpr[]> = { [K in keyof E]: E[K] extends Expr<unknown, infer D> ? D : never }[number];

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
const castOptions = options({ strict: boolean });
const decimalPlaces = integer({ min: 0, max: 15 });
const pattern = string();

/** An expression or a literal; anything else (undefined, an object, an array) is refused, not taken as a literal. */
function nodeOf(value: unknown, name: string): ExprNode {
  if (value instanceof Expr) return value.node;
  return { kind: 'lit', value: isLiteral(value) ? value : fail(name, value, `an expression or a literal (${LITERAL})`) };
}

function exprArg(value: unknown, name: string): AnyExpr {
  return value instanceof Expr ? (value as AnyExpr) : fail(name, value, "an expression such as col('x')");
}

const NODE_KINDS: ReadonlySet<string> = new Set(['col', 'lit', 'binary', 'unary', 'round', 'isIn', 'match', 'when', 'cast', 'coalesce', 'dt', 'agg']);

/**
 * An expression; `T` is the JS type of its values where TypeScript can know it (`unknown` otherwise), `D`
 * the column types it can have (every one when unknown). Methods derive both from their operands by the
 * binder's rules (src/expr/infer.ts), so that a frame's row type is what collect() returns.
 */
export class Expr<T = unknown, D extends DType = DTypeOf<T>> {
  declare readonly __type?: T;
  declare readonly __dtype?: D;
  readonly node: ExprNode;

  constructor(node: ExprNode) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers can pass anything: checked at runtime
    const kind = typeof node === 'object' && node !== null ? (node as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !NODE_KINDS.has(kind)) fail('new Expr(node)', node, 'an expression node (build expressions with col(), lit(), when())');
    this.node = node;
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the calling method's signature states the result type; this only builds the node
  private binary<R extends Expr<unknown, DType>>(op: BinaryOp, other: Operand): R {
    return new Expr({ kind: 'binary', op, left: this.node, right: nodeOf(other, `${op}(other)`) }) as R;
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the calling method's signature states the result type; this only builds the node
  private unary<R extends Expr<unknown, DType>>(op: UnaryOp): R {
    return new Expr({ kind: 'unary', op, arg: this.node }) as R;
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the calling method's signature states the result type; this only builds the node
  private aggregate<R extends Expr<unknown, DType>>(op: AggOp): R {
    return new Expr({ kind: 'agg', op, arg: this.node }) as R;
  }

  /** Numeric operands promote as the binder does: int32 with int64 gives int64 (bigint), with a float float64. */
  add<O extends Operand>(other: O): Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O>> {
    return this.binary('add', other);
  }
  sub<O extends Operand>(other: O): Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O>> {
    return this.binary('sub', other);
  }
  mul<O extends Operand>(other: O): Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O>> {
    return this.binary('mul', other);
  }
  /** True division: integer operands give float64. */
  div<O extends Operand>(other: O): Typed<DivOf<D, O>, NullOf<T> | OperandNull<O>> {
    return this.binary('div', other);
  }
  /** Remainder with the sign of the dividend; an integer modulo by zero is null. */
  mod<O extends Operand>(other: O): Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O> | (ArithOf<D, O> extends 'float32' | 'float64' ? never : null)> {
    return this.binary('mod', other);
  }
  neg(): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return this.unary('neg');
  }
  /**
   * Integer division rounding toward −∞ (Polars' `floordiv`): integers give the promoted integer type, null
   * where the divisor is zero, and raise ArithmeticOverflowError for the minimum divided by −1; floats give
   * `floor(a / b)` in the float type (±Infinity or NaN by zero, as IEEE division does).
   */
  floorDiv<O extends Operand>(other: O): Typed<ArithOf<D, O>, NullOf<T> | OperandNull<O> | (ArithOf<D, O> extends 'float32' | 'float64' ? never : null)> {
    return this.binary('floorDiv', other);
  }
  /** `this` raised to `exponent`, as float64 whatever the operand types (JavaScript's `Math.pow`). */
  pow<O extends Operand>(exponent: O): Typed<'float64', NullOf<T> | OperandNull<O>> {
    return new Expr({ kind: 'binary', op: 'pow', left: this.node, right: nodeOf(exponent, 'pow(exponent)') });
  }
  /** Square root as float64; NaN below zero. */
  sqrt(): Typed<'float64', NullOf<T>> {
    return this.unary('sqrt');
  }
  /** e to the power of the value, as float64. */
  exp(): Typed<'float64', NullOf<T>> {
    return this.unary('exp');
  }
  /**
   * Logarithm as float64: natural without `base`, else `ln(x) / ln(base)` (as Polars computes it; `log10()`
   * is the exact base-10 one). NaN below zero, −Infinity at zero.
   */
  log<O extends Operand = number>(base?: O): Typed<'float64', NullOf<T> | OperandNull<O>> {
    if (base === undefined) return this.unary('log');
    return new Expr({ kind: 'binary', op: 'logBase', left: this.node, right: nodeOf(base, 'log(base)') });
  }
  /** Base-10 logarithm as float64. */
  log10(): Typed<'float64', NullOf<T>> {
    return this.unary('log10');
  }
  /** `ln(1 + x)` as float64, exact near zero. */
  log1p(): Typed<'float64', NullOf<T>> {
    return this.unary('log1p');
  }
  /** −1, 0 or 1 in the input's type; floats keep NaN and the sign of zero. */
  sign(): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return this.unary('sign');
  }
  /**
   * Limits the value to `[low, high]`, keeping its type: the bounds are cast to it (a fractional bound of an
   * integer truncates), a null bound is no bound, NaN stays NaN, and `low > high` gives `high`.
   */
  clip(low: Operand, high: Operand): Typed<Extract<D, NumericDType>, NullOf<T>> {
    const lower = nodeOf(low, 'clip(low)');
    const upper = nodeOf(high, 'clip(high)');
    return new Expr({ kind: 'binary', op: 'clipHigh', left: { kind: 'binary', op: 'clipLow', left: this.node, right: lower }, right: upper });
  }

  eq<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('eq', other);
  }
  ne<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('ne', other);
  }
  gt<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('gt', other);
  }
  ge<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('ge', other);
  }
  lt<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('lt', other);
  }
  le<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('le', other);
  }

  /** Kleene AND: false wins over null. */
  and<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('and', other);
  }
  /** Kleene OR: true wins over null. */
  or<O extends Operand>(other: O): Bool<NullOf<T> | OperandNull<O>> {
    return this.binary('or', other);
  }
  not(): Bool<NullOf<T>> {
    return this.unary('not');
  }

  isNull(): Bool<never> {
    return this.unary('isNull');
  }
  isNotNull(): Bool<never> {
    return this.unary('isNotNull');
  }
  /** Floats only (other types are an ExpressionTypeError, as in Polars); null stays null. */
  isNan(): Bool<NullOf<T>> {
    return this.unary('isNan');
  }
  /** Floats only; null stays null. */
  isNotNan(): Bool<NullOf<T>> {
    return this.unary('isNotNan');
  }
  /** Neither NaN nor ±Infinity; floats only; null stays null. */
  isFinite(): Bool<NullOf<T>> {
    return this.unary('isFinite');
  }
  /** ±Infinity; floats only; null stays null. */
  isInfinite(): Bool<NullOf<T>> {
    return this.unary('isInfinite');
  }
  /** Nulls replaced by `value` (an expression or a literal): `coalesce(this, value)`, with its type promotion. */
  fillNull<O extends Operand>(value: O): FillOf<NonNullable<T>, D, O> {
    return new Expr({ kind: 'coalesce', args: [this.node, nodeOf(value, 'fillNull(value)')] }) as FillOf<NonNullable<T>, D, O>;
  }
  /** NaN replaced by `value` (which may be null); floats only. */
  fillNan<O extends Operand>(value: O): FillOf<T, D, O> {
    const replacement = nodeOf(value, 'fillNan(value)');
    return new Expr({ kind: 'when', branches: [{ cond: { kind: 'unary', op: 'isNan', arg: this.node }, then: replacement }], otherwise: this.node }) as FillOf<
      T,
      D,
      O
    >;
  }
  /** Null where the value equals `value` (SQL's NULLIF; NaN equals nothing), else the value. */
  nullIf(value: Operand): Expr<T | null, D> {
    const other = nodeOf(value, 'nullIf(value)');
    return new Expr({
      kind: 'when',
      branches: [{ cond: { kind: 'binary', op: 'eq', left: this.node, right: other }, then: { kind: 'lit', value: null } }],
      otherwise: this.node,
    });
  }
  isIn(values: readonly LiteralValue[]): Bool<NullOf<T>> {
    return new Expr({ kind: 'isIn', arg: this.node, values: arrayOf(literal)(values, 'isIn(values)') });
  }
  /** Inclusive on both ends. */
  between<L extends Operand, H extends Operand>(low: L, high: H): Bool<NullOf<T> | OperandNull<L> | OperandNull<H>> {
    nodeOf(low, 'between(low)');
    nodeOf(high, 'between(high)');
    return this.ge(low).and(this.le(high));
  }

  /**
   * Values read back as the target's JS type: int64 as bigint, date as Date; null stays null. `to` is a
   * dtype or `{ dtype, ...parameters }`. Strict (the default) raises where a value does not fit the target
   * (CastError, or ArithmeticOverflowError for an integer out of range); `{ strict: false }` gives null there.
   */
  cast<To extends DType | TypeSpec, S extends boolean = true>(
    to: To,
    options?: { readonly strict?: S },
  ): Typed<To extends TypeSpec ? To['dtype'] : To, NullOf<T> | (true extends S ? never : null)> {
    const spec = typeSpec(to, 'cast(to)');
    const strict = castOptions(options, 'cast(options)').strict ?? true;
    return new Expr({ kind: 'cast', arg: this.node, to: spec, strict });
  }
  abs(): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return this.unary('abs');
  }
  floor(): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return this.unary('floor');
  }
  ceil(): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return this.unary('ceil');
  }
  /** Round half away from zero to `decimals` places. */
  round(decimals = 0): Typed<Extract<D, NumericDType>, NullOf<T>> {
    return new Expr({ kind: 'round', arg: this.node, decimals: decimalPlaces(decimals, 'round(decimals)') });
  }

  startsWith(prefix: string): Bool<NullOf<T>> {
    return this.match('startsWith', prefix);
  }
  endsWith(suffix: string): Bool<NullOf<T>> {
    return this.match('endsWith', suffix);
  }
  contains(substring: string): Bool<NullOf<T>> {
    return this.match('contains', substring);
  }
  lower(): Typed<'utf8', NullOf<T>> {
    return this.unary('lower');
  }
  upper(): Typed<'utf8', NullOf<T>> {
    return this.unary('upper');
  }
  /** Length in UTF-16 code units, as JS strings count it. */
  length(): Typed<'int32', NullOf<T>> {
    return this.unary('length');
  }
  private match(op: StringMatchOp, text: string): Bool<NullOf<T>> {
    return new Expr({ kind: 'match', op, arg: this.node, pattern: pattern(text, `${op}(pattern)`) });
  }

  count(): Typed<'int32', never> {
    return this.aggregate('count');
  }
  countAll(): Typed<'int32', never> {
    return this.aggregate('countAll');
  }
  /** Floats sum in float64 (number), integers and booleans in int64 (bigint); null over no values. */
  sum(): Typed<SumDType<D>, null> {
    return this.aggregate('sum');
  }
  mean(): Typed<'float64', null> {
    return this.aggregate('mean');
  }
  min(): Expr<Known<T, D> | null, D> {
    return this.aggregate('min');
  }
  max(): Expr<Known<T, D> | null, D> {
    return this.aggregate('max');
  }
  median(): Typed<'float64', null> {
    return this.aggregate('median');
  }
  /** Sample standard deviation (n − 1); null below two values. */
  std(): Typed<'float64', null> {
    return this.aggregate('std');
  }
  /** Sample variance (n − 1); null below two values. */
  var(): Typed<'float64', null> {
    return this.aggregate('var');
  }
  first(): Expr<Known<T, D> | null, D> {
    return this.aggregate('first');
  }
  last(): Expr<Known<T, D> | null, D> {
    return this.aggregate('last');
  }
  nUnique(): Typed<'int32', never> {
    return this.aggregate('nUnique');
  }
  corr(other: AnyExpr): Typed<'float64', null> {
    return new Expr({ kind: 'agg', op: 'corr', arg: this.node, arg2: exprArg(other, 'corr(other)').node });
  }
}

/**
 * A column by name. Outside a frame its type is unknown unless given: `col<number>('x')` (int32, float32 or
 * float64), `col<number, 'float64'>('x')`; `Model.col('x')` and `frame.col('x')` take it from the frame.
 */
export function col<T = unknown, D extends DType = DTypeOf<T>>(name: string): Expr<T, D> {
  if (typeof name !== 'string' || name.length === 0) fail('col(name)', name, 'a non-empty string');
  return new Expr<T, D>({ kind: 'col', name });
}

/** A literal; beside an expression it takes that expression's type when it fits exactly (see bind.ts). */
export function lit<V extends LiteralValue>(value: V): Expr<V, LiteralDType<V>> {
  return new Expr<V, LiteralDType<V>>({ kind: 'lit', value: literal(value, 'lit(value)') as V });
}

/** Number of rows in each group (or the frame): `countAll()` without a column. */
export function countRows(): Expr<number, 'int32'> {
  return new Expr<number, 'int32'>({ kind: 'agg', op: 'countAll', arg: null });
}

/** The first non-null argument; null only where every argument is. Numeric arguments promote to one type. */
export function coalesce<E extends readonly AnyExpr[]>(...args: E): Expr<NonNullable<ValuesOf<E>> | AllNull<E>, DTypesOf<E>> {
  if (args.length === 0) fail('coalesce(...exprs)', args.length, 'at least one expression');
  return new Expr({ kind: 'coalesce', args: args.map((a, i) => exprArg(a, `coalesce(...exprs)[${i}]`).node) });
}

/**
 * The dtypes a `when` branch or `otherwise` value contributes. The binder unifies every branch to one type
 * (numbers promote, literals adapt), so the result's type is over the union of the branches' types.
 */
type BranchDType<O> = O extends Expr<unknown, infer X> ? X : O extends null ? never : O extends LiteralValue ? LiteralDType<O> : never;

/** `when(cond).then(a).when(cond2).then(b).otherwise(c)`; without `otherwise` the result is null. */
export function when(cond: AnyExpr): WhenBuilder<never, never> {
  return new WhenBuilder([], exprArg(cond, 'when(condition)').node);
}

/** `when(cond)` waiting for its `then`; `D` and `N` are the dtypes and null part of the branches so far. */
export class WhenBuilder<D extends DType = DType, N = null> {
  constructor(
    private readonly branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[],
    private readonly pending: ExprNode,
  ) {}
  then<O extends Operand>(value: O): ChainedWhen<D | BranchDType<O>, N | OperandNull<O>> {
    return new ChainedWhen([...this.branches, { cond: this.pending, then: nodeOf(value, 'when(...).then(value)') }]);
  }
}

/** A `when` chain: an expression that is null where no branch matched, until `otherwise` gives a value there. */
export class ChainedWhen<D extends DType = DType, N = null> extends Expr<JsOf<D> | null, D> {
  private readonly branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[];
  constructor(branches: readonly { readonly cond: ExprNode; readonly then: ExprNode }[]) {
    super({ kind: 'when', branches, otherwise: { kind: 'lit', value: null } });
    this.branches = branches;
  }
  when(cond: AnyExpr): WhenBuilder<D, N> {
    return new WhenBuilder(this.branches, exprArg(cond, 'when(...).when(condition)').node);
  }
  otherwise<O extends Operand>(value: O): Typed<D | BranchDType<O>, N | OperandNull<O>> {
    return new Expr({ kind: 'when', branches: this.branches, otherwise: nodeOf(value, 'when(...).otherwise(value)') });
  }
}
