// The typed arrays a kernel writes output values into, by dtype, in shared memory: bools as one byte a
// row (packed to bitmaps once the row count is known), utf8 as dictionary codes, temporal values as their storage (dates int32, the others int64).

import { allocShared } from '../../model/column.js';
import { storageOf } from '../../model/dtype.js';
import type { DType, TypedValues } from '../../model/types.js';

export function outputArray(dtype: DType, length: number): TypedValues {
  switch (storageOf(dtype)) {
    case 'int32':
    case 'utf8':
      return allocShared(Int32Array, length);
    case 'float32':
      return allocShared(Float32Array, length);
    case 'float64':
      return allocShared(Float64Array, length);
    case 'int64':
      return allocShared(BigInt64Array, length);
    case 'decimal':
      return allocShared(BigInt64Array, 2 * length);
    case 'bool':
      return allocShared(Uint8Array, length);
  }
}
