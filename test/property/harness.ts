// Shared machinery of the property tests: random tables of every dtype, random well-typed expressions and
// plans built against a schema, one plan applied to both a real Frame and the reference, and a comparison
// of results that is exact for everything but floating-point values.

import assert from 'node:assert/strict';
import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { z } from 'zod';
import { ArithmeticOverflowError, coalesce, col, countRows, createExecutor, DataFrameModel, Expr, Frame, lit, when } from '../../src/index.js';
import type { DType, Executor } from '../../src/index.js';
import { describeDt } from '../../src/expr/dt-bind.js';
import type { ExprNode, LiteralValue } from '../../src/expr/types.js';
import { gpuSkip } from '../engines/webgpu/device.js';
import { defaultTolerance, RefFrame, slackOf, type RefField, type RefRow, type RefValue } from '../reference.js';

/** Draws choices; backed by fast-check's `gen` so plans and expressions shrink. */
export class Chooser {
  constructor(private readonly g: fc.GeneratorValue) {}

  /** Uniform: fast-check's default bias towards extremes would make most frames empty. */
  int(min: number, max: number): number {
    return this.g(() => fc.noBias(fc.integer({ min, max })));
  }

  chance(percent: number): boolean {
    return this.int(0, 99) < percent;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A non-empty subset, in a random order. */
  some<T>(items: readonly T[], max = items.length): T[] {
    const pool = [...items];
    const out: T[] = [];
    const n = this.int(1, Math.min(max, pool.length));
    for (let k = 0; k < n; k++) out.push(pool.splice(this.int(0, pool.length - 1), 1)[0]!);
    return out;
  }
}

/** Small deterministic PRNG (mulberry32) for bulk cell values, seeded from the chooser. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Kind = 'int32' | 'int64' | 'float64' | 'float32' | 'bool' | 'utf8' | 'enum' | 'date';
export const KINDS: readonly Kind[] = ['int32', 'int64', 'float64', 'float32', 'bool', 'utf8', 'enum', 'date'];
export const ENUM_VALUES = ['mid', 'alpha', 'zeta', 'Beta'] as const;

export interface ColumnSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly nullable: boolean;
  /** Draw from a small pool of values, so rows share keys. */
  readonly low: boolean;
}

export interface TableSpec {
  readonly columns: readonly ColumnSpec[];
  readonly rows: readonly RefRow[];
}

export const dtypeOf = (kind: Kind): DType => (kind === 'enum' ? 'utf8' : kind);

// Strings that separate UTF-16 order from code-point order ('ｚ' U+FF5A vs '😀' U+1F600), case mappings
// that change length ('ß', 'İ'), and the empty string.
const STRINGS = ['', 'a', 'A', 'ab', 'b', 'B', 'ba', 'ß', 'İ', 'é', 'ｚ', '😀', 'a😀', 'zz', ' a', 'abc'];
const LOW_FLOATS = [0, -0, 1.5, -2, 0.25, Number.NaN, Number.POSITIVE_INFINITY, 3];
const HOUR = 3_600_000;

/** One random non-null cell of `kind`. */
export function cellOf(kind: Kind, low: boolean, rand: () => number): RefValue {
  const r = rand();
  const int = (min: number, max: number): number => min + Math.floor(rand() * (max - min + 1));
  switch (kind) {
    case 'int32':
      if (low) return int(-3, 4);
      if (r < 0.05) return [2147483647, -2147483648, 2147483646][int(0, 2)]!;
      return r < 0.6 ? int(-20, 20) : int(-100_000, 100_000);
    case 'int64':
      if (low) return BigInt(int(-3, 4));
      if (r < 0.1) return BigInt(int(-1, 1)) * 2n ** 53n + BigInt(int(-3, 3));
      if (r < 0.13) return BigInt(int(-1, 1)) * 2n ** 60n;
      return BigInt(r < 0.6 ? int(-20, 20) : int(-1_000_000, 1_000_000));
    case 'float64':
      if (low) return LOW_FLOATS[int(0, LOW_FLOATS.length - 1)]!;
      if (r < 0.04) return Number.NaN;
      if (r < 0.07) return -0;
      if (r < 0.09) return rand() < 0.5 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      if (r < 0.14) return int(-1000, 1000) / 7;
      return int(-65_536, 65_536) / 8;
    case 'float32':
      if (low) return Math.fround(LOW_FLOATS[int(0, LOW_FLOATS.length - 1)]!);
      if (r < 0.04) return Number.NaN;
      if (r < 0.07) return -0;
      if (r < 0.12) return Math.fround(int(-1000, 1000) / 7);
      return Math.fround(int(-65_536, 65_536) / 8);
    case 'bool':
      return r < 0.5;
    case 'utf8':
      return STRINGS[int(0, low ? 5 : STRINGS.length - 1)]!;
    case 'enum':
      return ENUM_VALUES[int(0, ENUM_VALUES.length - 1)]!;
    case 'date':
      if (low) return new Date(int(-2, 3) * HOUR * 24);
      return r < 0.1 ? new Date(int(-1_000_000, 1_000_000) * 1_000_000 + int(0, 999)) : new Date(int(-200, 200) * HOUR);
  }
}

export function columnSpec(ch: Chooser, name: string, kinds: readonly Kind[] = KINDS): ColumnSpec {
  return { name, kind: ch.pick(kinds), nullable: ch.chance(60), low: ch.chance(50) };
}

export function tableRows(columns: readonly ColumnSpec[], length: number, rand: () => number): RefRow[] {
  const rows: RefRow[] = [];
  for (let i = 0; i < length; i++) {
    const row: RefRow = {};
    for (const c of columns) row[c.name] = c.nullable && rand() < 0.15 ? null : cellOf(c.kind, c.low, rand);
    rows.push(row);
  }
  return rows;
}

/** A random table: 1–5 columns of random dtypes and `length` rows. */
export function randomTable(ch: Chooser, prefix: string, length: number, kinds: readonly Kind[] = KINDS): TableSpec {
  const columns = Array.from({ length: ch.int(1, 5) }, (_, k) => columnSpec(ch, `${prefix}${k}`, kinds));
  return { columns, rows: tableRows(columns, length, prng(ch.int(0, 2 ** 31 - 1))) };
}

function zodOf(c: ColumnSpec): z.ZodType {
  const base: z.ZodType = (() => {
    switch (c.kind) {
      case 'int32':
        return z.int32();
      case 'int64':
        return z.int64();
      case 'float64':
        return z.float64();
      case 'float32':
        return z.float32();
      case 'bool':
        return z.boolean();
      case 'utf8':
        return z.string();
      case 'enum':
        return z.enum(ENUM_VALUES);
      case 'date':
        return z.date();
    }
  })();
  return c.nullable ? base.nullable() : base;
}

/** The table as a model frame (values trusted, so NaN and ±Infinity get in) and as a reference frame. */
export function buildBoth(table: TableSpec): { frame: Frame; ref: RefFrame } {
  const Model = DataFrameModel(Object.fromEntries(table.columns.map((c) => [c.name, zodOf(c)])));
  const columns = Object.fromEntries(table.columns.map((c) => [c.name, table.rows.map((r) => r[c.name] ?? null)]));
  const frame = Model.fromColumns(columns, { trustedMode: 'shape_only' }) as unknown as Frame;
  const fields: RefField[] = table.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) }));
  return { frame, ref: new RefFrame(fields, table.rows) };
}

// ---------------------------------------------------------------------------------------------------
// Expressions

type Want = 'num' | 'bool' | 'str' | 'date';
const NUMERIC: readonly DType[] = ['int32', 'int64', 'float32', 'float64'];

function wantOf(dtype: DType): Want {
  return NUMERIC.includes(dtype) ? 'num' : dtype === 'bool' ? 'bool' : dtype === 'utf8' ? 'str' : 'date';
}

function columnsOfWant(fields: readonly RefField[], want: Want): string[] {
  return fields.filter((f) => wantOf(f.dtype) === want).map((f) => f.name);
}

function numberLiteral(ch: Chooser): LiteralValue {
  return ch.pick<LiteralValue>([0, 1, 2, -3, 7, -4, 3, 2.5, -0.75, 0.1, 3_000_000_000, 5n, -2n, 0.5, 1e300]);
}

function literalOf(ch: Chooser, want: Want): LiteralValue {
  switch (want) {
    case 'num':
      return numberLiteral(ch);
    case 'bool':
      return ch.chance(50);
    case 'str':
      return ch.pick(['a', 'ab', 'B', '', 'ß', '😀', 'mid', 'zeta', 'ｚ']);
    case 'date':
      return new Date(ch.int(-48, 48) * HOUR);
  }
}

/** An operand: a sub-expression, or (sometimes) a bare JS literal that adapts to the other side. */
function operand(ch: Chooser, fields: readonly RefField[], want: Want, depth: number): Expr | LiteralValue {
  return ch.chance(35) ? literalOf(ch, want) : genExpr(ch, fields, want, depth);
}

/** A random expression of the wanted category, well typed against `fields`. */
export function genExpr(ch: Chooser, fields: readonly RefField[], want: Want, depth: number): Expr {
  const cols = columnsOfWant(fields, want);
  const leaf = (): Expr => (cols.length > 0 && ch.chance(80) ? col(ch.pick(cols)) : lit(literalOf(ch, want)));
  if (depth <= 0 || ch.chance(30)) return leaf();
  const d = depth - 1;
  const sub = (w: Want = want): Expr => genExpr(ch, fields, w, d);
  const anyWant = (): Want => ch.pick<Want>(['num', 'bool', 'str', 'date']);
  const branchy = (): Expr => {
    if (ch.chance(50)) {
      let w = when(sub('bool')).then(operand(ch, fields, want, d));
      if (ch.chance(40)) w = w.when(sub('bool')).then(operand(ch, fields, want, d));
      return ch.chance(70) ? w.otherwise(operand(ch, fields, want, d)) : w;
    }
    return coalesce(sub(), ...(ch.chance(50) ? [sub()] : []), ...(ch.chance(50) ? [lit(literalOf(ch, want))] : []));
  };
  // A float-typed operand, for the NaN tests (which refuse other types): a float column or a number widened.
  const floats = fields.filter((f) => f.dtype === 'float32' || f.dtype === 'float64').map((f) => f.name);
  const floatSub = (): Expr => (floats.length > 0 && ch.chance(60) ? col(ch.pick(floats)) : sub('num').cast('float64'));
  switch (want) {
    case 'num':
      switch (ch.int(0, 10)) {
        case 8:
          return ch.chance(50)
            ? sub()[ch.pick(['sign', 'sqrt', 'exp', 'log', 'log10', 'log1p'] as const)]()
            : sub()[ch.pick(['pow', 'log', 'floorDiv', 'floorDiv'] as const)](operand(ch, fields, 'num', d));
        case 9:
          return ch.chance(50)
            ? sub().clip(ch.chance(20) ? null : operand(ch, fields, 'num', d), ch.chance(20) ? null : operand(ch, fields, 'num', d))
            : floatSub().fillNan(ch.chance(20) ? null : operand(ch, fields, 'num', d));
        case 10:
          return sub()[ch.chance(50) ? 'fillNull' : 'nullIf'](operand(ch, fields, 'num', d));
        case 0:
        case 7: {
          const op = ch.pick(['add', 'sub', 'mul', 'div', 'mod'] as const);
          const left = ch.chance(15) ? lit(numberLiteral(ch)) : sub();
          return left[op](operand(ch, fields, 'num', d));
        }
        case 1:
          return sub()[ch.pick(['neg', 'abs', 'floor', 'ceil'] as const)]();
        case 2:
          return sub().round(ch.int(0, 3));
        case 3:
          return genExpr(ch, fields, 'str', d).length();
        case 4:
          return branchy();
        case 5: {
          const from = ch.pick<Want>(['num', 'bool', 'date']);
          const arg = genExpr(ch, fields, from, d);
          // Strict casts only where they cannot fail (widening, bool to number, date to its epoch milliseconds);
          // a narrowing cast to int32 non-strict, which gives null where the value does not fit.
          return from === 'date'
            ? arg.cast(ch.pick(['int64', 'float64'] as const))
            : from === 'bool'
              ? arg.cast(ch.pick(['int32', 'int64', 'float32', 'float64'] as const))
              : ch.chance(50)
                ? arg.cast('float64')
                : arg.cast('int32', { strict: false });
        }
        default:
          return leaf();
      }
    case 'bool':
      switch (ch.int(0, 7)) {
        case 0: {
          const w = anyWant();
          const op = ch.pick(['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const);
          return ch.chance(15) ? lit(literalOf(ch, w) as never)[op](genExpr(ch, fields, w, d)) : genExpr(ch, fields, w, d)[op](operand(ch, fields, w, d));
        }
        case 1: {
          // A bare null adapts to a boolean left side; beside another literal it would be a float64 null.
          const left = sub();
          return left[ch.pick(['and', 'or'] as const)](ch.chance(10) && left.node.kind !== 'lit' ? null : sub());
        }
        case 2:
          return sub().not();
        case 3:
          return genExpr(ch, fields, anyWant(), d)[ch.chance(50) ? 'isNull' : 'isNotNull']();
        case 4: {
          const w = ch.pick<Want>(['num', 'str']);
          const values = Array.from({ length: ch.int(0, 4) }, () => (w === 'num' && ch.chance(15) ? Number.NaN : literalOf(ch, w)));
          return genExpr(ch, fields, w, d).isIn(values);
        }
        case 5:
          return genExpr(ch, fields, 'str', d)[ch.pick(['startsWith', 'endsWith', 'contains'] as const)](ch.pick(['a', '', 'b', '😀', 'ß']));
        case 6: {
          const w = ch.pick<Want>(['num', 'date']);
          return genExpr(ch, fields, w, d).between(literalOf(ch, w), operand(ch, fields, w, d));
        }
        case 7:
          if (ch.chance(50)) return floatSub()[ch.pick(['isNan', 'isNotNan', 'isFinite', 'isInfinite'] as const)]();
          return ch.chance(50) ? branchy() : leaf();
        default:
          return ch.chance(50) ? branchy() : leaf();
      }
    case 'str':
      switch (ch.int(0, 2)) {
        case 0:
          return sub()[ch.chance(50) ? 'lower' : 'upper']();
        case 1:
          return branchy();
        default:
          return leaf();
      }
    case 'date':
      return ch.chance(50) ? branchy() : leaf();
  }
}

/** Any-category expression; leans on the categories the schema actually has columns for. */
export function genAnyExpr(ch: Chooser, fields: readonly RefField[], depth: number): Expr {
  const present = [...new Set(fields.map((f) => wantOf(f.dtype)))];
  const want = present.length > 0 && ch.chance(75) ? ch.pick(present) : ch.pick<Want>(['num', 'bool', 'str', 'date']);
  return genExpr(ch, fields, want, depth);
}

/** One aggregation output against `fields`. */
export function genAgg(ch: Chooser, fields: readonly RefField[]): Expr {
  const numCols = fields.filter((f) => NUMERIC.includes(f.dtype)).map((f) => f.name);
  const nonBool = fields.filter((f) => f.dtype !== 'bool').map((f) => f.name);
  const sumable = fields.filter((f) => NUMERIC.includes(f.dtype) || f.dtype === 'bool').map((f) => f.name);
  const argOf = (names: readonly string[], want: Want): Expr =>
    ch.chance(75) || names.length === 0 ? (names.length > 0 ? col(ch.pick(names)) : genExpr(ch, fields, want, 1)) : genExpr(ch, fields, want, 1);
  const anyCol = (): Expr => (ch.chance(80) && fields.length > 0 ? col(ch.pick(fields).name) : genAnyExpr(ch, fields, 1));
  const simple = (): Expr => {
    switch (ch.int(0, 10)) {
      case 0:
        return countRows();
      case 1:
        return anyCol()[ch.pick(['count', 'countAll', 'nUnique'] as const)]();
      case 2:
        return anyCol()[ch.pick(['first', 'last'] as const)]();
      case 3:
      case 4:
        return argOf(sumable, 'num')[ch.pick(['sum', 'mean'] as const)]();
      case 5:
      case 6:
        return (nonBool.length > 0 && ch.chance(80) ? col(ch.pick(nonBool)) : genExpr(ch, fields, ch.pick<Want>(['num', 'str', 'date']), 1))[
          ch.pick(['min', 'max'] as const)
        ]();
      case 7:
        return argOf(numCols, 'num').corr(argOf(numCols, 'num'));
      default:
        return argOf(numCols, 'num')[ch.pick(['median', 'std', 'var'] as const)]();
    }
  };
  if (ch.chance(85)) return simple();
  if (ch.chance(20)) {
    // db-benchmark q9's shape: a squared correlation.
    const r = argOf(numCols, 'num').corr(argOf(numCols, 'num'));
    return r.mul(r);
  }
  // An expression over aggregations: numeric ones combined with arithmetic.
  const numeric = (): Expr => (ch.chance(50) ? countRows() : argOf(numCols, 'num')[ch.pick(['sum', 'mean', 'max', 'count'] as const)]());
  return numeric()[ch.pick(['add', 'sub', 'div'] as const)](ch.chance(50) ? numeric() : 2);
}

// ---------------------------------------------------------------------------------------------------
// Plans

/** One verb, applied identically to a Frame and to the reference. */
export interface Step {
  readonly text: string;
  readonly frame: (f: Frame) => Frame;
  readonly ref: (r: RefFrame) => RefFrame;
}

export function showNode(node: ExprNode): string {
  const show = (v: LiteralValue): string =>
    v instanceof Date
      ? `Date(${v.getTime()})`
      : typeof v === 'bigint'
        ? `${v}n`
        : typeof v === 'string'
          ? JSON.stringify(v)
          : Object.is(v, -0)
            ? '-0'
            : String(v);
  switch (node.kind) {
    case 'col':
      return `col(${JSON.stringify(node.name)})`;
    case 'lit':
      return `lit(${show(node.value)})`;
    case 'binary':
      // clip(low, high) is two nodes; shown one by one with the other bound null.
      if (node.op === 'clipLow') return `${showNode(node.left)}.clip(${showNode(node.right)}, null)`;
      if (node.op === 'clipHigh') return `${showNode(node.left)}.clip(null, ${showNode(node.right)})`;
      return `${showNode(node.left)}.${node.op === 'logBase' ? 'log' : node.op}(${showNode(node.right)})`;
    case 'unary':
      return `${showNode(node.arg)}.${node.op}()`;
    case 'round':
      return `${showNode(node.arg)}.round(${node.decimals})`;
    case 'isIn':
      return `${showNode(node.arg)}.isIn([${node.values.map(show).join(', ')}])`;
    case 'match':
      return `${showNode(node.arg)}.${node.op}(${JSON.stringify(node.pattern)})`;
    case 'when':
      return `${node.branches.map((b, i) => `${i === 0 ? 'when' : '.when'}(${showNode(b.cond)}).then(${showNode(b.then)})`).join('')}.otherwise(${showNode(node.otherwise)})`;
    case 'cast':
      return `${showNode(node.arg)}.cast('${node.to.dtype}'${node.strict ? '' : ', { strict: false }'})`;
    case 'coalesce':
      return `coalesce(${node.args.map(showNode).join(', ')})`;
    case 'dt':
      return describeDt(node.op, node.params, showNode(node.arg));
    case 'agg':
      return node.arg ? `${showNode(node.arg)}.${node.op}(${node.arg2 ? showNode(node.arg2) : ''})` : 'countRows()';
  }
}

const showRecord = (r: Record<string, Expr>): string =>
  `{ ${Object.entries(r)
    .map(([k, e]) => `${k}: ${showNode(e.node)}`)
    .join(', ')} }`;

export interface PlanContext {
  /** Fresh column names. */
  fresh(): string;
  /** Most rows of a join's right-hand table. */
  readonly rightRows: number;
}

/** A join with a fresh right table whose keys share dtypes (and values) with left columns. */
export function genJoin(ch: Chooser, fields: readonly RefField[], ctx: PlanContext): Step | null {
  const keyable = fields.filter((f) => f.dtype !== 'float32' && !f.inexact);
  if (keyable.length === 0) return null;
  const leftKeys = ch.some(keyable, 2);
  const sameNames = ch.chance(60);
  const kindOf = (d: DType): Kind =>
    d === 'int32' && ch.chance(30) ? 'int64' : d === 'int64' && ch.chance(30) ? 'int32' : d === 'utf8' && ch.chance(30) ? 'enum' : d;
  const keyColumns: ColumnSpec[] = leftKeys.map((f, k) => ({ name: sameNames ? f.name : `rk${k}`, kind: kindOf(f.dtype), nullable: ch.chance(40), low: true }));
  const extras: ColumnSpec[] = Array.from({ length: ch.int(0, 2) }, (_, k) =>
    columnSpec(ch, ch.chance(40) && fields.length > 0 ? ch.pick(fields).name : `rx${k}`),
  );
  const columns = [...keyColumns];
  for (const e of extras) if (!columns.some((c) => c.name === e.name)) columns.push(e);
  if (ch.chance(50)) columns.reverse();
  const table: TableSpec = { columns, rows: tableRows(columns, ch.int(0, ctx.rightRows), prng(ch.int(0, 2 ** 31 - 1))) };
  const how = ch.pick(['inner', 'left', 'semi', 'anti'] as const);
  const suffix = ch.chance(70) ? undefined : '_r';
  const options = sameNames
    ? { on: leftKeys.length === 1 && ch.chance(50) ? leftKeys[0]!.name : leftKeys.map((f) => f.name), how, ...(suffix ? { suffix } : {}) }
    : { leftOn: leftKeys.map((f) => f.name), rightOn: keyColumns.map((c) => c.name), how, ...(suffix ? { suffix } : {}) };
  const rightFields: RefField[] = columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) }));
  const rightFilter = ch.chance(40) ? genExpr(ch, rightFields, 'bool', 2) : null;
  const text = `join(table(${columns.map((c) => `${c.name}:${c.kind}${c.nullable ? '?' : ''}`).join(', ')}; ${table.rows.length} rows)${rightFilter ? `.filter(${showNode(rightFilter.node)})` : ''}, ${JSON.stringify(options)})`;
  // Each run builds its own right frame, so every execution sees a fresh plan.
  return {
    text,
    frame: (f) => {
      const right = buildBoth(table).frame;
      return f.join(rightFilter ? right.filter(rightFilter) : right, options);
    },
    ref: (r) => {
      const right = buildBoth(table).ref;
      return r.join(rightFilter ? right.filter(rightFilter) : right, options);
    },
  };
}

/** One random verb valid for `fields`, or null when the chosen verb does not apply. */
export function genStep(ch: Chooser, fields: readonly RefField[], ctx: PlanContext): Step | null {
  const names = fields.map((f) => f.name);
  // Order-dependent float results are carried along and compared, but never read: see RefField.inexact.
  const exact = fields.filter((f) => !f.inexact);
  const exactNames = exact.map((f) => f.name);
  switch (ch.int(0, 14)) {
    case 0:
    case 1: {
      const p = genExpr(ch, exact, 'bool', 3);
      return { text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) };
    }
    case 2:
    case 3: {
      const exprs: Record<string, Expr> = {};
      for (let k = ch.int(1, 2); k > 0; k--) exprs[names.length > 0 && ch.chance(25) ? ch.pick(names) : ctx.fresh()] = genAnyExpr(ch, exact, 3);
      return { text: `withColumns(${showRecord(exprs)})`, frame: (f) => f.withColumns(exprs), ref: (r) => r.withColumns(exprs) };
    }
    case 4: {
      if (names.length === 0) return null;
      const picked = ch.some(names);
      const extra: Record<string, Expr> = ch.chance(40) ? { [ctx.fresh()]: genAnyExpr(ch, exact, 2) } : {};
      const items: (string | Record<string, Expr>)[] = Object.keys(extra).length > 0 ? [...picked, extra] : picked;
      return {
        text: `select(${items.map((i) => (typeof i === 'string' ? JSON.stringify(i) : showRecord(i))).join(', ')})`,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: select's overloads take names or records, not a mixed list
        frame: (f) => (f.select as (...i: (string | Record<string, Expr>)[]) => Frame)(...items),
        ref: (r) => r.select(...items),
      };
    }
    case 5:
    case 6: {
      if (exactNames.length === 0) return null;
      const by = ch.some(exactNames, 3);
      const flags = (): boolean | boolean[] => (ch.chance(50) ? ch.chance(50) : by.map(() => ch.chance(50)));
      const options = { descending: flags(), nullsLast: flags() };
      return { text: `sort(${JSON.stringify(by)}, ${JSON.stringify(options)})`, frame: (f) => f.sort(by, options), ref: (r) => r.sort(by, options) };
    }
    case 7: {
      if (ch.chance(50)) {
        const n = ch.int(0, 12);
        return { text: `head(${n})`, frame: (f) => f.head(n), ref: (r) => r.head(n) };
      }
      const offset = ch.int(0, 10);
      const length = ch.chance(30) ? Infinity : ch.int(0, 12);
      return { text: `slice(${offset}, ${length})`, frame: (f) => f.slice(offset, length), ref: (r) => r.slice(offset, length) };
    }
    case 8:
    case 9: {
      const keys = exactNames.length > 0 && ch.chance(80) ? ch.some(exactNames, 2) : [];
      const aggs: Record<string, Expr> = {};
      for (let k = ch.int(keys.length > 0 ? 0 : 1, 3); k > 0; k--) aggs[ctx.fresh()] = genAgg(ch, exact);
      if (keys.length === 0) return { text: `agg(${showRecord(aggs)})`, frame: (f) => f.agg(aggs), ref: (r) => r.agg(aggs) };
      return {
        text: `groupBy(${keys.map((k) => JSON.stringify(k)).join(', ')}).agg(${showRecord(aggs)})`,
        frame: (f) => f.groupBy(...keys).agg(aggs),
        ref: (r) => r.groupBy(...keys).agg(aggs),
      };
    }
    case 10:
      return genJoin(ch, fields, ctx);
    case 11: {
      if (exactNames.length === 0) return null;
      const subset = exactNames.length < names.length || ch.chance(60) ? ch.some(exactNames, 2) : undefined;
      return { text: `unique(${subset ? JSON.stringify(subset) : ''})`, frame: (f) => f.unique(subset), ref: (r) => r.unique(subset) };
    }
    case 12: {
      if (names.length === 0) return null;
      const mapping = { [ch.pick(names)]: ctx.fresh() };
      return { text: `rename(${JSON.stringify(mapping)})`, frame: (f) => f.rename(mapping), ref: (r) => r.rename(mapping) };
    }
    case 13:
      return genGroupHead(ch, exactNames);
    default: {
      if (names.length < 2) return null;
      const gone = ch.pick(names);
      return { text: `drop(${JSON.stringify(gone)})`, frame: (f) => f.drop(gone), ref: (r) => r.drop(gone) };
    }
  }
}

/**
 * groupBy(...keys).head(n), half the time right after a sort: the optimiser folds that sort into the
 * group head (a per-group top-n), so both paths meet every mode.
 */
export function genGroupHead(ch: Chooser, exactNames: readonly string[]): Step | null {
  if (exactNames.length === 0) return null;
  const keys = ch.some(exactNames, 2);
  const n = ch.chance(10) ? ch.int(5, 40) : ch.int(0, 3);
  const head: Step = {
    text: `groupBy(${keys.map((k) => JSON.stringify(k)).join(', ')}).head(${n})`,
    frame: (f) => f.groupBy(...keys).head(n),
    ref: (r) => r.groupBy(...keys).head(n),
  };
  if (ch.chance(50)) return head;
  const by = ch.some(exactNames, 2);
  const options = { descending: by.map(() => ch.chance(50)), nullsLast: ch.chance(50) };
  return {
    text: `sort(${JSON.stringify(by)}, ${JSON.stringify(options)}).${head.text}`,
    frame: (f) => head.frame(f.sort(by, options)),
    ref: (r) => head.ref(r.sort(by, options)),
  };
}

/** A plan of up to `maxSteps` verbs, each checked against the schema its predecessors produce. */
export function genPlan(ch: Chooser, start: readonly RefField[], maxSteps: number, rightRows: number): Step[] {
  let counter = 0;
  const ctx: PlanContext = { fresh: () => `x${counter++}`, rightRows };
  const steps: Step[] = [];
  let schema = new RefFrame(start, []);
  const wanted = ch.int(1, maxSteps);
  for (let attempt = 0; steps.length < wanted && attempt < wanted * 4; attempt++) {
    const step = genStep(ch, schema.fields, ctx);
    if (!step) continue;
    // Generation only keeps verbs the reference accepts over this schema (an empty frame runs nothing).
    let next: RefFrame;
    try {
      next = step.ref(schema);
    } catch (error) {
      // A join's right side is real data even here, and its filter may overflow: such a step is dropped.
      if (error instanceof ArithmeticOverflowError) continue;
      throw new Error(`generator produced an invalid step ${step.text}: ${String(error)}`);
    }
    steps.push(step);
    schema = new RefFrame(next.fields, []);
  }
  return steps;
}

export function describePlan(table: TableSpec, steps: readonly Step[]): string {
  const head = `table(${table.columns.map((c) => `${c.name}:${c.kind}${c.nullable ? '?' : ''}${c.low ? '(low)' : ''}`).join(', ')}; ${table.rows.length} rows)`;
  return [head, ...steps.map((s) => `  .${s.text}`)].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Comparison

/** Equal floats: NaN with NaN, else within 1e-9 relative + 1e-9 absolute, or the cell's rounding slack. */
function floatClose(actual: number, expected: number, slack: number): boolean {
  if (slack === Number.POSITIVE_INFINITY) return true;
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (actual === expected) return true;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return false;
  return Math.abs(actual - expected) <= Math.max(slack, defaultTolerance(Math.max(Math.abs(actual), Math.abs(expected))));
}

function showValue(v: unknown): string {
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Why `actual` differs from `expected` for a cell of `dtype`, or null when they agree. */
export function cellMismatch(actual: unknown, expected: RefValue, dtype: DType, slack = 0): string | null {
  const bad = (): string => `expected ${showValue(expected)}, got ${showValue(actual)}`;
  if (expected === null || actual === null) return actual === expected ? null : bad();
  switch (dtype) {
    case 'float32':
    case 'float64':
      return typeof actual === 'number' && floatClose(actual, expected as number, slack) ? null : bad();
    case 'date':
      return actual instanceof Date && actual.getTime() === (expected as Date).getTime() ? null : bad();
    case 'int32':
      return typeof actual === 'number' && actual === expected ? null : bad();
    default:
      return typeof actual === typeof expected && actual === expected ? null : bad();
  }
}

/** Asserts that engine rows equal the reference's: same columns and order, floats within tolerance. */
export function assertRowsMatch(actual: readonly Record<string, unknown>[], expected: RefFrame, label: string): void {
  const names = expected.columns;
  if (actual.length !== expected.rows.length) {
    assert.fail(
      `${label}: expected ${expected.rows.length} rows, got ${actual.length}\nexpected head: ${JSON.stringify(expected.rows.slice(0, 5), replacer)}\nactual head:   ${JSON.stringify(actual.slice(0, 5), replacer)}`,
    );
  }
  for (let i = 0; i < actual.length; i++) {
    const row = actual[i]!;
    assert.deepEqual(Object.keys(row), names, `${label}: row ${i} has columns ${Object.keys(row).join(', ')}`);
    for (const f of expected.fields) {
      const why = cellMismatch(row[f.name], expected.rows[i]![f.name] ?? null, f.dtype, slackOf(expected.rows[i]!, f.name));
      if (why !== null) {
        assert.fail(
          `${label}: row ${i}, column '${f.name}' (${f.dtype}): ${why}\nexpected row: ${JSON.stringify(expected.rows[i], replacer)}\nactual row:   ${JSON.stringify(row, replacer)}`,
        );
      }
    }
  }
}

export function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return value;
}

/** Rows of an Arrow table read back through the Arrow API, as the library's rows would show them. */
export function arrowRows(table: arrow.Table | arrow.RecordBatch, fields: readonly RefField[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const vectors = fields.map((f) => table.getChild(f.name));
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    fields.forEach((f, k) => {
      const v: unknown = vectors[k]?.get(i) ?? null;
      row[f.name] = v === null ? null : f.dtype === 'date' ? new Date(Number(v)) : v;
    });
    rows.push(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Running a plan every way

export interface Mode {
  readonly name: string;
  readonly run: (frame: Frame) => Promise<Record<string, unknown>[]> | Record<string, unknown>[];
}

export interface Modes {
  readonly sync: Mode;
  readonly inline: Mode;
  /** 2 workers, every input on the pool (inlineThreshold 0), default morsels (16384 rows and up). */
  readonly pool: Mode;
  /** 2 workers, 8-row morsels: even a small frame is many partials to merge. */
  readonly tiny: Mode;
  /** The WebGPU engine (operators it lacks run on the CPU), when this machine has an adapter. */
  readonly gpu: Mode | null;
  readonly all: readonly Mode[];
  close(): Promise<void>;
}

/** Whether the WebGPU engine joins the modes: when an adapter exists (GPUFRAME_REQUIRE_GPU=1 makes a missing one fail). */
const withGpu = (await gpuSkip()) === false;
/** Chunks of 2048 rows, so the device path's chunking is exercised by every frame larger than that. */
const GPU_BINDING_BYTES = 8192;

/** Executors for one test file; call `close()` in an `after` hook so the process can exit. */
export function createModes(): Modes {
  const gpu: Executor | null = withGpu ? createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { maxBindingBytes: GPU_BINDING_BYTES } }) : null;
  const pool: Executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
  const tinyPool: Executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 8 });
  const sync: Mode = { name: 'collectSync()', run: (f) => f.collectSync() };
  const inline: Mode = { name: 'collect()', run: (f) => f.collect() };
  const onPool: Mode = { name: 'collect({ executor: 2 workers })', run: (f) => f.collect({ executor: pool }) };
  const tiny: Mode = { name: 'collect({ executor: 2 workers, morselRows: 8 })', run: (f) => f.collect({ executor: tinyPool }) };
  const onGpu: Mode | null = gpu ? { name: "collect({ executor: backend 'webgpu' })", run: (f) => f.collect({ executor: gpu }) } : null;
  return {
    sync,
    inline,
    pool: onPool,
    tiny,
    gpu: onGpu,
    all: onGpu ? [sync, inline, onPool, tiny, onGpu] : [sync, inline, onPool, tiny],
    close: async () => {
      await Promise.all([pool.close(), tinyPool.close(), gpu?.close()]);
    },
  };
}

/** Runs `steps` over `table` in every mode given and compares each result with the reference's. */
export async function checkPlan(table: TableSpec, steps: readonly Step[], modes: readonly Mode[], options: { strictOverflow?: boolean } = {}): Promise<void> {
  const plan = describePlan(table, steps);
  const { frame: source, ref: refSource } = buildBoth(table);
  let schema: RefFrame | null;
  try {
    schema = steps.reduce((r, s) => s.ref(r), new RefFrame(refSource.fields, []));
  } catch (error) {
    // Even over no rows a step can overflow (a join's right side is real data, a whole-frame agg still
    // has its one row): then only the run over the data is checked, not the schema.
    if (!(error instanceof ArithmeticOverflowError)) throw error;
    schema = null;
  }
  let expected: RefFrame | 'overflow';
  try {
    expected = steps.reduce((r, s) => s.ref(r), refSource);
  } catch (error) {
    if (!(error instanceof ArithmeticOverflowError)) throw error;
    expected = 'overflow';
  }
  let frame: Frame;
  try {
    frame = steps.reduce((f, s) => s.frame(f), source);
  } catch (error) {
    assert.fail(`building the plan threw ${String(error)}, the reference accepted it\n${plan}`);
  }
  if (schema !== null) {
    assert.deepEqual(
      frame.schema.map((f) => `${f.name}:${f.dtype}`),
      schema.fields.map((f) => `${f.name}:${f.dtype}`),
      `output schema differs from the reference's\n${plan}`,
    );
  }
  for (const mode of modes) {
    let rows: Record<string, unknown>[];
    try {
      rows = await mode.run(frame);
    } catch (error) {
      // Overflow is a runtime error, and the engine may never evaluate rows the reference did (a filter
      // pushed below a projection, a slice that stops early): when the reference overflowed, either
      // outcome is right. The converse is not: an engine overflow needs a reference overflow.
      if (expected === 'overflow' && error instanceof ArithmeticOverflowError) continue;
      if (error instanceof ArithmeticOverflowError) assert.fail(`${mode.name} overflowed where the reference did not: ${error.message}\n${plan}`);
      assert.fail(`${mode.name} threw ${String((error as Error).stack ?? error)}\n${plan}`);
    }
    if (expected === 'overflow') {
      // Plans that evaluate every row (projections, aggregations) must overflow exactly when the reference does.
      if (options.strictOverflow) assert.fail(`${mode.name} returned ${rows.length} rows where the reference overflowed\n${plan}`);
      continue;
    }
    assertRowsMatch(rows, expected, `${mode.name}\n${plan}\n`);
  }
}

export function fieldsOf(table: TableSpec): RefField[] {
  return table.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) }));
}

/** GPUFRAME_PROPERTY_SCALE=n multiplies runs and time boxes for a bug hunt, and skips the (slow) shrinking. */
const SCALE = Math.max(1, Math.floor(Number(process.env['GPUFRAME_PROPERTY_SCALE'] ?? 1)) || 1);

/** fast-check settings shared by the properties: errors in reports, and a time box for each property. */
export function runs(numRuns: number, seconds = 20): fc.Parameters<[fc.GeneratorValue]> {
  return {
    numRuns: numRuns * SCALE,
    includeErrorInReport: true,
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- still honoured by fast-check 4; the plugin form can replace it with the next fast-check upgrade
    interruptAfterTimeLimit: seconds * 1000 * SCALE,
    ...(SCALE > 1 ? { endOnFailure: true } : {}),
  };
}
