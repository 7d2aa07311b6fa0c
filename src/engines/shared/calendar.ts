// Calendar arithmetic of the dt namespace on exact integers: civil fields of epoch values in any unit (bigint, so
// us and ns stay exact, and floor division so instants before 1970 are right), truncation to fixed or calendar
// periods and offsets by Polars duration strings. Pure and engine-neutral; zone offsets come from zones.ts.

import { InvalidArgumentError } from '../../errors.js';
import type { TimeUnit } from '../../model/types.js';
import type { TimeZone } from './zones.js';

export const NANOS_PER_UNIT: Readonly<Record<TimeUnit, bigint>> = { ms: 1_000_000n, us: 1000n, ns: 1n };
export const UNITS_PER_SECOND: Readonly<Record<TimeUnit, bigint>> = { ms: 1000n, us: 1_000_000n, ns: 1_000_000_000n };
const NANOS_PER_SECOND = 1e9;

/** Floor division of bigints (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** The remainder of floorDiv: 0 <= result < b for b > 0. */
export function floorMod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), Howard Hinnant's days_from_civil. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's civil_from_days). */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** ISO weekday, 1 = Monday .. 7 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekday(days: number): number {
  return mod(days + 3, 7) + 1;
}

/** Day of the year, 1..366. */
export function ordinalDay(days: number): number {
  return days - daysFromCivil(civilFromDays(days).year, 1, 1) + 1;
}

/** ISO 8601 week-numbering year and week (1..53): the week belongs to the year that holds its Thursday. */
export function isoWeek(days: number): { year: number; week: number } {
  const thursday = days - isoWeekday(days) + 4;
  const year = civilFromDays(thursday).year;
  return { year, week: Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1 };
}

/** The fields `dt.<field>()` extracts; each is an int32. Sub-second ones are the fraction of the current second. */
export const TEMPORAL_FIELDS = [
  'year',
  'quarter',
  'month',
  'week',
  'weekday',
  'day',
  'ordinalDay',
  'hour',
  'minute',
  'second',
  'millisecond',
  'microsecond',
  'nanosecond',
] as const;
export type TemporalField = (typeof TEMPORAL_FIELDS)[number];
/** The fields a date (days, no time of day) has. */
export const DATE_FIELDS = ['year', 'quarter', 'month', 'week', 'weekday', 'day', 'ordinalDay'] as const satisfies readonly TemporalField[];
/** The fields a time of day has. */
export const TIME_FIELDS = ['hour', 'minute', 'second', 'millisecond', 'microsecond', 'nanosecond'] as const satisfies readonly TemporalField[];

export function isTimeField(field: TemporalField): boolean {
  return (TIME_FIELDS as readonly TemporalField[]).includes(field);
}

/** A field of a day count since 1970-01-01; the time-of-day fields are 0 (midnight). */
export function dateField(field: TemporalField, days: number): number {
  switch (field) {
    case 'year':
      return civilFromDays(days).year;
    case 'quarter':
      return Math.floor((civilFromDays(days).month - 1) / 3) + 1;
    case 'month':
      return civilFromDays(days).month;
    case 'week':
      return isoWeek(days).week;
    case 'weekday':
      return isoWeekday(days);
    case 'day':
      return civilFromDays(days).day;
    case 'ordinalDay':
      return ordinalDay(days);
    default:
      return 0;
  }
}

/** A field of a time of day given in nanoseconds since midnight (0 <= nanos < 86400e9, exact as a double). */
export function timeOfDayField(field: TemporalField, nanos: number): number {
  switch (field) {
    case 'hour':
      return Math.floor(nanos / 3600e9);
    case 'minute':
      return Math.floor(nanos / 60e9) % 60;
    case 'second':
      return Math.floor(nanos / NANOS_PER_SECOND) % 60;
    case 'millisecond':
      return Math.floor((nanos % NANOS_PER_SECOND) / 1e6);
    case 'microsecond':
      return Math.floor((nanos % NANOS_PER_SECOND) / 1e3);
    case 'nanosecond':
      return nanos % NANOS_PER_SECOND;
    default:
      return 0;
  }
}

/** An epoch value split into whole days and the nanoseconds of its day (both exact doubles). */
export interface DayAndTime {
  days: number;
  nanosOfDay: number;
}

export function splitEpoch(value: bigint, unit: TimeUnit): DayAndTime {
  const perDay = UNITS_PER_SECOND[unit] * 86400n;
  const days = floorDiv(value, perDay);
  return { days: Number(days), nanosOfDay: Number((value - days * perDay) * NANOS_PER_UNIT[unit]) };
}

/** Whole seconds since the epoch (floored) of a value: the instant a zone offset is looked up for. */
export function epochSeconds(value: bigint, unit: TimeUnit): number {
  return Number(floorDiv(value, UNITS_PER_SECOND[unit]));
}

/** The wall-clock value (epoch value shifted by the zone's offset) of an instant; the instant itself without a zone. */
export function localValue(value: bigint, unit: TimeUnit, zone: TimeZone | undefined): bigint {
  if (zone === undefined || zone.isUtc) return value;
  return value + BigInt(zone.offsetAt(epochSeconds(value, unit))) * UNITS_PER_SECOND[unit];
}

/** A field of a timestamp in `unit`, read on the wall clock of `zone` (UTC without one). */
export function timestampField(field: TemporalField, value: bigint, unit: TimeUnit, zone?: TimeZone): number {
  const { days, nanosOfDay } = splitEpoch(localValue(value, unit, zone), unit);
  return isTimeField(field) ? timeOfDayField(field, nanosOfDay) : dateField(field, days);
}

// ------------------------------------------------------------------------------------------- durations

/**
 * A Polars duration string, parsed: calendar months (mo, q = 3mo, y = 12mo), weeks, days and an exact part in
 * nanoseconds (ns, us, ms, s, m, h). A leading '-' negates every part.
 */
export interface Duration {
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly nanos: bigint;
}

const DURATION_PART = /(\d+)(ns|us|µs|ms|mo|s|m|h|d|w|q|y)/y;
const NANOS_OF: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Parses '1d', '-2h30m', '3mo', '1y2q'; throws InvalidArgumentError (naming `argument`) on anything else. */
export function parseDuration(text: string, argument: string): Duration {
  const fail = (): never => {
    throw new InvalidArgumentError(argument, text, "a duration such as '1d', '15m', '-2h30m', '3mo' (units ns, us, ms, s, m, h, d, w, mo, q, y)");
  };
  if (typeof text !== 'string') fail();
  const negative = text.startsWith('-');
  let at = negative ? 1 : 0;
  if (at === text.length) fail();
  let months = 0;
  let weeks = 0;
  let days = 0;
  let nanos = 0n;
  while (at < text.length) {
    DURATION_PART.lastIndex = at;
    const match = DURATION_PART.exec(text);
    if (match === null) return fail();
    const n = match[1]!;
    const unit = match[2]!;
    const count = Number(n);
    if (!Number.isSafeInteger(count)) fail();
    if (unit === 'mo') months += count;
    else if (unit === 'q') months += 3 * count;
    else if (unit === 'y') months += 12 * count;
    else if (unit === 'w') weeks += count;
    else if (unit === 'd') days += count;
    else nanos += BigInt(n) * NANOS_OF[unit]!;
    at = DURATION_PART.lastIndex;
  }
  if (!Number.isSafeInteger(months) || !Number.isSafeInteger(weeks) || !Number.isSafeInteger(days)) fail();
  return negative ? { months: -months, weeks: -weeks, days: -days, nanos: -nanos } : { months, weeks, days, nanos };
}

/**
 * A parsed `truncate(every)`: positive, and one kind of period only (Polars' rule: months, weeks, days or a
 * fixed length may not mix).
 */
export function truncationPeriod(every: string): Duration {
  const argument = 'dt.truncate(every)';
  const period = parseDuration(every, argument);
  const kinds = [period.months !== 0, period.weeks !== 0, period.days !== 0, period.nanos !== 0n].filter(Boolean).length;
  if (kinds !== 1 || period.months < 0 || period.weeks < 0 || period.days < 0 || period.nanos < 0n) {
    throw new InvalidArgumentError(
      argument,
      every,
      "a positive duration of one kind: a fixed length ('1ns' .. '15m', '2h'), days ('1d'), weeks ('1w') or months ('1mo', '1q', '1y')",
    );
  }
  return period;
}

/** The instant (in `unit`) of a wall-clock value in `zone`; earlier of two on a repeated hour, the instant that ends a skipped hour. */
function instantOfLocal(local: bigint, unit: TimeUnit, zone: TimeZone | undefined): bigint {
  if (zone === undefined || zone.isUtc) return local;
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = floorDiv(local, perSecond);
  const instant = zone.localToEpochSeconds(Number(seconds), 'earliest', 'shiftForward');
  // The policies above never give null.
  return BigInt(instant!) * perSecond + (local - seconds * perSecond);
}

const EPOCH_MONDAY_DAYS = 4n; // 1970-01-05 was the first Monday after the epoch

/**
 * Start of the period of length `every` that holds `value`, as Polars' `dt.truncate`. A fixed length truncates the
 * instant (periods aligned to the epoch in UTC, as in Polars); days, weeks (Monday-aligned) and months truncate the
 * wall-clock time in `zone` and return the earliest instant of that local start. Where the local start does not
 * exist (a zone whose clocks skip midnight), the period starts at the end of the skipped hour, the first instant
 * of that local day: Polars raises there.
 */
export function truncate(value: bigint, unit: TimeUnit, every: Duration, zone?: TimeZone): bigint {
  if (every.nanos !== 0n) {
    // A length shorter than the unit leaves values unchanged, as in Polars.
    const length = every.nanos / NANOS_PER_UNIT[unit];
    return length === 0n ? value : value - floorMod(value, length);
  }
  const local = localValue(value, unit, zone);
  const perDay = UNITS_PER_SECOND[unit] * 86400n;
  let start: bigint;
  if (every.weeks !== 0) {
    start = local - floorMod(local - EPOCH_MONDAY_DAYS * perDay, BigInt(every.weeks) * 7n * perDay);
  } else if (every.days !== 0) {
    start = local - floorMod(local, BigInt(every.days) * perDay);
  } else {
    const { year, month } = civilFromDays(Number(floorDiv(local, perDay)));
    const total = year * 12 + month - 1;
    const first = total - mod(total, every.months);
    start = BigInt(daysFromCivil(Math.floor(first / 12), mod(first, 12) + 1, 1)) * perDay;
  }
  return instantOfLocal(start, unit, zone);
}

/**
 * `value` moved by `by`, as Polars' `dt.offsetBy`: months (clamping the day to the target month's length, so
 * Jan 31 + 1mo is Feb 28 or 29), weeks and days move the wall clock in `zone`; the fixed part then moves the
 * instant, so '1d' across a DST change keeps the time of day and '24h' keeps the elapsed time. A wall time
 * that falls in a skipped hour moves forward by the gap and a repeated one takes the earlier instant (as
 * Temporal's ZonedDateTime.add does; Polars raises on those).
 */
export function offsetBy(value: bigint, unit: TimeUnit, by: Duration, zone?: TimeZone): bigint {
  let result = value;
  if (by.months !== 0 || by.weeks !== 0 || by.days !== 0) {
    const perDay = UNITS_PER_SECOND[unit] * 86400n;
    const local = localValue(value, unit, zone);
    let days = floorDiv(local, perDay);
    const timeOfDay = local - days * perDay;
    if (by.months !== 0) {
      const { year, month, day } = civilFromDays(Number(days));
      const total = year * 12 + month - 1 + by.months;
      const y = Math.floor(total / 12);
      const m = mod(total, 12) + 1;
      days = BigInt(daysFromCivil(y, m, Math.min(day, daysInMonth(y, m))));
    }
    days += BigInt(by.weeks * 7 + by.days);
    result = instantOfLocal(days * perDay + timeOfDay, unit, zone);
  }
  return result + by.nanos / NANOS_PER_UNIT[unit];
}
