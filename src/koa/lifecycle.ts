// executorLifecycle(app): the shared executor (worker pool and GPU device) as a resource of the app, the
// way a FastAPI lifespan holds one. It is created when the app starts listening, handed to each request as
// ctx.state.executor, and on shutdown (the server's close, SIGTERM, SIGINT) the app stops taking requests,
// waits for those in flight and for the after-response queue up to a deadline, runs the shutdown hooks,
// and disposes of the pool and the device. It also sets the HTTP server's timeouts, so that slow or
// stalled clients cannot hold connections open without bound.

import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import { createExecutor, type Executor } from '../exec/executor.js';
import { onResponseDone, taskQueueOf } from './after-response.js';
import { abortBodyRead } from './body.js';
import { respondWithError } from './error-handler.js';
import { ExecutorUnavailableError, LifecycleError, ServiceOverloadedError } from './errors.js';
import { bodyUnread } from './linger.js';
import { fail, func, maxArguments, nonEmptyString, string, timeoutMs } from '../options.js';
import { koaApp, koaContext, lifecycleOptions, server as checkServer } from './options.js';
import { PendingCount } from './pending.js';
import { runtimeOf } from './runtime.js';
import type { LifecycleOptions, LifecycleState, Logger, ShutdownReport } from './types.js';

const DEFAULT_DRAIN_MS = 30_000;
const DEFAULT_ABANDON_GRACE_MS = 5_000;
const DEFAULT_UPLOAD_GRACE_MS = 5_000;
const DEFAULT_MAX_PENDING_TASKS = 10_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * The same signal again within this long of the last one counted is a duplicate, not a second request:
 * signalling a process group (a terminal's Ctrl-C, a process manager) reaches the service directly and
 * again through `npm start`, which forwards it. The cost: a deliberate second signal sent within 1 s of
 * the first is ignored too; send it later.
 */
const DUPLICATE_SIGNAL_MS = 1_000;
const mounted = new WeakMap<Koa, ExecutorLifecycle>();

/** The server timeouts the lifecycle sets, in milliseconds (0: none). */
export interface ServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
};

/**
 * The options' timeouts (each already checked by lifecycleOptions) with defaults filled in. The headers
 * are part of the request, so they may not outlast it: a pair given that way is refused, and a default
 * gives way to the one given (requestTimeoutMs 10 s alone makes the headers' default 10 s too).
 */
export function serverTimeouts(options: Partial<ServerTimeouts>): ServerTimeouts {
  const { headersTimeoutMs, requestTimeoutMs } = options;
  if (headersTimeoutMs !== undefined && requestTimeoutMs !== undefined && headersTimeoutMs > 0 && requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    fail(
      'executorLifecycle(options).headersTimeoutMs',
      headersTimeoutMs,
      `at most requestTimeoutMs (${requestTimeoutMs}): the headers are part of the request`,
    );
  }
  const request =
    requestTimeoutMs ??
    (headersTimeoutMs === 0 ? DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs : Math.max(DEFAULT_SERVER_TIMEOUTS.requestTimeoutMs, headersTimeoutMs ?? 0));
  const headers = headersTimeoutMs ?? (request === 0 ? DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs : Math.min(DEFAULT_SERVER_TIMEOUTS.headersTimeoutMs, request));
  return {
    headersTimeoutMs: headers,
    requestTimeoutMs: request,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.keepAliveTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_SERVER_TIMEOUTS.idleTimeoutMs,
  };
}

/**
 * How often Node checks for requests past headersTimeoutMs or requestTimeoutMs: a quarter of the shorter
 * one (so a request is cut at most 25% late), within 100 ms and Node's default of 30 s.
 */
function checkingInterval(timeouts: ServerTimeouts): number {
  const set = [timeouts.headersTimeoutMs, timeouts.requestTimeoutMs].filter((t) => t > 0);
  if (set.length === 0) return 30_000;
  return Math.min(30_000, Math.max(100, Math.floor(Math.min(...set) / 4)));
}

export interface LifecycleStats {
  readonly state: LifecycleState;
  readonly inFlightRequests: number;
  readonly pendingTasks: number;
  readonly completedTasks: number;
  readonly failedTasks: number;
  /** Milliseconds since start, or 0 before it. */
  readonly uptimeMs: number;
}

export class ExecutorLifecycle {
  readonly app: Koa;
  private readonly options: LifecycleOptions;
  private current: Executor | null = null;
  private stateValue: LifecycleState = 'idle';
  private startedAt = 0;
  private starting: Promise<Executor> | null = null;
  private readonly inFlight = new PendingCount();
  /** Requests in flight, so a shutdown can end the uploads that outlast its grace. */
  private readonly requests = new Set<Koa.Context>();
  private readonly servers = new Set<Server>();
  /** The server timeouts, checked when the lifecycle is made. */
  readonly timeouts: ServerTimeouts;
  /** Resolves when a second signal (or hurry()) asks the shutdown to stop waiting. */
  private hurried: Promise<void>;
  private hurryNow: () => void = () => undefined;
  private isHurried = false;
  private signalsSeen = 0;
  private readonly hooks: { readonly name: string; readonly hook: () => unknown }[] = [];
  private shutdownPromise: Promise<ShutdownReport> | null = null;
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private lastSignal: { readonly signal: NodeJS.Signals; readonly at: number } | null = null;

  constructor(app: Koa, options: LifecycleOptions = {}) {
    koaApp(app, 'executorLifecycle(app)');
    this.app = app;
    // Checked now, not when the executor starts: a bad value must stop the service at start, not fail each request.
    this.options = lifecycleOptions(options, 'executorLifecycle(options)');
    this.timeouts = serverTimeouts(this.options);
    this.hurried = new Promise((resolve) => (this.hurryNow = resolve));
    if (options.logger) runtimeOf(app).logger = options.logger;
  }

  /**
   * Sets the lifecycle's timeouts on `server`. attach() does it; a server made by the lifecycle's listen()
   * also checks them at the right interval (a server made elsewhere keeps its own, 30 s by default).
   */
  applyTimeouts(server: Server): void {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, idleTimeoutMs } = this.timeouts;
    server.headersTimeout = headersTimeoutMs;
    server.requestTimeout = requestTimeoutMs;
    server.keepAliveTimeout = keepAliveTimeoutMs;
    // A socket with no bytes in either direction for this long is destroyed (a response being computed
    // that long included: a route that computes longer must send something first, or raise the limit).
    server.setTimeout(idleTimeoutMs);
  }

  /** A server for `app` whose timeouts are checked often enough to honour them (Koa's listen() makes a plain one). */
  createServer(): Server {
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.timeouts;
    return createServer(
      {
        headersTimeout: headersTimeoutMs,
        requestTimeout: requestTimeoutMs,
        keepAliveTimeout: keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingInterval(this.timeouts),
      },
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback catches its own errors and answers them; the server need not await it
      this.app.callback(),
    );
  }

  get state(): LifecycleState {
    return this.stateValue;
  }

  private get logger(): Logger {
    return runtimeOf(this.app).logger;
  }

  /** The shared executor; an error before start() and after shutdown. */
  get executor(): Executor {
    if (this.stateValue === 'closed') throw new LifecycleError('lifecycle_closed', 'the executor lifecycle has shut down; its executor is disposed');
    if (!this.current)
      throw new LifecycleError(
        'lifecycle_not_started',
        'the executor lifecycle has not started: call app.listen(), lifecycle.attach(server) or lifecycle.start()',
      );
    return this.current;
  }

  /** Creates the executor and installs the signal handlers; resolves once the GPU is warmed up. Once only. */
  start(): Promise<Executor> {
    maxArguments('start()', arguments, 0);
    if (this.stateValue === 'closed' || this.stateValue === 'draining')
      throw new LifecycleError('lifecycle_closed', 'the executor lifecycle has shut down and cannot start again');
    if (this.stateValue !== 'idle') throw new LifecycleError('lifecycle_already_started', 'the executor lifecycle has already started');
    return this.begin();
  }

  private begin(): Promise<Executor> {
    if (this.starting) return this.starting;
    const attempt = (async () => {
      const { backend = 'auto', maxWorkers, threadNamePrefix, gpu, inlineThreshold, morselRows } = this.options;
      const executor = this.create({
        backend,
        ...(maxWorkers === undefined ? {} : { maxWorkers }),
        ...(threadNamePrefix === undefined ? {} : { threadNamePrefix }),
        ...(gpu === undefined ? {} : { gpu }),
        ...(inlineThreshold === undefined ? {} : { inlineThreshold }),
        ...(morselRows === undefined ? {} : { morselRows }),
      });
      this.current = executor;
      this.stateValue = 'running';
      this.startedAt = performance.now();
      this.installSignals();
      if (this.options.warmUp ?? backend !== 'cpu') {
        try {
          await executor.warmUp();
        } catch (error) {
          // 'webgpu' without an adapter: requests will answer 503 with the reason; the app still serves.
          this.logger.warn({ msg: 'gpu warm-up failed', err: error });
        }
      }
      const stats = executor.stats();
      this.logger.info({
        msg: 'executor started',
        backend: stats.backend,
        workers: stats.workers,
        adapter: stats.gpu?.adapter.description ?? null,
        gpu_unavailable: stats.gpuUnavailable,
      });
      return executor;
    })();
    this.starting = attempt;
    // A failed start is not remembered: the next request tries again.
    attempt.catch(() => {
      if (this.starting === attempt) this.starting = null;
    });
    return attempt;
  }

  /** createExecutor, or a 503 whose cause says why; a later request tries again. */
  private create(options: Parameters<typeof createExecutor>[0]): Executor {
    try {
      return createExecutor(options);
    } catch (error) {
      this.logger.error({ msg: 'executor start failed', err: error });
      throw new ExecutorUnavailableError(`the executor could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Starts (unless started) and ties shutdown to the server: its 'close' shuts down, and shutdown closes it. */
  attach(server: Server): void {
    checkServer(server, 'attach(server)');
    if (this.stateValue === 'closed' || this.stateValue === 'draining')
      throw new LifecycleError('lifecycle_closed', 'the executor lifecycle has shut down; it cannot serve a new server');
    this.servers.add(server);
    this.applyTimeouts(server);
    server.once('close', () => void this.shutdown('server closed'));
    if (this.stateValue === 'idle') {
      this.begin().catch((error: unknown) => {
        this.logger.error({ msg: 'executor start failed', err: error });
      });
    }
  }

  /** Runs `hook` during shutdown, after requests and after-response tasks drained, before the executor goes. Hooks run last-registered first. */
  onShutdown(name: string, hook: () => unknown): void {
    maxArguments('onShutdown(name, hook)', arguments, 2);
    nonEmptyString(name, 'onShutdown(name)');
    func(hook, 'onShutdown(hook)');
    if (this.stateValue === 'closed') throw new LifecycleError('lifecycle_closed', 'the executor lifecycle has shut down');
    this.hooks.push({ name, hook });
  }

  stats(): LifecycleStats {
    const tasks = taskQueueOf(this.app).stats;
    return {
      state: this.stateValue,
      inFlightRequests: this.inFlight.value,
      pendingTasks: tasks.pending,
      completedTasks: tasks.completed,
      failedTasks: tasks.failed,
      uptimeMs: this.startedAt === 0 ? 0 : performance.now() - this.startedAt,
    };
  }

  /** Resolves true once no request is in flight and no after-response task is pending (false at the timeout). */
  async idle(timeout = Infinity): Promise<boolean> {
    maxArguments('idle(timeoutMs)', arguments, 1);
    const deadline = performance.now() + timeoutMs(timeout, 'idle(timeoutMs)');
    const tasks = taskQueueOf(this.app);
    for (;;) {
      if (!(await this.inFlight.idle(deadline - performance.now()))) return false;
      if (!(await tasks.idle(Math.max(0, deadline - performance.now())))) return false;
      // A request that finished while the queue drained may have queued more.
      if (this.inFlight.value === 0 && tasks.pending === 0) return true;
    }
  }

  /** The middleware executorLifecycle() mounts: hands out the executor, refuses requests while shutting down. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      if (this.stateValue === 'draining' || this.stateValue === 'closed') {
        respondWithError(ctx, new ExecutorUnavailableError('the service is shutting down and takes no new requests'));
        // After the error answer, which keeps only its own headers.
        ctx.set('Connection', 'close');
        return;
      }
      // Reads (GET, HEAD, OPTIONS) add no background work, and a health check must answer while busy.
      // Refused before the body is read: a backlog of accepted work must not grow without bound.
      if (!SAFE_METHODS.has(ctx.method) && this.refuseWhenFull(ctx)) return;
      // Apps served through app.callback() without listen() start on their first request.
      const executor = this.current ?? (await this.begin());
      ctx.state['executor'] = executor;
      this.inFlight.increment();
      this.requests.add(ctx);
      onResponseDone(ctx.res, () => {
        this.requests.delete(ctx);
        this.inFlight.decrement();
      });
      await next();
    };
  }

  /** Answers 503 `overloaded` (true) when pending and reserved tasks fill `maxPendingTasks`. */
  private refuseWhenFull(ctx: Koa.Context): boolean {
    const cap = this.options.maxPendingTasks ?? DEFAULT_MAX_PENDING_TASKS;
    const tasks = taskQueueOf(this.app);
    if (tasks.pending + tasks.reserved < cap) return false;
    respondWithError(ctx, new ServiceOverloadedError(`${cap} background tasks are pending or being accepted; retry shortly`));
    return true;
  }

  /**
   * Middleware for a route that registers after-response work (mount it before the body is read): it
   * holds one pending-task slot from now until the route registers its task or the request ends, and
   * answers 503 `overloaded` when `maxPendingTasks` slots are taken, so requests admitted together cannot
   * together pass the cap. Routes without it (queries, say) hold no slot while they run.
   */
  reserveTask(): Koa.Middleware {
    maxArguments('reserveTask()', arguments, 0);
    return async (ctx, next) => {
      if (this.refuseWhenFull(ctx)) return;
      const tasks = taskQueueOf(this.app);
      tasks.reserve(ctx);
      onResponseDone(ctx.res, () => {
        tasks.release(ctx);
      });
      await next();
    };
  }

  /**
   * Shortens a shutdown under way (what a second signal does): it stops waiting for requests in flight and
   * for background tasks; tasks not started go to their onAbandon (the service's dead-letter folder) and the
   * running one's signal aborts. The hooks still run and the executor is still closed.
   */
  hurry(): void {
    maxArguments('hurry()', arguments, 0);
    if (this.isHurried) return;
    this.isHurried = true;
    this.hurryNow();
  }

  /** Ends the uploads still in flight: their body read answers 503, or the connection closes. */
  private endUploads(why: string): number {
    let ended = 0;
    for (const ctx of this.requests) {
      if (!bodyUnread(ctx.req)) continue;
      ended++;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- @types/node types req.socket as non-null, but it is null once the socket is detached
      if (!abortBodyRead(ctx.req, new ExecutorUnavailableError(`the service is shutting down: ${why}`))) ctx.req.socket?.destroy();
    }
    return ended;
  }

  /** Waits for `promise` until `deadline` (a performance.now() time) or a hurry, whichever is first. */
  private async until(promise: (timeoutMs: number) => Promise<boolean>, deadline: number): Promise<boolean> {
    if (this.isHurried) return promise(0);
    return Promise.race([promise(Math.max(0, deadline - performance.now())), this.hurried.then(() => false)]);
  }

  /**
   * Graceful shutdown, once: stop accepting, wait (up to `drainTimeoutMs` in all) for requests in flight and
   * the after-response queue, run the shutdown hooks, dispose of the executor. Uploads still arriving after
   * `uploadGraceMs` are ended with 503. Later calls get the same report.
   */
  shutdown(reason = 'shutdown requested'): Promise<ShutdownReport> {
    maxArguments('shutdown(reason)', arguments, 1);
    string({ maxLength: 1000 })(reason, 'shutdown(reason)');
    this.shutdownPromise ??= this.drainAndClose(reason);
    return this.shutdownPromise;
  }

  private async drainAndClose(reason: string): Promise<ShutdownReport> {
    const started = performance.now();
    const wasIdle = this.stateValue === 'idle';
    this.stateValue = 'draining';
    const tasks = taskQueueOf(this.app);
    this.logger.info({ msg: 'shutdown started', reason, in_flight_requests: this.inFlight.value, pending_tasks: tasks.pending });
    for (const server of this.servers) {
      if (server.listening) server.close();
      server.closeIdleConnections();
    }
    const deadline = started + (this.options.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
    // One slow upload must not hold the whole shutdown: past a short grace, uploads are ended (503).
    const uploadGrace = this.options.uploadGraceMs ?? DEFAULT_UPLOAD_GRACE_MS;
    const endUploads = (why: string): void => {
      const ended = this.endUploads(why);
      if (ended > 0) this.logger.warn({ msg: 'uploads ended at shutdown', uploads: ended, reason: why });
    };
    const uploadTimer = setTimeout(() => {
      endUploads(`the upload did not finish within ${uploadGrace} ms`);
    }, uploadGrace);
    void this.hurried.then(() => {
      endUploads('a second signal asked to stop waiting');
    });
    const requestsDone = await this.until((ms) => this.inFlight.idle(ms), deadline);
    clearTimeout(uploadTimer);
    const tasksDone = await this.until((ms) => tasks.idle(ms), deadline);
    tasks.close();
    let abandonedTasks = 0;
    if (!tasksDone) {
      // Past the deadline: tasks that never started hand their work to onAbandon (a dead-letter file, say),
      // and the one running gets a short grace to finish before the hooks close what it writes to.
      const abandoned = await tasks.abandon();
      abandonedTasks = abandoned.abandoned;
      const grace = this.options.abandonGraceMs ?? DEFAULT_ABANDON_GRACE_MS;
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        abandoned.running.then(() => true),
        new Promise<boolean>(
          (resolve) =>
            (timer = setTimeout(() => {
              resolve(false);
            }, grace)),
        ),
      ]);
      clearTimeout(timer);
      if (!finished) abandonedTasks++;
      const msg = this.isHurried
        ? 'shutdown shortened by a second signal with background tasks pending'
        : 'shutdown deadline passed with background tasks pending';
      this.logger.error({ msg, abandoned_tasks: abandonedTasks, request_ids: abandoned.requestIds, running_task_finished: finished });
    }
    for (const { name, hook } of this.hooks.splice(0).reverse()) {
      try {
        await hook();
      } catch (error) {
        this.logger.error({ msg: 'shutdown hook failed', hook: name, err: error });
      }
    }
    if (!wasIdle) {
      await this.starting?.catch(() => undefined);
      // Jobs nobody awaits any more (a handle a route never read) are cancelled once the deadline is spent.
      await this.current?.close({ cancelAfterMs: this.isHurried ? 0 : Math.max(0, deadline - performance.now()) });
    }
    for (const server of this.servers) server.closeAllConnections();
    this.removeSignals();
    this.stateValue = 'closed';
    const report: ShutdownReport = { drained: requestsDone && tasksDone, abandonedTasks, reason, ms: Math.round(performance.now() - started) };
    this.logger.info({ msg: 'shutdown complete', reason, drained: report.drained, abandoned_tasks: abandonedTasks, ms: report.ms });
    return report;
  }

  private installSignals(): void {
    const signals = this.options.signals === false ? [] : (this.options.signals ?? ['SIGTERM', 'SIGINT']);
    for (const signal of signals) {
      const exitOnSignal = this.options.exitOnSignal ?? true;
      const handler = (): void => {
        const now = performance.now();
        if (this.lastSignal?.signal === signal && now - this.lastSignal.at < DUPLICATE_SIGNAL_MS) {
          this.logger.info({ msg: 'duplicate signal ignored', signal, ms_since_last: Math.round(now - this.lastSignal.at) });
          return;
        }
        this.lastSignal = { signal, at: now };
        this.signalsSeen++;
        if (this.signalsSeen === 1 || !this.shutdownPromise) {
          void this.shutdown(`signal ${signal}`).then((report) => {
            if (exitOnSignal) process.exit(report.drained ? 0 : 1);
          });
          return;
        }
        if (this.signalsSeen === 2) {
          // Shorter, not lost: what is pending still goes to its onAbandon (the dead-letter folder) first.
          this.logger.warn({
            msg: 'second signal during shutdown: no more waiting; pending background tasks go to their onAbandon now, and a third signal exits at once',
            signal,
            exit_after_shutdown: exitOnSignal,
          });
          this.hurry();
          return;
        }
        // The way out when even the shortened shutdown hangs (a hook that never returns).
        this.logger.error({ msg: 'third signal during shutdown: exiting now; background tasks not yet saved are lost', signal });
        process.exit(1);
      };
      this.signalHandlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  private removeSignals(): void {
    for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
    this.signalHandlers.clear();
  }
}

/**
 * Mounts the executor lifecycle on `app`: its middleware puts the shared executor on ctx.state.executor,
 * and `app.listen()` starts it and ties shutdown to the server. Mounting twice on one app is an error.
 */
export function executorLifecycle(app: Koa, options: LifecycleOptions = {}): ExecutorLifecycle {
  maxArguments('executorLifecycle(app, options)', arguments, 2);
  koaApp(app, 'executorLifecycle(app)');
  if (mounted.has(app)) throw new LifecycleError('lifecycle_already_mounted', 'executorLifecycle() is already mounted on this app');
  const lifecycle = new ExecutorLifecycle(app, options);
  mounted.set(app, lifecycle);
  app.use(lifecycle.middleware());
  // As Koa's listen(), with a server that carries the lifecycle's timeouts.
  (app as { listen: (...args: unknown[]) => Server }).listen = (...args: unknown[]) => {
    const server = lifecycle.createServer();
    lifecycle.attach(server);
    return (server.listen as (...listenArgs: unknown[]) => Server).apply(server, args);
  };
  return lifecycle;
}

/** The lifecycle mounted on `app`, or null. */
export function lifecycleOf(app: Koa): ExecutorLifecycle | null {
  koaApp(app, 'lifecycleOf(app)');
  return mounted.get(app) ?? null;
}

/** The shared executor of this request; 503 when no lifecycle is mounted or the service is shutting down. */
export function getExecutor(ctx: Koa.Context): Executor {
  koaContext(ctx, 'getExecutor(ctx)');
  const executor: unknown = (ctx.state as { executor?: unknown }).executor;
  if (executor === undefined || executor === null)
    throw new ExecutorUnavailableError('no executor on this request: mount executorLifecycle(app) before the routes');
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- ctx.state holds what executorLifecycle stored there, an Executor
  const typed = executor as Executor;
  if (typed.closed) throw new ExecutorUnavailableError('the executor is shut down');
  return typed;
}
