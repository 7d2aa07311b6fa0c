// The closed set of column dtypes and the runtime check of a type specification (`'int64'`, or an object
// with a dtype and its parameters), as `cast()` and other public entry points take it.

import { fail, isPlainObject, oneOf } from '../options.js';
import { InvalidArgumentError } from '../errors.js';
import { checkDecimalParams } from './decimal.js';
import { isTimeZone } from './temporal.js';
import { TIME_UNITS, type DType, type Storage, type TimeUnit, type TypeParams, type TypeSpec } from './types.js';

export const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'timestamp', 'date', 'time', 'duration', 'decimal'];

const dtype = oneOf(DTYPES);

/** The parameters each dtype takes; a parameter given to a dtype that does not take it is refused. */
const PARAMS: Partial<Record<DType, readonly (keyof TypeParams)[]>> = {
  timestamp: ['unit', 'timeZone'],
  time: ['unit'],
  duration: ['unit'],
  decimal: ['precision', 'scale'],
};

/** The units each temporal dtype takes: Arrow's Time64 holds micro- and nanoseconds only. */
export const UNITS_OF: Partial<Record<DType, readonly TimeUnit[]>> = { timestamp: TIME_UNITS, duration: TIME_UNITS, time: ['us', 'ns'] };

/** The unit a temporal dtype gets when none is given (Polars' default, microseconds). */
export const DEFAULT_UNIT: TimeUnit = 'us';

export function storageOf(dtype: DType): Storage {
  switch (dtype) {
    case 'date':
      return 'int32';
    case 'timestamp':
    case 'time':
    case 'duration':
      return 'int64';
    default:
      return dtype;
  }
}

/** Temporal dtypes held as 64-bit counts of a unit. */
export function isUnitTemporal(dtype: DType): dtype is 'timestamp' | 'time' | 'duration' {
  return dtype === 'timestamp' || dtype === 'time' || dtype === 'duration';
}

export function isTemporal(dtype: DType): dtype is 'timestamp' | 'date' | 'time' | 'duration' {
  return dtype === 'date' || isUnitTemporal(dtype);
}

/** A time zone Node's IANA database knows, checked where it enters (a model's meta, a cast). */
export function timeZoneName(value: unknown, name: string): string {
  return typeof value === 'string' && value.length > 0 && isTimeZone(value) ? value : fail(name, value, 'an IANA time zone name (e.g. Europe/Paris)');
}

/** A dtype name or `{ dtype, ...params }`, checked: the dtype is known and each parameter belongs to it and is valid. */
export function typeSpec(value: unknown, name: string): TypeSpec {
  if (typeof value === 'string') {
    const named = dtype(value, name);
    if (named === 'decimal') return fail(name, value, "{ dtype: 'decimal', precision, scale }: a decimal needs its precision");
    return { dtype: named };
  }
  if (!isPlainObject(value)) return fail(name, value, `a dtype (${DTYPES.join(', ')}) or { dtype, ...parameters }`);
  const d = dtype(value['dtype'], `${name}.dtype`);
  const allowed = PARAMS[d] ?? [];
  for (const key of Object.keys(value)) {
    if (key !== 'dtype' && !(allowed as readonly string[]).includes(key)) throw InvalidArgumentError.unknownOption(name, key, ['dtype', ...allowed]);
  }
  if (d === 'decimal') {
    // Precision is required (there is no natural default); scale defaults to 0, as in Polars.
    const params = checkDecimalParams(value['precision'], value['scale'] ?? 0, name);
    return { dtype: 'decimal', ...params };
  }
  const unit = value['unit'] === undefined ? undefined : oneOf(UNITS_OF[d] ?? [])(value['unit'], `${name}.unit`);
  const timeZone = value['timeZone'] === undefined ? undefined : timeZoneName(value['timeZone'], `${name}.timeZone`);
  return { dtype: d, ...(unit === undefined ? {} : { unit }), ...(timeZone === undefined ? {} : { timeZone }) };
}

/** The parameters of a type (field, column, bound type) alone, to carry onto a new column or type. */
export function paramsOf(type: TypeParams): TypeParams {
  const { unit, timeZone, precision, scale } = type;
  return {
    ...(unit === undefined ? {} : { unit }),
    ...(timeZone === undefined ? {} : { timeZone }),
    ...(precision === undefined ? {} : { precision }),
    ...(scale === undefined ? {} : { scale }),
  };
}

/** A type's name with its parameters, as messages and explain() show it: `timestamp[us, Europe/Paris]`. */
export function typeName(type: TypeSpec): string {
  const params = [type.unit, type.timeZone, type.precision, type.scale].filter((p) => p !== undefined);
  return params.length === 0 ? type.dtype : `${type.dtype}[${params.join(', ')}]`;
}
