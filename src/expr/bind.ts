// Type checking: binds an expression to a schema, resolving literal types from context, inserting
// promotions as casts, and throwing UnknownColumnError / ExpressionTypeError before anything runs.

import { ExpressionTypeError, UnknownColumnError } from '../errors.js';
import { fitsPrecision, MAX_DECIMAL_PRECISION, numberToDecimal, parseDecimal, POW10, rescaleExact } from '../model/decimal.js';
import { DEFAULT_UNIT, isTemporal, isUnitTemporal, paramsOf, typeName } from '../model/dtype.js';
import type { DType, Field, TypeSpec } from '../model/types.js';
import { bindStr, describeStr, isDynamicString } from './str-bind.js';
import { convertUnit } from '../model/temporal.js';
import { CASTS_TO_TEMPORAL, finerUnit, involvesTemporal, settleUnit, TEMPORAL_CASTS, temporalArithmetic, temporalLiteral } from './temporal.js';
import type { AggOp, BoundAgg, BoundExpr, ExprNode, ExprType, LiteralValue } from './types.js';

export interface BindScope {
  readonly fields: readonly Field[];
  /** Where the expression appears, for error messages ("filter", "withColumns(total)"). */
  readonly context: string;
}

const NUMERIC: ReadonlySet<DType> = new Set(['int32', 'int64', 'float32', 'float64']);
export const isNumeric = (d: DType): boolean => NUMERIC.has(d);
const isInteger = (d: DType): boolean => d === 'int32' || d === 'int64';
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float64';
  return 'int64';
}

function describe(node: ExprNode): string {
  switch (node.kind) {
    case 'col':
      return `col('${node.name}')`;
    case 'lit':
      return `lit(${typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value)})`;
    case 'binary':
      // The public spelling: clip(low, high) is two nodes, log(base) one.
      if (node.op === 'clipLow') return `${describe(node.left)}.clip(${describe(node.right)}, null)`;
      if (node.op === 'clipHigh') return `${describe(node.left)}.clip(null, ${describe(node.right)})`;
      return `${describe(node.left)}.${node.op === 'logBase' ? 'log' : node.op}(${describe(node.right)})`;
    case 'unary':
      return `${describe(node.arg)}.${node.op}()`;
    case 'agg':
      return node.arg ? `${describe(node.arg)}.${node.op}(${node.arg2 ? describe(node.arg2) : ''})` : `${node.op}()`;
    case 'str':
      return describeStr(node.op, node.params, describe(node.arg), node.args.map(describe));
    default:
      return node.kind;
  }
}

function fail(scope: BindScope, node: ExprNode, why: string): never {
  throw new ExpressionTypeError(`${scope.context}: ${describe(node)}: ${why}`);
}

/**
 * A literal clip bound for an integer input of `dtype`: rounded inward and saturated to the type's range;
 * NaN, null and a bound that excludes nothing (−∞ low, +∞ high) are no bound. Undefined for non-numbers.
 */
function integerClipBound(value: LiteralValue, low: boolean, dtype: DType): BoundExpr | undefined {
  const none: BoundExpr = { kind: 'lit', value: null, type: { dtype, nullable: true } };
  if (value === null) return none;
  if (typeof value !== 'number' && typeof value !== 'bigint') return undefined;
  if (typeof value === 'number' && (Number.isNaN(value) || value === (low ? -Infinity : Infinity))) return none;
  const [min, max] = dtype === 'int32' ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : [-(2n ** 63n), 2n ** 63n - 1n];
  let bound: bigint;
  if (typeof value === 'bigint') bound = value;
  else if (value === Infinity) bound = max;
  else if (value === -Infinity) bound = min;
  else bound = BigInt(low ? Math.ceil(value) : Math.floor(value));
  bound = bound < min ? min : bound > max ? max : bound;
  return { kind: 'lit', value: dtype === 'int32' ? Number(bound) : bound, type: { dtype, nullable: false } };
}

/** The decimal type an integer dtype widens to exactly: every int32 has at most 10 digits, every int64 19. */
function integerAsDecimal(dtype: DType): TypeSpec {
  return { dtype: 'decimal', precision: dtype === 'int32' ? 10 : 19, scale: 0 };
}

/**
 * A literal as an exact decimal of the fewest digits that hold it: a number by its shortest round-trip text
 * (0.1 is exactly 0.1), a bigint as an integer, a string parsed. Undefined when it is none of those, or
 * needs more than 38 digits.
 */
export function decimalLiteral(value: LiteralValue): Extract<BoundExpr, { kind: 'lit' }> | undefined {
  if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'string') return undefined;
  for (let scale = 0; scale <= MAX_DECIMAL_PRECISION; scale++) {
    const unscaled = typeof value === 'bigint' ? value * POW10[scale]! : typeof value === 'number' ? numberToDecimal(value, scale) : parseDecimal(value, scale);
    if (unscaled === 'syntax' || unscaled === 'range') return undefined;
    if (unscaled === 'scale') continue;
    const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
    const precision = Math.max(digits, scale, 1);
    if (precision > MAX_DECIMAL_PRECISION) return undefined;
    return { kind: 'lit', value: unscaled, type: { dtype: 'decimal', precision, scale, nullable: false } };
  }
  return undefined;
}

/**
 * The common decimal type of operands that are decimals or integers: the largest scale and enough integer
 * digits for every operand, capped at 38 digits (a value past that raises when it is computed).
 */
function commonDecimal(types: readonly ExprType[]): TypeSpec {
  let scale = 0;
  let integerDigits = 1;
  for (const t of types) {
    const d = t.dtype === 'decimal' ? t : integerAsDecimal(t.dtype);
    scale = Math.max(scale, d.scale ?? 0);
    integerDigits = Math.max(integerDigits, (d.precision ?? MAX_DECIMAL_PRECISION) - (d.scale ?? 0));
  }
  return { dtype: 'decimal', precision: Math.min(MAX_DECIMAL_PRECISION, integerDigits + scale), scale };
}

/** Either side a decimal, the other a decimal or an integer: they meet as decimals. */
function decimalPair(l: BoundExpr, r: BoundExpr): boolean {
  const fits = (d: DType): boolean => d === 'decimal' || isInteger(d);
  return (l.type.dtype === 'decimal' || r.type.dtype === 'decimal') && fits(l.type.dtype) && fits(r.type.dtype);
}

/** An integer operand of decimal arithmetic as the decimal that holds it; a decimal as it is. */
function asDecimal(expr: BoundExpr): BoundExpr {
  return expr.type.dtype === 'decimal' ? expr : castTo(expr, integerAsDecimal(expr.type.dtype));
}

/**
 * The result type of decimal add, sub and mul, as SQL and Polars give it: add and sub keep the larger scale
 * with one more integer digit than the wider operand; mul adds scales and precisions. Capped at 38 digits.
 */
function decimalArithmeticType(op: 'add' | 'sub' | 'mul', l: ExprType, r: ExprType, nullable: boolean): ExprType | string {
  const [lp, ls, rp, rs] = [l.precision ?? MAX_DECIMAL_PRECISION, l.scale ?? 0, r.precision ?? MAX_DECIMAL_PRECISION, r.scale ?? 0];
  if (op === 'mul') {
    if (ls + rs > MAX_DECIMAL_PRECISION) return `the product's scale ${ls + rs} exceeds ${MAX_DECIMAL_PRECISION}; round or cast an operand first`;
    return { dtype: 'decimal', precision: Math.min(MAX_DECIMAL_PRECISION, Math.max(lp + rp, ls + rs)), scale: ls + rs, nullable };
  }
  const scale = Math.max(ls, rs);
  return { dtype: 'decimal', precision: Math.min(MAX_DECIMAL_PRECISION, Math.max(lp - ls, rp - rs) + scale + 1), scale, nullable };
}

/** Same dtype and parameters: no cast between them. */
function sameType(a: TypeSpec, b: TypeSpec): boolean {
  return a.dtype === b.dtype && a.unit === b.unit && a.timeZone === b.timeZone && a.precision === b.precision && a.scale === b.scale;
}

export function castTo(expr: BoundExpr, target: DType | TypeSpec): BoundExpr {
  const spec: TypeSpec = typeof target === 'string' ? { dtype: target } : target;
  if (spec.dtype === 'decimal') {
    if (expr.type.dtype === 'decimal' && expr.type.precision === spec.precision && expr.type.scale === spec.scale) return expr;
    const type: ExprType = { ...spec, nullable: expr.type.nullable };
    if (expr.kind === 'lit' && expr.value === null) return { kind: 'lit', value: null, type: { ...type, nullable: true } };
    if (expr.kind === 'lit' && expr.type.dtype === 'decimal') {
      const rescaled = rescaleExact(expr.value as bigint, expr.type.scale ?? 0, spec.scale ?? 0);
      if (rescaled !== null && fitsPrecision(rescaled, spec.precision ?? MAX_DECIMAL_PRECISION)) return { kind: 'lit', value: rescaled, type };
    }
    return { kind: 'cast', arg: expr, strict: true, type };
  }
  // A bare dtype names a type without parameters: a temporal expression already of that dtype keeps its own.
  if (typeof target === 'string' ? expr.type.dtype === target : sameType(expr.type, spec)) return expr;
  const type: ExprType = { dtype: spec.dtype, ...paramsOf(spec), nullable: expr.type.nullable };
  if (expr.kind === 'lit' && expr.type.dtype === spec.dtype && isTemporal(spec.dtype)) {
    // A bound temporal literal recast to another unit (or time zone) keeps its instant when the unit can hold it.
    const value = expr.value;
    if (typeof value !== 'bigint' || !isUnitTemporal(spec.dtype)) return { kind: 'lit', value, type };
    const converted = convertUnit(value, expr.type.unit ?? DEFAULT_UNIT, spec.unit ?? DEFAULT_UNIT);
    return converted === null || BigInt.asIntN(64, converted) !== converted
      ? { kind: 'cast', arg: expr, strict: true, type }
      : { kind: 'lit', value: converted, type };
  }
  if (expr.kind === 'lit' && expr.type.dtype !== 'decimal')
    return bindLiteralAs(expr.value, spec, expr.type.nullable) ?? { kind: 'cast', arg: expr, strict: true, type };
  return { kind: 'cast', arg: expr, strict: true, type };
}

/** A literal of the given type, or undefined when the value cannot be represented exactly. */
function bindLiteralAs(value: LiteralValue | number | bigint, target: DType | TypeSpec, nullable = false): BoundExpr | undefined {
  const spec: TypeSpec = typeof target === 'string' ? { dtype: target } : target;
  const dtype = spec.dtype;
  const type: ExprType = { dtype, ...paramsOf(spec), nullable: nullable || value === null };
  if (value === null) return { kind: 'lit', value: null, type };
  switch (dtype) {
    case 'int32':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? { kind: 'lit', value, type } : undefined;
    case 'int64':
      if (typeof value === 'bigint') return BigInt.asIntN(64, value) === value ? { kind: 'lit', value, type } : undefined;
      return typeof value === 'number' && Number.isSafeInteger(value) ? { kind: 'lit', value: BigInt(value), type } : undefined;
    case 'float64':
    case 'float32': {
      const n = typeof value === 'bigint' && BigInt(Number(value)) === value ? Number(value) : value;
      if (typeof n !== 'number') return undefined;
      return dtype === 'float64' || Math.fround(n) === n ? { kind: 'lit', value: n, type } : undefined;
    }
    case 'bool':
      return typeof value === 'boolean' ? { kind: 'lit', value, type } : undefined;
    case 'utf8':
      return typeof value === 'string' ? { kind: 'lit', value, type } : undefined;
    case 'timestamp':
    case 'date':
    case 'time':
    case 'duration': {
      // A user's number or bigint is not an instant: it needs an explicit cast (or a Date / ISO string).
      if (typeof value === 'bigint' || typeof value === 'number') return undefined;
      const converted = temporalLiteral(value, { ...spec, ...(isUnitTemporal(dtype) && spec.unit === undefined ? { unit: 'us' } : {}) });
      return converted === undefined
        ? undefined
        : { kind: 'lit', value: converted, type: { ...type, ...(isUnitTemporal(dtype) ? { unit: spec.unit ?? DEFAULT_UNIT } : {}) } };
    }
    case 'decimal':
      // A decimal literal needs its parameters: castTo and literalNear bind one (decimalLiteral).
      return undefined;
  }
}

/** The natural type of a literal with no context. */
function defaultLiteral(value: LiteralValue): BoundExpr {
  if (value === null) return { kind: 'lit', value: null, type: { dtype: 'float64', nullable: true } };
  if (typeof value === 'number') return bindLiteralAs(value, 'int32') ?? { kind: 'lit', value, type: { dtype: 'float64', nullable: false } };
  if (typeof value === 'bigint') return { kind: 'lit', value: BigInt.asIntN(64, value), type: { dtype: 'int64', nullable: false } };
  if (typeof value === 'string') return { kind: 'lit', value, type: { dtype: 'utf8', nullable: false } };
  if (typeof value === 'boolean') return { kind: 'lit', value, type: { dtype: 'bool', nullable: false } };
  return { kind: 'lit', value: BigInt(value.getTime()), type: { dtype: 'timestamp', unit: 'ms', nullable: false } };
}

/** A literal placed beside an expression of type `hint`: adopt the hint when exact, else widen. */
function literalNear(value: LiteralValue, hintType: DType | TypeSpec): BoundExpr {
  const hint = typeof hintType === 'string' ? hintType : hintType.dtype;
  // Beside a decimal a number, bigint or numeric string is an exact decimal; NaN and ±Infinity stay floats.
  if (hint === 'decimal') return decimalLiteral(value) ?? defaultLiteral(value);
  const exact = bindLiteralAs(value, hintType);
  if (exact) return exact;
  if (typeof value === 'number' && isNumeric(hint)) {
    if (Number.isInteger(value) && isInteger(hint)) return bindLiteralAs(value, 'int64') ?? { kind: 'lit', value, type: { dtype: 'float64', nullable: false } };
    return { kind: 'lit', value, type: { dtype: 'float64', nullable: false } };
  }
  return defaultLiteral(value);
}

function isBareLiteral(node: ExprNode): node is Extract<ExprNode, { kind: 'lit' }> {
  return node.kind === 'lit';
}

/** Binds two operands that must end up comparable: a literal adapts to the other side. */
function bindPair(left: ExprNode, right: ExprNode, scope: BindScope): [BoundExpr, BoundExpr] {
  if (isBareLiteral(left) && !isBareLiteral(right)) {
    const r = bindExpr(right, scope);
    return [literalNear(left.value, r.type), r];
  }
  if (isBareLiteral(right) && !isBareLiteral(left)) {
    const l = bindExpr(left, scope);
    return [l, literalNear(right.value, l.type)];
  }
  return [bindExpr(left, scope), bindExpr(right, scope)];
}

/** Unifies branch results (when, coalesce): numeric types promote, null literals adopt the type. */
function unify(nodes: readonly ExprNode[], scope: BindScope, owner: ExprNode): BoundExpr[] {
  const anchor = nodes.find((n) => !(n.kind === 'lit' && n.value === null));
  if (!anchor) return nodes.map(() => ({ kind: 'lit', value: null, type: { dtype: 'float64', nullable: true } }));
  const nonLiteral = nodes.filter((n) => n.kind !== 'lit').map((n) => bindExpr(n, scope));
  let dtype: DType | undefined;
  for (const b of nonLiteral) dtype = dtype === undefined ? b.type.dtype : unifyTypes(dtype, b.type.dtype, scope, owner);
  dtype ??= defaultLiteral((anchor as Extract<ExprNode, { kind: 'lit' }>).value).type.dtype;
  for (const n of nodes) {
    if (n.kind === 'lit' && n.value !== null) dtype = unifyTypes(dtype, literalNear(n.value, dtype).type.dtype, scope, owner);
  }
  let target = unifiedParams(dtype, nonLiteral, anchor);
  if (dtype === 'decimal') {
    const literals = nodes.flatMap((n) => (n.kind === 'lit' && n.value !== null ? [literalNear(n.value, 'decimal').type] : []));
    target = commonDecimal([...nonLiteral.map((b) => b.type), ...literals]);
  }
  let next = 0;
  return nodes.map((n) => {
    if (n.kind !== 'lit') return castTo(nonLiteral[next++]!, target);
    if (n.value === null) return { kind: 'lit', value: null, type: { ...target, nullable: true } };
    return castTo(literalNear(n.value, target), target);
  });
}

/** The parameters of unified temporal branches: the finest unit among them, the first one's time zone. */
function unifiedParams(dtype: DType, bound: readonly BoundExpr[], anchor: ExprNode): TypeSpec {
  if (!isTemporal(dtype)) return { dtype };
  const types = bound.length > 0 ? bound.map((b) => b.type) : [defaultLiteral((anchor as Extract<ExprNode, { kind: 'lit' }>).value).type];
  if (!isUnitTemporal(dtype)) return { dtype };
  const unit = types.reduce((u, t) => finerUnit(u, t.unit), types[0]!.unit ?? DEFAULT_UNIT);
  const timeZone = types[0]!.timeZone;
  return { dtype, unit, ...(timeZone === undefined ? {} : { timeZone }) };
}

function unifyTypes(a: DType, b: DType, scope: BindScope, owner: ExprNode): DType {
  if (a === b) return a;
  if ((a === 'decimal' && isInteger(b)) || (b === 'decimal' && isInteger(a))) return 'decimal';
  if (a === 'decimal' || b === 'decimal')
    return fail(scope, owner, `branches have incompatible types ${a} and ${b}; cast the float to a decimal or the decimal to a float`);
  if (isNumeric(a) && isNumeric(b)) return promote(a, b);
  return fail(scope, owner, `branches have incompatible types ${a} and ${b}`);
}

/** The casts each dtype takes; temporal ones come from expr/temporal.ts. */
const CASTS: Record<DType, readonly DType[]> = {
  int32: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'decimal', ...(CASTS_TO_TEMPORAL.int32 ?? [])],
  int64: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'decimal', ...(CASTS_TO_TEMPORAL.int64 ?? [])],
  float32: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'decimal'],
  float64: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'decimal'],
  bool: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8'],
  // Text parses (src/engines/shared/strings.ts parseText, model/decimal.ts for decimals, model/temporal.ts for
  // temporal values); a strict cast of text that is not a value raises CastError.
  utf8: ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'decimal', ...(CASTS_TO_TEMPORAL.utf8 ?? [])],
  // decimal -> utf8 would make strings at run time, which the dictionary-coded utf8 columns cannot hold yet.
  decimal: ['int32', 'int64', 'float32', 'float64', 'decimal'],
  ...TEMPORAL_CASTS,
};

export function bindExpr(node: ExprNode, scope: BindScope): BoundExpr {
  switch (node.kind) {
    case 'col': {
      const field = scope.fields.find((f) => f.name === node.name);
      if (!field)
        throw new UnknownColumnError(
          [node.name],
          scope.fields.map((f) => f.name),
          scope.context,
        );
      return { kind: 'col', name: node.name, type: { dtype: field.dtype, ...paramsOf(field), nullable: field.nullable } };
    }
    case 'lit':
      return defaultLiteral(node.value);
    case 'binary': {
      const [l, r] = bindPair(node.left, node.right, scope);
      const nullable = l.type.nullable || r.type.nullable;
      const ld = l.type.dtype;
      const rd = r.type.dtype;
      if (involvesTemporal(l.type, r.type)) return bindTemporalBinary(node, l, r, scope);
      if (ld === 'decimal' || rd === 'decimal') return bindDecimalBinary(node, l, r, nullable, scope);
      switch (node.op) {
        case 'add':
        case 'sub':
        case 'mul':
        case 'mod': {
          if (!isNumeric(ld) || !isNumeric(rd)) fail(scope, node, `${node.op} needs numeric operands, got ${ld} and ${rd}`);
          const dtype = promote(ld, rd);
          const canBeNull = nullable || (node.op === 'mod' && isInteger(dtype));
          return { kind: 'binary', op: node.op, left: castTo(l, dtype), right: castTo(r, dtype), type: { dtype, nullable: canBeNull } };
        }
        case 'floorDiv': {
          if (!isNumeric(ld) || !isNumeric(rd)) fail(scope, node, `floorDiv needs numeric operands, got ${ld} and ${rd}`);
          const dtype = promote(ld, rd);
          // Integer division by zero is null, as Polars gives it; INT_MIN by -1 overflows like mul.
          return { kind: 'binary', op: 'floorDiv', left: castTo(l, dtype), right: castTo(r, dtype), type: { dtype, nullable: nullable || isInteger(dtype) } };
        }
        case 'pow':
        case 'logBase':
          if (!isNumeric(ld) || !isNumeric(rd)) fail(scope, node, `${node.op === 'pow' ? 'pow' : 'log'} needs numeric operands, got ${ld} and ${rd}`);
          return { kind: 'binary', op: node.op, left: castTo(l, 'float64'), right: castTo(r, 'float64'), type: { dtype: 'float64', nullable } };
        case 'clipLow':
        case 'clipHigh': {
          // The bound takes the input's type; a null bound is no bound. A literal bound of an integer input is
          // rounded inward (a low bound up, a high bound down) and saturates to the type's range, so
          // clip(0.5, Infinity) of int32 is clip(1, null); a column bound is cast, as any operand is.
          if (!isNumeric(ld) || !isNumeric(rd)) fail(scope, node, `clip needs numeric operands, got ${ld} and ${rd}`);
          const literalBound = node.right.kind === 'lit' && isInteger(ld) ? integerClipBound(node.right.value, node.op === 'clipLow', ld) : undefined;
          return { kind: 'binary', op: node.op, left: l, right: literalBound ?? castTo(r, ld), type: l.type };
        }
        case 'div': {
          if (!isNumeric(ld) || !isNumeric(rd)) fail(scope, node, `div needs numeric operands, got ${ld} and ${rd}`);
          const dtype = ld === 'float32' && rd === 'float32' ? 'float32' : 'float64';
          return { kind: 'binary', op: 'div', left: castTo(l, dtype), right: castTo(r, dtype), type: { dtype, nullable } };
        }
        case 'eq':
        case 'ne':
        case 'gt':
        case 'ge':
        case 'lt':
        case 'le': {
          if (isNumeric(ld) && isNumeric(rd)) {
            const dtype = promote(ld, rd);
            return { kind: 'binary', op: node.op, left: castTo(l, dtype), right: castTo(r, dtype), type: { dtype: 'bool', nullable } };
          }
          if (ld !== rd) fail(scope, node, `cannot compare ${ld} with ${rd}`);
          return { kind: 'binary', op: node.op, left: l, right: r, type: { dtype: 'bool', nullable } };
        }
        case 'and':
        case 'or':
          if (ld !== 'bool' || rd !== 'bool') fail(scope, node, `${node.op} needs boolean operands, got ${ld} and ${rd}`);
          return { kind: 'binary', op: node.op, left: l, right: r, type: { dtype: 'bool', nullable } };
      }
    }
    case 'unary': {
      const arg = bindExpr(node.arg, scope);
      const d = arg.type.dtype;
      switch (node.op) {
        case 'isNull':
        case 'isNotNull':
          return { kind: 'unary', op: node.op, arg, type: { dtype: 'bool', nullable: false } };
        case 'not':
          if (d !== 'bool') fail(scope, node, `not needs a boolean, got ${d}`);
          return { kind: 'unary', op: 'not', arg, type: arg.type };
        case 'neg':
        case 'abs':
          if (!isNumeric(d) && d !== 'decimal') fail(scope, node, `${node.op} needs a number, got ${d}`);
          return { kind: 'unary', op: node.op, arg, type: arg.type };
        case 'floor':
        case 'ceil':
        case 'sign':
          if (d === 'decimal') fail(scope, node, `${node.op} is not defined on decimals; use round(0), or cast to float64`);
          if (!isNumeric(d)) fail(scope, node, `${node.op} needs a number, got ${d}`);
          return { kind: 'unary', op: node.op, arg, type: arg.type };
        case 'sqrt':
        case 'exp':
        case 'log':
        case 'log10':
        case 'log1p':
          if (!isNumeric(d) && d !== 'decimal') fail(scope, node, `${node.op} needs a number, got ${d}`);
          return { kind: 'unary', op: node.op, arg: castTo(arg, 'float64'), type: { dtype: 'float64', nullable: arg.type.nullable } };
        case 'isNan':
        case 'isNotNan':
        case 'isFinite':
        case 'isInfinite':
          // As in Polars: only floats can be NaN or infinite, and asking of anything else is a type error.
          if (d !== 'float32' && d !== 'float64') fail(scope, node, `${node.op} needs a float, got ${d}`);
          return { kind: 'unary', op: node.op, arg, type: { dtype: 'bool', nullable: arg.type.nullable } };
        case 'lower':
        case 'upper':
          if (d !== 'utf8') fail(scope, node, `${node.op} needs a string, got ${d}`);
          return { kind: 'unary', op: node.op, arg, type: arg.type };
        case 'length':
          if (d !== 'utf8') fail(scope, node, `length needs a string, got ${d}`);
          return { kind: 'unary', op: 'length', arg, type: { dtype: 'int32', nullable: arg.type.nullable } };
      }
    }
    case 'round': {
      const arg = bindExpr(node.arg, scope);
      if (!isNumeric(arg.type.dtype) && arg.type.dtype !== 'decimal') fail(scope, node, `round needs a number, got ${arg.type.dtype}`);
      return { kind: 'round', arg, decimals: node.decimals, type: arg.type };
    }
    case 'isIn': {
      const bare = bindExpr(node.arg, scope);
      if (bare.type.dtype === 'decimal') return bindDecimalIsIn(node, bare, scope);
      const literals = node.values.map((v) => {
        if (v === null) fail(scope, node, 'isIn values cannot contain null; use isNull()');
        const bound = literalNear(v, bare.type.dtype);
        const fits = bound.type.dtype === bare.type.dtype || (isNumeric(bound.type.dtype) && isNumeric(bare.type.dtype));
        if (!fits) fail(scope, node, `value ${String(v)} does not match ${bare.type.dtype}`);
        return bound;
      });
      const dtype = literals.reduce<DType>((d, l) => promote(d, l.type.dtype), bare.type.dtype);
      const values = literals.map((l) => (castTo(l, dtype) as Extract<BoundExpr, { kind: 'lit' }>).value as number | bigint | string | boolean);
      return { kind: 'isIn', arg: castTo(bare, dtype), values, type: { dtype: 'bool', nullable: bare.type.nullable } };
    }
    case 'match': {
      const arg = bindExpr(node.arg, scope);
      if (arg.type.dtype !== 'utf8') fail(scope, node, `${node.op} needs a string, got ${arg.type.dtype}`);
      return { kind: 'match', op: node.op, arg, pattern: node.pattern, type: { dtype: 'bool', nullable: arg.type.nullable } };
    }
    case 'when': {
      const conds = node.branches.map((b) => {
        const c = bindExpr(b.cond, scope);
        if (c.type.dtype !== 'bool') fail(scope, node, `when() condition must be boolean, got ${c.type.dtype}`);
        return c;
      });
      const values = unify([...node.branches.map((b) => b.then), node.otherwise], scope, node);
      const otherwise = values[values.length - 1]!;
      const nullable = values.some((v) => v.type.nullable);
      return {
        kind: 'when',
        branches: conds.map((cond, i) => ({ cond, then: values[i]! })),
        otherwise,
        type: { dtype: otherwise.type.dtype, ...paramsOf(otherwise.type), nullable },
      };
    }
    case 'cast': {
      const arg = bindExpr(node.arg, scope);
      const to = settleUnit(node.to, arg.type);
      if (!CASTS[arg.type.dtype].includes(to.dtype)) fail(scope, node, `cannot cast ${typeName(arg.type)} to ${typeName(to)}`);
      if (sameType(arg.type, to)) return arg;
      // A non-strict cast gives null where the value does not fit, so its result may be null.
      return { kind: 'cast', arg, strict: node.strict, type: { ...to, nullable: arg.type.nullable || !node.strict } };
    }
    case 'coalesce': {
      const args = unify(node.args, scope, node);
      return { kind: 'coalesce', args, type: { dtype: args[0]!.type.dtype, ...paramsOf(args[0]!.type), nullable: args.every((a) => a.type.nullable) } };
    }
    case 'fillNull': {
      if (node.strategy === 'zero' || node.strategy === 'one') {
        const arg = bindExpr(node.arg, scope);
        if (!isNumeric(arg.type.dtype)) fail(scope, node, `strategy '${node.strategy}' fills numbers, not ${arg.type.dtype}`);
        return bindExpr({ kind: 'coalesce', args: [node.arg, { kind: 'lit', value: node.strategy === 'zero' ? 0 : 1 }] }, scope);
      }
      // The frame lowers whole-column fills into a FillNull node before binding; one left here is in a
      // place with no column to read (an aggregation, a join key).
      return fail(scope, node, `fillNull with strategy '${node.strategy}' reads the whole column: use it in select, withColumns or filter`);
    }
    case 'str':
      return bindStr(node, {
        bind: (n) => bindExpr(n, scope),
        fail: (why) => fail(scope, node, why),
        toUtf8: (expr) => {
          if (!isNumeric(expr.type.dtype) && expr.type.dtype !== 'bool') fail(scope, node, `concatStr cannot write ${expr.type.dtype} as text`);
          return { kind: 'cast', arg: expr, strict: true, type: { dtype: 'utf8', nullable: expr.type.nullable } };
        },
      });
    case 'agg':
      return fail(scope, node, 'an aggregation is only allowed inside groupBy().agg()');
  }
}

/**
 * A binary operation with a decimal side. With a decimal or integer on the other side, add, sub and mul
 * are exact decimals (decimalArithmeticType) and comparisons compare exactly; with a float the decimal
 * is converted to float64, as Polars does. div, pow and log divide in float64; mod, floorDiv and clip are
 * not defined on decimals.
 */
function bindDecimalBinary(node: Extract<ExprNode, { kind: 'binary' }>, l: BoundExpr, r: BoundExpr, nullable: boolean, scope: BindScope): BoundExpr {
  const ld = l.type.dtype;
  const rd = r.type.dtype;
  const numeric = (d: DType): boolean => d === 'decimal' || isNumeric(d);
  switch (node.op) {
    case 'add':
    case 'sub':
    case 'mul': {
      if (!numeric(ld) || !numeric(rd)) return fail(scope, node, `${node.op} needs numeric operands, got ${ld} and ${rd}`);
      if (!decimalPair(l, r))
        return { kind: 'binary', op: node.op, left: castTo(l, 'float64'), right: castTo(r, 'float64'), type: { dtype: 'float64', nullable } };
      const [left, right] = [asDecimal(l), asDecimal(r)];
      const type = decimalArithmeticType(node.op, left.type, right.type, nullable);
      if (typeof type === 'string') return fail(scope, node, type);
      return { kind: 'binary', op: node.op, left, right, type };
    }
    case 'div':
    case 'pow':
    case 'logBase':
      if (!numeric(ld) || !numeric(rd)) return fail(scope, node, `${node.op === 'logBase' ? 'log' : node.op} needs numeric operands, got ${ld} and ${rd}`);
      return { kind: 'binary', op: node.op, left: castTo(l, 'float64'), right: castTo(r, 'float64'), type: { dtype: 'float64', nullable } };
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      if (!numeric(ld) || !numeric(rd)) return fail(scope, node, `cannot compare ${ld} with ${rd}`);
      if (!decimalPair(l, r))
        return { kind: 'binary', op: node.op, left: castTo(l, 'float64'), right: castTo(r, 'float64'), type: { dtype: 'bool', nullable } };
      return { kind: 'binary', op: node.op, left: asDecimal(l), right: asDecimal(r), type: { dtype: 'bool', nullable } };
    default:
      return fail(scope, node, `${node.op} is not defined on decimals (${ld} and ${rd}); cast to float64 or int64 first`);
  }
}

/** isIn over a decimal: each value as an exact decimal at the argument's scale; one that has more digits can equal no cell. */
function bindDecimalIsIn(node: Extract<ExprNode, { kind: 'isIn' }>, arg: BoundExpr, scope: BindScope): BoundExpr {
  const values: bigint[] = [];
  for (const v of node.values) {
    if (v === null) fail(scope, node, 'isIn values cannot contain null; use isNull()');
    const literal = decimalLiteral(v);
    if (literal === undefined) fail(scope, node, `value ${String(v)} does not match decimal`);
    const rescaled = rescaleExact(literal.value as bigint, literal.type.scale ?? 0, arg.type.scale ?? 0);
    if (rescaled !== null) values.push(rescaled);
  }
  return { kind: 'isIn', arg, values, type: { dtype: 'bool', nullable: arg.type.nullable } };
}

/**
 * A binary operation with a temporal side: comparisons need the same dtype (their units aligned to the
 * finer one), arithmetic follows temporalArithmetic. Both compile to int64 (int32 for dates) operations on
 * operands cast to the result's unit.
 */
function bindTemporalBinary(node: Extract<ExprNode, { kind: 'binary' }>, l: BoundExpr, r: BoundExpr, scope: BindScope): BoundExpr {
  const nullable = l.type.nullable || r.type.nullable;
  const ld = l.type.dtype;
  const rd = r.type.dtype;
  switch (node.op) {
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      if (ld !== rd) fail(scope, node, `cannot compare ${typeName(l.type)} with ${typeName(r.type)}`);
      const common: TypeSpec = isUnitTemporal(ld)
        ? { dtype: ld, unit: finerUnit(l.type.unit, r.type.unit), ...(l.type.timeZone === undefined ? {} : { timeZone: l.type.timeZone }) }
        : { dtype: ld };
      return {
        kind: 'binary',
        op: node.op,
        left: castTo(l, common),
        right: castTo(r, { ...common, ...paramsOf(r.type), unit: common.unit! }),
        type: { dtype: 'bool', nullable },
      };
    }
    case 'add':
    case 'sub':
    case 'mul': {
      const result = temporalArithmetic(node.op, l.type, r.type);
      if (result === undefined) return fail(scope, node, `${node.op} is not defined for ${typeName(l.type)} and ${typeName(r.type)}`);
      const unit = result.unit!;
      // Each side is brought to the result's unit: a timestamp (or a date, at midnight) in it, a duration in it, an integer factor to int64.
      const operand = (e: BoundExpr): BoundExpr => {
        const d = e.type.dtype;
        if (d === 'int32' || d === 'int64') return castTo(e, 'int64');
        if (d === 'date' && result.dtype === 'duration') return castTo(e, { dtype: 'timestamp', unit });
        if (d === 'date') return castTo(e, { dtype: 'timestamp', unit });
        return castTo(e, { dtype: d, ...paramsOf(e.type), unit });
      };
      return { kind: 'binary', op: node.op, left: operand(l), right: operand(r), type: { ...result, nullable } };
    }
    default:
      return fail(scope, node, `${node.op} is not defined for ${typeName(l.type)} and ${typeName(r.type)}`);
  }
}

export function aggResultType(op: AggOp, arg: ExprType | null): ExprType {
  switch (op) {
    case 'count':
    case 'countAll':
    case 'nUnique':
      return { dtype: 'int32', nullable: false };
    case 'sum':
      // A decimal sum keeps the scale with all 38 digits, as Polars gives it: exact, and raises past them.
      if (arg!.dtype === 'decimal') return { dtype: 'decimal', precision: MAX_DECIMAL_PRECISION, scale: arg!.scale ?? 0, nullable: true };
      return { dtype: arg!.dtype === 'float32' || arg!.dtype === 'float64' ? 'float64' : 'int64', nullable: true };
    case 'mean':
    case 'median':
    case 'std':
    case 'var':
    case 'corr':
      return { dtype: 'float64', nullable: true };
    case 'min':
    case 'max':
    case 'first':
    case 'last':
      return { dtype: arg!.dtype, ...paramsOf(arg!), nullable: true };
  }
}

const AGG_INPUTS: Record<AggOp, (d: DType) => boolean> = {
  count: () => true,
  countAll: () => true,
  nUnique: () => true,
  first: () => true,
  last: () => true,
  sum: (d) => isNumeric(d) || d === 'bool' || d === 'decimal',
  mean: (d) => isNumeric(d) || d === 'bool' || d === 'decimal',
  median: isNumeric,
  std: isNumeric,
  var: isNumeric,
  corr: isNumeric,
  min: (d) => d !== 'bool',
  max: (d) => d !== 'bool',
};

/**
 * Binds one aggregation. `keyed` is false for a whole-frame aggregation, whose single group may be empty:
 * there every aggregate but the counts can be null even over a non-nullable input.
 */
export function bindAgg(name: string, node: Extract<ExprNode, { kind: 'agg' }>, scope: BindScope, keyed: boolean): BoundAgg {
  const arg = node.arg === null ? null : bindExpr(node.arg, scope);
  if (arg === null && node.op !== 'countAll') fail(scope, node, `${node.op} needs an argument`);
  if (arg && !AGG_INPUTS[node.op](arg.type.dtype)) fail(scope, node, `${node.op} does not apply to ${arg.type.dtype}`);
  // Aggregation kernels read strings as codes of a dictionary known before they run; text made per row
  // (concatStr, a number cast to utf8) has none until a projection materialises it.
  if (arg && isDynamicString(arg))
    fail(scope, node, `${node.op} of a string computed per row (concatStr or a cast to utf8): compute it with withColumns() first, then aggregate the column`);
  const type = aggResultType(node.op, arg?.type ?? null);
  // std, var and corr are null below two values even in a non-empty group.
  const neverNull = type.nullable && keyed && arg !== null && !arg.type.nullable && node.op !== 'std' && node.op !== 'var' && node.op !== 'corr';
  const bound: BoundAgg = { name, op: node.op, arg, type: neverNull ? { ...type, nullable: false } : type };
  if ((node.op === 'corr') !== (node.arg2 !== undefined))
    fail(scope, node, node.op === 'corr' ? 'corr needs a second argument' : `${node.op} takes one argument`);
  if (node.arg2 === undefined) return bound;
  const arg2 = bindExpr(node.arg2, scope);
  if (!AGG_INPUTS[node.op](arg2.type.dtype)) fail(scope, node, `${node.op} does not apply to ${arg2.type.dtype}`);
  return { ...bound, arg2 };
}

export function containsAgg(node: ExprNode): boolean {
  switch (node.kind) {
    case 'agg':
      return true;
    case 'col':
    case 'lit':
      return false;
    case 'binary':
      return containsAgg(node.left) || containsAgg(node.right);
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'fillNull':
      return containsAgg(node.arg);
    case 'when':
      return node.branches.some((b) => containsAgg(b.cond) || containsAgg(b.then)) || containsAgg(node.otherwise);
    case 'coalesce':
      return node.args.some(containsAgg);
    case 'str':
      return containsAgg(node.arg) || node.args.some(containsAgg);
  }
}
