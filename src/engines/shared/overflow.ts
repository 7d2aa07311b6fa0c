// The overflow rule both engines follow: integer arithmetic that leaves its type raises the same
// ArithmeticOverflowError, whether a generated JS kernel found it or a WGSL kernel's overflow flag did.

import { ArithmeticOverflowError } from '../../errors.js';

export function overflow(op: string, dtype: string): never {
  throw new ArithmeticOverflowError(`${op} overflowed ${dtype}; cast to a wider type first`);
}
