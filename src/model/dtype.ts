// The closed set of column dtypes and the runtime check of a type specification (`'int64'`, or an object
// with a dtype and its parameters), as `cast()` and other public entry points take it.

import { fail, isPlainObject, oneOf } from '../options.js';
import { InvalidArgumentError } from '../errors.js';
import type { DType, TypeParams, TypeSpec } from './types.js';

export const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date'];

const dtype = oneOf(DTYPES);

/** The parameters each dtype takes; a parameter given to a dtype that does not take it is refused. */
const PARAMS: Partial<Record<DType, readonly (keyof TypeParams)[]>> = {};

/** A dtype name or `{ dtype, ...params }`, checked: the dtype is known and each parameter belongs to it. */
export function typeSpec(value: unknown, name: string): TypeSpec {
  if (typeof value === 'string') return { dtype: dtype(value, name) };
  if (!isPlainObject(value)) return fail(name, value, `a dtype (${DTYPES.join(', ')}) or { dtype, ...parameters }`);
  const spec: TypeSpec = { dtype: dtype(value['dtype'], `${name}.dtype`) };
  const allowed = PARAMS[spec.dtype] ?? [];
  for (const key of Object.keys(value)) {
    if (key !== 'dtype' && !(allowed as readonly string[]).includes(key)) throw InvalidArgumentError.unknownOption(name, key, ['dtype', ...allowed]);
  }
  return spec;
}
