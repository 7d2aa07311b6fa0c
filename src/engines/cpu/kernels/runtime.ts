// Helpers that generated kernels call through their `lib` argument, identical on the main thread and in
// workers. Kept tiny: anything a kernel calls per row belongs in generated code instead.

import { ArithmeticOverflowError } from '../../../errors.js';
import { KeyTable } from './key-table.js';

export function overflow(op: string, dtype: string): never {
  throw new ArithmeticOverflowError(`${op} overflowed ${dtype}; cast to a wider type first`);
}

/** Typed array of the same kind, grown to `capacity`, contents kept. */
export function grow<T extends Float64Array | Int32Array>(array: T, capacity: number, fill = 0): T {
  const next = new (array.constructor as { new (n: number): T })(capacity);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

/** All key words of a table, `width` per group in id order (a partial's keys, sent back to merge). */
export function tableWords(table: KeyTable): Uint32Array {
  const width = table.width;
  const out = new Uint32Array(table.size * width);
  for (let id = 0; id < table.size; id++) out.set(table.keyWords(id), id * width);
  return out;
}

export const kernelLib = { overflow, grow, KeyTable, tableWords };
export type KernelLib = typeof kernelLib;
