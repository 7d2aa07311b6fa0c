// afterResponse: work that runs once a response has been sent. A request's tasks join one app-wide queue
// when its response finishes (or its connection closes), so tasks run one at a time, a request's in the
// order it registered them, requests in the order their responses finished. The queue counts what is
// pending, so a shutdown can wait for it.

import type Koa from 'koa';
import type { ServerResponse } from 'node:http';
import { markLogged } from './error-handler.js';
import { ExecutorUnavailableError } from './errors.js';
import { func, maxArguments } from '../options.js';
import { afterResponseOptions, koaApp, koaContext } from './options.js';
import { PendingCount } from './pending.js';
import { requestIdOf, runtimeOf } from './runtime.js';
import type { AfterResponseTask, Logger, LogRecord } from './types.js';

interface QueuedTask {
  readonly task: AfterResponseTask;
  readonly name: string;
  readonly requestId: string | null;
  /** Weak: a queued task must not keep its request (body, state) alive; only the 'error' event wants it. */
  readonly ctx: WeakRef<Koa.Context>;
  readonly onAbandon: AfterResponseTask | undefined;
  /** Set when shutdown gave up on the task before it started; it never runs then. */
  abandoned: boolean;
}

export interface AfterResponseOptions {
  /** Names the task in log lines (default: the function's name, or 'task'). */
  readonly name?: string;
  /**
   * Called instead of the task when a shutdown deadline passes before it started, so the work can be
   * saved for later (a dead-letter file, a queue). Shutdown waits for it.
   */
  readonly onAbandon?: AfterResponseTask;
}

export interface AbandonReport {
  /** Tasks that never started; each got its onAbandon call. */
  readonly abandoned: number;
  readonly requestIds: readonly (string | null)[];
  /** Settles when the task that was running at the deadline (if any) finishes. */
  readonly running: Promise<void>;
}

const REGISTERED = Symbol('gpuframe.afterResponse');
const RESERVED = Symbol('gpuframe.afterResponseReserved');

export class TaskQueue {
  private readonly queue: QueuedTask[] = [];
  /** Registered and not started: waiting for their response, or queued. */
  private readonly notStarted = new Set<QueuedTask>();
  /** Registered but not yet finished: waiting for their response, queued, or running. */
  private readonly pendingCount = new PendingCount();
  private current: Promise<void> | null = null;
  private currentAbort: AbortController | null = null;
  /** Requests admitted that may still register a task: counted against the cap until they do or finish. */
  private reservedCount = 0;
  private running = false;
  private closed = false;
  private failures = 0;
  private completed = 0;

  constructor(
    private readonly app: Koa,
    private readonly logger: () => Logger,
  ) {}

  get pending(): number {
    return this.pendingCount.value;
  }

  /** Requests admitted with a reserved slot that have not yet registered their task nor finished. */
  get reserved(): number {
    return this.reservedCount;
  }

  /**
   * Holds one slot for a request admitted now, before its body is read, so that requests admitted
   * together cannot together overshoot a cap on pending tasks. The slot becomes the request's first task
   * when it registers one, or is released by release() when the request ends without one.
   */
  reserve(ctx: Koa.Context): void {
    const state = ctx.state as Record<symbol, boolean | undefined>;
    if (state[RESERVED]) return;
    state[RESERVED] = true;
    this.reservedCount++;
  }

  /** Releases the request's reserved slot, unless a task of the request already took it. */
  release(ctx: Koa.Context): void {
    const state = ctx.state as Record<symbol, boolean | undefined>;
    if (!state[RESERVED]) return;
    state[RESERVED] = false;
    this.reservedCount--;
  }

  get stats(): { readonly pending: number; readonly completed: number; readonly failed: number } {
    return { pending: this.pendingCount.value, completed: this.completed, failed: this.failures };
  }

  /** Refuses new registrations from now on (tasks already registered still run). */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  register(ctx: Koa.Context, task: AfterResponseTask, options: AfterResponseOptions): void {
    if (this.closed) throw new ExecutorUnavailableError('the service is shut down and runs no more background work');
    const entry: QueuedTask = {
      task,
      name: options.name ?? (task.name || 'task'),
      requestId: requestIdOf(ctx),
      ctx: new WeakRef(ctx),
      onAbandon: options.onAbandon,
      abandoned: false,
    };
    // The request's reserved slot, if it has one, becomes this task.
    this.release(ctx);
    this.pendingCount.increment();
    this.notStarted.add(entry);
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
      this.queue.push(...tasks.filter((t) => !t.abandoned));
      this.pump();
    });
  }

  /** Resolves once nothing is pending, or at the deadline; true when the queue drained. */
  idle(timeoutMs = Infinity): Promise<boolean> {
    return this.pendingCount.idle(timeoutMs);
  }

  /**
   * Gives up on every task that has not started: each is dropped from the queue and its onAbandon runs
   * (awaited, one at a time, failures logged). The task running now, if any, is left to finish, with its
   * signal aborted so that it stops retrying.
   */
  async abandon(): Promise<AbandonReport> {
    const entries = [...this.notStarted];
    this.notStarted.clear();
    const running = this.current ?? Promise.resolve();
    this.currentAbort?.abort(new ExecutorUnavailableError('the service is shutting down and stopped waiting for this task'));
    for (const entry of entries) {
      entry.abandoned = true;
      const index = this.queue.indexOf(entry);
      if (index >= 0) this.queue.splice(index, 1);
    }
    for (const entry of entries) {
      this.safeLog('error', {
        msg: 'task abandoned at the shutdown deadline',
        task: entry.name,
        request_id: entry.requestId,
        saved: entry.onAbandon !== undefined,
      });
      if (entry.onAbandon) {
        try {
          await entry.onAbandon({ requestId: entry.requestId, signal: AbortSignal.abort(new ExecutorUnavailableError('the task was abandoned at shutdown')) });
        } catch (error) {
          this.safeLog('error', { msg: 'onAbandon failed: the work of this task is lost', task: entry.name, request_id: entry.requestId, err: error });
        }
      }
      this.pendingCount.decrement();
    }
    return { abandoned: entries.length, requestIds: entries.map((e) => e.requestId), running };
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    void (async () => {
      try {
        // A task starts on a later turn than the one that saw the response finish, so listeners of the
        // same 'finish' event (request logging) run first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        for (let next = this.queue.shift(); next; next = this.queue.shift()) {
          if (next.abandoned) continue;
          this.notStarted.delete(next);
          this.current = this.runOne(next);
          await this.current;
          this.current = null;
          this.pendingCount.decrement();
        }
      } finally {
        this.running = false;
        // Entries pushed while the loop was finishing its last await are picked up by a new pump.
        if (this.queue.length > 0) this.pump();
      }
    })();
  }

  /** Never throws: a task's failure, and a logger or listener that fails in turn, stay inside. */
  private async runOne(entry: QueuedTask): Promise<void> {
    const started = performance.now();
    const abort = new AbortController();
    this.currentAbort = abort;
    try {
      await entry.task({ requestId: entry.requestId, signal: abort.signal });
      this.completed++;
      this.safeLog('info', { msg: 'task', task: entry.name, request_id: entry.requestId, ok: true, ms: round(performance.now() - started) });
    } catch (error) {
      this.failures++;
      this.safeLog('error', { msg: 'task', task: entry.name, request_id: entry.requestId, ok: false, ms: round(performance.now() - started), err: error });
      markLogged(error);
      // Emitted as Koa emits request errors, and only to listeners: an 'error' event nobody listens to would throw.
      if (this.app.listenerCount('error') > 0) {
        try {
          this.app.emit('error', error, entry.ctx.deref());
        } catch {
          // A listener that throws must not stop the queue.
        }
      }
    } finally {
      this.currentAbort = null;
    }
  }

  private safeLog(level: 'info' | 'error', record: LogRecord): void {
    try {
      this.logger()[level](record);
    } catch {
      // A logger that fails must not stop the queue or take the process down.
    }
  }
}

const queues = new WeakMap<Koa, TaskQueue>();

/** The app's after-response queue, made on first use; keyed by the app, so two apps never share a queue. */
export function taskQueueOf(app: Koa): TaskQueue {
  let queue = queues.get(app);
  if (!queue) {
    queue = new TaskQueue(app, () => runtimeOf(app).logger);
    queues.set(app, queue);
  }
  return queue;
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
export function afterResponse(ctx: Koa.Context, task: AfterResponseTask, options: string | AfterResponseOptions = {}): void {
  maxArguments('afterResponse(ctx, task, options)', arguments, 3);
  koaContext(ctx, 'afterResponse(ctx)');
  func(task, 'afterResponse(task)');
  const checked = afterResponseOptions(typeof options === 'string' ? { name: options } : options, 'afterResponse(options)') as AfterResponseOptions;
  taskQueueOf(ctx.app).register(ctx, task, checked);
}

/** Tasks registered and not yet finished, app-wide. */
export function pendingTasks(app: Koa): number {
  koaApp(app, 'pendingTasks(app)');
  return taskQueueOf(app).pending;
}
