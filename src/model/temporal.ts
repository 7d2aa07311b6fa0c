// Calendar and ISO 8601 arithmetic of the temporal dtypes, on exact integers: civil dates <-> days since
// 1970-01-01 (Howard Hinnant's algorithms), IANA zone offsets from Intl, and the ISO text that ingest reads and
// output writes. Pure functions with no engine or column knowledge, so kernels and the dt namespace reuse them.

import type { TimeUnit } from './types.js';

/** Units of a second, per time unit. */
export const UNITS_PER_SECOND: Readonly<Record<TimeUnit, bigint>> = { ms: 1000n, us: 1000000n, ns: 1000000000n };
/** Digits of the fraction of a second each unit writes. */
export const FRACTION_DIGITS: Readonly<Record<TimeUnit, number>> = { ms: 3, us: 6, ns: 9 };
export const SECONDS_PER_DAY = 86400n;
const MS_PER_DAY = 86400000;

export function unitsPerDay(unit: TimeUnit): bigint {
  return UNITS_PER_SECOND[unit] * SECONDS_PER_DAY;
}

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

/** Converts an integer count between units exactly; null when the target unit cannot hold it without loss. */
export function convertUnit(value: bigint, from: TimeUnit, to: TimeUnit): bigint | null {
  const f = UNITS_PER_SECOND[from];
  const t = UNITS_PER_SECOND[to];
  if (f === t) return value;
  if (t > f) return value * (t / f);
  return value % (f / t) === 0n ? value / (f / t) : null;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** The proleptic Gregorian date of a day count since 1970-01-01. */
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

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// ---------------------------------------------------------------------------------------------- time zones

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(timeZone, format);
  }
  return format;
}

/** True for a time zone name Node's IANA database knows (or a fixed offset such as '+02:00'). */
export function isTimeZone(name: string): boolean {
  try {
    zoneFormat(name);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC, in milliseconds, at an instant given in epoch milliseconds. */
export function zoneOffsetMs(timeZone: string, epochMs: number): number {
  // Intl works on whole seconds; the offset of an instant does not depend on its milliseconds.
  const whole = Math.floor(epochMs / 1000) * 1000;
  const parts = zoneFormat(timeZone).formatToParts(new Date(whole));
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const p of parts) {
    if (p.type === 'year') year = Number(p.value);
    else if (p.type === 'month') month = Number(p.value);
    else if (p.type === 'day') day = Number(p.value);
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
    else if (p.type === 'second') second = Number(p.value);
    else if (p.type === 'era') bc = p.value === 'BC' || p.value === 'B';
  }
  if (bc) year = 1 - year;
  const local = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
  return local - whole;
}

/**
 * The instant (epoch ms) at which the zone's wall clock reads `localMs` (wall time as if it were UTC). An
 * ambiguous wall time (clocks set back) gives the earlier instant; a wall time skipped by a transition gives null.
 */
export function localToUtcMs(timeZone: string, localMs: number): number | null {
  const offsets = new Set([zoneOffsetMs(timeZone, localMs - MS_PER_DAY), zoneOffsetMs(timeZone, localMs), zoneOffsetMs(timeZone, localMs + MS_PER_DAY)]);
  let best: number | null = null;
  for (const offset of offsets) {
    const utc = localMs - offset;
    if (zoneOffsetMs(timeZone, utc) === offset && (best === null || utc < best)) best = utc;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------- ISO 8601 text

/** Why a text did not parse to a value, for a validation issue. */
export type ParseFailure = 'syntax' | 'precision' | 'range' | 'nonexistent';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: ParseFailure };

const fail = <T>(why: ParseFailure): Parsed<T> => ({ ok: false, why });

const DATE_RE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?$/;
const DATETIME_RE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

function civilDays(yearText: string, monthText: string, dayText: string): number | null {
  if (yearText === '-000000') return null; // ISO 8601 forbids a negative zero year
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return daysFromCivil(year, month, day);
}

/** Seconds of the day plus the fraction in `unit`; 'precision' when the fraction has more digits than the unit holds. */
function timeOfDay(hourText: string, minuteText: string, secondText: string | undefined, fraction: string | undefined, unit: TimeUnit): Parsed<bigint> {
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return fail('syntax');
  const digits = FRACTION_DIGITS[unit];
  const text = fraction ?? '';
  if (/[1-9]/.test(text.slice(digits))) return fail('precision');
  const frac = BigInt(text.slice(0, digits).padEnd(digits, '0'));
  return { ok: true, value: BigInt((hour * 60 + minute) * 60 + second) * UNITS_PER_SECOND[unit] + frac };
}

/** 'YYYY-MM-DD' (or a six-digit signed year) to days since 1970-01-01. */
export function parseIsoDate(text: string): Parsed<number> {
  const m = DATE_RE.exec(text);
  if (m === null) return fail('syntax');
  const days = civilDays(m[1]!, m[2]!, m[3]!);
  return days === null ? fail('syntax') : { ok: true, value: days };
}

/** 'HH:MM[:SS[.fraction]]' to the time since midnight in `unit`. */
export function parseIsoTime(text: string, unit: TimeUnit): Parsed<bigint> {
  const m = TIME_RE.exec(text);
  if (m === null) return fail('syntax');
  return timeOfDay(m[1]!, m[2]!, m[3], m[4], unit);
}

/**
 * An ISO 8601 date-time (or a bare date, at midnight) to epoch `unit`s, exactly: the fraction is read as
 * digits, never through a JS Date. Without 'Z' or an offset the text is wall time in `timeZone`; with neither,
 * 'syntax', since the server's own zone must not decide (a bare date is midnight UTC then).
 */
export function parseIsoTimestamp(text: string, unit: TimeUnit, timeZone?: string): Parsed<bigint> {
  const m = DATETIME_RE.exec(text);
  if (m === null) return fail('syntax');
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, zulu, sign, offsetHours, offsetMinutes] = m;
  const days = civilDays(yearText!, monthText!, dayText!);
  if (days === null) return fail('syntax');
  const time = hourText === undefined ? ({ ok: true, value: 0n } as const) : timeOfDay(hourText, minuteText!, secondText, fraction, unit);
  if (!time.ok) return time;
  const perSecond = UNITS_PER_SECOND[unit];
  const local = BigInt(days) * unitsPerDay(unit) + time.value;
  let offsetSeconds: bigint;
  // A bare date is midnight UTC (or midnight in the zone): a day names no wall clock of the server.
  if (zulu !== undefined || (hourText === undefined && sign === undefined && timeZone === undefined)) offsetSeconds = 0n;
  else if (sign !== undefined) {
    const h = Number(offsetHours);
    const mi = Number(offsetMinutes);
    if (h > 23 || mi > 59) return fail('syntax');
    offsetSeconds = BigInt((sign === '-' ? -1 : 1) * (h * 60 + mi) * 60);
  } else if (timeZone !== undefined) {
    const localMs = Number(floorDiv(local, perSecond / 1000n));
    const utcMs = localToUtcMs(timeZone, localMs);
    if (utcMs === null) return fail('nonexistent');
    offsetSeconds = BigInt((localMs - utcMs) / 1000);
  } else return fail('syntax');
  const value = local - offsetSeconds * perSecond;
  return BigInt.asIntN(64, value) === value ? { ok: true, value } : fail('range');
}

const DURATION_RE = /^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d+))?S)?)?$/;

/**
 * An ISO 8601 duration of fixed-length parts (weeks, days, hours, minutes, seconds; an optional leading
 * sign) to a count of `unit`s. Years and months have no fixed length, so they are refused.
 */
export function parseIsoDuration(text: string, unit: TimeUnit): Parsed<bigint> {
  const m = DURATION_RE.exec(text);
  if (m === null || text.endsWith('T') || /^[+-]?P$/.test(text)) return fail('syntax');
  const [, sign, weeks, days, hours, minutes, seconds, fraction] = m;
  const digits = FRACTION_DIGITS[unit];
  const frac = fraction ?? '';
  if (/[1-9]/.test(frac.slice(digits))) return fail('precision');
  const totalSeconds = ((BigInt(weeks ?? 0) * 7n + BigInt(days ?? 0)) * 24n + BigInt(hours ?? 0)) * 3600n + BigInt(minutes ?? 0) * 60n + BigInt(seconds ?? 0);
  const magnitude = totalSeconds * UNITS_PER_SECOND[unit] + BigInt(frac.slice(0, digits).padEnd(digits, '0'));
  const value = sign === '-' ? -magnitude : magnitude;
  return BigInt.asIntN(64, value) === value ? { ok: true, value } : fail('range');
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0');

function yearText(year: number): string {
  if (year >= 0 && year <= 9999) return pad(year, 4);
  return `${year < 0 ? '-' : '+'}${pad(Math.abs(year), 6)}`;
}

/** Days since 1970-01-01 as 'YYYY-MM-DD'. */
export function formatIsoDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${yearText(year)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function clock(unitsOfDay: bigint, unit: TimeUnit): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = Number(unitsOfDay / perSecond);
  const frac = unitsOfDay % perSecond;
  return `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}.${pad(frac, FRACTION_DIGITS[unit])}`;
}

/** A time since midnight as 'HH:MM:SS.fraction', with the unit's digits. */
export function formatIsoTime(value: bigint, unit: TimeUnit): string {
  return clock(floorMod(value, unitsPerDay(unit)), unit);
}

/**
 * Epoch `unit`s as an ISO 8601 date-time with the unit's fraction digits: in UTC with 'Z', or, with a time
 * zone, as the zone's wall time with its offset at that instant ('+02:00').
 */
export function formatIsoTimestamp(value: bigint, unit: TimeUnit, timeZone?: string): string {
  let offsetMinutes = 0;
  if (timeZone !== undefined) {
    const ms = Number(floorDiv(value, UNITS_PER_SECOND[unit] / 1000n));
    offsetMinutes = Math.round(zoneOffsetMs(timeZone, ms) / 60000);
  }
  const perDay = unitsPerDay(unit);
  const local = value + BigInt(offsetMinutes * 60) * UNITS_PER_SECOND[unit];
  const days = Number(floorDiv(local, perDay));
  const text = `${formatIsoDate(days)}T${clock(floorMod(local, perDay), unit)}`;
  if (timeZone === undefined) return `${text}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${text}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

/** A duration as ISO 8601 'P[nD]T[nH][nM][n.fractionS]' ('-' before a negative one); zero is 'PT0S'. */
export function formatIsoDuration(value: bigint, unit: TimeUnit): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const perSecond = UNITS_PER_SECOND[unit];
  let seconds = abs / perSecond;
  const frac = abs % perSecond;
  const days = seconds / SECONDS_PER_DAY;
  seconds %= SECONDS_PER_DAY;
  const hours = seconds / 3600n;
  const minutes = (seconds / 60n) % 60n;
  seconds %= 60n;
  let text = days > 0n ? `P${days}D` : 'P';
  let time = '';
  if (hours > 0n) time += `${hours}H`;
  if (minutes > 0n) time += `${minutes}M`;
  if (seconds > 0n || frac > 0n || (days === 0n && time === '')) {
    time += frac > 0n ? `${seconds}.${pad(frac, FRACTION_DIGITS[unit]).replace(/0+$/, '')}S` : `${seconds}S`;
  }
  if (time !== '') text += `T${time}`;
  return negative ? `-${text}` : text;
}
