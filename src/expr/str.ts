// The `str` namespace of expressions (`col('name').str.strip()`) and `concatStr`, after nodejs-polars.
// Every method checks its arguments where they enter (a pattern must compile) and builds one `str` node;
// the namespace attaches to Expr here, so that expr.ts does not import its families.

import { boolean, fail, integer, options, string, type Check } from '../options.js';
import type { DType } from '../model/types.js';
import { Expr, type AnyExpr } from './expr.js';
import type { JsOf, NullOf } from './infer.js';
import { captureGroups, patternRegExp } from './str-bind.js';
import type { StrOp, StrParams } from './types.js';

type Typed<D extends DType, N> = Expr<JsOf<D> | N, D>;

const text = string();
const literalOption = options({ literal: boolean });
const strictOption = options({ strict: boolean });
const concatOptions = options({ separator: string(), ignoreNulls: boolean });
const offset = integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const count = integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** A padded string is built per value: a target past this is a mistake, not a request for gigabytes. */
const padLength = integer({ min: 0, max: 1 << 20 });

const oneCodePoint: Check<string> = (value, name) =>
  typeof value === 'string' && Array.from(value).length === 1 ? value : fail(name, value, 'a single character (one code point)');

/** A regular expression that compiles with the `u` flag, or any text when `literal`. */
function pattern(value: unknown, name: string, literal: boolean): string {
  const source = text(value, name);
  if (!literal) {
    try {
      patternRegExp(source, false, false);
    } catch (error) {
      fail(name, value, `a JavaScript regular expression valid with the u flag (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return source;
}

/**
 * String operations on an expression of utf8 values (Polars' `str` namespace). Lengths, offsets and
 * padding count code points, as Polars counts characters; patterns are JavaScript regular expressions
 * compiled with the `u` flag, or plain text with `{ literal: true }`. Null stays null.
 */
export class StrNamespace<T = unknown> {
  constructor(private readonly expr: AnyExpr) {}

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the calling method's signature states the result type; this only builds the node
  private node<R extends AnyExpr>(op: StrOp, params: StrParams = {}): R {
    return new Expr({ kind: 'str', op, arg: this.expr.node, args: [], params }) as R;
  }

  /** Number of characters (Unicode code points), as Polars' `len_chars`. */
  lenChars(): Typed<'int32', NullOf<T>> {
    return this.node('lenChars');
  }
  /** Number of bytes of the UTF-8 encoding. */
  lenBytes(): Typed<'int32', NullOf<T>> {
    return this.node('lenBytes');
  }
  /** JavaScript's `toLowerCase` (full Unicode case mapping, locale-independent). */
  toLowerCase(): Typed<'utf8', NullOf<T>> {
    return this.node('toLowerCase');
  }
  toUpperCase(): Typed<'utf8', NullOf<T>> {
    return this.node('toUpperCase');
  }
  /** Removes leading and trailing `chars` (any of its characters), or whitespace as JavaScript's `trim` defines it. */
  strip(chars?: string): Typed<'utf8', NullOf<T>> {
    return this.stripOp('strip', chars);
  }
  stripStart(chars?: string): Typed<'utf8', NullOf<T>> {
    return this.stripOp('stripStart', chars);
  }
  stripEnd(chars?: string): Typed<'utf8', NullOf<T>> {
    return this.stripOp('stripEnd', chars);
  }
  private stripOp(op: StrOp, chars: unknown): Typed<'utf8', NullOf<T>> {
    return this.node(op, chars === undefined ? {} : { chars: text(chars, `str.${op}(chars)`) });
  }
  /**
   * `length` characters from `offset` (all the rest without `length`); a negative offset counts from the
   * end. The window is clipped to the string, as in Polars: `'abc'.slice(-5, 3)` is `'a'`.
   */
  slice(offsetChars: number, length?: number): Typed<'utf8', NullOf<T>> {
    const start = offset(offsetChars, 'str.slice(offset)');
    return this.node('slice', length === undefined ? { offset: start } : { offset: start, length: count(length, 'str.slice(length)') });
  }
  /** Pads on the left with `fill` (one character, default a space) to `length` characters; longer strings are kept. */
  padStart(length: number, fill = ' '): Typed<'utf8', NullOf<T>> {
    return this.node('padStart', { length: padLength(length, 'str.padStart(length)'), fill: oneCodePoint(fill, 'str.padStart(fill)') });
  }
  padEnd(length: number, fill = ' '): Typed<'utf8', NullOf<T>> {
    return this.node('padEnd', { length: padLength(length, 'str.padEnd(length)'), fill: oneCodePoint(fill, 'str.padEnd(fill)') });
  }
  /** Whether the pattern matches anywhere (a regular expression unless `{ literal: true }`). */
  contains(regex: string, opts?: { readonly literal?: boolean }): Typed<'bool', NullOf<T>> {
    const literal = literalOption(opts, 'str.contains(options)').literal ?? false;
    return this.node('contains', { pattern: pattern(regex, 'str.contains(pattern)', literal), literal });
  }
  /** Whether the string starts with `prefix` (plain text, as in Polars). */
  startsWith(prefix: string): Typed<'bool', NullOf<T>> {
    return this.node('startsWith', { pattern: text(prefix, 'str.startsWith(prefix)') });
  }
  endsWith(suffix: string): Typed<'bool', NullOf<T>> {
    return this.node('endsWith', { pattern: text(suffix, 'str.endsWith(suffix)') });
  }
  /**
   * The first match replaced by `value`. For a regular expression, `value` expands JavaScript's
   * replacement patterns (`$1`, `$<name>`, `$&`, `$$`); with `{ literal: true }` both are plain text.
   */
  replace(regex: string, value: string, opts?: { readonly literal?: boolean }): Typed<'utf8', NullOf<T>> {
    return this.replaceOp('replace', regex, value, opts);
  }
  /** Every non-overlapping match replaced. */
  replaceAll(regex: string, value: string, opts?: { readonly literal?: boolean }): Typed<'utf8', NullOf<T>> {
    return this.replaceOp('replaceAll', regex, value, opts);
  }
  private replaceOp(op: 'replace' | 'replaceAll', regex: unknown, value: unknown, opts: unknown): Typed<'utf8', NullOf<T>> {
    const literal = literalOption(opts, `str.${op}(options)`).literal ?? false;
    return this.node(op, { pattern: pattern(regex, `str.${op}(pattern)`, literal), value: text(value, `str.${op}(value)`), literal });
  }
  /** Capture group `group` (0: the whole match) of the first match; null where nothing matches or the group took no part. */
  extract(regex: string, group = 1): Typed<'utf8', null> {
    const source = pattern(regex, 'str.extract(pattern)', false);
    const groups = captureGroups(source);
    return this.node('extract', { pattern: source, group: integer({ min: 0, max: groups })(group, 'str.extract(group)') });
  }
  /** Number of non-overlapping matches. */
  countMatches(regex: string, opts?: { readonly literal?: boolean }): Typed<'int32', NullOf<T>> {
    const literal = literalOption(opts, 'str.countMatches(options)').literal ?? false;
    return this.node('countMatches', { pattern: pattern(regex, 'str.countMatches(pattern)', literal), literal });
  }
  /**
   * The text read as a float64: `cast('float64', { strict })` of a string (an optional sign, digits, a
   * fraction, an exponent, `inf` or `nan`). Strict by default: text that is not a number raises CastError.
   */
  toNumber<S extends boolean = true>(opts?: { readonly strict?: S }): Typed<'float64', NullOf<T> | (true extends S ? never : null)> {
    const strict = strictOption(opts, 'str.toNumber(options)').strict ?? true;
    return new Expr({ kind: 'cast', arg: this.expr.node, to: { dtype: 'float64' }, strict });
  }
}

declare module './expr.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats the class's type parameters
  interface Expr<T, D extends DType> {
    /** String operations (Polars' `str` namespace); the values must be utf8. */
    readonly str: StrNamespace<T>;
  }
}

Object.defineProperty(Expr.prototype, 'str', {
  get(this: AnyExpr) {
    return new StrNamespace(this);
  },
  configurable: true,
});

type AnyNull<E extends readonly AnyExpr[]> = { [K in keyof E]: E[K] extends Expr<infer U, DType> ? NullOf<U> : never }[number];

/**
 * The texts of `exprs` joined by `separator` (Polars' `concat_str`); numbers and booleans are written as
 * `cast('utf8')` writes them. Null where any input is null, unless `ignoreNulls`, which skips them (all
 * null gives the empty string).
 */
export function concatStr<E extends readonly AnyExpr[], I extends boolean = false>(
  exprs: E,
  opts?: { readonly separator?: string; readonly ignoreNulls?: I },
): Typed<'utf8', true extends I ? never : AnyNull<E>> {
  if (!Array.isArray(exprs) || exprs.length === 0) fail('concatStr(exprs)', exprs, 'a non-empty array of expressions');
  // Array.from visits holes of a sparse array (as undefined), which map would skip.
  const nodes = Array.from(exprs, (e: unknown, k) => (e instanceof Expr ? e.node : fail(`concatStr(exprs)[${k}]`, e, "an expression such as col('x')")));
  const { separator = '', ignoreNulls = false } = concatOptions(opts, 'concatStr(options)');
  return new Expr({ kind: 'str', op: 'concat', arg: nodes[0]!, args: nodes.slice(1), params: { separator, ignoreNulls } });
}
