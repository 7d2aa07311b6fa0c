// Type checking: binds an expression to a schema, resolving literal types from context, inserting
// promotions as casts, and throwing UnknownColumnError / ExpressionTypeError before anything runs.

import { ExpressionTypeError, UnknownColumnError } from '../errors.js';
import type { DType, Field } from '../model/types.js';
import { bindDt, describeDt } from './dt-bind.js';
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
    case 'dt':
      return describeDt(node.op, node.params, describe(node.arg));
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

export function castTo(expr: BoundExpr, dtype: DType): BoundExpr {
  if (expr.type.dtype === dtype) return expr;
  if (expr.kind === 'lit')
    return bindLiteralAs(expr.value, dtype, expr.type.nullable) ?? { kind: 'cast', arg: expr, strict: true, type: { dtype, nullable: expr.type.nullable } };
  return { kind: 'cast', arg: expr, strict: true, type: { dtype, nullable: expr.type.nullable } };
}

/** A literal of the given dtype, or undefined when the value cannot be represented exactly. */
function bindLiteralAs(value: LiteralValue | number | bigint, dtype: DType, nullable = false): BoundExpr | undefined {
  const type = { dtype, nullable: nullable || value === null };
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
    case 'date':
      return value instanceof Date ? { kind: 'lit', value: value.getTime(), type } : undefined;
  }
}

/** The natural type of a literal with no context. */
function defaultLiteral(value: LiteralValue): BoundExpr {
  if (value === null) return { kind: 'lit', value: null, type: { dtype: 'float64', nullable: true } };
  if (typeof value === 'number') return bindLiteralAs(value, 'int32') ?? { kind: 'lit', value, type: { dtype: 'float64', nullable: false } };
  if (typeof value === 'bigint') return { kind: 'lit', value: BigInt.asIntN(64, value), type: { dtype: 'int64', nullable: false } };
  if (typeof value === 'string') return { kind: 'lit', value, type: { dtype: 'utf8', nullable: false } };
  if (typeof value === 'boolean') return { kind: 'lit', value, type: { dtype: 'bool', nullable: false } };
  return { kind: 'lit', value: value.getTime(), type: { dtype: 'date', nullable: false } };
}

/** A literal placed beside an expression of type `hint`: adopt the hint when exact, else widen. */
function literalNear(value: LiteralValue, hint: DType): BoundExpr {
  const exact = bindLiteralAs(value, hint);
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
    return [literalNear(left.value, r.type.dtype), r];
  }
  if (isBareLiteral(right) && !isBareLiteral(left)) {
    const l = bindExpr(left, scope);
    return [l, literalNear(right.value, l.type.dtype)];
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
  if (dtype === undefined) dtype = defaultLiteral((anchor as Extract<ExprNode, { kind: 'lit' }>).value).type.dtype;
  for (const n of nodes) {
    if (n.kind === 'lit' && n.value !== null) dtype = unifyTypes(dtype, literalNear(n.value, dtype).type.dtype, scope, owner);
  }
  const target = dtype;
  let next = 0;
  return nodes.map((n) => {
    if (n.kind !== 'lit') return castTo(nonLiteral[next++]!, target);
    if (n.value === null) return { kind: 'lit', value: null, type: { dtype: target, nullable: true } };
    return castTo(literalNear(n.value, target), target);
  });
}

function unifyTypes(a: DType, b: DType, scope: BindScope, owner: ExprNode): DType {
  if (a === b) return a;
  if (isNumeric(a) && isNumeric(b)) return promote(a, b);
  return fail(scope, owner, `branches have incompatible types ${a} and ${b}`);
}

const CASTS: Record<DType, readonly DType[]> = {
  int32: ['int32', 'int64', 'float32', 'float64', 'bool', 'date'],
  int64: ['int32', 'int64', 'float32', 'float64', 'bool', 'date'],
  float32: ['int32', 'int64', 'float32', 'float64', 'bool'],
  float64: ['int32', 'int64', 'float32', 'float64', 'bool', 'date'],
  bool: ['int32', 'int64', 'float32', 'float64', 'bool'],
  utf8: ['utf8'],
  date: ['int64', 'float64', 'date'],
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
      const { unit, timeZone } = field;
      // The unit and zone travel with the type: the dt operations read them.
      return {
        kind: 'col',
        name: node.name,
        type: { dtype: field.dtype, nullable: field.nullable, ...(unit ? { unit } : {}), ...(timeZone ? { timeZone } : {}) },
      };
    }
    case 'lit':
      return defaultLiteral(node.value);
    case 'binary': {
      const [l, r] = bindPair(node.left, node.right, scope);
      const nullable = l.type.nullable || r.type.nullable;
      const ld = l.type.dtype;
      const rd = r.type.dtype;
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
        case 'floor':
        case 'ceil':
        case 'sign':
          if (!isNumeric(d)) fail(scope, node, `${node.op} needs a number, got ${d}`);
          return { kind: 'unary', op: node.op, arg, type: arg.type };
        case 'sqrt':
        case 'exp':
        case 'log':
        case 'log10':
        case 'log1p':
          if (!isNumeric(d)) fail(scope, node, `${node.op} needs a number, got ${d}`);
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
      if (!isNumeric(arg.type.dtype)) fail(scope, node, `round needs a number, got ${arg.type.dtype}`);
      return { kind: 'round', arg, decimals: node.decimals, type: arg.type };
    }
    case 'isIn': {
      const bare = bindExpr(node.arg, scope);
      const literals = node.values.map((v) => {
        if (v === null) fail(scope, node, 'isIn values cannot contain null; use isNull()');
        const bound = literalNear(v, bare.type.dtype);
        const fits = bound.type.dtype === bare.type.dtype || (isNumeric(bound.type.dtype) && isNumeric(bare.type.dtype));
        if (!fits) fail(scope, node, `value ${String(v)} does not match ${bare.type.dtype}`);
        return bound;
      });
      const dtype = literals.reduce((d, l) => promote(d, l.type.dtype), bare.type.dtype);
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
        type: { dtype: otherwise.type.dtype, nullable },
      };
    }
    case 'cast': {
      const arg = bindExpr(node.arg, scope);
      const to = node.to.dtype;
      if (!CASTS[arg.type.dtype].includes(to)) fail(scope, node, `cannot cast ${arg.type.dtype} to ${to}`);
      if (arg.type.dtype === to) return arg;
      // A non-strict cast gives null where the value does not fit, so its result may be null.
      return { kind: 'cast', arg, strict: node.strict, type: { dtype: to, nullable: arg.type.nullable || !node.strict } };
    }
    case 'coalesce': {
      const args = unify(node.args, scope, node);
      return { kind: 'coalesce', args, type: { dtype: args[0]!.type.dtype, nullable: args.every((a) => a.type.nullable) } };
    }
    case 'dt':
      return bindDt(node, { bind: (n) => bindExpr(n, scope), fail: (why) => fail(scope, node, why) });
    case 'agg':
      return fail(scope, node, 'an aggregation is only allowed inside groupBy().agg()');
  }
}

export function aggResultType(op: AggOp, arg: ExprType | null): ExprType {
  switch (op) {
    case 'count':
    case 'countAll':
    case 'nUnique':
      return { dtype: 'int32', nullable: false };
    case 'sum':
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
      return { dtype: arg!.dtype, nullable: true };
  }
}

const AGG_INPUTS: Record<AggOp, (d: DType) => boolean> = {
  count: () => true,
  countAll: () => true,
  nUnique: () => true,
  first: () => true,
  last: () => true,
  sum: (d) => isNumeric(d) || d === 'bool',
  mean: (d) => isNumeric(d) || d === 'bool',
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
    case 'dt':
      return containsAgg(node.arg);
    case 'when':
      return node.branches.some((b) => containsAgg(b.cond) || containsAgg(b.then)) || containsAgg(node.otherwise);
    case 'coalesce':
      return node.args.some(containsAgg);
  }
}
