// The `str` operations on one JS string, and text parsing for casts, shared by both engines: over a
// dictionary they run once per entry to build a lookup table (a result per entry, or a remapped
// dictionary), and the CPU engine calls them per row on strings made at run time.

import { patternRegExp } from '../../expr/str-bind.js';
import type { DType } from '../../model/types.js';
import type { StrOp, StrParams } from '../../expr/types.js';

export type StrValue = string | number | boolean | null;

/** Code points of `s` (a lone surrogate counts as one). */
function codePoints(s: string): string[] {
  return Array.from(s);
}

/** Number of code points of `s`, without building them. */
function codePointCount(s: string): number {
  let n = s.length;
  for (let k = 0; k < s.length - 1; k++) {
    const unit = s.charCodeAt(k);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(k + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        k++;
      }
    }
  }
  return n;
}

function stripWith(s: string, chars: string | undefined, start: boolean, end: boolean): string {
  if (chars === undefined) return start && end ? s.trim() : start ? s.trimStart() : s.trimEnd();
  const set = new Set(codePoints(chars));
  const cps = codePoints(s);
  let lo = 0;
  let hi = cps.length;
  if (start) while (lo < hi && set.has(cps[lo]!)) lo++;
  if (end) while (hi > lo && set.has(cps[hi - 1]!)) hi--;
  return lo === 0 && hi === cps.length ? s : cps.slice(lo, hi).join('');
}

/** Polars' slice offsets: a negative offset counts from the end, and the window is clipped to the string. */
function sliceCodePoints(s: string, offset: number, length: number | undefined): string {
  const cps = codePoints(s);
  const first = offset < 0 ? cps.length + offset : offset;
  const last = length === undefined ? cps.length : first + length;
  const clamp = (x: number): number => Math.max(0, Math.min(cps.length, x));
  return cps.slice(clamp(first), clamp(last)).join('');
}

function pad(s: string, length: number, fill: string, start: boolean): string {
  const n = codePointCount(s);
  if (n >= length) return s;
  const padding = fill.repeat(length - n);
  return start ? padding + s : s + padding;
}

/** The function a per-string op computes; `concat` is n-ary and has none. */
export function strFunction(op: Exclude<StrOp, 'concat'>, params: StrParams): (s: string) => StrValue {
  const pattern = params.pattern ?? '';
  const literal = params.literal === true;
  switch (op) {
    case 'lenChars':
      return codePointCount;
    case 'lenBytes':
      return (s) => Buffer.byteLength(s, 'utf8');
    case 'toLowerCase':
      return (s) => s.toLowerCase();
    case 'toUpperCase':
      return (s) => s.toUpperCase();
    case 'strip':
      return (s) => stripWith(s, params.chars, true, true);
    case 'stripStart':
      return (s) => stripWith(s, params.chars, true, false);
    case 'stripEnd':
      return (s) => stripWith(s, params.chars, false, true);
    case 'slice':
      return (s) => sliceCodePoints(s, params.offset ?? 0, params.length);
    case 'padStart':
    case 'padEnd':
      return (s) => pad(s, params.length ?? 0, params.fill ?? ' ', op === 'padStart');
    case 'startsWith':
      return (s) => s.startsWith(pattern);
    case 'endsWith':
      return (s) => s.endsWith(pattern);
    case 'contains': {
      if (literal) return (s) => s.includes(pattern);
      const re = patternRegExp(pattern, false, false);
      return (s) => re.test(s);
    }
    case 'replace':
    case 'replaceAll': {
      const re = patternRegExp(pattern, literal, op === 'replaceAll');
      const value = params.value ?? '';
      // A literal replacement is inserted as is; otherwise `$1`, `$<name>`, `$&` and `$$` expand as in JS.
      return literal ? (s) => s.replace(re, () => value) : (s) => s.replace(re, value);
    }
    case 'extract': {
      const re = patternRegExp(pattern, false, false);
      const group = params.group ?? 1;
      return (s) => re.exec(s)?.[group] ?? null;
    }
    case 'countMatches': {
      const re = patternRegExp(pattern, literal, true);
      return (s) => s.match(re)?.length ?? 0;
    }
  }
}

/** A per-dictionary-entry table of a utf8 -> utf8 op: each entry's code in the result dictionary, -1 for null. */
export interface StringTable {
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

/** Applies a utf8-valued op to every entry of `dictionary`, interning the results. */
export function mapDictionary(dictionary: readonly string[], f: (s: string) => StrValue): StringTable {
  const index = new Map<string, number>();
  const codes = Int32Array.from(dictionary, (s) => {
    const r = f(s);
    if (r === null) return -1;
    const text = r as string;
    let code = index.get(text);
    if (code === undefined) {
      code = index.size;
      index.set(text, code);
    }
    return code;
  });
  return { codes, dictionary: [...index.keys()] };
}

const INTEGER = /^[+-]?[0-9]+$/;
const FLOAT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

/**
 * Text to a number as a cast reads it, or null when the text is not one: integers are an optional sign
 * and decimal digits (no spaces, no fraction, no exponent); floats also take a fraction, an exponent,
 * `inf`/`infinity` and `nan` in any case, as Polars does.
 */
export function parseText(text: string, to: DType): number | bigint | boolean | null {
  switch (to) {
    case 'int32': {
      if (!INTEGER.test(text)) return null;
      const n = Number(text);
      return n >= -2147483648 && n <= 2147483647 ? n + 0 : null;
    }
    case 'int64': {
      if (!INTEGER.test(text)) return null;
      const n = BigInt(text);
      return BigInt.asIntN(64, n) === n ? n : null;
    }
    case 'float32':
    case 'float64': {
      if (!FLOAT.test(text)) return null;
      const word = text.replace(/^[+-]/, '').toLowerCase();
      const negative = text.startsWith('-');
      const n = word === 'nan' ? Number.NaN : word.startsWith('inf') ? (negative ? -Infinity : Infinity) : Number(text);
      return to === 'float32' ? Math.fround(n) : n;
    }
    case 'bool':
      return text === 'true' ? true : text === 'false' ? false : null;
    default:
      return null;
  }
}
