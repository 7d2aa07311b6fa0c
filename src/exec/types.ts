// Public types of the execution layer.

import type { AdapterDescription, DawnConfig } from '../../native/types.js';
import type { ResidentStats } from '../engines/webgpu/types.js';

export type BackendName = 'auto' | 'cpu' | 'webgpu';

export interface GpuOptions {
  /** Dawn toggles and feature level (default: GPUFRAME_DAWN_OPTIONS and GPUFRAME_FEATURE_LEVEL). */
  readonly dawn?: DawnConfig;
  /** Bytes of device memory resident columns may take (default 2 GiB); least recently used go first. */
  readonly memoryBudget?: number;
  /** 'auto' runs an operator on the GPU from this many input rows (default 1,000,000; never on a software adapter). */
  readonly handoffRows?: number;
  /** Caps the bytes one storage binding covers, below the device's limit: larger columns run in chunks. */
  readonly maxBindingBytes?: number;
  /** After a device loss, wait this long before acquiring a new device (default 1000 ms, doubling to a minute). */
  readonly reacquireDelayMs?: number;
}

export interface ExecutorOptions {
  /**
   * 'auto' (default) runs on the WebGPU engine when an adapter exists and the work is above the hand-off
   * size, else on the CPU; 'webgpu' always uses the GPU (operators it lacks run on the CPU) and fails
   * with BackendUnavailableError without an adapter; 'cpu' never touches the GPU.
   */
  readonly backend?: BackendName;
  readonly gpu?: GpuOptions;
  /** Worker threads of the CPU engine's pool (default: the machine's cores). 0 runs everything inline. */
  readonly maxWorkers?: number;
  /** Name given to the pool's worker threads. */
  readonly threadNamePrefix?: string;
  /** Inputs with fewer rows run inline on the calling thread (default 2097152, from `npm run bench`). */
  readonly inlineThreshold?: number;
  /** Rows per morsel; by default derived from the row count alone. */
  readonly morselRows?: number;
}

export type HandleStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunOptions {
  readonly signal?: AbortSignal;
}

export interface GpuStats {
  readonly adapter: AdapterDescription;
  readonly resident: ResidentStats;
  readonly pipelines: number;
  readonly deviceLosses: number;
}

export interface ExecutorStats {
  readonly backend: BackendName;
  /** The device in use, or null (CPU only, not acquired yet, none found, or lost). */
  readonly gpu: GpuStats | null;
  /** Why no device is in use, when one was looked for. */
  readonly gpuUnavailable: string | null;
  readonly deviceLosses: number;
  readonly workers: number;
  /** Kernel tasks queued or running on the pool. */
  readonly queueDepth: number;
  /** Submitted jobs not yet settled. */
  readonly activeJobs: number;
}
