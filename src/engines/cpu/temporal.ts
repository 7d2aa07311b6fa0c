// Code generation of casts to and from the temporal dtypes, on their integers: unit changes (exact scaling
// up, floor division down), timestamp <-> date <-> time, epoch integers, and ISO 8601 text parsed once per
// dictionary entry at compile time. A value that does not fit raises CastError (strict) or becomes null.

import { DEFAULT_UNIT, isUnitTemporal, typeName } from '../../model/dtype.js';
import { parseIsoDate, parseIsoDuration, parseIsoTime, parseIsoTimestamp, unitsPerDay, UNITS_PER_SECOND } from '../../model/temporal.js';
import type { TimeUnit, TypeSpec } from '../../model/types.js';

/** What the cast compiler needs of the kernel builder (codegen.ts), kept structural to avoid an import cycle. */
export interface Emitter {
  tmp(prefix?: string): string;
  line(text: string): void;
  param(value: unknown): string;
}

export interface CastValue {
  readonly v: string;
  readonly n: string;
  readonly dictionary?: readonly string[];
}

const unitOf = (t: TypeSpec): TimeUnit => t.unit ?? DEFAULT_UNIT;

/** `x` (a bigint expression) rescaled from one unit to another: multiplied up, floor-divided down. */
function rescale(x: string, from: TimeUnit, to: TimeUnit): { text: string; grows: boolean } {
  const f = UNITS_PER_SECOND[from];
  const t = UNITS_PER_SECOND[to];
  if (f === t) return { text: x, grows: false };
  if (t > f) return { text: `${x} * ${t / f}n`, grows: true };
  const k = `${f / t}n`;
  return { text: `(${x} - ((${x} % ${k}) + ${k}) % ${k}) / ${k}`, grows: false };
}

/** True when the cast is one this module compiles: either side temporal. */
export function isTemporalCast(from: TypeSpec, to: TypeSpec): boolean {
  const t = (s: TypeSpec): boolean => s.dtype === 'date' || isUnitTemporal(s.dtype);
  return t(from) || t(to);
}

/**
 * Emits the cast of `a` (of type `from`, row variable `i`) to `to`. Returns the value and null-flag names.
 * The value expression is evaluated only on non-null rows, whose slot may hold anything.
 */
export function compileTemporalCast(b: Emitter, a: CastValue, from: TypeSpec, to: TypeSpec, strict: boolean, i: string): { v: string; n: string } {
  const v = b.tmp('v');
  const toName = JSON.stringify(typeName(to));
  const big = to.dtype !== 'date' && to.dtype !== 'int32';
  const zero = big ? '0n' : '0';
  let value: string;
  let bad: string | null = null;
  let shown = a.v;
  const I64 = (x: string): string => `BigInt.asIntN(64, ${x}) !== ${x}`;
  if (from.dtype === 'utf8') {
    const dictionary = a.dictionary ?? [];
    const values = to.dtype === 'date' ? new Int32Array(dictionary.length) : new BigInt64Array(dictionary.length);
    const ok = new Uint8Array(dictionary.length);
    dictionary.forEach((text, code) => {
      const parsed =
        to.dtype === 'date'
          ? parseIsoDate(text)
          : to.dtype === 'time'
            ? parseIsoTime(text, unitOf(to))
            : to.dtype === 'duration'
              ? parseIsoDuration(text, unitOf(to))
              : parseIsoTimestamp(text, unitOf(to), to.timeZone);
      if (!parsed.ok) return;
      ok[code] = 1;
      (values as Int32Array)[code] = parsed.value as number;
    });
    const table = b.param(values);
    const okTable = b.param(ok);
    value = `${table}[${a.v}]`;
    bad = `${okTable}[${a.v}] === 0`;
    shown = `${b.param(dictionary)}[${a.v}]`;
  } else if (from.dtype === 'int32' || from.dtype === 'date') {
    // int32 -> date, date -> int32/int64/timestamp.
    if (to.dtype === 'int64') value = `BigInt(${a.v})`;
    else if (to.dtype === 'timestamp') {
      const t = b.tmp('t');
      b.line(`const ${t} = ${a.n === 'false' ? '' : `${a.n} ? 0n : `}BigInt(${a.v}) * ${unitsPerDay(unitOf(to))}n;`);
      value = t;
      bad = I64(t);
    } else value = a.v;
  } else if (to.dtype === 'int64') {
    value = a.v;
  } else if (to.dtype === 'int32') {
    value = `Number(${a.v})`;
  } else if (from.dtype === 'int64') {
    if (to.dtype === 'date') {
      value = `Number(${a.v})`;
      bad = `${a.v} > 2147483647n || ${a.v} < -2147483648n`;
    } else {
      value = a.v;
      if (to.dtype === 'time') bad = `${a.v} < 0n || ${a.v} >= ${unitsPerDay(unitOf(to))}n`;
    }
  } else if (to.dtype === 'date') {
    // timestamp -> date: the UTC day the instant falls in.
    const perDay = `${unitsPerDay(unitOf(from))}n`;
    const t = b.tmp('t');
    b.line(`const ${t} = ${a.n === 'false' ? '' : `${a.n} ? 0n : `}(${a.v} - ((${a.v} % ${perDay}) + ${perDay}) % ${perDay}) / ${perDay};`);
    value = `Number(${t})`;
    bad = `${t} > 2147483647n || ${t} < -2147483648n`;
  } else if (from.dtype === 'timestamp' && to.dtype === 'time') {
    // The UTC time of day, in the time's unit.
    const perDay = `${unitsPerDay(unitOf(from))}n`;
    value = rescale(`((${a.v} % ${perDay}) + ${perDay}) % ${perDay}`, unitOf(from), unitOf(to)).text;
  } else {
    // Same family, another unit (or zone: the instant is unchanged).
    const scaled = rescale(a.v, unitOf(from), unitOf(to));
    if (scaled.grows) {
      const t = b.tmp('t');
      b.line(`const ${t} = ${a.n === 'false' ? '' : `${a.n} ? 0n : `}${scaled.text};`);
      value = t;
      bad = I64(t);
    } else value = scaled.text;
  }
  const guarded = a.n === 'false' ? value : `${a.n} ? ${zero} : ${value}`;
  if (bad === null) {
    b.line(`const ${v} = ${guarded};`);
    return { v, n: a.n };
  }
  const failing = a.n === 'false' ? `(${bad})` : `!${a.n} && (${bad})`;
  if (strict) {
    b.line(`if (${failing}) lib.castFailed(${shown}, ${i}, ${toName});`);
    b.line(`const ${v} = ${guarded};`);
    return { v, n: a.n };
  }
  const n = b.tmp('n');
  b.line(`const ${n} = ${a.n === 'false' ? '' : `${a.n} || `}(${bad});`);
  b.line(`const ${v} = ${n} ? ${zero} : ${value};`);
  return { v, n };
}
