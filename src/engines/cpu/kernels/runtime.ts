// Helpers that generated kernels call through their `lib` argument, identical on the main thread and in
// workers. Kept tiny: anything a kernel calls per row belongs in generated code instead.

import { ArithmeticOverflowError } from '../../../errors.js';
import { KeyTable } from './key-table.js';

export function overflow(op: string, dtype: string): never {
  throw new ArithmeticOverflowError(`${op} overflowed ${dtype}; cast to a wider type first`);
}

/**
 * A zeroed typed array over shared memory: a kernel's state arrays live there, so a worker hands its
 * partial back to the main thread without the message copying them.
 */
export function shared<T extends Float64Array | Int32Array | Uint32Array>(ctor: { new (buffer: SharedArrayBuffer, offset: number, length: number): T; readonly BYTES_PER_ELEMENT: number }, length: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(8, length * ctor.BYTES_PER_ELEMENT)), 0, length);
}

/** Typed array of the same kind in shared memory, grown to `capacity`, contents kept. */
export function grow<T extends Float64Array | Int32Array>(array: T, capacity: number, fill = 0): T {
  const next = shared(array.constructor as unknown as { new (buffer: SharedArrayBuffer, offset: number, length: number): T; readonly BYTES_PER_ELEMENT: number }, capacity);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

/** All key words of a table, `width` per group in id order (a partial's keys, sent back to merge), in shared memory. */
export function tableWords(table: KeyTable): Uint32Array {
  const words = table.allWords();
  const out = shared(Uint32Array, words.length);
  out.set(words);
  return out;
}

export const kernelLib = { overflow, grow, shared, KeyTable, tableWords };
export type KernelLib = typeof kernelLib;
