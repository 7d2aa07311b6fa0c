// How CPU engine work runs: an operator is a generator that yields pool promises (and ticks at which a
// query checks for cancellation), so the same code runs synchronously (collectSync, no pool) or
// asynchronously with cancellation between morsels.

import { CancelledError } from '../../errors.js';
import type { WorkerPool } from './pool.js';

/** Yielded by engine work: a promise to await, or a tick at which cancellation is checked. */
export const TICK = Symbol('tick');
export type Step = Promise<unknown> | typeof TICK;
export type Work<T> = Generator<Step, T, unknown>;

export interface CpuRunOptions {
  readonly pool: WorkerPool | null;
  readonly signal?: AbortSignal;
  /** Inputs with fewer rows run inline even when a pool exists. */
  readonly inlineThreshold: number;
  /** Rows per morsel; by default a function of the row count only, so results never depend on threads. */
  readonly morselRows?: number;
}

/** Drives engine work to completion on this thread; only valid without a pool. */
export function runSync<T>(work: Work<T>): T {
  let step = work.next();
  while (!step.done) {
    if (step.value !== TICK) throw new Error('synchronous execution met asynchronous work');
    step = work.next();
  }
  return step.value;
}

/** Drives engine work, awaiting pool results and yielding to the event loop between inline morsels. */
export async function runAsync<T>(work: Work<T>, signal?: AbortSignal): Promise<T> {
  let step = work.next();
  while (!step.done) {
    let value: unknown;
    try {
      if (step.value === TICK) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
      } else value = await step.value;
    } catch (error) {
      step = work.throw(error);
      continue;
    }
    step = work.next(value);
  }
  return step.value;
}
