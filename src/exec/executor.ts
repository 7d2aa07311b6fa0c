// The Executor owns the engines' resources (the CPU worker pool) and runs optimised plans on them.
// Frames stay engine-agnostic: they hand a plan to an executor and get Arrow-layout columns back.

import { acquireDevice, dawnConfigFromEnv, dawnLoadError } from '../../native/dawn.js';
import type { AdapterDescription } from '../../native/types.js';
import { BackendUnavailableError, CancelledError, ExecutorClosedError } from '../errors.js';
import { MAX_MORSEL } from '../engines/cpu/morsels.js';
import { evaluateAtRows } from '../engines/cpu/kernels/filter-project.js';
import { runAsync, runSync, type CpuRunOptions } from '../engines/cpu/work.js';
import {
  abortSignal,
  arrayOf,
  duration,
  fail,
  func,
  instanceOf,
  integer,
  maxArguments,
  nonNegativeInteger,
  oneOf,
  options as optionsOf,
  string,
  timeoutMs,
} from '../options.js';
import { WorkerPool } from '../engines/cpu/pool.js';
import { GpuContext } from '../engines/webgpu/context.js';
import { ResidentColumns } from '../engines/webgpu/resident.js';
import { planInputs } from '../plan/explain.js';
import type { ColumnBatch } from '../model/types.js';
import type { OperatorTiming } from '../plan/explain.js';
import type { PlanNode } from '../plan/types.js';
import type { PhysicalOp } from './operators.js';
import { dispatch, type DispatchOptions } from './dispatch.js';
import { ExecutionHandle } from './handle.js';
import { CPU_ONLY, explainPhysical, planPhysical, type PlacementPolicy } from './physical.js';
import type { BackendName, ExecutorOptions, ExecutorStats, GpuOptions, RunOptions } from './types.js';

// `npm run bench:micro` (2 cores): a light group-by runs slower on the pool than inline up to ~1M rows (pool/inline 1.44 at 1M)
// and faster at 10M; plans with heavier kernels pay off sooner, so callers can lower it.
export const DEFAULT_INLINE_THRESHOLD = 2_097_152;

/**
 * 'auto' hands an operator to a hardware GPU from this many input rows. Not yet measured on a hardware
 * GPU (the development machines have none); a software adapter is never chosen by 'auto'.
 */
export const DEFAULT_GPU_HANDOFF_ROWS = 1_000_000;
/** Re-acquiring a lost device waits this long, doubling up to a minute. */
const REACQUIRE_MS = 1000;

export const BACKENDS: readonly BackendName[] = ['auto', 'cpu', 'webgpu'];
/** Most worker threads a pool may have: each costs a thread and its heap, and 2^31 of them would exhaust memory. */
export const MAX_WORKERS = 256;

const rowCount = integer({ min: 0, max: Number.MAX_SAFE_INTEGER, infinite: true });

/** Executor options, checked when the executor is made (and by the Koa lifecycle when it is mounted). */
export const EXECUTOR_OPTIONS = {
  backend: oneOf(BACKENDS),
  gpu: optionsOf({
    dawn: optionsOf({
      options: arrayOf(string({ minLength: 1 })),
      featureLevel: oneOf(['core', 'compatibility']),
      powerPreference: oneOf(['low-power', 'high-performance']),
    }),
    memoryBudget: nonNegativeInteger,
    handoffRows: rowCount,
    // Below a few words a binding holds no chunk to work on.
    maxBindingBytes: integer({ min: 256, max: Number.MAX_SAFE_INTEGER }),
    reacquireDelayMs: duration({ infinite: false }),
  }),
  maxWorkers: integer({ min: 0, max: MAX_WORKERS }),
  threadNamePrefix: string({ maxLength: 64 }),
  inlineThreshold: rowCount,
  morselRows: integer({ min: 1, max: MAX_MORSEL }),
} as const;
const executorOptions = optionsOf(EXECUTOR_OPTIONS);
const runOptions = optionsOf({ signal: abortSignal, timings: instanceOf(Map, 'a Map') });
const submitOptions = optionsOf({ signal: abortSignal });
const closeOptions = optionsOf({ cancelAfterMs: timeoutMs });

interface GpuState {
  readonly ctx: GpuContext;
  readonly resident: ResidentColumns;
  readonly adapter: AdapterDescription;
}

export interface PlanRunOptions extends RunOptions {
  readonly timings?: Map<PlanNode, OperatorTiming>;
}

export class Executor {
  /** The backend asked for: 'auto' uses the GPU where it pays, 'webgpu' always (failing without one). */
  readonly backend: BackendName;
  readonly maxWorkers: number;
  private readonly gpuOptions: GpuOptions;
  private gpu: Promise<GpuState | null> | null = null;
  private gpuReady: GpuState | null = null;
  private gpuFailure: string | null = null;
  private deviceLosses = 0;
  private reacquireMs = REACQUIRE_MS;
  private reacquireTimer: NodeJS.Timeout | null = null;
  private readonly pool: WorkerPool | null;
  private readonly inlineThreshold: number;
  private readonly morselRows: number | undefined;
  private readonly active = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;
  private readonly stopAll = new AbortController();
  private nextId = 1;

  constructor(given: ExecutorOptions = {}) {
    maxArguments('createExecutor(options)', arguments, 1);
    const options = executorOptions(given, 'createExecutor(options)') as ExecutorOptions;
    this.backend = options.backend ?? 'auto';
    this.gpuOptions = options.gpu ?? {};
    this.reacquireMs = this.gpuOptions.reacquireDelayMs ?? REACQUIRE_MS;
    const workers = options.maxWorkers;
    this.pool =
      workers === 0
        ? null
        : new WorkerPool({
            ...(workers === undefined ? {} : { maxWorkers: workers }),
            ...(options.threadNamePrefix === undefined ? {} : { threadNamePrefix: options.threadNamePrefix }),
          });
    this.maxWorkers = this.pool?.size ?? 0;
    this.inlineThreshold = options.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD;
    this.morselRows = options.morselRows;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Engine settings for a run on this executor. */
  private cpuOptions(options: PlanRunOptions): CpuRunOptions {
    return {
      pool: this.pool,
      inlineThreshold: this.inlineThreshold,
      ...(this.morselRows === undefined ? {} : { morselRows: this.morselRows }),
      ...(options.signal ? { signal: options.signal } : {}),
    };
  }

  /** Runs an optimised plan to completion, each operator on the engine the physical planner chose. */
  async execute(plan: PlanNode, options: PlanRunOptions = {}): Promise<ColumnBatch> {
    maxArguments('execute(plan, options)', arguments, 2);
    checkPlan(plan, 'execute(plan)');
    runOptions(options, 'execute(options)');
    if (this.closing) throw new ExecutorClosedError();
    const job = this.run(plan, { ...options, signal: this.withStop(options.signal) });
    this.track(job);
    return job;
  }

  private async run(plan: PlanNode, options: PlanRunOptions): Promise<ColumnBatch> {
    const { physical, run } = await this.prepare(plan, options);
    return runAsync(dispatch(physical, run), options.signal);
  }

  /**
   * @internal For frame.stream(): the physical plan and how to dispatch it, with the stream's signal also
   * aborted when close() gives up waiting, and `window`, which each window's work goes through: it refuses
   * work once the executor is closing and makes close() wait for the window in flight (not for a consumer
   * that stopped reading).
   */
  async prepareStream(
    plan: PlanNode,
    options: RunOptions = {},
  ): Promise<{ physical: PhysicalOp; run: DispatchOptions; window: <T>(job: () => Promise<T>) => Promise<T> }> {
    submitOptions(options, 'prepareStream(options)');
    if (this.closing) throw new ExecutorClosedError();
    const prepared = await this.prepare(plan, { signal: this.withStop(options.signal) });
    const window = <T>(job: () => Promise<T>): Promise<T> => {
      if (this.closing) return Promise.reject(new ExecutorClosedError());
      const running = job();
      this.track(running);
      return running;
    };
    return { ...prepared, window };
  }

  /** The physical plan for an optimised plan on this executor and how to dispatch it, the device acquired where the plan may use one. */
  private async prepare(plan: PlanNode, options: PlanRunOptions): Promise<{ physical: PhysicalOp; run: DispatchOptions }> {
    if (this.closing) throw new ExecutorClosedError();
    const gpu = await this.deviceFor(plan);
    const physical = planPhysical(plan, this.policy(gpu));
    const run: DispatchOptions = {
      cpu: this.cpuOptions(options),
      gpu: gpu && {
        ctx: gpu.ctx,
        resident: gpu.resident,
        evaluateAtRows,
        handoffRows: this.handoffRows(gpu),
        strict: this.backend === 'webgpu',
        onDeviceLost: () => {
          this.deviceLost(gpu);
        },
      },
      ...(options.timings ? { timings: options.timings } : {}),
    };
    return { physical, run };
  }

  /**
   * @internal explain()'s text for an optimised plan on this executor: the engine each operator will run
   * on, from the device as it stands (nothing is acquired; run `await executor.warmUp()` first so that
   * 'auto' knows whether its adapter is a hardware one).
   */
  explain(plan: PlanNode): string {
    maxArguments('explain(plan)', arguments, 1);
    checkPlan(plan, 'explain(plan)');
    if (this.backend === 'cpu' || !this.mayUseDevice(plan)) return explainPhysical(plan, planPhysical(plan, CPU_ONLY));
    // The device as it stands: in use; not looked for yet (or being acquired, or due to be re-acquired
    // after a loss): undefined; looked for and not found: null.
    const known = this.gpuReady ?? (this.gpu === null || this.gpuFailure === null ? undefined : null);
    if (known === null && this.backend === 'webgpu' && this.deviceLosses === 0)
      return `${explainPhysical(plan, planPhysical(plan, CPU_ONLY))}\n-- running this plan fails: ${this.noDevice().message}`;
    if (known === undefined) {
      // Not looked for yet: 'webgpu' will insist on one, 'auto' will use a hardware one.
      const policy: PlacementPolicy = { gpu: { handoffRows: this.backend === 'webgpu' ? 0 : (this.gpuOptions.handoffRows ?? DEFAULT_GPU_HANDOFF_ROWS) } };
      const note =
        this.backend === 'auto' ? '\n-- the device is not acquired yet: the engines above assume a hardware adapter (await executor.warmUp() first)' : '';
      return explainPhysical(plan, planPhysical(plan, policy)) + note;
    }
    return explainPhysical(plan, planPhysical(plan, this.policy(known)));
  }

  /** Where operators may go, given the device this plan got (null: none looked for, none found, or lost). */
  private policy(gpu: GpuState | null): PlacementPolicy {
    if (!gpu) return CPU_ONLY;
    const handoffRows = this.handoffRows(gpu);
    if (handoffRows === Infinity)
      return {
        gpu: { handoffRows, handoffWhy: `'auto' leaves a software adapter (${gpu.adapter.description || gpu.adapter.device || 'fallback'}) to the CPU` },
      };
    return { gpu: { handoffRows } };
  }

  private handoffRows(gpu: GpuState): number {
    if (this.backend === 'webgpu') return 0;
    if (this.gpuOptions.handoffRows !== undefined) return this.gpuOptions.handoffRows;
    const software = gpu.adapter.architecture === 'software' || gpu.adapter.isFallbackAdapter;
    return software ? Infinity : DEFAULT_GPU_HANDOFF_ROWS;
  }

  /** 'cpu' never looks for a device, nor does 'auto' when no input reaches the hand-off size. */
  private mayUseDevice(plan: PlanNode): boolean {
    if (this.backend === 'cpu') return false;
    return this.backend === 'webgpu' || largestInput(plan) >= (this.gpuOptions.handoffRows ?? DEFAULT_GPU_HANDOFF_ROWS);
  }

  /** The device for this plan: none for 'cpu', or for 'auto' when no input reaches the hand-off size. */
  private async deviceFor(plan: PlanNode): Promise<GpuState | null> {
    if (!this.mayUseDevice(plan)) return null;
    const state = await this.acquire();
    // After a loss, even 'webgpu' keeps serving from the CPU until a device is back.
    if (!state && this.backend === 'webgpu' && this.deviceLosses === 0) throw this.noDevice();
    return state;
  }

  private noDevice(): BackendUnavailableError {
    return new BackendUnavailableError(`backend 'webgpu' has no device: ${this.gpuFailure ?? 'no adapter'}`);
  }

  /** Acquires the device once (again after a loss); resolves null where there is none. */
  private acquire(): Promise<GpuState | null> {
    if (this.gpuReady && !this.gpuReady.ctx.lost) return Promise.resolve(this.gpuReady);
    this.gpu ??= (async () => {
      const acquired = await acquireDevice(this.gpuOptions.dawn ?? dawnConfigFromEnv()).catch((error: unknown) => {
        this.gpuFailure = `device request failed: ${String(error)}`;
        return null;
      });
      if (!acquired) {
        const loadError = dawnLoadError();
        this.gpuFailure ??= loadError
          ? // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever the binding threw when it failed to load, printed as is
            `Dawn's binding did not load: ${loadError instanceof Error ? loadError.message : String(loadError)}`
          : 'no WebGPU adapter';
        return null;
      }
      const ctx = new GpuContext(acquired, this.gpuOptions.maxBindingBytes === undefined ? {} : { maxBindingBytes: this.gpuOptions.maxBindingBytes });
      const state: GpuState = { ctx, resident: new ResidentColumns(ctx, this.gpuOptions.memoryBudget ?? DEFAULT_GPU_BUDGET), adapter: acquired.info };
      void acquired.device.lost.then(() => {
        this.deviceLost(state);
      });
      this.gpuFailure = null;
      this.gpuReady = state;
      return state;
    })();
    return this.gpu;
  }

  /** Marks the device dead: work falls back to the CPU, and a new device is tried after a delay. */
  private deviceLost(state: GpuState): void {
    if (this.gpuReady !== state) return;
    this.deviceLosses++;
    this.gpuReady = null;
    // Work still on the lost device fails over to the CPU; its buffers and the instance can go now.
    state.resident.clear();
    state.ctx.destroy();
    if (!this.closing)
      process.emitWarning(`the WebGPU device (${state.adapter.description}) was lost; work runs on the CPU engine until a new device is acquired`, {
        code: 'GPUFRAME_DEVICE_LOST',
      });
    this.gpu = Promise.resolve(null);
    this.gpuFailure = 'the device was lost; re-acquiring';
    if (this.closing) return;
    this.reacquireTimer = setTimeout(() => {
      this.reacquireTimer = null;
      this.gpu = null;
    }, this.reacquireMs);
    this.reacquireTimer.unref();
    this.reacquireMs = Math.min(60_000, this.reacquireMs * 2);
  }

  /** @internal The WebGPU device in use, if one was acquired (diagnostics and tests). */
  gpuDevice(): GPUDevice | null {
    maxArguments('gpuDevice()', arguments, 0);
    return this.gpuReady?.ctx.device ?? null;
  }

  /** Acquires the device now rather than at the first large query; returns its adapter, or null. */
  async warmUp(): Promise<AdapterDescription | null> {
    maxArguments('warmUp()', arguments, 0);
    if (this.backend === 'cpu') return null;
    const state = await this.acquire();
    if (!state && this.backend === 'webgpu') throw this.noDevice();
    return state?.adapter ?? null;
  }

  /** Wraps a job in a handle at once; the job runs on the next tick. */
  submit<R>(job: (signal: AbortSignal) => Promise<R>, options: RunOptions = {}): ExecutionHandle<R> {
    maxArguments('submit(job, options)', arguments, 2);
    func(job, 'submit(job)');
    submitOptions(options, 'submit(options)');
    if (this.closing) throw new ExecutorClosedError();
    const handle = new ExecutionHandle(`job-${this.nextId++}`, job, this.withStop(options.signal));
    this.track(handle.result());
    return handle;
  }

  /** A job's signal, also aborted when close() gives up waiting. */
  private withStop(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.stopAll.signal]) : this.stopAll.signal;
  }

  private track(job: Promise<unknown>): void {
    this.active.add(job);
    const forget = (): void => void this.active.delete(job);
    job.then(forget, forget);
  }

  stats(): ExecutorStats {
    maxArguments('stats()', arguments, 0);
    const gpu = this.gpuReady;
    return {
      backend: this.backend,
      workers: this.maxWorkers,
      queueDepth: this.pool?.queueDepth ?? 0,
      activeJobs: this.active.size,
      gpu: gpu ? { adapter: gpu.adapter, resident: gpu.resident.stats(), pipelines: gpu.ctx.counters.pipelinesCreated, deviceLosses: this.deviceLosses } : null,
      gpuUnavailable: gpu ? null : this.gpuFailure,
      deviceLosses: this.deviceLosses,
    };
  }

  /**
   * Stops taking work, waits for jobs in flight to settle, then stops the workers. Idempotent (the first
   * call's options hold). With `cancelAfterMs`, jobs still running after that long are cancelled.
   */
  close(options: { readonly cancelAfterMs?: number } = {}): Promise<void> {
    maxArguments('close(options)', arguments, 1);
    closeOptions(options, 'close(options)');
    this.closing ??= (async () => {
      const wait = options.cancelAfterMs;
      const timer =
        wait !== undefined && Number.isFinite(wait)
          ? setTimeout(
              () => {
                this.stopAll.abort(new CancelledError('the executor closed before the job finished'));
              },
              Math.max(0, wait),
            )
          : null;
      while (this.active.size > 0) await Promise.allSettled([...this.active]);
      if (timer) clearTimeout(timer);
      if (this.reacquireTimer) clearTimeout(this.reacquireTimer);
      const gpu = this.gpu ? await this.gpu : null;
      if (gpu) {
        gpu.resident.clear();
        gpu.ctx.destroy();
      }
      this.gpuReady = null;
      await this.pool?.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Default device memory budget for resident columns: 2 GiB. */
export const DEFAULT_GPU_BUDGET = 2 * 1024 ** 3;

function largestInput(plan: PlanNode): number {
  if (plan.kind === 'source') return plan.batch.length;
  return Math.max(0, ...planInputs(plan).map(largestInput));
}

export function createExecutor(options: ExecutorOptions = {}): Executor {
  return new Executor(options);
}

/** Runs an optimised plan on the calling thread without a pool. */
export function executeInline(plan: PlanNode, timings?: Map<PlanNode, OperatorTiming>): ColumnBatch {
  return runSync(dispatch(planPhysical(plan, CPU_ONLY), { cpu: { pool: null, inlineThreshold: Infinity }, gpu: null, ...(timings ? { timings } : {}) }));
}

/** Runs an optimised plan inline but asynchronously, yielding between morsels so it can be cancelled. */
export function executeInlineAsync(plan: PlanNode, options: PlanRunOptions = {}): Promise<ColumnBatch> {
  const cpu = { pool: null, inlineThreshold: Infinity, ...(options.signal ? { signal: options.signal } : {}) };
  return runAsync(dispatch(planPhysical(plan, CPU_ONLY), { cpu, gpu: null, ...(options.timings ? { timings: options.timings } : {}) }), options.signal);
}

/** Rejects what is not an optimised plan, for JavaScript callers. */
function checkPlan(plan: unknown, where: string): void {
  if (typeof plan !== 'object' || plan === null || !Array.isArray((plan as { schema?: unknown }).schema))
    fail(where, plan, 'an optimised plan (run frames with frame.collect({ executor }))');
}
