// The CPU engine's worker pool: a tinypool of threads that run compiled kernels over shared column
// memory. Cancellation aborts queued and running tasks (tinypool terminates a running worker), so a
// cancelled job frees its threads for the next one.

import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import Tinypool from 'tinypool';
import { ArithmeticOverflowError, CancelledError, CastError, ExecutionError } from '../../errors.js';
import type { KernelReply, KernelTask } from './kernels/types.js';

export interface WorkerPoolOptions {
  readonly maxWorkers?: number;
  readonly threadNamePrefix?: string;
}

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export class WorkerPool {
  readonly size: number;
  private readonly pool: Tinypool;

  constructor(options: WorkerPoolOptions = {}) {
    this.size = Math.max(1, options.maxWorkers ?? Math.max(1, cpus().length));
    this.pool = new Tinypool({
      filename: workerFile,
      minThreads: this.size,
      maxThreads: this.size,
      // Workers idle for a minute exit; a new task starts them again.
      idleTimeout: 60_000,
      ...(options.threadNamePrefix === undefined ? {} : { name: options.threadNamePrefix }),
    });
  }

  private inFlight = 0;

  /** Kernel tasks queued or running. */
  get queueDepth(): number {
    return this.inFlight;
  }

  async run(task: KernelTask, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
    let reply: KernelReply;
    this.inFlight++;
    try {
      reply = (await this.pool.run(task, signal ? { signal } : {})) as KernelReply;
    } catch (error) {
      if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
      throw new ExecutionError('a worker failed while running a kernel', { cause: error });
    } finally {
      this.inFlight--;
    }
    return unwrapReply(reply);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

export function unwrapReply(reply: KernelReply): unknown {
  if (reply.ok) return reply.result;
  if (reply.code === 'arithmetic_overflow') throw new ArithmeticOverflowError(reply.message);
  if (reply.code === 'invalid_cast') throw new CastError(reply.message);
  throw new ExecutionError(`kernel failed: ${reply.message}`);
}
