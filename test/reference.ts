// A deliberately simple reference implementation of the frame API over plain arrays of row objects,
// evaluated one row at a time and written from the documented semantics, not from the engine. Property
// tests run the same verbs here and on real frames and compare; nothing in src/ imports this file.

import { ArithmeticOverflowError, ExpressionTypeError, UnknownColumnError } from '../src/errors.js';
import type { AggOp, ExprNode, LiteralValue } from '../src/expr/types.js';
import type { DType } from '../src/model/types.js';
import { referenceDt } from './reference-dt.js';

/** One cell: int32/float32/float64 as number, int64 as bigint, bool, utf8 as string, date as Date. */
export type RefValue = number | bigint | string | boolean | Date | null;
export type RefRow = Record<string, RefValue>;

export interface RefField {
  readonly name: string;
  readonly dtype: DType;
  /**
   * The values depend on floating-point summation order (float sums and means, variances), here and in the
   * engine alike, so equal inputs may differ in the last bits: fine to compare with a tolerance, not to
   * group, sort, join or filter by. Set on such aggregation outputs and on whatever is computed from them.
   */
  readonly inexact?: boolean;
}

function field(name: string, dtype: DType, inexact: boolean): RefField {
  return inexact ? { name, dtype, inexact } : { name, dtype };
}

function readsInexact(reads: Iterable<string>, fields: readonly RefField[]): boolean {
  for (const c of reads) if (fields.find((f) => f.name === c)?.inexact) return true;
  return false;
}

/**
 * Rounding allowance of a cell, carried on its row under a symbol. Float aggregations whose result depends
 * on summation order (the engine sums per morsel, then adds partials) get the error bound of that order,
 * n·ε·Σ|x|, when it is wider than the default tolerance; a value computed from such a cell is unchecked
 * (Infinity) beyond its JS type and null-ness. Every other cell has none.
 */
export const SLACK = Symbol('slack');

type Slack = Record<string, number>;

export function slackOf(row: RefRow, column: string): number {
  return (row as { [SLACK]?: Slack })[SLACK]?.[column] ?? 0;
}

function withSlack(row: RefRow, slack: Slack): RefRow {
  if (Object.keys(slack).length > 0) (row as { [SLACK]?: Slack })[SLACK] = slack;
  return row;
}

/** Default comparison tolerance, below which no slack is recorded. */
export function defaultTolerance(value: number): number {
  return 1e-9 * Math.abs(value) + 1e-9;
}

const EPSILON = 2 ** -53;

/** Anything with an expression node: the library's Expr, or a bare `{ node }`. */
export interface HasNode {
  readonly node: ExprNode;
}

export interface RefSortOptions {
  readonly descending?: boolean | readonly boolean[];
  readonly nullsLast?: boolean | readonly boolean[];
}

export type RefJoinHow = 'inner' | 'left' | 'semi' | 'anti';

export type RefJoinOptions =
  | { readonly on: string | readonly string[]; readonly how?: RefJoinHow; readonly suffix?: string }
  | { readonly leftOn: string | readonly string[]; readonly rightOn: string | readonly string[]; readonly how?: RefJoinHow; readonly suffix?: string };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const isNumeric = (d: DType): boolean => d === 'int32' || d === 'int64' || d === 'float32' || d === 'float64';
const isInteger = (d: DType): boolean => d === 'int32' || d === 'int64';
const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

function typeError(message: string): never {
  throw new ExpressionTypeError(message);
}

function overflow(what: string, dtype: DType): never {
  throw new ArithmeticOverflowError(`reference: ${what} overflowed ${dtype}`);
}

/** int32 <int64 <float64; float32 with anything else gives float64. */
function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64' || a === 'float32' || b === 'float32') return 'float64';
  return 'int64';
}

/** Int32 results are stored in an Int32Array, which has no -0. */
function int32(v: number): number {
  if (!(v >= INT32_MIN && v <= INT32_MAX)) overflow('int32 arithmetic', 'int32');
  return v === 0 ? 0 : v;
}

function int64(v: bigint): bigint {
  if (BigInt.asIntN(64, v) !== v) overflow('int64 arithmetic', 'int64');
  return v;
}

/** Converts a non-null value of dtype `from` to dtype `to` (promotions and explicit casts). */
function convert(v: RefValue, from: DType, to: DType): RefValue {
  if (v === null || from === to) return v;
  const asNumber = (x: RefValue): number =>
    typeof x === 'bigint' ? Number(x) : typeof x === 'boolean' ? (x ? 1 : 0) : x instanceof Date ? x.getTime() : (x as number);
  switch (to) {
    case 'float64':
      return asNumber(v);
    case 'float32':
      return Math.fround(asNumber(v));
    case 'int32': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'bigint') {
        if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX)) overflow('cast', 'int32');
        return Number(v);
      }
      return int32(Math.trunc(asNumber(v)));
    }
    case 'int64': {
      if (typeof v === 'boolean') return v ? 1n : 0n;
      if (typeof v === 'bigint') return v;
      const n = Math.trunc(asNumber(v));
      if (!Number.isFinite(n)) overflow('cast', 'int64');
      return int64(BigInt(n));
    }
    case 'bool':
      return typeof v === 'bigint' ? v !== 0n : asNumber(v) !== 0;
    case 'date': {
      const n = Math.trunc(asNumber(v));
      if (!Number.isFinite(n)) overflow('cast', 'date');
      return new Date(n);
    }
    case 'utf8':
      return typeError(`reference: cannot cast ${from} to utf8`);
  }
}

/** A literal represented exactly in `dtype`, or undefined when it cannot be. */
function literalAs(value: LiteralValue, dtype: DType): RefValue | undefined {
  if (value === null) return null;
  switch (dtype) {
    case 'int32':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? (value === 0 ? 0 : value) : undefined;
    case 'int64':
      if (typeof value === 'bigint') return BigInt.asIntN(64, value) === value ? value : undefined;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
    case 'float64':
    case 'float32': {
      const n = typeof value === 'bigint' && BigInt(Number(value)) === value ? Number(value) : value;
      if (typeof n !== 'number') return undefined;
      return dtype === 'float64' || Math.fround(n) === n ? n : undefined;
    }
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'utf8':
      return typeof value === 'string' ? value : undefined;
    case 'date':
      return value instanceof Date ? new Date(value.getTime()) : undefined;
  }
}

/** A compiled expression: its type, and how to evaluate it at one row. */
interface Compiled {
  readonly dtype: DType;
  readonly at: (row: RefRow) => RefValue;
}

/** Columns an expression reads (aggregations included), for slack propagation. */
function columnsRead(node: ExprNode, into: Set<string> = new Set()): Set<string> {
  if (node.kind === 'col') into.add(node.name);
  else if (node.kind === 'agg') {
    if (node.arg) columnsRead(node.arg, into);
    if (node.arg2) columnsRead(node.arg2, into);
  } else mapChildren(node, (child) => (columnsRead(child, into), child));
  return into;
}

/** Slack of a value computed at `row` from `reads`: none, or unchecked when any input is inexact. */
function derivedSlack(row: RefRow, reads: Iterable<string>): number {
  for (const c of reads) if (slackOf(row, c) > 0) return Number.POSITIVE_INFINITY;
  return 0;
}

function constant(dtype: DType, value: RefValue): Compiled {
  return { dtype, at: () => value };
}

/** A literal with no context: small integers are int32, other numbers float64, null is a float64 null. */
function defaultLiteral(value: LiteralValue): Compiled {
  if (value === null) return constant('float64', null);
  if (typeof value === 'number') {
    const i = literalAs(value, 'int32');
    return i === undefined ? constant('float64', value) : constant('int32', i);
  }
  if (typeof value === 'bigint') return constant('int64', BigInt.asIntN(64, value));
  if (typeof value === 'string') return constant('utf8', value);
  if (typeof value === 'boolean') return constant('bool', value);
  return constant('date', new Date(value.getTime()));
}

/** A literal beside an expression of type `hint`: it takes the hint when exact, else it widens. */
function literalNear(value: LiteralValue, hint: DType): Compiled {
  const exact = literalAs(value, hint);
  if (exact !== undefined) return constant(hint, exact);
  if (typeof value === 'number' && isNumeric(hint)) {
    if (Number.isInteger(value) && isInteger(hint)) {
      const big = literalAs(value, 'int64');
      return big === undefined ? constant('float64', value) : constant('int64', big);
    }
    return constant('float64', value);
  }
  return defaultLiteral(value);
}

/** `c` converted to `dtype`; a non-strict conversion gives null where a strict one raises. */
function as(c: Compiled, dtype: DType, strict = true): Compiled {
  if (c.dtype === dtype) return c;
  if (strict) return { dtype, at: (row) => convert(c.at(row), c.dtype, dtype) };
  return {
    dtype,
    at: (row) => {
      try {
        return convert(c.at(row), c.dtype, dtype);
      } catch (error) {
        if (error instanceof ArithmeticOverflowError) return null;
        throw error;
      }
    },
  };
}

const isLit = (n: ExprNode): n is Extract<ExprNode, { kind: 'lit' }> => n.kind === 'lit';

function compilePair(left: ExprNode, right: ExprNode, fields: readonly RefField[]): [Compiled, Compiled] {
  if (isLit(left) && !isLit(right)) {
    const r = compileExpr(right, fields);
    return [literalNear(left.value, r.dtype), r];
  }
  if (isLit(right) && !isLit(left)) {
    const l = compileExpr(left, fields);
    return [l, literalNear(right.value, l.dtype)];
  }
  return [compileExpr(left, fields), compileExpr(right, fields)];
}

function unifyTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (isNumeric(a) && isNumeric(b)) return promote(a, b);
  return typeError(`reference: branches of types ${a} and ${b}`);
}

/** Branch values of when/coalesce: numeric types promote, null literals take the common type. */
function unify(nodes: readonly ExprNode[], fields: readonly RefField[]): Compiled[] {
  const isNullLit = (n: ExprNode): boolean => n.kind === 'lit' && n.value === null;
  const anchor = nodes.find((n) => !isNullLit(n));
  if (anchor === undefined) return nodes.map(() => constant('float64', null));
  const compiled = new Map<ExprNode, Compiled>();
  let dtype: DType | undefined;
  for (const n of nodes) {
    if (n.kind === 'lit') continue;
    const c = compileExpr(n, fields);
    compiled.set(n, c);
    dtype = dtype === undefined ? c.dtype : unifyTypes(dtype, c.dtype);
  }
  dtype ??= defaultLiteral((anchor as Extract<ExprNode, { kind: 'lit' }>).value).dtype;
  for (const n of nodes) if (n.kind === 'lit' && n.value !== null) dtype = unifyTypes(dtype, literalNear(n.value, dtype).dtype);
  const target = dtype;
  return nodes.map((n) => {
    if (n.kind !== 'lit') return as(compiled.get(n)!, target);
    if (n.value === null) return constant(target, null);
    return as(literalNear(n.value, target), target);
  });
}

/** Total order of non-null values of one dtype: NaN after every number, strings by UTF-16 units. */
export function compareValues(a: RefValue, b: RefValue): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an && bn ? 0 : an ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (a instanceof Date && b instanceof Date) return compareValues(a.getTime(), b.getTime());
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`reference: cannot order ${String(a)} and ${String(b)}`);
}

/** Identity of a value for grouping, uniqueness and joins: NaN equals NaN, -0 equals 0, int32 equals int64. */
export function identityOf(v: RefValue): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `n${v === 0 ? 0 : v}`;
  if (typeof v === 'bigint') return `n${v}`;
  if (typeof v === 'string') return `s${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return `b${v}`;
  return `d${v.getTime()}`;
}

function tupleIdentity(values: readonly RefValue[]): string {
  return JSON.stringify(values.map(identityOf));
}

function arithmetic(op: 'add' | 'sub' | 'mul' | 'mod', a: RefValue, b: RefValue, dtype: DType): RefValue {
  if (a === null || b === null) return null;
  if (dtype === 'int64') {
    const x = a as bigint;
    const y = b as bigint;
    if (op === 'mod') return y === 0n ? null : x % y;
    return int64(op === 'add' ? x + y : op === 'sub' ? x - y : x * y);
  }
  const x = a as number;
  const y = b as number;
  if (dtype === 'int32') {
    if (op === 'mod') return y === 0 ? null : int32(x % y);
    return int32(op === 'add' ? x + y : op === 'sub' ? x - y : x * y);
  }
  const r = op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : x % y;
  return dtype === 'float32' ? Math.fround(r) : r;
}

/** Quotient rounded toward −∞: integers by zero give null and may overflow; floats follow IEEE. */
function floorDivide(a: RefValue, b: RefValue, dtype: DType): RefValue {
  if (a === null || b === null) return null;
  if (dtype === 'int64') {
    const x = a as bigint;
    const y = b as bigint;
    if (y === 0n) return null;
    const q = x / y;
    return int64(q * y !== x && x < 0n !== y < 0n ? q - 1n : q);
  }
  const x = a as number;
  const y = b as number;
  if (dtype === 'int32') {
    if (y === 0) return null;
    // Exact: through BigInt, not through a float quotient.
    const q = BigInt(x) / BigInt(y);
    return int32(Number(q * BigInt(y) !== BigInt(x) && x < 0 !== y < 0 ? q - 1n : q));
  }
  return dtype === 'float32' ? Math.floor(Math.fround(x / y)) : Math.floor(x / y);
}

function comparison(op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le', a: RefValue, b: RefValue): boolean | null {
  if (a === null || b === null) return null;
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'gt':
      return (x as number) > (y as number);
    case 'ge':
      return (x as number) >= (y as number);
    case 'lt':
      return (x as number) < (y as number);
    case 'le':
      return (x as number) <= (y as number);
  }
}

function kleene(op: 'and' | 'or', a: RefValue, b: RefValue): boolean | null {
  if (op === 'and') {
    if (a === false || b === false) return false;
    return a === null || b === null ? null : true;
  }
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
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

/** Type-checks `node` against `fields` (throwing as the library does) and returns its evaluator. */
export function compileExpr(node: ExprNode, fields: readonly RefField[]): Compiled {
  switch (node.kind) {
    case 'col': {
      const field = fields.find((f) => f.name === node.name);
      if (!field)
        throw new UnknownColumnError(
          [node.name],
          fields.map((f) => f.name),
          'reference',
        );
      const name = node.name;
      return { dtype: field.dtype, at: (row) => row[name] ?? null };
    }
    case 'lit':
      return defaultLiteral(node.value);
    case 'binary': {
      const [l, r] = compilePair(node.left, node.right, fields);
      const op = node.op;
      switch (op) {
        case 'add':
        case 'sub':
        case 'mul':
        case 'mod': {
          if (!isNumeric(l.dtype) || !isNumeric(r.dtype)) typeError(`reference: ${op} of ${l.dtype} and ${r.dtype}`);
          const dtype = promote(l.dtype, r.dtype);
          const a = as(l, dtype);
          const b = as(r, dtype);
          return { dtype, at: (row) => arithmetic(op, a.at(row), b.at(row), dtype) };
        }
        case 'floorDiv': {
          if (!isNumeric(l.dtype) || !isNumeric(r.dtype)) typeError(`reference: floorDiv of ${l.dtype} and ${r.dtype}`);
          const dtype = promote(l.dtype, r.dtype);
          const a = as(l, dtype);
          const b = as(r, dtype);
          return { dtype, at: (row) => floorDivide(a.at(row), b.at(row), dtype) };
        }
        case 'pow':
        case 'logBase': {
          if (!isNumeric(l.dtype) || !isNumeric(r.dtype)) typeError(`reference: ${op} of ${l.dtype} and ${r.dtype}`);
          const a = as(l, 'float64');
          const b = as(r, 'float64');
          return {
            dtype: 'float64',
            at: (row) => {
              const x = a.at(row) as number | null;
              const y = b.at(row) as number | null;
              if (x === null || y === null) return null;
              return op === 'pow' ? x ** y : Math.log(x) / Math.log(y);
            },
          };
        }
        case 'clipLow':
        case 'clipHigh': {
          if (!isNumeric(l.dtype) || !isNumeric(r.dtype)) typeError(`reference: clip of ${l.dtype} and ${r.dtype}`);
          const literal = node.right.kind === 'lit' ? node.right.value : undefined;
          const integer = l.dtype === 'int32' || l.dtype === 'int64';
          const bound =
            integer && (typeof literal === 'number' || typeof literal === 'bigint' || literal === null)
              ? saturatedBound(literal, op === 'clipLow', l.dtype)
              : as(r, l.dtype);
          return {
            dtype: l.dtype,
            at: (row) => {
              // Both sides are evaluated, as for any binary operator: a bound whose cast overflows raises even beside a null.
              const x = l.at(row) as number | bigint | null;
              const y = bound.at(row) as number | bigint | null;
              if (x === null || y === null) return x;
              return (op === 'clipLow' ? x < y : x > y) ? y : x;
            },
          };
        }
        case 'div': {
          if (!isNumeric(l.dtype) || !isNumeric(r.dtype)) typeError(`reference: div of ${l.dtype} and ${r.dtype}`);
          const dtype = l.dtype === 'float32' && r.dtype === 'float32' ? 'float32' : 'float64';
          const a = as(l, dtype);
          const b = as(r, dtype);
          return {
            dtype,
            at: (row) => {
              const x = a.at(row);
              const y = b.at(row);
              if (x === null || y === null) return null;
              const q = (x as number) / (y as number);
              return dtype === 'float32' ? Math.fround(q) : q;
            },
          };
        }
        case 'eq':
        case 'ne':
        case 'gt':
        case 'ge':
        case 'lt':
        case 'le': {
          let a = l;
          let b = r;
          if (isNumeric(l.dtype) && isNumeric(r.dtype)) {
            const dtype = promote(l.dtype, r.dtype);
            a = as(l, dtype);
            b = as(r, dtype);
          } else if (l.dtype !== r.dtype) typeError(`reference: cannot compare ${l.dtype} with ${r.dtype}`);
          return { dtype: 'bool', at: (row) => comparison(op, a.at(row), b.at(row)) };
        }
        case 'and':
        case 'or':
          if (l.dtype !== 'bool' || r.dtype !== 'bool') typeError(`reference: ${op} of ${l.dtype} and ${r.dtype}`);
          return { dtype: 'bool', at: (row) => kleene(op, l.at(row), r.at(row)) };
      }
    }
    case 'unary': {
      const a = compileExpr(node.arg, fields);
      const d = a.dtype;
      const lift = (f: (v: never) => RefValue, dtype: DType = d): Compiled => ({
        dtype,
        at: (row) => {
          const v = a.at(row);
          return v === null ? null : f(v as never);
        },
      });
      switch (node.op) {
        case 'isNull':
          return { dtype: 'bool', at: (row) => a.at(row) === null };
        case 'isNotNull':
          return { dtype: 'bool', at: (row) => a.at(row) !== null };
        case 'not':
          if (d !== 'bool') typeError(`reference: not of ${d}`);
          return lift((v: boolean) => !v);
        case 'neg':
          if (!isNumeric(d)) typeError(`reference: neg of ${d}`);
          if (d === 'int32') return lift((v: number) => int32(-v));
          if (d === 'int64') return lift((v: bigint) => int64(-v));
          return lift((v: number) => -v);
        case 'abs':
          if (!isNumeric(d)) typeError(`reference: abs of ${d}`);
          if (d === 'int32') return lift((v: number) => int32(Math.abs(v)));
          if (d === 'int64') return lift((v: bigint) => int64(v < 0n ? -v : v));
          return lift((v: number) => Math.abs(v));
        case 'floor':
        case 'ceil': {
          if (!isNumeric(d)) typeError(`reference: ${node.op} of ${d}`);
          if (!isFloat(d)) return a;
          const f = node.op === 'floor' ? Math.floor : Math.ceil;
          return lift((v: number) => f(v));
        }
        case 'sign':
          if (!isNumeric(d)) typeError(`reference: sign of ${d}`);
          if (d === 'int64') return lift((v: bigint) => (v > 0n ? 1n : v < 0n ? -1n : 0n));
          // -0 and NaN are their own signs; int32 has no -0.
          return lift((v: number) => (v > 0 ? 1 : v < 0 ? -1 : d === 'int32' ? 0 : v));
        case 'sqrt':
        case 'exp':
        case 'log':
        case 'log10':
        case 'log1p': {
          if (!isNumeric(d)) typeError(`reference: ${node.op} of ${d}`);
          const f = { sqrt: Math.sqrt, exp: Math.exp, log: Math.log, log10: Math.log10, log1p: Math.log1p }[node.op];
          const x = as(a, 'float64');
          return {
            dtype: 'float64',
            at: (row) => {
              const v = x.at(row) as number | null;
              return v === null ? null : f(v);
            },
          };
        }
        case 'isNan':
        case 'isNotNan':
        case 'isFinite':
        case 'isInfinite': {
          if (!isFloat(d)) typeError(`reference: ${node.op} of ${d}`);
          const test = {
            isNan: Number.isNaN,
            isNotNan: (v: number) => !Number.isNaN(v),
            isFinite: Number.isFinite,
            isInfinite: (v: number) => Math.abs(v) === Infinity,
          }[node.op];
          return lift((v: number) => test(v), 'bool');
        }
        case 'lower':
        case 'upper': {
          if (d !== 'utf8') typeError(`reference: ${node.op} of ${d}`);
          const upper = node.op === 'upper';
          return lift((v: string) => (upper ? v.toUpperCase() : v.toLowerCase()));
        }
        case 'length':
          if (d !== 'utf8') typeError(`reference: length of ${d}`);
          return lift((v: string) => v.length, 'int32');
      }
    }
    case 'round': {
      const a = compileExpr(node.arg, fields);
      if (!isNumeric(a.dtype)) typeError(`reference: round of ${a.dtype}`);
      if (!isFloat(a.dtype)) return a;
      const scale = 10 ** node.decimals;
      const f32 = a.dtype === 'float32';
      return {
        dtype: a.dtype,
        at: (row) => {
          const x = a.at(row) as number | null;
          if (x === null) return null;
          const r = x < 0 ? -Math.round(-x * scale) / scale : Math.round(x * scale) / scale;
          return f32 ? Math.fround(r) : r;
        },
      };
    }
    case 'isIn': {
      const bare = compileExpr(node.arg, fields);
      const literals = node.values.map((v) => {
        if (v === null) typeError('reference: isIn with null');
        const c = literalNear(v, bare.dtype);
        if (!(c.dtype === bare.dtype || (isNumeric(c.dtype) && isNumeric(bare.dtype)))) typeError(`reference: isIn value ${String(v)} for ${bare.dtype}`);
        return c;
      });
      const dtype = literals.reduce((d, l) => promote(d, l.dtype), bare.dtype);
      const a = as(bare, dtype);
      const wanted = literals.map((l) => identityOf(as(l, dtype).at({})));
      return {
        dtype: 'bool',
        at: (row) => {
          const v = a.at(row);
          return v === null ? null : wanted.includes(identityOf(v));
        },
      };
    }
    case 'match': {
      const a = compileExpr(node.arg, fields);
      if (a.dtype !== 'utf8') typeError(`reference: ${node.op} of ${a.dtype}`);
      const { op, pattern } = node;
      return {
        dtype: 'bool',
        at: (row) => {
          const v = a.at(row) as string | null;
          if (v === null) return null;
          return op === 'startsWith' ? v.startsWith(pattern) : op === 'endsWith' ? v.endsWith(pattern) : v.includes(pattern);
        },
      };
    }
    case 'when': {
      const conds = node.branches.map((b) => {
        const c = compileExpr(b.cond, fields);
        if (c.dtype !== 'bool') typeError(`reference: when condition of ${c.dtype}`);
        return c;
      });
      const values = unify([...node.branches.map((b) => b.then), node.otherwise], fields);
      const otherwise = values[values.length - 1]!;
      return {
        dtype: otherwise.dtype,
        at: (row) => {
          for (let k = 0; k < conds.length; k++) if (conds[k]!.at(row) === true) return values[k]!.at(row);
          return otherwise.at(row);
        },
      };
    }
    case 'cast': {
      const a = compileExpr(node.arg, fields);
      if (!CASTS[a.dtype].includes(node.to.dtype)) typeError(`reference: cast ${a.dtype} to ${node.to.dtype}`);
      return as(a, node.to.dtype, node.strict);
    }
    case 'dt': {
      const a = compileExpr(node.arg, fields);
      const { dtype, apply } = referenceDt(node.op, node.params, a.dtype);
      return {
        dtype,
        at: (row) => {
          const v = a.at(row);
          return v === null ? null : apply(v as Date);
        },
      };
    }
    case 'coalesce': {
      const args = unify(node.args, fields);
      return {
        dtype: args[0]!.dtype,
        at: (row) => {
          for (const a of args) {
            const v = a.at(row);
            if (v !== null) return v;
          }
          return null;
        },
      };
    }
    case 'agg':
      return typeError('reference: an aggregation outside agg()');
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

function aggType(op: AggOp, arg: DType | null): DType {
  switch (op) {
    case 'count':
    case 'countAll':
    case 'nUnique':
      return 'int32';
    case 'sum':
      return arg === 'float32' || arg === 'float64' ? 'float64' : 'int64';
    case 'mean':
    case 'median':
    case 'std':
    case 'var':
    case 'corr':
      return 'float64';
    default:
      return arg!;
  }
}

const toNumber = (v: RefValue): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number));

/** Folds the argument's values over one group's rows (`values` includes nulls, in row order). */
function aggregate(op: AggOp, values: readonly RefValue[], rows: number, argType: DType | null): { value: RefValue; slack: number } {
  const value = aggregateValue(op, values, rows, argType);
  return { value, slack: typeof value === 'number' && Number.isFinite(value) ? orderSlack(op, values, argType, value) : 0 };
}

/** The summation-order error bound of a float aggregation, when wider than the default tolerance. */
function orderSlack(op: AggOp, values: readonly RefValue[], argType: DType | null, value: number): number {
  if (argType === null || argType === 'int64') return 0;
  const xs = values.filter((v) => v !== null).map(toNumber);
  const n = xs.length;
  let bound = 0;
  if ((op === 'sum' || op === 'mean') && isFloat(argType)) {
    let magnitude = 0;
    for (const x of xs) magnitude += Math.abs(x);
    bound = (2 * n * EPSILON * magnitude) / (op === 'mean' ? n : 1);
  } else if ((op === 'var' || op === 'std') && n >= 2) {
    let squares = 0;
    for (const x of xs) squares += x * x;
    const varianceBound = (8 * n * EPSILON * squares) / (n - 1);
    if (op === 'var') bound = varianceBound;
    else {
      const variance = value * value;
      bound = Math.sqrt(variance + varianceBound) - Math.sqrt(Math.max(0, variance - varianceBound));
    }
  }
  if (Number.isNaN(bound)) return Number.POSITIVE_INFINITY;
  return bound > defaultTolerance(value) ? bound : 0;
}

function aggregateValue(op: AggOp, values: readonly RefValue[], rows: number, argType: DType | null): RefValue {
  const present = values.filter((v) => v !== null);
  switch (op) {
    case 'countAll':
      return rows;
    case 'count':
      return present.length;
    case 'nUnique':
      return new Set(present.map(identityOf)).size;
    case 'first':
      return values.length === 0 ? null : values[0]!;
    case 'last':
      return values.length === 0 ? null : values[values.length - 1]!;
    default:
      break;
  }
  if (present.length === 0) return null;
  switch (op) {
    case 'sum': {
      if (isFloat(argType!)) {
        let total = 0;
        for (const v of present) total += v as number;
        return total;
      }
      let total = 0n;
      for (const v of present) total += typeof v === 'bigint' ? v : BigInt(toNumber(v));
      if (BigInt.asIntN(64, total) !== total) overflow('sum', 'int64');
      return total;
    }
    case 'mean': {
      if (isFloat(argType!)) {
        let total = 0;
        for (const v of present) total += v as number;
        return total / present.length;
      }
      // An integer mean is its exact sum divided: whole part and remainder apart, so whole means are exact.
      let total = 0n;
      for (const v of present) total += typeof v === 'bigint' ? v : BigInt(toNumber(v));
      const n = BigInt(present.length);
      return Number(total / n) + Number(total % n) / present.length;
    }
    case 'min':
    case 'max': {
      // Ties keep the earliest value; NaN is greater than every number.
      let best = present[0]!;
      for (const v of present.slice(1)) {
        const c = compareValues(v, best);
        if (op === 'min' ? c < 0 : c > 0) best = v;
      }
      return best;
    }
    case 'median': {
      const sorted = present.map(toNumber).sort(compareValues);
      const mid = sorted.length >> 1;
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    }
    case 'var':
    case 'std': {
      if (present.length < 2) return null;
      let variance: number;
      if (argType === 'int64') variance = exactVariance(present as bigint[], 0);
      else {
        const xs = present.map(toNumber);
        if (!xs.every(Number.isFinite)) return Number.NaN;
        variance = exactVariance(xs.map(scaledToInteger), DOUBLE_SCALE_BITS);
      }
      return op === 'std' ? Math.sqrt(variance) : variance;
    }
    default:
      throw new Error(`reference: unknown aggregation ${op}`);
  }
}

// Exact sample variance. Every finite double is an integer multiple of 2^-1074, so scaled to integers the
// sums are exact BigInts and the only rounding is the final division.
const DOUBLE_SCALE_BITS = 1074;

function scaledToInteger(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // value = mantissa * 2^(exponent - 1075) for normal numbers, fraction * 2^-1074 for subnormals.
  const magnitude = exponent === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(exponent - 1);
  return bits >> 63n === 1n ? -magnitude : magnitude;
}

/** Sample variance of `values / 2^scaleBits`: (n·Σx² − (Σx)²) / (n·(n − 1)), rounded once. */
function exactVariance(values: readonly bigint[], scaleBits: number): number {
  const n = BigInt(values.length);
  let sum = 0n;
  let squares = 0n;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  return ratioToNumber(n * squares - sum * sum, (n * (n - 1n)) << BigInt(2 * scaleBits));
}

function bitLength(b: bigint): number {
  return b.toString(2).length;
}

/** p / q for p ≥ 0, q > 0, to the nearest double (within an ulp). */
function ratioToNumber(p: bigint, q: bigint): number {
  if (p === 0n) return 0;
  const shift = bitLength(q) - bitLength(p) + 64;
  const quotient = shift >= 0 ? (p << BigInt(shift)) / q : p / (q << BigInt(-shift));
  let x = Number(quotient);
  let e = -shift;
  for (; e > 1000; e -= 1000) x *= 2 ** 1000;
  for (; e < -1000; e += 1000) x *= 2 ** -1000;
  return x * 2 ** e;
}

/** corr over integers with an int64 side is exact; every other pair is taken as float64 values. */
function exactIntegerPair(a: DType, b: DType): boolean {
  return (a === 'int64' || b === 'int64') && isInteger(a) && isInteger(b);
}

/**
 * Pearson's r over the rows where both values are non-null, in exact rational arithmetic (floats scaled to
 * integers as for var) and rounded once: null below two pairs or when either side holds one value, NaN when
 * a value is NaN or ±Infinity. Float input gets the slack of the engine's one-pass co-moments: an error of
 * about n·ε·κ² in each moment, κ² = Σx²/Σ(x − x̄)², and none is promised once squared deviations can leave
 * f64's range.
 */
function correlation(xs: readonly RefValue[], ys: readonly RefValue[], exact: boolean): { value: RefValue; slack: number } {
  const px: RefValue[] = [];
  const py: RefValue[] = [];
  xs.forEach((x, i) => {
    const y = ys[i] as RefValue;
    if (x === null || y === null) return;
    px.push(x);
    py.push(y);
  });
  if (px.length < 2) return { value: null, slack: 0 };
  let ix: bigint[];
  let iy: bigint[];
  if (exact) {
    ix = px.map((v) => (typeof v === 'bigint' ? v : BigInt(v as number)));
    iy = py.map((v) => (typeof v === 'bigint' ? v : BigInt(v as number)));
  } else {
    const fx = px.map(toNumber);
    const fy = py.map(toNumber);
    if (!fx.every(Number.isFinite) || !fy.every(Number.isFinite)) return { value: Number.NaN, slack: 0 };
    ix = fx.map(scaledToInteger);
    iy = fy.map(scaledToInteger);
  }
  const n = BigInt(px.length);
  let sx = 0n;
  let sy = 0n;
  let sxx = 0n;
  let syy = 0n;
  let sxy = 0n;
  ix.forEach((x, i) => {
    const y = iy[i]!;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  });
  const cxx = n * sxx - sx * sx;
  const cyy = n * syy - sy * sy;
  if (cxx === 0n || cyy === 0n) return { value: null, slack: 0 };
  const cxy = n * sxy - sx * sy;
  const r = Math.sqrt(ratioToNumber(cxy * cxy, cxx * cyy));
  const value = cxy < 0n ? -r : r;
  if (exact) return { value, slack: 0 };
  const magnitude = (vs: readonly RefValue[]): number => vs.reduce<number>((m, v) => Math.max(m, Math.abs(toNumber(v))), 0);
  const outOfRange = (m: number): boolean => m > 2 ** 450 || m < 2 ** -450;
  if (outOfRange(magnitude(px)) || outOfRange(magnitude(py))) return { value, slack: Number.POSITIVE_INFINITY };
  const kappa2 = ratioToNumber(n * sxx, cxx) + ratioToNumber(n * syy, cyy);
  const bound = 8 * px.length * EPSILON * kappa2;
  return { value, slack: bound > defaultTolerance(value) ? bound : 0 };
}

interface CompiledAgg {
  readonly dtype: DType;
  readonly inexact: boolean;
  readonly over: (rows: readonly RefRow[]) => { value: RefValue; slack: number };
}

function compileAgg(node: Extract<ExprNode, { kind: 'agg' }>, fields: readonly RefField[]): CompiledAgg {
  const arg = node.arg === null ? null : compileExpr(node.arg, fields);
  if (arg === null && node.op !== 'countAll') typeError(`reference: ${node.op} needs an argument`);
  if (arg && !AGG_INPUTS[node.op](arg.dtype)) typeError(`reference: ${node.op} of ${arg.dtype}`);
  const arg2 = node.arg2 === undefined ? null : compileExpr(node.arg2, fields);
  if ((node.op === 'corr') !== (arg2 !== null)) typeError(`reference: ${node.op} with ${arg2 ? 'two arguments' : 'one argument'}`);
  if (arg2 && !AGG_INPUTS[node.op](arg2.dtype)) typeError(`reference: ${node.op} of ${arg2.dtype}`);
  const { op } = node;
  const reads = node.arg ? columnsRead(node) : new Set<string>();
  const argType = arg?.dtype ?? null;
  const exactCorr = arg2 !== null && argType !== null && exactIntegerPair(argType, arg2.dtype);
  const orderDependent =
    ((op === 'sum' || op === 'mean') && argType !== null && isFloat(argType)) ||
    ((op === 'var' || op === 'std') && argType !== 'int64') ||
    (op === 'corr' && !exactCorr);
  return {
    dtype: aggType(op, arg?.dtype ?? null),
    inexact: orderDependent || readsInexact(reads, fields),
    over: (rows) => {
      const result =
        arg !== null && arg2 !== null
          ? correlation(
              rows.map((r) => arg.at(r)),
              rows.map((r) => arg2.at(r)),
              exactCorr,
            )
          : aggregate(op, arg ? rows.map((r) => arg.at(r)) : [], rows.length, arg?.dtype ?? null);
      const inherited = node.arg ? Math.max(0, ...rows.map((r) => derivedSlack(r, reads))) : 0;
      return { value: result.value, slack: Math.max(result.slack, inherited) };
    },
  };
}

/** An output of agg(): a plain aggregation, or an expression whose aggregations are evaluated first. */
function compileAggOutput(node: ExprNode, fields: readonly RefField[]): CompiledAgg {
  if (node.kind === 'agg') return compileAgg(node, fields);
  const inner: { name: string; agg: CompiledAgg }[] = [];
  const lift = (n: ExprNode): ExprNode => {
    if (n.kind === 'agg') {
      const name = `\u0000agg${inner.length}`;
      inner.push({ name, agg: compileAgg(n, fields) });
      return { kind: 'col', name };
    }
    return mapChildren(n, lift);
  };
  const lifted = lift(node);
  if (inner.length === 0) throw new TypeError('reference: agg() output without an aggregation');
  const outer = compileExpr(
    lifted,
    inner.map((i) => ({ name: i.name, dtype: i.agg.dtype })),
  );
  return {
    dtype: outer.dtype,
    inexact: inner.some((i) => i.agg.inexact),
    over: (rows) => {
      const results = inner.map((i) => i.agg.over(rows));
      const value = outer.at(Object.fromEntries(inner.map((i, k) => [i.name, results[k]!.value])));
      return { value, slack: results.some((r) => r.slack > 0) ? Number.POSITIVE_INFINITY : 0 };
    },
  };
}

function mapChildren(node: ExprNode, f: (child: ExprNode) => ExprNode): ExprNode {
  switch (node.kind) {
    case 'col':
    case 'lit':
    case 'agg':
      return node;
    case 'binary':
      return { ...node, left: f(node.left), right: f(node.right) };
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'dt':
      return { ...node, arg: f(node.arg) };
    case 'when':
      return { ...node, branches: node.branches.map((b) => ({ cond: f(b.cond), then: f(b.then) })), otherwise: f(node.otherwise) };
    case 'coalesce':
      return { ...node, args: node.args.map(f) };
  }
}

/** One output column of a projection: `source` names the input column it passes through unchanged. */
interface Output {
  readonly name: string;
  readonly compiled: Compiled;
  readonly reads: ReadonlySet<string>;
  readonly source?: string;
}

function asList(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

function flag(value: boolean | readonly boolean[] | undefined, index: number, count: number): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  if (value.length !== count) throw new RangeError('reference: one sort flag per key');
  return value[index]!;
}

/** The reference frame: fields and rows, each verb returning a new frame eagerly. */
export class RefFrame {
  constructor(
    readonly fields: readonly RefField[],
    readonly rows: readonly RefRow[],
  ) {}

  get columns(): string[] {
    return this.fields.map((f) => f.name);
  }

  private require(names: readonly string[]): void {
    const missing = names.filter((n) => !this.fields.some((f) => f.name === n));
    if (missing.length > 0) throw new UnknownColumnError(missing, this.columns, 'reference');
  }

  private project(outputs: readonly Output[]): RefFrame {
    const seen = new Set<string>();
    for (const o of outputs) {
      if (seen.has(o.name)) throw new TypeError(`reference: column '${o.name}' defined twice`);
      seen.add(o.name);
    }
    const fields = outputs.map((o) => field(o.name, o.compiled.dtype, readsInexact(o.reads, this.fields)));
    const rows = this.rows.map((row) => {
      const slack: Slack = {};
      for (const o of outputs) {
        const s = o.source !== undefined ? slackOf(row, o.source) : derivedSlack(row, o.reads);
        if (s > 0) slack[o.name] = s;
      }
      return withSlack(Object.fromEntries(outputs.map((o) => [o.name, o.compiled.at(row)])), slack);
    });
    return new RefFrame(fields, rows);
  }

  private output(name: string, node: ExprNode): Output {
    return { name, compiled: compileExpr(node, this.fields), reads: columnsRead(node), ...(node.kind === 'col' ? { source: node.name } : {}) };
  }

  private passThrough(name: string): Output {
    this.require([name]);
    return this.output(name, { kind: 'col', name });
  }

  select(...items: (string | Record<string, HasNode>)[]): RefFrame {
    const outputs = items.flatMap((item) =>
      typeof item === 'string' ? [this.passThrough(item)] : Object.entries(item).map(([name, e]) => this.output(name, e.node)),
    );
    return this.project(outputs);
  }

  withColumns(exprs: Record<string, HasNode>): RefFrame {
    const added = new Map(Object.entries(exprs).map(([name, e]) => [name, this.output(name, e.node)]));
    const outputs = this.fields.map((f) => added.get(f.name) ?? this.passThrough(f.name));
    for (const [name, output] of added) if (!this.fields.some((f) => f.name === name)) outputs.push(output);
    return this.project(outputs);
  }

  filter(predicate: HasNode): RefFrame {
    const p = compileExpr(predicate.node, this.fields);
    if (p.dtype !== 'bool') typeError(`reference: filter predicate of ${p.dtype}`);
    return new RefFrame(
      this.fields,
      this.rows.filter((row) => p.at(row) === true),
    );
  }

  sort(by: string | readonly string[], options: RefSortOptions = {}): RefFrame {
    const names = asList(by);
    if (names.length === 0) throw new TypeError('reference: sort needs a key');
    this.require(names);
    const keys = names.map((column, i) => ({
      column,
      descending: flag(options.descending, i, names.length),
      nullsLast: flag(options.nullsLast, i, names.length),
    }));
    const indexed = this.rows.map((row, index) => ({ row, index }));
    indexed.sort((x, y) => {
      for (const k of keys) {
        const a = x.row[k.column] ?? null;
        const b = y.row[k.column] ?? null;
        if (a === null && b === null) continue;
        if (a === null) return k.nullsLast ? 1 : -1;
        if (b === null) return k.nullsLast ? -1 : 1;
        const c = compareValues(a, b);
        if (c !== 0) return k.descending ? -c : c;
      }
      return x.index - y.index;
    });
    return new RefFrame(
      this.fields,
      indexed.map((e) => e.row),
    );
  }

  head(n = 5): RefFrame {
    return this.slice(0, n);
  }

  slice(offset: number, length = Infinity): RefFrame {
    return new RefFrame(this.fields, this.rows.slice(offset, offset + length));
  }

  groupBy(...keys: string[]): { agg: (aggs: Record<string, HasNode>) => RefFrame; head: (n?: number) => RefFrame } {
    return { agg: (aggs) => this.aggregateBy(keys, aggs), head: (n = 5) => this.groupHead(keys, n) };
  }

  /** The first n rows of each group (keys as in aggregateBy), in row order. */
  private groupHead(keys: readonly string[], n: number): RefFrame {
    this.require(keys);
    if (new Set(keys).size !== keys.length) throw new TypeError('reference: duplicate groupBy keys');
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('reference: head(n) needs a non-negative integer');
    const taken = new Map<string, number>();
    const rows = this.rows.filter((row) => {
      const id = tupleIdentity(keys.map((k) => row[k] ?? null));
      const before = taken.get(id) ?? 0;
      taken.set(id, before + 1);
      return before < n;
    });
    return new RefFrame(this.fields, rows);
  }

  agg(aggs: Record<string, HasNode>): RefFrame {
    return this.aggregateBy([], aggs);
  }

  private aggregateBy(keys: readonly string[], aggs: Record<string, HasNode>): RefFrame {
    this.require(keys);
    if (new Set(keys).size !== keys.length) throw new TypeError('reference: duplicate groupBy keys');
    const outputs = Object.entries(aggs).map(([name, e]) => ({ name, agg: compileAggOutput(e.node, this.fields) }));
    const names = new Set(keys);
    for (const o of outputs) {
      if (names.has(o.name)) throw new TypeError(`reference: agg output '${o.name}' collides`);
      names.add(o.name);
    }
    const groups = new Map<string, RefRow[]>();
    for (const row of this.rows) {
      const id = tupleIdentity(keys.map((k) => row[k] ?? null));
      const members = groups.get(id);
      if (members) members.push(row);
      else groups.set(id, [row]);
    }
    // A whole-frame aggregation has exactly one group, even over no rows.
    const memberLists = keys.length === 0 ? [[...this.rows]] : [...groups.values()];
    const rows = memberLists.map((members) => {
      const out: RefRow = {};
      const slack: Slack = {};
      for (const k of keys) {
        out[k] = members[0]![k] ?? null;
        if (slackOf(members[0]!, k) > 0) slack[k] = slackOf(members[0]!, k);
      }
      for (const o of outputs) {
        const result = o.agg.over(members);
        out[o.name] = result.value;
        if (result.slack > 0) slack[o.name] = result.slack;
      }
      return withSlack(out, slack);
    });
    const fields = [...keys.map((k) => this.fields.find((f) => f.name === k)!), ...outputs.map((o) => field(o.name, o.agg.dtype, o.agg.inexact))];
    return new RefFrame(fields, rows);
  }

  join(other: RefFrame, options: RefJoinOptions): RefFrame {
    const leftOn = asList('on' in options ? options.on : options.leftOn);
    const rightOn = asList('on' in options ? options.on : options.rightOn);
    const how = options.how ?? 'inner';
    const suffix = options.suffix ?? '_right';
    if (leftOn.length === 0 || leftOn.length !== rightOn.length) throw new TypeError('reference: join keys');
    this.require(leftOn);
    other.require(rightOn);
    leftOn.forEach((l, i) => {
      const lt = this.fields.find((f) => f.name === l)!.dtype;
      const rt = other.fields.find((f) => f.name === rightOn[i])!.dtype;
      // Equal dtypes match, and int32 matches int64; a float key only matches its own dtype.
      const ok = lt === rt || (isInteger(lt) && isInteger(rt));
      if (!ok) typeError(`reference: join key ${lt} with ${rt}`);
    });
    const rightOutput: { from: string; as: string }[] = [];
    if (how === 'inner' || how === 'left') {
      for (const f of other.fields) {
        const at = rightOn.indexOf(f.name);
        if (at >= 0 && leftOn[at] === f.name) continue;
        let name = f.name;
        while (this.fields.some((l) => l.name === name) || rightOutput.some((r) => r.as === name)) name = `${name}${suffix}`;
        rightOutput.push({ from: f.name, as: name });
      }
    }
    const keyOf = (row: RefRow, names: readonly string[]): string | null => {
      const values = names.map((n) => row[n] ?? null);
      return values.includes(null) ? null : tupleIdentity(values);
    };
    const index = new Map<string, RefRow[]>();
    for (const row of other.rows) {
      const key = keyOf(row, rightOn);
      if (key === null) continue;
      const list = index.get(key);
      if (list) list.push(row);
      else index.set(key, [row]);
    }
    const rows: RefRow[] = [];
    for (const row of this.rows) {
      const key = keyOf(row, leftOn);
      const matches = key === null ? [] : (index.get(key) ?? []);
      const extend = (right: RefRow | null): RefRow => ({
        ...row,
        ...Object.fromEntries(rightOutput.map((r) => [r.as, right === null ? null : (right[r.from] ?? null)])),
      });
      if (how === 'semi') {
        if (matches.length > 0) rows.push(row);
      } else if (how === 'anti') {
        if (matches.length === 0) rows.push(row);
      } else if (matches.length > 0) {
        for (const m of matches) rows.push(extend(m));
      } else if (how === 'left') {
        rows.push(extend(null));
      }
    }
    const fields = [...this.fields, ...rightOutput.map((r) => ({ ...other.fields.find((f) => f.name === r.from)!, name: r.as }))];
    return new RefFrame(fields, rows);
  }

  unique(subset?: readonly string[]): RefFrame {
    const columns = subset ?? this.columns;
    this.require(columns);
    const seen = new Set<string>();
    const rows = this.rows.filter((row) => {
      const id = tupleIdentity(columns.map((c) => row[c] ?? null));
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    return new RefFrame(this.fields, rows);
  }

  rename(mapping: Readonly<Record<string, string>>): RefFrame {
    this.require(Object.keys(mapping));
    return this.project(this.fields.map((f) => ({ ...this.passThrough(f.name), name: mapping[f.name] ?? f.name })));
  }

  drop(...columns: string[]): RefFrame {
    this.require(columns);
    return this.project(this.fields.filter((f) => !columns.includes(f.name)).map((f) => this.passThrough(f.name)));
  }
}

/**
 * An integer input's literal clip bound: the smallest (low) or largest (high) integer of the type on the
 * bound's side, or no bound when it excludes nothing; written from the definition, not from the binder.
 */
function saturatedBound(value: number | bigint | null, low: boolean, dtype: DType): Compiled {
  const [min, max] = dtype === 'int32' ? [-2147483648, 2147483647] : [-9223372036854775808n, 9223372036854775807n];
  let bound: number | bigint | null;
  if (value === null || (typeof value === 'number' && Number.isNaN(value))) bound = null;
  else if (low ? value <= min : value >= max) bound = low && value === -Infinity ? null : !low && value === Infinity ? null : low ? min : max;
  else if (low ? value > max : value < min) bound = low ? max : min;
  else if (typeof value === 'number') bound = low ? Math.ceil(value) : Math.floor(value);
  else bound = value;
  if (bound !== null && dtype === 'int64') bound = BigInt(bound);
  if (bound !== null && dtype === 'int32') bound = Number(bound);
  const fixed = bound;
  return { dtype, at: () => fixed };
}
