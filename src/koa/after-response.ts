// afterResponse: work that runs once a response has been sent. A request's tasks join one app-wide queue
// when its response finishes (or its connection closes), so tasks run one at a time, a request's in the
// order it registered them, requests in the order their responses finished. The queue counts what is
// pending, so a shutdown can wait for it.

import type Koa from 'koa';
import type { ServerResponse } from 'node:http';
import { markLogged } from './error-handler.js';
import { ExecutorUnavailableError } from './errors.js';
import { requestIdOf, runtimeOf } from './runtime.js';
import type { AfterResponseTask, Logger } from './types.js';

interface QueuedTask {
  readonly task: AfterResponseTask;
  readonly name: string;
  readonly requestId: string | null;
  readonly ctx: Koa.Context;
}

const REGISTERED = Symbol('gpuframe.afterResponse');

export class TaskQueue {
  private readonly queue: QueuedTask[] = [];
  /** Registered but not yet finished: waiting for their response, queued, or running. */
  private pendingCount = 0;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private failures = 0;
  private completed = 0;

  constructor(
    private readonly app: Koa,
    private readonly logger: () => Logger,
  ) {}

  get pending(): number {
    return this.pendingCount;
  }

  get stats(): { readonly pending: number; readonly completed: number; readonly failed: number } {
    return { pending: this.pendingCount, completed: this.completed, failed: this.failures };
  }

  /** Refuses new registrations from now on (tasks already registered still run). */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  register(ctx: Koa.Context, task: AfterResponseTask, name: string): void {
    if (this.closed) throw new ExecutorUnavailableError('the service is shut down and runs no more background work');
    const entry: QueuedTask = { task, name, requestId: requestIdOf(ctx), ctx };
    this.pendingCount++;
    const state = ctx.state as Record<symbol, QueuedTask[] | undefined>;
    let list = state[REGISTERED];
    if (list) {
      list.push(entry);
      return;
    }
    list = [entry];
    state[REGISTERED] = list;
    const tasks = list;
    onResponseDone(ctx.res, () => {
      // Tasks registered from now on (the response is done, say from another task) queue on their own.
      state[REGISTERED] = undefined;
      this.queue.push(...tasks);
      this.pump();
    });
  }

  /** Resolves once nothing is pending, or at the deadline; true when the queue drained. */
  idle(timeoutMs = Infinity): Promise<boolean> {
    if (this.pendingCount === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
          resolve(false);
        }, Math.max(0, timeoutMs));
      }
    });
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    void (async () => {
      // A task starts on a later turn than the one that saw the response finish, so listeners of the
      // same 'finish' event (request logging) run first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        await this.runOne(next);
        this.pendingCount--;
      }
      this.running = false;
      if (this.pendingCount === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    })();
  }

  private async runOne(entry: QueuedTask): Promise<void> {
    const started = performance.now();
    try {
      await entry.task({ requestId: entry.requestId });
      this.completed++;
      this.logger().info({ msg: 'task', task: entry.name, request_id: entry.requestId, ok: true, ms: round(performance.now() - started) });
    } catch (error) {
      this.failures++;
      this.logger().error({ msg: 'task', task: entry.name, request_id: entry.requestId, ok: false, ms: round(performance.now() - started), err: error });
      // Emitted as Koa emits request errors; without a listener Koa's own would not be there to catch it.
      markLogged(error);
      if (this.app.listenerCount('error') > 0) {
        try {
          this.app.emit('error', error, entry.ctx);
        } catch {
          // A listener that throws must not stop the queue.
        }
      }
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Calls `done` once, when the response has been handed to the OS in full or its connection closed. */
export function onResponseDone(res: ServerResponse, done: () => void): void {
  if (res.writableFinished || res.destroyed) {
    queueMicrotask(done);
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    res.off('finish', once);
    res.off('close', once);
    done();
  };
  res.on('finish', once);
  res.on('close', once);
}

/**
 * Runs `task` after this request's response has finished sending (all bytes handed to the OS), or after its
 * connection closed if the client went away first: accepted work is never dropped. Tasks run one at a time
 * across the app. A task that throws is logged and emitted as an 'error' event on the app; it changes
 * nothing about the response, which is already sent.
 */
export function afterResponse(ctx: Koa.Context, task: AfterResponseTask, name = task.name || 'task'): void {
  runtimeOf(ctx.app).tasks.register(ctx, task, name);
}

/** Tasks registered and not yet finished, app-wide. */
export function pendingTasks(app: Koa): number {
  return runtimeOf(app).tasks.pending;
}
