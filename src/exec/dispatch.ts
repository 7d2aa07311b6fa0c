// The dispatcher: runs a physical plan, each operator on the engine the planner placed it on, from the
// registry. It owns what is common to every operator: cancellation checks, per-operator timings, and
// falling back to the CPU when a device operator cannot run these inputs (too few rows for the hand-off
// size, bindings too small, an f32 overflow in a float sum, a lost device, or, under 'auto', device
// memory exhausted), so a result is never lost or wrong. A fallback is recorded for explainAnalyze().

import { BackendUnavailableError, CancelledError, ExecutionError, GpuMemoryError } from '../errors.js';
import type { CpuOperator } from '../engines/cpu/ops/types.js';
import type { CpuRunOptions, Work } from '../engines/cpu/work.js';
import { deviceDeclined } from '../engines/webgpu/ops/index.js';
import type { GpuOperator, GpuRun } from '../engines/webgpu/ops/types.js';
import type { ColumnBatch } from '../model/types.js';
import type { OperatorTiming } from '../plan/explain.js';
import type { PlanNode } from '../plan/types.js';
import { operatorInputs, type PhysicalOp } from './operators.js';
import { REGISTRY, type ComputeOperator } from './registry.js';

export interface DeviceRun extends GpuRun {
  /** Inputs with fewer rows run on the CPU ('auto'); 0 sends everything the device covers to it. */
  readonly handoffRows: number;
  /**
   * 'webgpu' (true): a step whose columns exceed the device memory budget fails with GpuMemoryError.
   * 'auto' (false): such a step runs on the CPU instead.
   */
  readonly strict: boolean;
  /** Called when the device turns out lost mid-query; the step reruns on the CPU. */
  readonly onDeviceLost: (error: unknown) => void;
}

export interface DispatchOptions {
  readonly cpu: CpuRunOptions;
  /** The device operators placed on 'webgpu' run on; null: they run on the CPU (recorded as a fallback). */
  readonly gpu: DeviceRun | null;
  readonly timings?: Map<PlanNode, OperatorTiming>;
}

type Outcome = { readonly batch: ColumnBatch } | { readonly fallback: string };

/** Runs a physical plan; drive it with runSync (CPU-only plans without a pool) or runAsync. */
export function* dispatch(op: PhysicalOp, options: DispatchOptions): Work<ColumnBatch> {
  const signal = options.cpu.signal;
  if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
  if (op.op === 'source') return op.batch;
  const inputs: ColumnBatch[] = [];
  for (const input of operatorInputs(op)) inputs.push(yield* dispatch(input, options));
  const started = performance.now();
  let fallback: string | null = null;
  if (op.placement.engine === 'webgpu') {
    const outcome = yield* onDevice(op, inputs, options);
    if ('batch' in outcome) {
      options.timings?.set(op.node, { engine: 'webgpu', ms: performance.now() - started });
      return outcome.batch;
    }
    fallback = outcome.fallback;
  }
  const cpu = REGISTRY[op.op].cpu as CpuOperator<ComputeOperator>;
  const batch = yield* cpu.run(op, inputs, options.cpu);
  options.timings?.set(op.node, { engine: 'cpu', ms: performance.now() - started, ...(fallback === null ? {} : { fallback }) });
  return batch;
}

function* onDevice(op: Exclude<PhysicalOp, { op: 'source' }>, inputs: readonly ColumnBatch[], options: DispatchOptions): Work<Outcome> {
  const gpu = options.gpu;
  if (gpu === null) return { fallback: 'no device' };
  if (gpu.ctx.lost) return { fallback: 'the device was lost' };
  const rows = Math.max(0, ...inputs.map((b) => b.length));
  if (rows < gpu.handoffRows) return { fallback: `${rows} rows, below the hand-off size (${gpu.handoffRows})` };
  const device = REGISTRY[op.op].webgpu as GpuOperator<ComputeOperator> | null;
  if (device === null) return { fallback: 'CPU-only' };
  const misfit = device.misfit(op, inputs, gpu.ctx);
  if (misfit !== null) return { fallback: misfit };
  try {
    return { batch: (yield device.run(op, inputs, gpu)) as ColumnBatch };
  } catch (error) {
    const declined = deviceDeclined(error);
    if (declined !== null) return { fallback: declined };
    // 'auto' never refuses work the CPU can do, even past a shader the driver would not compile;
    // 'webgpu' reports both, so a kernel bug cannot hide behind the CPU.
    if ((error instanceof GpuMemoryError || error instanceof ExecutionError) && !gpu.strict) return { fallback: error.message };
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- lost is a getter: the device can be lost while the step ran
    if (error instanceof BackendUnavailableError && gpu.ctx.lost) {
      gpu.onDeviceLost(error);
      return { fallback: 'the device was lost' };
    }
    throw error;
  }
}
