// Public types of the execution layer.

export type BackendName = 'auto' | 'cpu' | 'webgpu';

export interface ExecutorOptions {
  /** 'auto' (default) picks the best available engine; in this build that is the CPU engine. */
  readonly backend?: BackendName;
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

export interface ExecutorStats {
  readonly backend: 'cpu';
  readonly workers: number;
  /** Kernel tasks queued or running on the pool. */
  readonly queueDepth: number;
  /** Submitted jobs not yet settled. */
  readonly activeJobs: number;
}
