// executorLifecycle(app) over real HTTP: one executor made at start and handed to every request, misuse
// (starting twice, mounting twice, use after shutdown) refused with LifecycleError, and a graceful shutdown
// (asked for, on the server's close or on a signal) that refuses new requests with 503, waits for requests
// in flight and after-response tasks up to its deadline, runs the hooks, then disposes of the executor.

import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { col, Executor } from '../../src/index.js';
import {
  afterResponse,
  executorLifecycle,
  getExecutor,
  lifecycleOf,
  LifecycleError,
  registerErrorHandlers,
  requestId,
  type ExecutorLifecycle,
  type GpuframeState,
  type LifecycleOptions,
} from '../../src/koa/index.js';
import { assertErrorReply, captureLogger, delay, Event, listen, request, serve, waitFor, type CapturedLog } from './koa-helpers.js';

interface Setup {
  readonly app: Koa;
  readonly lifecycle: ExecutorLifecycle;
  readonly router: Router<GpuframeState>;
  readonly records: CapturedLog[];
}

/** An app with request ids, error handling and the lifecycle (CPU, no signal handlers unless asked). */
function setup(options: LifecycleOptions = {}): Setup {
  const { logger, records } = captureLogger();
  const app = new Koa();
  app.use(requestId());
  registerErrorHandlers(app);
  const lifecycle = executorLifecycle(app, { backend: 'cpu', maxWorkers: 0, signals: false, logger, ...options });
  const router = new Router<GpuframeState>();
  router.get('/backend', (ctx) => {
    ctx.body = { backend: getExecutor(ctx).backend };
  });
  return { app, lifecycle, router, records };
}

function mount(s: Setup): void {
  s.app.use(s.router.routes());
}

function assertLifecycleError(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LifecycleError, `a LifecycleError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe('executorLifecycle: the shared executor', () => {
  it('creates one executor at listen() with the given options; every request gets that same one and runs frames on it', async () => {
    const s = setup({ maxWorkers: 1, threadNamePrefix: 'koa-lifecycle-test' });
    const seen: unknown[] = [];
    s.router.get('/total', async (ctx) => {
      seen.push(ctx.state.executor);
      const executor = getExecutor(ctx);
      const frame = Event.fromColumns({ userId: [1, 2, 1], amount: [1.5, 2, 4], country: [null, 'US', 'US'] });
      const [row] = await frame
        .agg({ total: col('amount').sum() })
        .submit({ executor })
        .result();
      ctx.body = { total: row?.total ?? null };
    });
    mount(s);
    assert.equal(s.lifecycle.state, 'idle');
    assertLifecycleError(() => s.lifecycle.executor, 'lifecycle_not_started');
    const served = await listen(s.app);
    try {
      assert.equal(s.lifecycle.state, 'running', 'listen() started the lifecycle');
      const executor = s.lifecycle.executor;
      assert.ok(executor instanceof Executor);
      assert.equal(executor.backend, 'cpu');
      assert.equal(executor.maxWorkers, 1);
      for (let i = 0; i < 3; i++) {
        const reply = await request(served.port, { path: '/total' });
        assert.deepEqual(reply.json(), { total: 7.5 });
      }
      assert.equal(seen.length, 3);
      for (const e of seen) assert.equal(e, executor, 'the same executor on every request');
      const started = s.records.find((r) => r.msg === 'executor started');
      assert.equal(started?.['backend'], 'cpu');
      assert.equal(started['workers'], 1);
    } finally {
      await s.lifecycle.shutdown('test done');
      await served.close();
    }
    assert.equal(s.lifecycle.state, 'closed');
  });

  it('served through app.callback() alone, it starts on the first request', async () => {
    const s = setup();
    mount(s);
    const served = await serve(s.app);
    try {
      assert.equal(s.lifecycle.state, 'idle');
      const reply = await request(served.port, { path: '/backend' });
      assert.deepEqual(reply.json(), { backend: 'cpu' });
      assert.equal(s.lifecycle.state, 'running');
    } finally {
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('start() twice, mounting twice, and any use after shutdown are LifecycleErrors', async () => {
    const s = setup();
    mount(s);
    assert.equal(lifecycleOf(s.app), s.lifecycle);
    assert.equal(lifecycleOf(new Koa()), null);
    const executor = await s.lifecycle.start();
    assert.equal(executor, s.lifecycle.executor);
    assertLifecycleError(() => s.lifecycle.start(), 'lifecycle_already_started');
    assertLifecycleError(() => executorLifecycle(s.app), 'lifecycle_already_mounted');

    const report = await s.lifecycle.shutdown('first');
    assert.equal(report.drained, true);
    assert.equal(report.abandonedTasks, 0);
    assert.equal(report.reason, 'first');
    assert.equal(await s.lifecycle.shutdown('second'), report, 'shutdown happens once; later calls get the same report');
    assert.equal(executor.closed, true, 'the executor is disposed');
    assertLifecycleError(() => s.lifecycle.executor, 'lifecycle_closed');
    assertLifecycleError(() => s.lifecycle.start(), 'lifecycle_closed');
    assertLifecycleError(() => {
      s.lifecycle.attach(http.createServer());
    }, 'lifecycle_closed');
    assertLifecycleError(() => {
      s.lifecycle.onShutdown('late', () => undefined);
    }, 'lifecycle_closed');
  });

  it('after shutdown, requests get 503 in the error shape, with Connection: close', async () => {
    const s = setup();
    mount(s);
    const served = await serve(s.app);
    const agent = new http.Agent({ keepAlive: true });
    try {
      assert.equal((await request(served.port, { path: '/backend', agent })).status, 200);
      await s.lifecycle.shutdown();
      const reply = await request(served.port, { path: '/backend', agent, headers: { 'x-request-id': 'late-1' } });
      const body = assertErrorReply(reply, 503, 'executor_unavailable');
      assert.equal(body.request_id, 'late-1');
      assert.match(body.error.message, /shutting down/);
      assert.equal(reply.headers['retry-after'], '1');
      assert.equal(reply.headers['connection'], 'close');
    } finally {
      agent.destroy();
      await served.close();
    }
  });
});

describe('executorLifecycle: graceful shutdown', () => {
  it("the server's close starts the shutdown, which disposes of the executor", async () => {
    const s = setup();
    mount(s);
    const served = await listen(s.app);
    assert.equal((await request(served.port, { path: '/backend' })).status, 200);
    const executor = s.lifecycle.executor;
    served.server.close();
    await waitFor(() => s.lifecycle.state === 'closed', 'the lifecycle to close');
    assert.equal(executor.closed, true);
    const done = s.records.find((r) => r.msg === 'shutdown complete');
    assert.equal(done?.['reason'], 'server closed');
    assert.equal(done['drained'], true);
  });

  it('stops listening at once, finishes the request in flight, then disposes of the executor', async () => {
    const s = setup();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    s.router.get('/slow', async (ctx) => {
      await gate;
      // Still usable: the executor is disposed only after the requests in flight.
      ctx.body = { backend: getExecutor(ctx).backend, closed: getExecutor(ctx).closed };
    });
    mount(s);
    const served = await listen(s.app);
    try {
      const executor = s.lifecycle.executor;
      const slow = request(served.port, { path: '/slow' });
      await waitFor(() => s.lifecycle.stats().inFlightRequests === 1, 'the request to be in flight');
      let settled = false;
      const shutdown = s.lifecycle.shutdown('test').then((report) => {
        settled = true;
        return report;
      });
      assert.equal(s.lifecycle.state, 'draining');
      await waitFor(() => !served.server.listening, 'the server to stop listening');
      await assert.rejects(request(served.port, { path: '/backend' }), (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED');
      await delay(50);
      assert.equal(settled, false, 'shutdown waits for the request in flight');
      assert.equal(executor.closed, false);
      release();
      assert.deepEqual((await slow).json(), { backend: 'cpu', closed: false });
      const report = await shutdown;
      assert.equal(report.drained, true);
      assert.equal(executor.closed, true);
    } finally {
      release();
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('waits for pending after-response tasks, reports them drained, and only then disposes of the executor', async () => {
    const s = setup();
    const finished: { task: number; executorClosed: boolean }[] = [];
    s.router.get('/work', (ctx) => {
      const executor = getExecutor(ctx);
      for (const task of [1, 2]) {
        afterResponse(ctx, async () => {
          await delay(150);
          finished.push({ task, executorClosed: executor.closed });
        });
      }
      ctx.body = 'accepted';
    });
    mount(s);
    const served = await listen(s.app);
    try {
      assert.equal((await request(served.port, { path: '/work' })).text, 'accepted');
      assert.equal(s.lifecycle.stats().pendingTasks, 2);
      const report = await s.lifecycle.shutdown('test');
      assert.deepEqual(finished, [
        { task: 1, executorClosed: false },
        { task: 2, executorClosed: false },
      ]);
      assert.equal(report.drained, true);
      assert.equal(report.abandonedTasks, 0);
      assert.ok(report.ms >= 250, `shutdown took ${report.ms} ms, less than the tasks`);
      assert.equal(s.lifecycle.stats().completedTasks, 2);
      assert.equal(s.lifecycle.stats().pendingTasks, 0);
    } finally {
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('past drainTimeoutMs the running task gets its grace, the queued ones their onAbandon, and the executor is disposed anyway', async () => {
    const s = setup({ drainTimeoutMs: 100, abandonGraceMs: 100 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const saved: (string | null)[] = [];
    const ran: string[] = [];
    s.router.get('/stuck', (ctx) => {
      afterResponse(ctx, () => gate, 'stuck-task');
      // Queued behind the stuck one: never starts, so it is handed to onAbandon instead.
      afterResponse(ctx, () => void ran.push('queued'), { name: 'queued-task', onAbandon: ({ requestId }) => void saved.push(requestId) });
      ctx.body = 'accepted';
    });
    mount(s);
    const served = await listen(s.app);
    try {
      const executor = s.lifecycle.executor;
      assert.equal((await request(served.port, { path: '/stuck' })).text, 'accepted');
      const started = performance.now();
      const report = await s.lifecycle.shutdown('test');
      const took = performance.now() - started;
      assert.equal(report.drained, false);
      assert.equal(report.abandonedTasks, 2, 'the queued task and the running one that outlived its grace');
      assert.ok(took >= 190 && took < 2000, `shutdown kept its deadline plus the grace (${took} ms)`);
      assert.equal(executor.closed, true);
      assert.equal(saved.length, 1, 'onAbandon ran for the task that never started');
      assert.equal(typeof saved[0], 'string');
      assert.deepEqual(ran, [], 'an abandoned task never runs');
      const line = s.records.find((r) => r.msg === 'shutdown deadline passed with background tasks pending');
      assert.equal(line?.level, 'error');
      assert.equal(line['abandoned_tasks'], 2);
      assert.equal(line['running_task_finished'], false);
      assert.equal(s.records.filter((r) => r.msg === 'task abandoned at the shutdown deadline').length, 1);
      release();
      await delay(20);
      assert.deepEqual(ran, [], 'not even once the stuck task lets go');
    } finally {
      release();
      await served.close();
    }
  });

  it('with maxPendingTasks pending, new requests are refused 503 overloaded before their body is read', async () => {
    const s = setup({ maxPendingTasks: 2 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = (ctx: Koa.Context): void => {
      afterResponse(ctx, () => gate, 'held');
      ctx.body = 'queued';
    };
    s.router.get('/queue', queue);
    s.router.post('/queue', queue);
    mount(s);
    const served = await listen(s.app);
    try {
      assert.equal((await request(served.port, { path: '/queue' })).text, 'queued');
      assert.equal((await request(served.port, { path: '/queue' })).text, 'queued');
      const refused = await request(served.port, { method: 'POST', path: '/queue', headers: { 'x-request-id': 'over-1' } });
      const body = assertErrorReply(refused, 503, 'overloaded');
      assert.equal(body.request_id, 'over-1');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal((await request(served.port, { path: '/backend' })).status, 200, 'reads, such as a health check, still answer');
      release();
      assert.equal(await s.lifecycle.idle(5000), true);
      assert.equal((await request(served.port, { path: '/queue' })).text, 'queued', 'served again once the backlog is gone');
    } finally {
      release();
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('shutdown hooks run after the drain, last registered first, before the executor goes; a failing hook is logged', async () => {
    const s = setup();
    const order: string[] = [];
    let taskDone = false;
    s.router.get('/work', (ctx) => {
      afterResponse(ctx, async () => {
        await delay(50);
        taskDone = true;
      });
      ctx.body = 'ok';
    });
    mount(s);
    const served = await listen(s.app);
    try {
      const executor = s.lifecycle.executor;
      s.lifecycle.onShutdown('first', () => void order.push(`first tasks=${taskDone} closed=${executor.closed}`));
      s.lifecycle.onShutdown('failing', () => {
        order.push('failing');
        throw new Error('hook failure');
      });
      s.lifecycle.onShutdown('last', async () => {
        await delay(10);
        order.push(`last tasks=${taskDone} closed=${executor.closed}`);
      });
      await request(served.port, { path: '/work' });
      const report = await s.lifecycle.shutdown();
      assert.deepEqual(order, ['last tasks=true closed=false', 'failing', 'first tasks=true closed=false']);
      assert.equal(report.drained, true);
      assert.equal(executor.closed, true);
      const failed = s.records.find((r) => r.msg === 'shutdown hook failed');
      assert.equal(failed?.['hook'], 'failing');
      assert.equal((failed['err'] as Error).message, 'hook failure');
    } finally {
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('a configured signal starts the graceful shutdown; the handler is removed afterwards', async () => {
    const before = process.listenerCount('SIGUSR2');
    const s = setup({ signals: ['SIGUSR2'], exitOnSignal: false });
    mount(s);
    const served = await listen(s.app);
    try {
      // Without the handler, SIGUSR2 would end this process: make sure it is there before sending it.
      assert.equal(process.listenerCount('SIGUSR2'), before + 1);
      const executor = s.lifecycle.executor;
      process.kill(process.pid, 'SIGUSR2');
      await waitFor(() => s.lifecycle.state === 'closed', 'the signal-initiated shutdown');
      assert.equal(executor.closed, true);
      assert.equal(served.server.listening, false);
      assert.equal(s.records.find((r) => r.msg === 'shutdown complete')?.['reason'], 'signal SIGUSR2');
      assert.equal(process.listenerCount('SIGUSR2'), before);
    } finally {
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('the same signal again within a second (a process group signalled, and npm forwarding it) is a duplicate: the drain goes on', async () => {
    const s = setup({ signals: ['SIGUSR2'], exitOnSignal: false });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    s.router.get('/work', (ctx) => {
      afterResponse(ctx, () => gate);
      ctx.body = 'accepted';
    });
    mount(s);
    const served = await listen(s.app);
    try {
      assert.equal((await request(served.port, { path: '/work' })).text, 'accepted');
      process.kill(process.pid, 'SIGUSR2');
      await waitFor(() => s.lifecycle.state === 'draining', 'the signal-initiated shutdown');
      // Counted as a second signal, this would end the test process with exit code 1.
      process.kill(process.pid, 'SIGUSR2');
      await waitFor(() => s.records.some((r) => r.msg === 'duplicate signal ignored'), 'the duplicate logged');
      assert.equal(s.lifecycle.state, 'draining', 'still draining, the background task still pending');
      release();
      await waitFor(() => s.lifecycle.state === 'closed', 'the drain');
      const complete = s.records.find((r) => r.msg === 'shutdown complete');
      assert.equal(complete?.['drained'], true);
      assert.equal(s.records.filter((r) => r.msg === 'shutdown started').length, 1);
    } finally {
      release();
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('a second signal shortens the drain: the running task is told to stop, tasks not started go to their onAbandon', async () => {
    const s = setup({ signals: ['SIGUSR2'], exitOnSignal: false, drainTimeoutMs: 60_000 });
    const seen: string[] = [];
    let running = false;
    s.router.post('/work', (ctx) => {
      afterResponse(
        ctx,
        ({ signal }) => {
          running = true;
          // A write that would retry for a long time, unless the shutdown stops waiting.
          return new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              seen.push('running task aborted');
              resolve();
            });
          });
        },
        'long',
      );
      for (const name of ['second', 'third'])
        afterResponse(ctx, () => void seen.push(`${name} ran`), { name, onAbandon: () => void seen.push(`${name} saved`) });
      ctx.body = 'accepted';
    });
    mount(s);
    const served = await listen(s.app);
    try {
      assert.equal((await request(served.port, { method: 'POST', path: '/work' })).text, 'accepted');
      await waitFor(() => running, 'the long task to start');
      process.kill(process.pid, 'SIGUSR2');
      await waitFor(() => s.lifecycle.state === 'draining', 'the drain');
      // A repeat within a second may be taken for the same signal delivered twice: wait longer than that.
      await delay(1200);
      assert.equal(s.lifecycle.state, 'draining', 'the first signal alone waits for the task');
      process.kill(process.pid, 'SIGUSR2');
      await waitFor(() => s.lifecycle.state === 'closed', 'the shortened shutdown', 10_000);
      assert.deepEqual(seen.sort(), ['running task aborted', 'second saved', 'third saved']);
      const complete = s.records.find((r) => r.msg === 'shutdown complete');
      assert.equal(complete?.['drained'], false);
      assert.equal(complete['abandoned_tasks'], 2);
      assert.ok(s.records.some((r) => r.msg === 'shutdown shortened by a second signal with background tasks pending'));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- not every log record has a msg
      assert.ok(s.records.some((r) => r.level === 'warn' && String(r.msg).startsWith('second signal during shutdown') && r['exit_after_shutdown'] === false));
    } finally {
      await s.lifecycle.shutdown();
      await served.close();
    }
  });

  it('with signals: false no handler is installed', async () => {
    const before = { term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') };
    const s = setup();
    await s.lifecycle.start();
    try {
      assert.deepEqual({ term: process.listenerCount('SIGTERM'), int: process.listenerCount('SIGINT') }, before);
    } finally {
      await s.lifecycle.shutdown();
    }
  });
});
