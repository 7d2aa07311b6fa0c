// Run-time checks of arguments and options where they enter the public API. TypeScript's types do not
// protect JavaScript callers (nor `as any`): a value outside what a parameter accepts throws
// InvalidArgumentError naming the parameter, what it received and what it accepts, before any work is
// done. Each check is a function of (value, name) that returns the value, typed, or throws.

import { describeArgument, InvalidArgumentError } from './errors.js';

/** Longest delay Node's timers honour: a larger one is clamped to 1 ms, firing at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export type Check<T> = (value: unknown, name: string) => T;

export function fail(name: string, value: unknown, expected: string, allowed: readonly unknown[] | null = null): never {
  throw new InvalidArgumentError(name, value, expected, allowed);
}

/** A user-chosen key inside a parameter's name (`withColumns(exprs).total`), cut to a printable length. */
export function keyName(key: string): string {
  return /^[A-Za-z_$][\w$]{0,39}$/.test(key) ? key : `[${describeArgument(key)}]`;
}

/** One of a closed set of strings or numbers, compared with Object.is (so NaN is never accepted by accident). */
export function oneOf<const T extends string | number>(allowed: readonly T[], note?: string): Check<T> {
  const list = allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ');
  const expected = `one of ${list}${note ? ` (${note})` : ''}`;
  return (value, name) => (allowed.some((a) => Object.is(a, value)) ? (value as T) : fail(name, value, expected, allowed));
}

export interface IntegerBounds {
  readonly min: number;
  readonly max: number;
  /** Accept Infinity as well, for limits where it means "no limit". */
  readonly infinite?: boolean;
}

/** An integer in [min, max] (Infinity too when `infinite`); never NaN, a fraction or a numeric string. */
export function integer(bounds: IntegerBounds): Check<number> {
  const { min, max, infinite = false } = bounds;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
  const expected = `an integer ${range}${infinite ? ' or Infinity' : ''}`;
  return (value, name) => {
    if (typeof value !== 'number') return fail(name, value, expected);
    if (infinite && value === Infinity) return value;
    if (!Number.isInteger(value) || value < min || value > max) return fail(name, value, expected);
    return value;
  };
}

export const nonNegativeInteger = integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** Milliseconds for a timer, fractions allowed: at most what Node can wait for, and Infinity ("never") when `infinite`. */
export function duration(options: { readonly infinite: boolean }): Check<number> {
  const expected = `a number of milliseconds from 0 to ${MAX_TIMER_MS}${options.infinite ? ' (or Infinity)' : ''}`;
  return (value, name) => {
    if (typeof value !== 'number' || Number.isNaN(value)) return fail(name, value, expected);
    if (options.infinite && value === Infinity) return value;
    return value >= 0 && value <= MAX_TIMER_MS ? value : fail(name, value, expected);
  };
}

/** A timeout that may be Infinity (no timeout). */
export const timeoutMs = duration({ infinite: true });

export const boolean: Check<boolean> = (value, name) => (typeof value === 'boolean' ? value : fail(name, value, 'true or false'));

export function string(options: { readonly minLength?: number; readonly maxLength?: number } = {}): Check<string> {
  const { minLength = 0, maxLength = Infinity } = options;
  const expected = minLength > 0 ? 'a non-empty string' : 'a string';
  const within = Number.isFinite(maxLength) ? `${expected} of at most ${maxLength} characters` : expected;
  return (value, name) => (typeof value === 'string' && value.length >= minLength && value.length <= maxLength ? value : fail(name, value, within));
}

export const nonEmptyString = string({ minLength: 1 });

export const func: Check<(...args: never[]) => unknown> = (value, name) =>
  typeof value === 'function' ? (value as (...args: never[]) => unknown) : fail(name, value, 'a function');

export const abortSignal: Check<AbortSignal> = (value, name) => (value instanceof AbortSignal ? value : fail(name, value, 'an AbortSignal'));

/** An instance of `cls` (a class of this library: its values come only from its constructors). */
export function instanceOf<T>(cls: abstract new (...args: never[]) => T, description: string): Check<T> {
  return (value, name) => (value instanceof cls ? value : fail(name, value, description));
}

/** A plain object (not null, an array, a function, a Map, a Date...). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  try {
    return Object.prototype.toString.call(value) === '[object Object]';
  } catch {
    return false;
  }
}

function plainObject(value: unknown, name: string): Record<string, unknown> {
  return isPlainObject(value) ? value : fail(name, value, 'a plain object');
}

/** An array whose every item passes `item`, with at least `min` items and, when `distinct`, no repeats. */
export function arrayOf<T>(item: Check<T>, options: { readonly min?: number; readonly max?: number; readonly distinct?: boolean } = {}): Check<T[]> {
  const { min = 0, max = Infinity, distinct = false } = options;
  const size =
    min > 0
      ? Number.isFinite(max)
        ? `${min} to ${max} items`
        : `at least ${min} item${min === 1 ? '' : 's'}`
      : Number.isFinite(max)
        ? `at most ${max} items`
        : 'items';
  return (value, name) => {
    if (!Array.isArray(value)) return fail(name, value, `an array of ${size}`);
    if (value.length < min || value.length > max) return fail(name, value, `an array of ${size}`);
    // An index loop, not map(): a sparse array's holes are read (as undefined) and refused, not skipped.
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) out.push(item(value[i], `${name}[${i}]`));
    if (distinct) {
      const seen = new Set<T>();
      out.forEach((v, i) => {
        if (seen.has(v)) fail(`${name}[${i}]`, v, 'distinct values (this one is given twice)');
        seen.add(v);
      });
    }
    return out;
  };
}

/** A column name, or a non-empty list of distinct ones (join `on`, sort `by`). */
export const columnNames: Check<readonly string[]> = (value, name) =>
  typeof value === 'string'
    ? value.length > 0
      ? [value]
      : fail(name, value, 'a column name or a non-empty array of them')
    : arrayOf(nonEmptyString, { min: 1, distinct: true })(value, name);

/** Column names passed as rest arguments (`groupBy('a', 'b')`, `drop('x')`). */
export function restColumnNames(names: readonly unknown[], where: string): string[] {
  const out = names.map((n, i) => nonEmptyString(n, `${where}[${i}]`));
  out.forEach((n, i) => {
    if (out.indexOf(n) !== i) fail(`${where}[${i}]`, n, 'distinct column names (this one is given twice)');
  });
  return out;
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, name) => (value === undefined ? undefined : check(value, name));
}

/** Either check, tried in order; the error names both. */
export function either<A, B>(a: Check<A>, b: Check<B>, expected: string): Check<A | B> {
  return (value, name) => {
    for (const check of [a, b] as Check<A | B>[]) {
      try {
        return check(value, name);
      } catch (error) {
        if (!(error instanceof InvalidArgumentError)) throw error;
      }
    }
    return fail(name, value, expected);
  };
}

export type OptionSpec = Readonly<Record<string, Check<unknown>>>;
export type OptionsOf<S extends OptionSpec> = { readonly [K in keyof S]?: Exclude<ReturnType<S[K]>, undefined> };

/**
 * An options object: undefined (no options) or a plain object whose keys are all in `spec`, each value
 * checked by its entry. A key whose value is undefined counts as absent, as optional properties do.
 * Unknown keys are refused with the list of known ones: a misspelt option must not be silently ignored.
 */
export function options<S extends OptionSpec>(spec: S): Check<OptionsOf<S>> {
  const known = Object.keys(spec);
  return (value, name) => {
    if (value === undefined) return {};
    const record = plainObject(value, name);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(spec, key)) throw InvalidArgumentError.unknownOption(name, key, known);
    }
    for (const key of known) {
      const v = record[key];
      if (v !== undefined) out[key] = spec[key]!(v, `${name}.${key}`);
    }
    return out as OptionsOf<S>;
  };
}

/** A plain object mapping names (chosen by the caller) to values passing `item`, with at least `min` entries. */
export function recordOf<T>(item: Check<T>, options: { readonly min?: number } = {}): Check<[string, T][]> {
  const min = options.min ?? 0;
  return (value, name) => {
    const record = plainObject(value, name);
    const entries = Object.entries(record);
    if (entries.length < min) fail(name, value, `an object with at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
    return entries.map(([key, v]): [string, T] => {
      if (key.length === 0) fail(name, key, 'non-empty names');
      return [key, item(v, `${name}.${keyName(key)}`)];
    });
  };
}

/** Refuses arguments past the last one a function declares: an option given to a function without options is lost. */
export function maxArguments(name: string, args: { readonly length: number }, max: number): void {
  if (args.length > max) {
    throw new InvalidArgumentError(name, args.length, `at most ${max} argument${max === 1 ? '' : 's'}`);
  }
}
