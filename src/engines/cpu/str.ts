// JS code generation for the `str` namespace, casts to and from text, and "dynamic" strings. Over a
// dictionary, an operation becomes a lookup table computed once per entry (no per-row string work); a
// value made per row (concatStr, a number cast to utf8) is a JS string, on which operations run per row.
// It shares codegen.ts's builder and values by their shape, so that the two files import one way.

import type { BoundExpr } from '../../expr/types.js';
import type { DType } from '../../model/types.js';
import { mapDictionary, parseText, strFunction } from '../shared/strings.js';

export interface StrValue {
  readonly v: string;
  readonly n: string;
  readonly dtype: DType;
  readonly dictionary?: readonly string[];
  readonly dynamic?: boolean;
}

export interface StrBuilder {
  param(value: unknown): string;
  shared(value: object): string;
  hoist(text: string): string;
  tmp(prefix?: string): string;
  line(text: string): void;
}

const ZERO: Partial<Record<DType, string>> = { int32: '0', int64: '0n', float32: '0', float64: '0', bool: 'false', utf8: "''" };

/** A JS expression giving the text of a utf8 value: the string itself, or its dictionary entry ('' where there is none). */
export function textOf(b: StrBuilder, c: StrValue): string {
  if (c.dynamic === true) return c.v;
  return `(${b.shared(c.dictionary ?? [])}[${c.v}] ?? '')`;
}

function nullVar(b: StrBuilder, text: string): string {
  if (text === 'false' || text === 'true') return text;
  const n = b.tmp('n');
  b.line(`const ${n} = ${text};`);
  return n;
}

export function compileStr(b: StrBuilder, expr: Extract<BoundExpr, { kind: 'str' }>, compile: (e: BoundExpr) => StrValue): StrValue {
  if (expr.op === 'concat') return compileConcat(b, expr, compile);
  const op = expr.op;
  const a = compile(expr.arg);
  const dtype = expr.type.dtype;
  const v = b.tmp('v');
  if (a.dynamic === true) {
    const f = b.hoist(`lib.strFunction(${JSON.stringify(op)}, ${b.param(expr.params)})`);
    const call = a.n === 'false' ? `${f}(${a.v})` : `(${a.n} ? null : ${f}(${a.v}))`;
    if (op === 'extract') {
      const r = b.tmp('r');
      b.line(`const ${r} = ${call};`);
      b.line(`const ${v} = ${r} ?? '';`);
      return { v, n: nullVar(b, `${r} === null`), dtype, dynamic: true };
    }
    b.line(`const ${v} = ${a.n === 'false' ? call : `${a.n} ? ${ZERO[dtype]!} : ${f}(${a.v})`};`);
    return dtype === 'utf8' ? { v, n: a.n, dtype, dynamic: true } : { v, n: a.n, dtype };
  }
  const f = strFunction(op, expr.params);
  const dict = a.dictionary ?? [];
  if (dtype === 'utf8') {
    const { codes, dictionary } = mapDictionary(dict, f);
    const t = b.param(codes);
    if (op !== 'extract') {
      b.line(`const ${v} = ${t}[${a.v}];`);
      return { v, n: a.n, dtype, dictionary };
    }
    // -1 marks an entry with no match: null, whose slot gets code 0.
    const r = b.tmp('r');
    b.line(`const ${r} = ${t}[${a.v}];`);
    b.line(`const ${v} = ${r} > 0 ? ${r} : 0;`);
    return { v, n: nullVar(b, a.n === 'false' ? `${r} < 0` : `${a.n} || ${r} < 0`), dtype, dictionary };
  }
  if (dtype === 'bool') {
    const t = b.param(Uint8Array.from(dict, (s) => (f(s) === true ? 1 : 0)));
    b.line(`const ${v} = ${t}[${a.v}] === 1;`);
  } else {
    const t = b.param(Int32Array.from(dict, (s) => f(s) as number));
    b.line(`const ${v} = ${t}[${a.v}];`);
  }
  return { v, n: a.n, dtype };
}

/** concat_str: null where any part is null, or with `ignoreNulls` the non-null parts joined. */
function compileConcat(b: StrBuilder, expr: Extract<BoundExpr, { kind: 'str' }>, compile: (e: BoundExpr) => StrValue): StrValue {
  const parts = [expr.arg, ...expr.args].map(compile);
  const separator = JSON.stringify(expr.params.separator ?? '');
  const v = b.tmp('v');
  if (expr.params.ignoreNulls !== true) {
    const n = nullVar(
      b,
      parts.map((p) => p.n).reduce((x, y) => (x === 'false' ? y : y === 'false' ? x : x === 'true' || y === 'true' ? 'true' : `${x} || ${y}`)),
    );
    const joined = parts.map((p) => textOf(b, p)).join(` + ${separator} + `);
    b.line(`const ${v} = ${n === 'false' ? joined : `${n} ? '' : ${joined}`};`);
    return { v, n, dtype: 'utf8', dynamic: true };
  }
  const first = b.tmp('f');
  b.line(`let ${v} = '', ${first} = true;`);
  for (const p of parts) {
    const append = `${v} += ${first} ? ${textOf(b, p)} : ${separator} + ${textOf(b, p)}; ${first} = false;`;
    b.line(p.n === 'false' ? append : `if (!${p.n}) { ${append} }`);
  }
  return { v, n: 'false', dtype: 'utf8', dynamic: true };
}

/**
 * A cast from or to utf8 (the other side a number or a boolean). Text parses per dictionary entry into
 * a table of values and a table of which entries parsed; a strict cast raises CastError naming the text
 * and the row, a non-strict one gives null. Booleans become the two-entry dictionary ['false', 'true'];
 * numbers become dynamic strings (`String(x)`).
 */
export function compileTextCast(b: StrBuilder, a: StrValue, to: DType, strict: boolean, i: string): StrValue {
  const v = b.tmp('v');
  if (to === 'utf8') {
    if (a.dtype === 'bool') {
      b.line(`const ${v} = ${a.v} ? 1 : 0;`);
      return { v, n: a.n, dtype: to, dictionary: ['false', 'true'] };
    }
    b.line(`const ${v} = ${a.n === 'false' ? `String(${a.v})` : `${a.n} ? '' : String(${a.v})`};`);
    return { v, n: a.n, dtype: to, dynamic: true };
  }
  const live = a.n === 'false' ? '' : `!${a.n} && `;
  const zero = ZERO[to]!;
  let failed: string;
  let value: string;
  let shown: string;
  if (a.dynamic === true) {
    const r = b.tmp('r');
    b.line(`const ${r} = ${a.n === 'false' ? '' : `${a.n} ? null : `}lib.parseText(${a.v}, '${to}');`);
    failed = `${live}${r} === null`;
    value = `${r} ?? ${zero}`;
    shown = a.v;
  } else {
    const dict = a.dictionary ?? [];
    const parsed = dict.map((s) => parseText(s, to));
    const ok = b.param(Uint8Array.from(parsed, (x) => (x === null ? 0 : 1)));
    const values =
      to === 'int64'
        ? BigInt64Array.from(parsed, (x) => (x as bigint | null) ?? 0n)
        : to === 'bool'
          ? Uint8Array.from(parsed, (x) => (x === true ? 1 : 0))
          : to === 'int32'
            ? Int32Array.from(parsed, (x) => (x as number | null) ?? 0)
            : Float64Array.from(parsed, (x) => (x as number | null) ?? 0);
    const t = b.param(values);
    failed = `${live}${ok}[${a.v}] !== 1`;
    value = to === 'bool' ? `${t}[${a.v}] === 1` : `${t}[${a.v}] ?? ${zero}`;
    shown = textOf(b, a);
  }
  if (strict) {
    b.line(`if (${failed}) lib.castFailed(${shown}, ${i}, '${to}');`);
    b.line(`const ${v} = ${value};`);
    return { v, n: a.n, dtype: to };
  }
  const n = nullVar(b, a.n === 'false' ? failed : `${a.n} || ${failed.slice(live.length)}`);
  b.line(`const ${v} = ${value};`);
  return { v, n, dtype: to };
}
