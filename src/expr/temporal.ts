// Binding rules of the temporal dtypes: literals given as Date or ISO 8601 text converted to a column's
// integer (epoch units, days), the arithmetic that keeps a temporal type (timestamp ± duration, timestamp −
// timestamp, ...), and the casts between temporal types and integers or text.

import { DEFAULT_UNIT, isTemporal, isUnitTemporal } from '../model/dtype.js';
import { convertUnit, parseIsoDate, parseIsoDuration, parseIsoTime, parseIsoTimestamp, UNITS_PER_SECOND } from '../model/temporal.js';
import type { DType, TimeUnit, TypeSpec } from '../model/types.js';
import type { ExprType, LiteralValue } from './types.js';

const MS_PER_DAY = 86400000;

/**
 * A literal as the integer a column of `type` holds (bigint epoch units, number days), or undefined when it
 * is not a value of that type or cannot be held exactly (an instant between two units, a Date not at midnight).
 */
export function temporalLiteral(value: LiteralValue, type: TypeSpec): bigint | number | undefined {
  const unit = type.unit ?? DEFAULT_UNIT;
  switch (type.dtype) {
    case 'timestamp':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : (convertUnit(BigInt(value.getTime()), 'ms', unit) ?? undefined);
      if (typeof value === 'string') {
        const parsed = parseIsoTimestamp(value, unit, type.timeZone);
        return parsed.ok ? parsed.value : undefined;
      }
      return undefined;
    case 'date': {
      if (value instanceof Date) {
        const ms = value.getTime();
        return ms % MS_PER_DAY === 0 ? ms / MS_PER_DAY : undefined;
      }
      if (typeof value !== 'string') return undefined;
      const parsed = parseIsoDate(value);
      return parsed.ok ? parsed.value : undefined;
    }
    case 'time': {
      if (typeof value !== 'string') return undefined;
      const parsed = parseIsoTime(value, unit);
      return parsed.ok ? parsed.value : undefined;
    }
    case 'duration': {
      if (typeof value === 'bigint') return BigInt.asIntN(64, value) === value ? value : undefined;
      if (typeof value !== 'string') return undefined;
      const parsed = parseIsoDuration(value, unit);
      return parsed.ok ? parsed.value : undefined;
    }
    default:
      return undefined;
  }
}

/** The finer of two units, which both sides of an operation are converted to (exactly: a coarser unit scales up). */
export function finerUnit(a: TimeUnit | undefined, b: TimeUnit | undefined): TimeUnit {
  const ua = a ?? DEFAULT_UNIT;
  const ub = b ?? DEFAULT_UNIT;
  return UNITS_PER_SECOND[ua] >= UNITS_PER_SECOND[ub] ? ua : ub;
}

/**
 * The result type of `op` on two temporal operands (or a duration and an integer for mul), before units
 * are aligned; undefined when the pair has no temporal meaning. The result is in the finer unit of the two.
 *  - timestamp ± duration, duration + timestamp → timestamp (the timestamp's zone)
 *  - timestamp − timestamp → duration
 *  - date ± duration → timestamp (the date at midnight UTC plus the duration), date − date → duration
 *  - duration ± duration → duration; duration × integer, integer × duration → duration
 *  - time − time → duration
 */
export function temporalArithmetic(op: string, l: ExprType, r: ExprType): TypeSpec | undefined {
  const ld = l.dtype;
  const rd = r.dtype;
  const unit = finerUnit(isUnitTemporal(ld) ? l.unit : undefined, isUnitTemporal(rd) ? r.unit : undefined);
  const zone = (t: ExprType): TypeSpec => ({ dtype: 'timestamp', unit, ...(t.timeZone === undefined ? {} : { timeZone: t.timeZone }) });
  const isInt = (d: DType): boolean => d === 'int32' || d === 'int64';
  if (op === 'add' || op === 'sub') {
    if ((ld === 'timestamp' || ld === 'date') && rd === 'duration') return ld === 'timestamp' ? zone(l) : { dtype: 'timestamp', unit };
    if (op === 'add' && ld === 'duration' && (rd === 'timestamp' || rd === 'date')) return rd === 'timestamp' ? zone(r) : { dtype: 'timestamp', unit };
    if (ld === 'duration' && rd === 'duration') return { dtype: 'duration', unit };
    if (op === 'sub' && ld === rd && (ld === 'timestamp' || ld === 'date' || ld === 'time')) return { dtype: 'duration', unit: ld === 'date' ? 'ms' : unit };
    return undefined;
  }
  if (op === 'mul') {
    if (ld === 'duration' && isInt(rd)) return { dtype: 'duration', unit: l.unit ?? DEFAULT_UNIT };
    if (rd === 'duration' && isInt(ld)) return { dtype: 'duration', unit: r.unit ?? DEFAULT_UNIT };
  }
  return undefined;
}

/** True when either operand is temporal, so arithmetic goes by temporalArithmetic's rules. */
export function involvesTemporal(l: ExprType, r: ExprType): boolean {
  return isTemporal(l.dtype) || isTemporal(r.dtype);
}

/** The casts each temporal dtype takes and gives, beside those between the other dtypes (bind.ts CASTS). */
export const TEMPORAL_CASTS: Readonly<Record<'timestamp' | 'date' | 'time' | 'duration', readonly DType[]>> = {
  timestamp: ['int64', 'timestamp', 'date', 'time'],
  date: ['int32', 'int64', 'timestamp', 'date'],
  time: ['int64', 'time'],
  duration: ['int64', 'duration'],
};

/** The dtypes a non-temporal dtype casts to among the temporal ones: epoch integers, ISO text. */
export const CASTS_TO_TEMPORAL: Readonly<Partial<Record<DType, readonly DType[]>>> = {
  int32: ['date'],
  int64: ['timestamp', 'date', 'time', 'duration'],
  utf8: ['timestamp', 'date', 'time', 'duration'],
};

/** A cast's target with its unit settled: an absent unit keeps the source's unit where it has one, else microseconds. */
export function settleUnit(to: TypeSpec, from: ExprType): TypeSpec {
  if (!isUnitTemporal(to.dtype) || to.unit !== undefined) return to;
  const unit = isUnitTemporal(from.dtype) && from.unit !== undefined && !(to.dtype === 'time' && from.unit === 'ms') ? from.unit : DEFAULT_UNIT;
  return { ...to, unit };
}
