// The closed set of column dtypes and the runtime check of a type specification (`'int64'`, or an object
// with a dtype and its parameters), as `cast()` and other public entry points take it.

import { fail, isPlainObject, oneOf } from '../options.js';
import { InvalidArgumentError } from '../errors.js';
import { checkDecimalParams } from './decimal.js';
import type { DType, TypeParams, TypeSpec } from './types.js';

export const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date', 'decimal'];

const dtype = oneOf(DTYPES);

/** The parameters each dtype takes; a parameter given to a dtype that does not take it is refused. */
const PARAMS: Partial<Record<DType, readonly (keyof TypeParams)[]>> = { decimal: ['precision', 'scale'] };

/** A dtype name or `{ dtype, ...params }`, checked: the dtype is known and each parameter belongs to it. */
export function typeSpec(value: unknown, name: string): TypeSpec {
  if (typeof value === 'string') {
    const named = dtype(value, name);
    if (named === 'decimal') return fail(name, value, "{ dtype: 'decimal', precision, scale }: a decimal needs its precision");
    return { dtype: named };
  }
  if (!isPlainObject(value)) return fail(name, value, `a dtype (${DTYPES.join(', ')}) or { dtype, ...parameters }`);
  const spec: TypeSpec = { dtype: dtype(value['dtype'], `${name}.dtype`) };
  const allowed = PARAMS[spec.dtype] ?? [];
  for (const key of Object.keys(value)) {
    if (key !== 'dtype' && !(allowed as readonly string[]).includes(key)) throw InvalidArgumentError.unknownOption(name, key, ['dtype', ...allowed]);
  }
  if (spec.dtype === 'decimal') {
    // Precision is required (there is no natural default); scale defaults to 0, as in Polars.
    const params = checkDecimalParams(value['precision'], value['scale'] ?? 0, name);
    return { dtype: 'decimal', ...params };
  }
  return spec;
}

/** Only the type parameters of a field, column or type that carries more. */
export function typeParams(from: TypeParams): TypeParams {
  return {
    ...(from.unit === undefined ? {} : { unit: from.unit }),
    ...(from.timeZone === undefined ? {} : { timeZone: from.timeZone }),
    ...(from.precision === undefined ? {} : { precision: from.precision }),
    ...(from.scale === undefined ? {} : { scale: from.scale }),
  };
}
