// Helpers that generated kernels call through their `lib` argument, identical on the main thread and in
// workers. Kept tiny: anything a kernel calls per row belongs in generated code instead.

import { allocShared, type TypedCtor } from '../../../model/shared-memory.js';
import { KeyTable } from '../../shared/key-table.js';
import { castFailed, overflow } from '../../shared/overflow.js';
import { dtLib } from '../dt.js';

/** Typed array of the same kind in shared memory (as every kernel state is), grown to `capacity`, contents kept. */
export function grow<T extends Float64Array | Int32Array>(array: T, capacity: number, fill = 0): T {
  const next = allocShared(array.constructor as TypedCtor<T>, capacity);
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}

/** All key words of a table, `width` per group in id order (a partial's keys, sent back to merge), in shared memory. */
export function tableWords(table: KeyTable): Uint32Array {
  const words = table.allWords();
  const out = allocShared(Uint32Array, words.length);
  out.set(words);
  return out;
}

/** A kernel's state arrays live in shared memory, so a worker hands its partial back without the message copying them. */
const shared = allocShared;

export const kernelLib = { overflow, castFailed, grow, shared, KeyTable, tableWords, dt: dtLib };
export type KernelLib = typeof kernelLib;
