// The temporal `dt` namespace of expressions (`col('at').dt.hour()`), after nodejs-polars. Every method checks
// its arguments where they enter (a duration string parses, a zone is one Intl knows, a format's specifiers
// exist) and builds one `dt` node; the namespace attaches to Expr here, so that expr.ts does not import it.

import { parseDuration, truncationPeriod } from '../engines/shared/calendar.js';
import { compileFormat } from '../engines/shared/strftime.js';
import { timeZone } from '../engines/shared/zones.js';
import type { DType } from '../model/types.js';
import { TIME_UNITS } from '../model/types.js';
import { boolean, either, fail, oneOf, options, string, type Check } from '../options.js';
import { Expr, type AnyExpr } from './expr.js';
import type { JsOf, NullOf } from './infer.js';
import { AMBIGUOUS_OPTIONS, EPOCH_UNITS, NON_EXISTENT_OPTIONS, type DtOp, type DtParams, type EpochUnit } from './types.js';

/** A temporal dtype by name (the names the temporal column types add to DType). */
type Temporal<N extends string> = N extends DType ? N : DType;
type Typed<D extends DType, N> = Expr<JsOf<D> | N, D>;

const text = string();
const epochUnit = oneOf(EPOCH_UNITS);
const zoneName: Check<string> = (value, name) => timeZone(text(value, name), name).name;
const replaceOptions = options({ ambiguous: oneOf(AMBIGUOUS_OPTIONS), nonExistent: oneOf(NON_EXISTENT_OPTIONS) });
const parseOptions = options({ strict: boolean, unit: oneOf(TIME_UNITS), timeZone: zoneName, ambiguous: oneOf(AMBIGUOUS_OPTIONS) });
const dateParseOptions = options({ strict: boolean });
const nullableZone = either(
  zoneName,
  (value, name) => (value === null ? null : fail(name, value, 'null')),
  "an IANA time zone name such as 'Europe/Paris', or null",
);

function formatText(value: unknown, name: string, forParsing: boolean): string {
  return compileFormat(text(value, name), name, forParsing).text;
}

/**
 * Temporal operations on an expression of timestamp, date or time values (Polars' `dt` namespace). Fields
 * are read on the wall clock of the column's time zone (UTC for a timestamp without one) and are int32;
 * sub-second fields are the fraction of the current second (`millisecond` 0..999, `nanosecond` 0..999999999).
 * Null stays null.
 */
export class DtNamespace<T = unknown, D extends DType = DType> {
  constructor(private readonly expr: AnyExpr) {}

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the calling method's signature states the result type; this only builds the node
  private node<R extends AnyExpr>(op: DtOp, params: DtParams = {}): R {
    return new Expr({ kind: 'dt', op, arg: this.expr.node, params }) as R;
  }

  year(): Typed<'int32', NullOf<T>> {
    return this.node('year');
  }
  /** 1..4. */
  quarter(): Typed<'int32', NullOf<T>> {
    return this.node('quarter');
  }
  /** 1..12. */
  month(): Typed<'int32', NullOf<T>> {
    return this.node('month');
  }
  /** The ISO 8601 week, 1..53 (2021-01-03 is in week 53 of 2020). */
  week(): Typed<'int32', NullOf<T>> {
    return this.node('week');
  }
  /** The ISO weekday: 1 is Monday, 7 Sunday. */
  weekday(): Typed<'int32', NullOf<T>> {
    return this.node('weekday');
  }
  /** Day of the month, 1..31. */
  day(): Typed<'int32', NullOf<T>> {
    return this.node('day');
  }
  /** Day of the year, 1..366. */
  ordinalDay(): Typed<'int32', NullOf<T>> {
    return this.node('ordinalDay');
  }
  hour(): Typed<'int32', NullOf<T>> {
    return this.node('hour');
  }
  minute(): Typed<'int32', NullOf<T>> {
    return this.node('minute');
  }
  second(): Typed<'int32', NullOf<T>> {
    return this.node('second');
  }
  millisecond(): Typed<'int32', NullOf<T>> {
    return this.node('millisecond');
  }
  microsecond(): Typed<'int32', NullOf<T>> {
    return this.node('microsecond');
  }
  nanosecond(): Typed<'int32', NullOf<T>> {
    return this.node('nanosecond');
  }
  /**
   * The instant as a count of `unit` since 1970-01-01 UTC ('us' by default, as Polars): int64, floored for
   * coarser units ('s' of -1 ms is -1); 'd' gives the int32 day, as Polars' `epoch('d')`.
   */
  epoch<U extends EpochUnit = 'us'>(unit?: U): Typed<U extends 'd' ? 'int32' : 'int64', NullOf<T>> {
    return this.node('epoch', { epochUnit: unit === undefined ? 'us' : epochUnit(unit, 'dt.epoch(unit)') });
  }
  /**
   * The start of the period of length `every` that holds each value: '1ns' .. '15m', '2h' (fixed lengths,
   * aligned to the epoch in UTC, as Polars), '1d', '1w' (Monday-aligned), '1mo', '1q', '1y' and multiples,
   * which truncate the wall-clock time in the column's zone. A local start that the zone skips (midnight in
   * some DST changes) is the first instant of that local day (Polars raises there).
   */
  truncate(every: string): Expr<T, D> {
    truncationPeriod(text(every, 'dt.truncate(every)'));
    return this.node('truncate', { every });
  }
  /**
   * Each value moved by a duration string ('1d', '-2h30m', '1mo', '1y'): months, weeks and days move the wall
   * clock in the column's zone (Jan 31 + '1mo' is the last day of February), the rest moves the instant. A
   * wall time that falls in a skipped hour moves forward by the gap, a repeated one takes the earlier instant
   * (Temporal's rule; Polars raises on those).
   */
  offsetBy(by: string): Expr<T, D> {
    parseDuration(text(by, 'dt.offsetBy(by)'), 'dt.offsetBy(by)');
    return this.node('offsetBy', { every: by });
  }
  /** The same instants shown in another IANA time zone (the values do not change); the column must have a zone. */
  convertTimeZone(tz: string): Expr<T, D> {
    return this.node('convertTimeZone', { timeZone: zoneName(tz, 'dt.convertTimeZone(timeZone)') });
  }
  /**
   * The same wall-clock times in another time zone (null: no zone), so the instants change. A wall time the
   * zone repeats or skips resolves by `ambiguous` ('raise' by default, 'earliest', 'latest', 'null') and
   * `nonExistent` ('raise' by default, 'null'), as Polars' options do; 'raise' throws LocalTimeError.
   */
  replaceTimeZone<O extends { readonly ambiguous?: (typeof AMBIGUOUS_OPTIONS)[number]; readonly nonExistent?: (typeof NON_EXISTENT_OPTIONS)[number] }>(
    tz: string | null,
    opts?: O,
  ): Expr<T | (O extends { readonly ambiguous: 'null' } | { readonly nonExistent: 'null' } ? null : never), D> {
    const { ambiguous = 'raise', nonExistent = 'raise' } = replaceOptions(opts, 'dt.replaceTimeZone(options)');
    return this.node('replaceTimeZone', { timeZone: nullableZone(tz, 'dt.replaceTimeZone(timeZone)'), ambiguous, nonExistent });
  }
  /** The calendar date of each value on its zone's wall clock. */
  date(): Typed<Temporal<'date'>, NullOf<T>> {
    return this.node('date');
  }
  /** The wall-clock time of day of each value (a time in ns, as Polars' Time). */
  time(): Typed<Temporal<'time'>, NullOf<T>> {
    return this.node('time');
  }
}

declare module './expr.js' {
  interface Expr<T, D extends DType> {
    /** Temporal operations (Polars' `dt` namespace); the values must be timestamps, dates or times. */
    readonly dt: DtNamespace<T, D>;
  }
}

Object.defineProperty(Expr.prototype, 'dt', {
  get(this: AnyExpr) {
    return new DtNamespace(this);
  },
  configurable: true,
});

/**
 * `str.toDatetime(format)`: text parsed by a chrono format into a timestamp of `unit` ('us' by default). Text
 * with an offset (%z) gives that instant; otherwise the wall time is read in `timeZone` (naive without one).
 * Strict by default: text that does not parse raises CastError naming the value and row; else null.
 */
export function strToDatetime<T, S extends boolean = true>(
  expr: Expr<T, DType>,
  format: string,
  opts?: {
    readonly strict?: S;
    readonly unit?: (typeof TIME_UNITS)[number];
    readonly timeZone?: string;
    readonly ambiguous?: (typeof AMBIGUOUS_OPTIONS)[number];
  },
): Typed<Temporal<'timestamp'>, NullOf<T> | (true extends S ? never : null)> {
  const { strict = true, unit = 'us', timeZone: zone, ambiguous = 'raise' } = parseOptions(opts, 'str.toDatetime(options)');
  const params: DtParams = {
    format: formatText(format, 'str.toDatetime(format)', true),
    strict,
    unit,
    ambiguous,
    ...(zone === undefined ? {} : { timeZone: zone }),
  };
  return new Expr({ kind: 'dt', op: 'parseDatetime', arg: expr.node, params });
}

/** `str.toDate(format)`: text parsed by a chrono format into a date (time fields in the format are read and dropped). */
export function strToDate<T, S extends boolean = true>(
  expr: Expr<T, DType>,
  format: string,
  opts?: { readonly strict?: S },
): Typed<Temporal<'date'>, NullOf<T> | (true extends S ? never : null)> {
  const { strict = true } = dateParseOptions(opts, 'str.toDate(options)');
  return new Expr({ kind: 'dt', op: 'parseDate', arg: expr.node, params: { format: formatText(format, 'str.toDate(format)', true), strict } });
}
