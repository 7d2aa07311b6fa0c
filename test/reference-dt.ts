// The reference interpreter's `dt` operations, written from their definitions with JS Date (never the
// calendar library): the reference models timestamps as Date values in ms without a zone, so fields are
// Date's UTC getters, truncation and offsets are Date arithmetic. Zones, other units and parsing are
// checked against Intl in test/engines/shared/*.test.ts and test/expr/dt.test.ts instead.

import { ArithmeticOverflowError, ExpressionTypeError } from '../src/errors.js';
import type { DtOp, DtParams } from '../src/expr/types.js';
import type { DType } from '../src/model/types.js';

type Value = number | bigint | string | boolean | Date | null;
const MS_PER_DAY = 86_400_000;

function utc(year: number, month0: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month0, day);
  return date.getTime();
}

function isoWeek(ms: number): number {
  const thursday = new Date(ms - (((new Date(ms).getUTCDay() + 6) % 7) - 3) * MS_PER_DAY);
  return Math.floor((thursday.getTime() - utc(thursday.getUTCFullYear(), 0, 1)) / (7 * MS_PER_DAY)) + 1;
}

function field(op: DtOp, date: Date): number {
  const ms = date.getTime();
  const dayStart = ms - (((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY);
  const values: Partial<Record<DtOp, () => number>> = {
    year: () => date.getUTCFullYear(),
    quarter: () => Math.floor(date.getUTCMonth() / 3) + 1,
    month: () => date.getUTCMonth() + 1,
    week: () => isoWeek(dayStart),
    weekday: () => ((date.getUTCDay() + 6) % 7) + 1,
    day: () => date.getUTCDate(),
    ordinalDay: () => Math.round((dayStart - utc(date.getUTCFullYear(), 0, 1)) / MS_PER_DAY) + 1,
    hour: () => date.getUTCHours(),
    minute: () => date.getUTCMinutes(),
    second: () => date.getUTCSeconds(),
    millisecond: () => date.getUTCMilliseconds(),
    microsecond: () => date.getUTCMilliseconds() * 1000,
    nanosecond: () => date.getUTCMilliseconds() * 1_000_000,
  };
  return values[op]!();
}

const PART = /^(-?)(\d+)(ms|s|m|h|d|w|mo|q|y)$/;
const FIXED_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: MS_PER_DAY, w: 7 * MS_PER_DAY };

/** A one-part duration as [months, milliseconds]; the reference models no other. */
function single(text: string): [number, number] {
  const match = PART.exec(text);
  if (match === null) throw new ExpressionTypeError(`reference: the duration '${text}' is not modelled`);
  const count = Number(match[2]) * (match[1] === '-' ? -1 : 1);
  const unit = match[3]!;
  if (unit === 'mo' || unit === 'q' || unit === 'y') return [count * (unit === 'mo' ? 1 : unit === 'q' ? 3 : 12), 0];
  return [0, count * FIXED_MS[unit]!];
}

function truncateMs(ms: number, every: string): number {
  const [months, length] = single(every);
  const date = new Date(ms);
  if (months !== 0) {
    const total = date.getUTCFullYear() * 12 + date.getUTCMonth();
    const first = total - (((total % months) + months) % months);
    return utc(Math.floor(first / 12), ((first % 12) + 12) % 12, 1);
  }
  // Weeks start on Monday; 1970-01-05 was one.
  const origin = every.endsWith('w') ? 4 * MS_PER_DAY : 0;
  return ms - ((((ms - origin) % length) + length) % length);
}

function offsetMs(ms: number, by: string): number {
  const [months, length] = single(by);
  if (months === 0) return ms + length;
  const date = new Date(ms);
  const total = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month0 = total - year * 12;
  const lastDay = new Date(utc(year, month0 + 1, 1) - MS_PER_DAY).getUTCDate();
  const timeOfDay = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  return utc(year, month0, Math.min(date.getUTCDate(), lastDay)) + timeOfDay;
}

function epoch(ms: number, unit: DtParams['epochUnit']): number | bigint {
  switch (unit) {
    case 'd':
      return Math.floor(ms / MS_PER_DAY);
    case 's':
      return BigInt(Math.floor(ms / 1000));
    case 'ms':
      return BigInt(ms);
    case 'ns':
      return BigInt(ms) * 1_000_000n;
    default:
      return BigInt(ms) * 1000n;
  }
}

/** The result dtype and per-value function of a dt op over a ms timestamp without a zone (the reference's only kind). */
export function referenceDt(op: DtOp, params: DtParams, input: DType): { dtype: DType; apply: (value: Date) => Value } {
  if ((input as string) !== 'timestamp' && input !== 'date') throw new ExpressionTypeError(`reference: dt.${op} of ${input}`);
  switch (op) {
    case 'epoch':
      return { dtype: params.epochUnit === 'd' ? 'int32' : 'int64', apply: (d) => epoch(d.getTime(), params.epochUnit) };
    case 'truncate':
      return { dtype: input, apply: (d) => new Date(truncateMs(d.getTime(), params.every!)) };
    case 'offsetBy':
      return {
        dtype: input,
        apply: (d) => {
          const ms = offsetMs(d.getTime(), params.every!);
          if (!(Math.abs(ms) <= 8.64e15)) throw new ArithmeticOverflowError('reference: dt.offsetBy left the range of Date');
          return new Date(ms);
        },
      };
    case 'convertTimeZone':
    case 'replaceTimeZone':
    case 'date':
    case 'time':
    case 'parseDatetime':
    case 'parseDate':
      throw new ExpressionTypeError(`reference: dt.${op} is checked against Intl in test/expr/dt.test.ts, not modelled here`);
    default:
      return { dtype: 'int32', apply: (d) => field(op, d) };
  }
}
