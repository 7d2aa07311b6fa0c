// The Executor owns the engines' resources (the CPU worker pool) and runs optimised plans on them.
// Frames stay engine-agnostic: they hand a plan to an executor and get Arrow-layout columns back.

import { BackendUnavailableError, ExecutorClosedError } from '../errors.js';
import { executeNode, runAsync, runSync, type CpuRunOptions } from '../engines/cpu/engine.js';
import { WorkerPool } from '../engines/cpu/pool.js';
import type { ColumnBatch } from '../model/types.js';
import type { OperatorTiming } from '../plan/explain.js';
import type { PlanNode } from '../plan/types.js';
import { ExecutionHandle } from './handle.js';
import type { ExecutorOptions, ExecutorStats, RunOptions } from './types.js';

// `npm run bench` (2 cores): a light group-by runs slower on the pool than inline up to ~1M rows (pool/inline 1.44 at 1M)
// and faster at 10M; plans with heavier kernels pay off sooner, so callers can lower it.
export const DEFAULT_INLINE_THRESHOLD = 2_097_152;

export interface PlanRunOptions extends RunOptions {
  readonly timings?: Map<PlanNode, OperatorTiming>;
}

export class Executor {
  readonly backend: 'cpu' = 'cpu';
  readonly maxWorkers: number;
  private readonly pool: WorkerPool | null;
  private readonly inlineThreshold: number;
  private readonly morselRows: number | undefined;
  private readonly active = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;
  private nextId = 1;

  constructor(options: ExecutorOptions = {}) {
    const backend = options.backend ?? 'auto';
    if (backend === 'webgpu') throw new BackendUnavailableError("backend 'webgpu' is not available: this build has no WebGPU engine; use 'cpu' or 'auto'");
    if (backend !== 'auto' && backend !== 'cpu') throw new TypeError(`unknown backend '${String(backend)}'`);
    const workers = options.maxWorkers;
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) throw new RangeError('maxWorkers: a non-negative integer');
    this.pool = workers === 0 ? null : new WorkerPool({ ...(workers === undefined ? {} : { maxWorkers: workers }), ...(options.threadNamePrefix === undefined ? {} : { threadNamePrefix: options.threadNamePrefix }) });
    this.maxWorkers = this.pool?.size ?? 0;
    this.inlineThreshold = options.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD;
    this.morselRows = options.morselRows;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Engine settings for a run on this executor (used by streaming). */
  engineOptions(options: PlanRunOptions): CpuRunOptions {
    if (this.closing) throw new ExecutorClosedError();
    return {
      pool: this.pool,
      inlineThreshold: this.inlineThreshold,
      ...(this.morselRows === undefined ? {} : { morselRows: this.morselRows }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timings ? { timings: options.timings } : {}),
    };
  }

  /** Runs an optimised plan to completion. */
  async execute(plan: PlanNode, options: PlanRunOptions = {}): Promise<ColumnBatch> {
    if (this.closing) throw new ExecutorClosedError();
    const job = runAsync(executeNode(plan, this.engineOptions(options)), options.signal);
    this.track(job);
    return job;
  }

  /** Wraps a job in a handle at once; the job runs on the next tick. */
  submit<R>(job: (signal: AbortSignal) => Promise<R>, options: RunOptions = {}): ExecutionHandle<R> {
    if (this.closing) throw new ExecutorClosedError();
    const handle = new ExecutionHandle(`job-${this.nextId++}`, job, options.signal);
    this.track(handle.result());
    return handle;
  }

  private track(job: Promise<unknown>): void {
    this.active.add(job);
    const forget = (): void => void this.active.delete(job);
    job.then(forget, forget);
  }

  stats(): ExecutorStats {
    return { backend: this.backend, workers: this.maxWorkers, queueDepth: this.pool?.queueDepth ?? 0, activeJobs: this.active.size };
  }

  /** Stops taking work, waits for jobs in flight to settle, then stops the workers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.active.size > 0) await Promise.allSettled([...this.active]);
      await this.pool?.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export function createExecutor(options: ExecutorOptions = {}): Executor {
  return new Executor(options);
}

/** Runs an optimised plan on the calling thread without a pool. */
export function executeInline(plan: PlanNode, timings?: Map<PlanNode, OperatorTiming>): ColumnBatch {
  return runSync(executeNode(plan, { pool: null, inlineThreshold: Infinity, ...(timings ? { timings } : {}) }));
}

/** Runs an optimised plan inline but asynchronously, yielding between morsels so it can be cancelled. */
export function executeInlineAsync(plan: PlanNode, options: PlanRunOptions = {}): Promise<ColumnBatch> {
  return runAsync(executeNode(plan, { pool: null, inlineThreshold: Infinity, ...(options.signal ? { signal: options.signal } : {}), ...(options.timings ? { timings: options.timings } : {}) }), options.signal);
}
