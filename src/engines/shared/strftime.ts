// strftime and strptime with chrono's specifiers (what Polars' dt.strftime and str.toDatetime(format) take),
// compiled once per format into a list of pieces. Formatting reads a broken-down wall time; parsing gives days,
// nanoseconds of the day and the offset the text stated, which callers turn into an epoch value.

import { InvalidArgumentError } from '../../errors.js';
import type { TimeUnit } from '../../model/types.js';
import {
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  floorDiv,
  isLeapYear,
  isoWeek,
  isoWeekday,
  localValue,
  NANOS_PER_UNIT,
  splitEpoch,
  UNITS_PER_SECOND,
} from './calendar.js';
import type { Ambiguous, NonExistent, TimeZone } from './zones.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Specifiers that stand for others (chrono's and C's composites). */
const COMPOSITES: Readonly<Record<string, string>> = {
  F: '%Y-%m-%d',
  T: '%H:%M:%S',
  D: '%m/%d/%y',
  R: '%H:%M',
  r: '%I:%M:%S %p',
  c: '%a %b %e %H:%M:%S %Y',
  x: '%m/%d/%y',
  X: '%H:%M:%S',
  v: '%e-%b-%Y',
};
const DATE_SPECS = new Set(['Y', 'C', 'y', 'm', 'b', 'h', 'B', 'd', 'e', 'a', 'A', 'u', 'w', 'j', 'U', 'W', 'V', 'G', 'g']);
const TIME_SPECS = new Set(['H', 'k', 'I', 'l', 'M', 'S', 'p', 'P', 'f', '.f', '.3f', '.6f', '.9f', '3f', '6f', '9f']);
const ZONE_SPECS = new Set(['z', ':z', '::z', 'Z']);
const OTHER_SPECS = new Set(['s']);
// Specifiers strptime does not read (names of zones are not unique, week-based dates need the rest of the week).
const UNPARSEABLE = new Set(['Z', 'C', 'U', 'W', 'V', 'G', 'g', 'u', 'w']);

type Pad = '' | '-' | '_' | '0';
interface Spec {
  readonly spec: string;
  readonly pad: Pad;
}
type Piece = string | Spec;

/** A compiled format: its pieces and what they read, so a binder can reject %H on a date or %Z without a zone. */
export interface TemporalFormat {
  readonly text: string;
  readonly pieces: readonly Piece[];
  readonly usesDate: boolean;
  readonly usesTime: boolean;
  readonly usesZone: boolean;
  /** %s: the instant itself (meaningless for a date or a time of day). */
  readonly usesEpoch: boolean;
}

/** Compiles a chrono-style format; InvalidArgumentError (naming `argument`) for a specifier it does not know. */
export function compileFormat(text: string, argument: string, forParsing = false): TemporalFormat {
  if (typeof text !== 'string') throw new InvalidArgumentError(argument, text, 'a format string such as "%Y-%m-%d %H:%M:%S"');
  const pieces: Piece[] = [];
  let literal = '';
  const expand = (format: string): void => {
    for (let i = 0; i < format.length; i++) {
      const ch = format[i]!;
      if (ch !== '%') {
        literal += ch;
        continue;
      }
      let j = i + 1;
      let pad: Pad = '';
      if (format[j] === '-' || format[j] === '_' || format[j] === '0') pad = format[j++] as Pad;
      const match = /^(\.?[369]?f|::?z|[A-Za-z%])/.exec(format.slice(j));
      const spec = match?.[1];
      if (spec === undefined)
        throw new InvalidArgumentError(
          argument,
          text,
          `a format whose specifiers chrono knows (unknown specifier at ${JSON.stringify(format.slice(i, i + 3))})`,
        );
      i = j + spec.length - 1;
      if (spec === '%') literal += '%';
      else if (spec === 'n') literal += '\n';
      else if (spec === 't') literal += '\t';
      else if (COMPOSITES[spec] !== undefined) expand(COMPOSITES[spec]);
      else if (DATE_SPECS.has(spec) || TIME_SPECS.has(spec) || ZONE_SPECS.has(spec) || OTHER_SPECS.has(spec)) {
        if (forParsing && UNPARSEABLE.has(spec)) throw new InvalidArgumentError(argument, text, `a format strptime can read (%${spec} is for formatting only)`);
        if (literal !== '') pieces.push(literal);
        literal = '';
        pieces.push({ spec, pad });
      } else throw new InvalidArgumentError(argument, text, `a format whose specifiers chrono knows (unknown specifier %${spec})`);
    }
  };
  expand(text);
  if (literal !== '') pieces.push(literal);
  const specs = pieces.filter((piece): piece is Spec => typeof piece !== 'string').map((piece) => piece.spec);
  return {
    text,
    pieces,
    usesDate: specs.some((spec) => DATE_SPECS.has(spec)),
    usesTime: specs.some((spec) => TIME_SPECS.has(spec)),
    usesZone: specs.some((spec) => ZONE_SPECS.has(spec)),
    usesEpoch: specs.includes('s'),
  };
}

// ------------------------------------------------------------------------------------------- strftime

/** A wall time broken down for formatting. `offset` and `zone` are absent for naive values. */
export interface WallTime {
  readonly days: number;
  readonly nanosOfDay: number;
  /** Seconds east of UTC, for %z; absent for naive values. */
  readonly offset?: number;
  /** The zone's abbreviation, for %Z. */
  readonly abbreviation?: string;
  /** Epoch seconds of the instant, for %s. */
  readonly epochSeconds?: number;
}

function padded(value: number, width: number, pad: Pad, fill: '0' | ' ' = '0'): string {
  const negative = value < 0;
  const digits = String(Math.abs(value));
  if (pad === '-') return (negative ? '-' : '') + digits;
  const char = pad === '_' ? ' ' : pad === '0' ? '0' : fill;
  return (negative ? '-' : '') + digits.padStart(width - (negative ? 1 : 0), char);
}

function year4(year: number, pad: Pad): string {
  // chrono writes years outside 0..9999 with an explicit sign.
  if (year > 9999) return `+${year}`;
  if (year < 0) return `-${String(-year).padStart(4, '0')}`;
  return padded(year, 4, pad);
}

function formatOffset(offset: number, colons: number): string {
  const sign = offset < 0 ? '-' : '+';
  const magnitude = Math.abs(offset);
  const hh = String(Math.floor(magnitude / 3600)).padStart(2, '0');
  const mm = String(Math.floor(magnitude / 60) % 60).padStart(2, '0');
  const ss = String(magnitude % 60).padStart(2, '0');
  if (colons === 0) return `${sign}${hh}${mm}`;
  return colons === 1 ? `${sign}${hh}:${mm}` : `${sign}${hh}:${mm}:${ss}`;
}

function fraction(nanos: number, digits: number): string {
  return String(Math.floor(nanos / 10 ** (9 - digits))).padStart(digits, '0');
}

/** Formats a broken-down wall time; a zone specifier on a naive value throws InvalidArgumentError. */
export function formatWallTime(format: TemporalFormat, time: WallTime): string {
  const { year, month, day } = civilFromDays(time.days);
  const weekday = isoWeekday(time.days);
  const yearDay = time.days - daysFromCivil(year, 1, 1);
  const hour = Math.floor(time.nanosOfDay / 3600e9);
  const nanos = time.nanosOfDay % 1e9;
  let out = '';
  for (const piece of format.pieces) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    const { spec, pad } = piece;
    switch (spec) {
      case 'Y':
        out += year4(year, pad);
        break;
      case 'C':
        out += padded(Math.floor(year / 100), 2, pad);
        break;
      case 'y':
        out += padded(((year % 100) + 100) % 100, 2, pad);
        break;
      case 'm':
        out += padded(month, 2, pad);
        break;
      case 'b':
      case 'h':
        out += MONTHS[month - 1]!.slice(0, 3);
        break;
      case 'B':
        out += MONTHS[month - 1]!;
        break;
      case 'd':
        out += padded(day, 2, pad);
        break;
      case 'e':
        out += padded(day, 2, pad, ' ');
        break;
      case 'a':
        out += WEEKDAYS[weekday - 1]!.slice(0, 3);
        break;
      case 'A':
        out += WEEKDAYS[weekday - 1]!;
        break;
      case 'u':
        out += String(weekday);
        break;
      case 'w':
        out += String(weekday % 7);
        break;
      case 'j':
        out += padded(yearDay + 1, 3, pad);
        break;
      case 'U':
        out += padded(Math.floor((yearDay + 7 - (weekday % 7)) / 7), 2, pad);
        break;
      case 'W':
        out += padded(Math.floor((yearDay + 7 - (weekday - 1)) / 7), 2, pad);
        break;
      case 'V':
        out += padded(isoWeek(time.days).week, 2, pad);
        break;
      case 'G':
        out += year4(isoWeek(time.days).year, pad);
        break;
      case 'g':
        out += padded(((isoWeek(time.days).year % 100) + 100) % 100, 2, pad);
        break;
      case 'H':
        out += padded(hour, 2, pad);
        break;
      case 'k':
        out += padded(hour, 2, pad, ' ');
        break;
      case 'I':
        out += padded(((hour + 11) % 12) + 1, 2, pad);
        break;
      case 'l':
        out += padded(((hour + 11) % 12) + 1, 2, pad, ' ');
        break;
      case 'p':
        out += hour < 12 ? 'AM' : 'PM';
        break;
      case 'P':
        out += hour < 12 ? 'am' : 'pm';
        break;
      case 'M':
        out += padded(Math.floor(time.nanosOfDay / 60e9) % 60, 2, pad);
        break;
      case 'S':
        out += padded(Math.floor(time.nanosOfDay / 1e9) % 60, 2, pad);
        break;
      case 'f':
        out += fraction(nanos, 9);
        break;
      case '.f':
        // chrono's %.f: as many digits as the value needs, in groups of 3, and nothing for a whole second.
        out += nanos === 0 ? '' : nanos % 1e6 === 0 ? `.${fraction(nanos, 3)}` : nanos % 1e3 === 0 ? `.${fraction(nanos, 6)}` : `.${fraction(nanos, 9)}`;
        break;
      case '.3f':
      case '.6f':
      case '.9f':
        out += `.${fraction(nanos, Number(spec[1]))}`;
        break;
      case '3f':
      case '6f':
      case '9f':
        out += fraction(nanos, Number(spec[0]));
        break;
      case 'z':
      case ':z':
      case '::z':
        if (time.offset === undefined)
          throw new InvalidArgumentError('strftime(format)', format.text, `a format without %${spec} for a value without a time zone`);
        out += formatOffset(time.offset, spec.length - 1);
        break;
      case 'Z':
        if (time.abbreviation === undefined)
          throw new InvalidArgumentError('strftime(format)', format.text, 'a format without %Z for a value without a time zone');
        out += time.abbreviation;
        break;
      case 's':
        out += String(time.epochSeconds ?? time.days * 86400 + Math.floor(time.nanosOfDay / 1e9));
        break;
    }
  }
  return out;
}

/** strftime of a timestamp in `unit`: its wall time in `zone` (naive without one). */
export function strftime(format: TemporalFormat, value: bigint, unit: TimeUnit, zone?: TimeZone): string {
  const seconds = Number(floorDiv(value, UNITS_PER_SECOND[unit]));
  const { days, nanosOfDay } = splitEpoch(localValue(value, unit, zone), unit);
  if (zone === undefined) return formatWallTime(format, { days, nanosOfDay, epochSeconds: seconds });
  return formatWallTime(format, { days, nanosOfDay, epochSeconds: seconds, offset: zone.offsetAt(seconds), abbreviation: zone.abbreviation(seconds) });
}

// ------------------------------------------------------------------------------------------- strptime

/** What strptime read: a wall date and time, and the UTC offset the text stated (%z), if any. */
export interface ParsedTemporal {
  readonly days: number;
  readonly nanosOfDay: number;
  readonly offset: number | undefined;
}

const NUMBER_WIDTH: Readonly<Record<string, number>> = { m: 2, d: 2, e: 2, H: 2, k: 2, I: 2, l: 2, M: 2, S: 2, y: 2, j: 3 };

function nameAt(text: string, at: number, names: readonly string[]): { index: number; end: number } | null {
  const rest = text.slice(at).toLowerCase();
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!.toLowerCase();
    if (rest.startsWith(name)) return { index, end: at + name.length };
  }
  for (let index = 0; index < names.length; index++) {
    if (rest.startsWith(names[index]!.slice(0, 3).toLowerCase())) return { index, end: at + 3 };
  }
  return null;
}

/**
 * Parses `text` with a compiled format, chrono-style: numbers take up to their width in digits (%Y four unless
 * signed), a space matches any run of whitespace, names match case-insensitively, %y is 1970..2069 (chrono's rule).
 * Null when the text does not match or names an impossible date or time (Feb 30, 24:00, a weekday that is not
 * the date's); the date is required, the time defaults to midnight.
 */
export function strptime(format: TemporalFormat, text: string): ParsedTemporal | null {
  let at = 0;
  let year: number | undefined;
  let shortYear: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let ordinal: number | undefined;
  let weekday: number | undefined;
  let hour: number | undefined;
  let hour12: number | undefined;
  let pm: boolean | undefined;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let offset: number | undefined;
  let epoch: number | undefined;
  const digits = (min: number, max: number, signed: boolean): number | null => {
    const match = new RegExp(`^${signed ? '[+-]?' : ''}\\d{${min},${max}}`).exec(text.slice(at));
    if (match === null) return null;
    at += match[0].length;
    return Number(match[0]);
  };
  for (const piece of format.pieces) {
    if (typeof piece === 'string') {
      for (const ch of piece) {
        if (/\s/.test(ch)) {
          while (at < text.length && /\s/.test(text[at]!)) at++;
        } else if (text[at] === ch) at++;
        else return null;
      }
      continue;
    }
    const { spec } = piece;
    if (spec === 'e' || spec === 'k' || spec === 'l') while (text[at] === ' ') at++;
    const width = NUMBER_WIDTH[spec];
    if (width !== undefined) {
      const value = digits(1, width, false);
      if (value === null) return null;
      if (spec === 'm') month = value;
      else if (spec === 'd' || spec === 'e') day = value;
      else if (spec === 'H' || spec === 'k') hour = value;
      else if (spec === 'I' || spec === 'l') hour12 = value;
      else if (spec === 'M') minute = value;
      else if (spec === 'S') second = value;
      else if (spec === 'y') shortYear = value;
      else ordinal = value;
      continue;
    }
    switch (spec) {
      case 'Y': {
        const signed = text[at] === '+' || text[at] === '-';
        const value = signed ? digits(2, 10, true) : digits(1, 4, false);
        if (value === null) return null;
        year = value;
        break;
      }
      case 'b':
      case 'h':
      case 'B': {
        const name = nameAt(text, at, MONTHS);
        if (name === null) return null;
        month = name.index + 1;
        at = name.end;
        break;
      }
      case 'a':
      case 'A': {
        const name = nameAt(text, at, WEEKDAYS);
        if (name === null) return null;
        weekday = name.index + 1;
        at = name.end;
        break;
      }
      case 'p':
      case 'P': {
        const marker = text.slice(at, at + 2).toLowerCase();
        if (marker !== 'am' && marker !== 'pm') return null;
        pm = marker === 'pm';
        at += 2;
        break;
      }
      case 'f':
      case '.f':
      case '3f':
      case '6f':
      case '9f':
      case '.3f':
      case '.6f':
      case '.9f': {
        if (spec.startsWith('.')) {
          if (text[at] !== '.') {
            if (spec === '.f') break;
            return null;
          }
          at++;
        }
        const fixed = /\d/.test(spec) ? Number(/\d/.exec(spec)![0]) : 0;
        const match = (fixed === 0 ? /^\d{1,9}/ : new RegExp(`^\\d{${fixed}}`)).exec(text.slice(at));
        if (match === null) return null;
        at += match[0].length;
        nanos = Number(match[0].padEnd(9, '0'));
        break;
      }
      case 'z':
      case ':z':
      case '::z': {
        const match = /^([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?/.exec(text.slice(at));
        if (match === null) return null;
        at += match[0].length;
        const magnitude = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0);
        offset = match[1] === '-' ? -magnitude : magnitude;
        break;
      }
      case 's': {
        const value = digits(1, 15, true);
        if (value === null) return null;
        epoch = value;
        break;
      }
    }
  }
  if (at !== text.length) return null;
  if (epoch !== undefined) {
    const days = Math.floor(epoch / 86400);
    return { days, nanosOfDay: (epoch - days * 86400) * 1e9 + nanos, offset: 0 };
  }
  if (year === undefined && shortYear !== undefined) year = shortYear + (shortYear < 70 ? 2000 : 1900);
  if (year === undefined) return null;
  let days: number;
  if (month !== undefined && day !== undefined) {
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    days = daysFromCivil(year, month, day);
    if (ordinal !== undefined && ordinal !== days - daysFromCivil(year, 1, 1) + 1) return null;
  } else if (ordinal !== undefined && month === undefined && day === undefined) {
    if (ordinal < 1 || ordinal > (isLeapYear(year) ? 366 : 365)) return null;
    days = daysFromCivil(year, 1, 1) + ordinal - 1;
  } else return null;
  if (weekday !== undefined && weekday !== isoWeekday(days)) return null;
  if (hour12 !== undefined) {
    if (pm === undefined || hour12 < 1 || hour12 > 12) return null;
    const from12 = (hour12 % 12) + (pm ? 12 : 0);
    if (hour !== undefined && hour !== from12) return null;
    hour = from12;
  } else if (pm !== undefined && hour !== undefined && hour >= 12 !== pm) return null;
  hour ??= 0;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return { days, nanosOfDay: ((hour * 60 + minute) * 60 + second) * 1e9 + nanos, offset };
}

/**
 * The epoch value in `unit` of a parse: the wall time at its stated offset, else in `zone` (a skipped or repeated
 * wall time resolved as `ambiguous` and `nonExistent` say; null where they say 'null'), else naive. Digits finer
 * than the unit are dropped (toward the past), as Polars does.
 */
export function parsedToEpoch(
  parsed: ParsedTemporal,
  unit: TimeUnit,
  zone?: TimeZone,
  ambiguous: Ambiguous = 'raise',
  nonExistent: NonExistent = 'raise',
): bigint | null {
  const perSecond = UNITS_PER_SECOND[unit];
  const wholeSeconds = Math.floor(parsed.nanosOfDay / 1e9);
  let seconds = parsed.days * 86400 + wholeSeconds;
  if (parsed.offset !== undefined) seconds -= parsed.offset;
  else if (zone !== undefined) {
    const instant = zone.localToEpochSeconds(seconds, ambiguous, nonExistent);
    if (instant === null) return null;
    seconds = instant;
  }
  return BigInt(seconds) * perSecond + BigInt(parsed.nanosOfDay - wholeSeconds * 1e9) / NANOS_PER_UNIT[unit];
}
