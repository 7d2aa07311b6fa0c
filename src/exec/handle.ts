// ExecutionHandle: a job submitted to an executor, returned at once. It can be polled, awaited and
// cancelled; cancelling aborts the job's signal, which stops its in-flight morsels.

import { CancelledError } from '../errors.js';
import { abortSignal, func, optional, string } from '../options.js';
import type { HandleStatus } from './types.js';

export class ExecutionHandle<R> {
  readonly id: string;
  private state: HandleStatus = 'pending';
  private readonly controller = new AbortController();
  private readonly promise: Promise<R>;

  /** `start` runs the job with a signal that fires on cancel() or when `signal` aborts. */
  constructor(id: string, start: (signal: AbortSignal) => Promise<R>, signal?: AbortSignal) {
    this.id = string()(id, 'new ExecutionHandle(id)');
    func(start, 'new ExecutionHandle(start)');
    optional(abortSignal)(signal, 'new ExecutionHandle(signal)');
    const combined = signal ? AbortSignal.any([signal, this.controller.signal]) : this.controller.signal;
    this.promise = (async () => {
      await Promise.resolve();
      if (combined.aborted) throw new CancelledError('execution was cancelled before it started', { cause: combined.reason });
      this.state = 'running';
      return start(combined);
    })().then(
      (value) => {
        this.state = 'succeeded';
        return value;
      },
      (error: unknown) => {
        this.state = combined.aborted ? 'cancelled' : 'failed';
        throw combined.aborted && !(error instanceof CancelledError) ? new CancelledError('execution was cancelled', { cause: error }) : error;
      },
    );
    // The caller may never ask for the result; its rejection must not become an unhandled one.
    this.promise.catch(() => undefined);
  }

  get status(): HandleStatus {
    return this.state;
  }

  /** True once the job has settled (succeeded, failed or cancelled). */
  done(): boolean {
    return this.state === 'succeeded' || this.state === 'failed' || this.state === 'cancelled';
  }

  result(): Promise<R> {
    return this.promise;
  }

  /** Requests cancellation; returns false when the job had already settled. */
  cancel(reason?: unknown): boolean {
    if (this.done()) return false;
    this.controller.abort(reason ?? new CancelledError());
    return true;
  }
}
