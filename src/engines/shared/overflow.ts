// The overflow rule both engines follow: integer arithmetic that leaves its type raises the same
// ArithmeticOverflowError, whether a generated JS kernel found it or a WGSL kernel's overflow flag did.

import { ArithmeticOverflowError, CastError } from '../../errors.js';

export function overflow(op: string, dtype: string): never {
  throw new ArithmeticOverflowError(`${op} overflowed ${dtype}; cast to a wider type first`);
}

/**
 * A strict cast's failure, raised the same way by both engines: `row` is the row's index in the input of the
 * operator that evaluated the cast, `value` the offending value as the input held it.
 */
export function castFailed(value: unknown, row: number, to: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
  throw new CastError(`cannot cast ${shown} at row ${row} to ${to}; cast with { strict: false } to get null instead`);
}
