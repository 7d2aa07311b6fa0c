// The CPU engine's `dt` expressions: the per-row calls generated kernels make through `lib.dt` (each takes the
// column's unit and zone name as constants and calls the calendar library), and their code generation.
// Parsing (str.toDatetime / str.toDate) runs once per dictionary entry into tables, like the other text ops.
// dt results are never utf8, so what this returns carries no dictionary.

import { ArithmeticOverflowError, LocalTimeError } from '../../errors.js';
import type { BoundExpr } from '../../expr/types.js';
import type { DType, TimeUnit } from '../../model/types.js';
import {
  dateField,
  floorDiv,
  localValue,
  NANOS_PER_UNIT,
  offsetBy,
  parseDuration,
  splitEpoch,
  timeOfDayField,
  timestampField,
  truncate,
  truncationPeriod,
  UNITS_PER_SECOND,
  type Duration,
  type TemporalField,
} from '../shared/calendar.js';
import { compileFormat, parsedToEpoch, strptime } from '../shared/strftime.js';
import { timeZone, type Ambiguous, type NonExistent } from '../shared/zones.js';

/** codegen.ts's builder and compiled values, by their shape, so that the two files import one way. */
export interface DtBuilder {
  param(value: unknown): string;
  tmp(prefix?: string): string;
  line(text: string): void;
}
export interface DtValue {
  readonly v: string;
  readonly n: string;
  readonly dtype: DType;
  readonly dictionary?: readonly string[];
}

const durations = new Map<string, Duration>();
function duration(text: string, truncating: boolean): Duration {
  const key = `${truncating ? 't' : 'o'}${text}`;
  let parsed = durations.get(key);
  if (parsed === undefined) {
    parsed = truncating ? truncationPeriod(text) : parseDuration(text, 'dt.offsetBy(by)');
    durations.set(key, parsed);
  }
  return parsed;
}

const zoneOf = (name: string | null) => (name === null ? undefined : timeZone(name));
const DAY_MS = 86_400_000n;

function checked(value: bigint, op: string): bigint {
  if (BigInt.asIntN(64, value) !== value) throw new ArithmeticOverflowError(`dt.${op} overflowed int64`);
  return value;
}

function daysChecked(value: bigint, op: string): number {
  if (value > 2147483647n || value < -2147483648n) throw new ArithmeticOverflowError(`dt.${op} overflowed the int32 days of a date`);
  return Number(value);
}

/** What generated kernels call per row; `zone` is a time zone name or null (UTC, naive). */
export const dtLib = {
  timestampField: (field: TemporalField, value: bigint, unit: TimeUnit, zone: string | null): number => timestampField(field, value, unit, zoneOf(zone)),
  dateField,
  timeField: (field: TemporalField, value: bigint, unit: TimeUnit): number => timeOfDayField(field, Number(value * NANOS_PER_UNIT[unit])),
  /** epoch of a timestamp: floored into coarser units, exact into finer ones. */
  epoch(value: bigint, unit: TimeUnit, to: 's' | 'ms' | 'us' | 'ns' | 'd'): bigint | number {
    if (to === 'd') return daysChecked(floorDiv(value, UNITS_PER_SECOND[unit] * 86400n), 'epoch');
    const from = NANOS_PER_UNIT[unit];
    const into = to === 's' ? 1_000_000_000n : NANOS_PER_UNIT[to];
    return into >= from ? floorDiv(value, into / from) : checked(value * (from / into), 'epoch');
  },
  dateEpoch(days: number, to: 's' | 'ms' | 'us' | 'ns' | 'd'): bigint | number {
    if (to === 'd') return days;
    return checked(BigInt(days) * 86400n * (to === 's' ? 1n : UNITS_PER_SECOND[to]), 'epoch');
  },
  truncate: (value: bigint, unit: TimeUnit, every: string, zone: string | null): bigint =>
    checked(truncate(value, unit, duration(every, true), zoneOf(zone)), 'truncate'),
  offsetBy: (value: bigint, unit: TimeUnit, by: string, zone: string | null): bigint =>
    checked(offsetBy(value, unit, duration(by, false), zoneOf(zone)), 'offsetBy'),
  truncateDate: (days: number, every: string): number =>
    daysChecked(floorDiv(truncate(BigInt(days) * DAY_MS, 'ms', duration(every, true)), DAY_MS), 'truncate'),
  offsetDate: (days: number, by: string): number => daysChecked(floorDiv(offsetBy(BigInt(days) * DAY_MS, 'ms', duration(by, false)), DAY_MS), 'offsetBy'),
  /** The same wall time in another zone; null where the policies say so. */
  replaceTimeZone(value: bigint, unit: TimeUnit, from: string | null, to: string | null, ambiguous: Ambiguous, nonExistent: NonExistent): bigint | null {
    const local = localValue(value, unit, zoneOf(from));
    if (to === null) return local;
    const perSecond = UNITS_PER_SECOND[unit];
    const seconds = floorDiv(local, perSecond);
    const instant = timeZone(to).localToEpochSeconds(Number(seconds), ambiguous, nonExistent);
    return instant === null ? null : checked(BigInt(instant) * perSecond + (local - seconds * perSecond), 'replaceTimeZone');
  },
  date: (value: bigint, unit: TimeUnit, zone: string | null): number => splitEpoch(localValue(value, unit, zoneOf(zone)), unit).days,
  /** Nanoseconds since local midnight. */
  time: (value: bigint, unit: TimeUnit, zone: string | null): bigint => BigInt(splitEpoch(localValue(value, unit, zoneOf(zone)), unit).nanosOfDay),
  localTimeFailed(message: string): never {
    throw new LocalTimeError(message);
  },
};

/** Per dictionary entry: 0 parsed, 1 not text of the format, 2 null by the zone policy, 3 LocalTimeError (message in `errors`). */
function parseTable(
  dictionary: readonly string[],
  expr: Extract<BoundExpr, { kind: 'dt' }>,
): { values: BigInt64Array | Int32Array; status: Uint8Array; errors: string[] } {
  const { params } = expr;
  const format = compileFormat(params.format!, 'str.toDatetime(format)', true);
  const status = new Uint8Array(dictionary.length);
  const errors = dictionary.map(() => '');
  const date = expr.op === 'parseDate';
  const values = date ? new Int32Array(dictionary.length) : new BigInt64Array(dictionary.length);
  dictionary.forEach((text, k) => {
    const parsed = strptime(format, text);
    if (parsed === null) {
      status[k] = 1;
      return;
    }
    if (date) {
      (values as Int32Array)[k] = parsed.days;
      return;
    }
    try {
      // A parse with its own offset is an instant; the column's zone (if any) only shows it.
      const zone = parsed.offset === undefined && params.timeZone ? timeZone(params.timeZone) : undefined;
      const value = parsedToEpoch(parsed, params.unit!, zone, params.ambiguous ?? 'raise', 'raise');
      if (value === null) status[k] = 2;
      else if (BigInt.asIntN(64, value) !== value) status[k] = 1;
      else (values as BigInt64Array)[k] = value;
    } catch (error) {
      if (!(error instanceof LocalTimeError)) throw error;
      status[k] = 3;
      errors[k] = error.message;
    }
  });
  return { values, status, errors };
}

const lit = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

/** Emits one dt expression over its compiled argument. */
export function compileDt(b: DtBuilder, expr: Extract<BoundExpr, { kind: 'dt' }>, a: DtValue, i: string): DtValue {
  const { op, params } = expr;
  const input: string = expr.arg.type.dtype;
  const dtype: DType = expr.type.dtype;
  const unit = JSON.stringify(expr.arg.type.unit ?? 'ms');
  const zone = lit(expr.arg.type.timeZone ?? null);
  const v = b.tmp('v');
  const whenValid = (call: string, zero: string): void => {
    b.line(`const ${v} = ${a.n === 'false' ? '' : `${a.n} ? ${zero} : `}${call};`);
  };
  switch (op) {
    case 'epoch':
      if (input === 'date') whenValid(`lib.dt.dateEpoch(${a.v}, '${params.epochUnit!}')`, params.epochUnit === 'd' ? '0' : '0n');
      else whenValid(`lib.dt.epoch(${a.v}, ${unit}, '${params.epochUnit!}')`, params.epochUnit === 'd' ? '0' : '0n');
      return { v, n: a.n, dtype };
    case 'truncate':
    case 'offsetBy':
      if (input === 'date') whenValid(`lib.dt.${op === 'truncate' ? 'truncateDate' : 'offsetDate'}(${a.v}, ${lit(params.every!)})`, '0');
      else whenValid(`lib.dt.${op}(${a.v}, ${unit}, ${lit(params.every!)}, ${zone})`, '0n');
      return { v, n: a.n, dtype };
    case 'convertTimeZone':
      return { ...a, dtype };
    case 'replaceTimeZone': {
      whenValid(`lib.dt.replaceTimeZone(${a.v}, ${unit}, ${zone}, ${lit(params.timeZone ?? null)}, '${params.ambiguous!}', '${params.nonExistent!}')`, '0n');
      if (params.ambiguous !== 'null' && params.nonExistent !== 'null') return { v, n: a.n, dtype };
      const n = b.tmp('n');
      const value = b.tmp('v');
      b.line(`const ${n} = ${v} === null;`);
      b.line(`const ${value} = ${n} ? 0n : ${v};`);
      return { v: value, n, dtype };
    }
    case 'date':
      whenValid(`lib.dt.date(${a.v}, ${unit}, ${zone})`, '0');
      return { v, n: a.n, dtype };
    case 'time':
      whenValid(`lib.dt.time(${a.v}, ${unit}, ${zone})`, '0n');
      return { v, n: a.n, dtype };
    case 'parseDatetime':
    case 'parseDate': {
      const dictionary = a.dictionary ?? [];
      const table = parseTable(dictionary, expr);
      const values = b.param(table.values);
      const status = b.param(table.status);
      const texts = b.param(dictionary);
      const errors = b.param(table.errors);
      const s = b.tmp('s');
      const n = b.tmp('n');
      b.line(`const ${s} = ${a.n === 'false' ? '' : `${a.n} ? 0 : `}${status}[${a.v}];`);
      if (params.strict !== false) b.line(`if (${s} === 1) lib.castFailed(${texts}[${a.v}], ${i}, '${dtype}');`);
      b.line(`if (${s} === 3) lib.dt.localTimeFailed(${errors}[${a.v}]);`);
      b.line(`const ${n} = ${a.n === 'false' ? '' : `${a.n} || `}${s} !== 0;`);
      b.line(`const ${v} = ${n} ? ${op === 'parseDate' ? '0' : '0n'} : ${values}[${a.v}];`);
      return { v, n, dtype };
    }
    default: {
      const field = JSON.stringify(op);
      if (input === 'date') whenValid(`lib.dt.dateField(${field}, ${a.v})`, '0');
      else if (input === 'time') whenValid(`lib.dt.timeField(${field}, ${a.v}, ${unit})`, '0');
      else whenValid(`lib.dt.timestampField(${field}, ${a.v}, ${unit}, ${zone})`, '0');
      return { v, n: a.n, dtype };
    }
  }
}
