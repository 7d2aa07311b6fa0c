// afterResponse(ctx, task) over real HTTP. The first test proves without timing races that a task starts
// only once the client can have the whole response: the client runs in a worker thread, and the task
// blocks the server's event loop until that client has read every byte. The others prove the order (one
// task at a time, a request's in registration order, requests in the order their responses finished),
// that failing tasks are logged and emitted but change nothing, and that tasks are counted while pending.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { afterResponse, jsonLogger, pendingTasks, registerErrorHandlers, requestId, setLogger, type GpuframeState } from '../../src/koa/index.js';
import { captureLogger, delay, request, serve, waitFor, type Served } from './koa-helpers.js';

const BIG = 32 * 1024 * 1024;

/** The HTTP client of the first test, in plain JS: it reads /big in full, checks it, then wakes the server. */
const CLIENT = `
const { workerData, parentPort } = require('node:worker_threads');
const http = require('node:http');
const flag = new Int32Array(workerData.flag);
const req = http.get({ host: '127.0.0.1', port: workerData.port, path: '/big', agent: false, headers: { 'x-request-id': 'big-1' } }, (res) => {
  let received = 0;
  let intact = true;
  res.on('data', (chunk) => {
    for (let i = 0; intact && i < chunk.length; i++) if (chunk[i] !== (received + i) % 251) intact = false;
    received += chunk.length;
  });
  res.on('end', () => {
    // A pause first, so the server's task is already waiting and is woken ('ok') rather than finding the
    // flag set ('not-equal'). Were the task blocking the server before the response was out, this line
    // would never be reached and the task's wait would time out.
    setTimeout(() => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      parentPort.postMessage({ status: res.statusCode, received, intact });
    }, 100);
  });
});
req.on('error', (error) => parentPort.postMessage({ error: String(error) }));
`;

describe('afterResponse', () => {
  const log = captureLogger();
  const emitted: { error: unknown; requestId: unknown }[] = [];
  const processFailures: unknown[] = [];
  const onProcessFailure = (error: unknown): void => void processFailures.push(error);
  let app: Koa;
  let served: Served;

  // The big-body test.
  const flagBuffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(flagBuffer);
  let blockOutcome: string | undefined;
  const bigBody = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i++) bigBody[i] = i % 251;

  // The ordering tests.
  let trace: string[] = [];
  let running = 0;
  let overlapped = false;
  let releaseSlow: () => void = () => undefined;

  before(async () => {
    process.on('uncaughtException', onProcessFailure);
    process.on('unhandledRejection', onProcessFailure);
    app = new Koa();
    app.use(requestId());
    registerErrorHandlers(app);
    setLogger(app, log.logger);
    app.on('error', (error: unknown, ctx?: Koa.Context) => void emitted.push({ error, requestId: ctx?.state['requestId'] }));
    const router = new Router<GpuframeState>();

    router.get('/big', (ctx) => {
      afterResponse(
        ctx,
        () => {
          blockOutcome = Atomics.wait(flag, 0, 0, 10_000);
        },
        'block-until-client-has-all',
      );
      ctx.body = bigBody;
    });

    /** ?req=<label>&n=<tasks>&ms=<task duration>: registers n tasks that trace their start and end. */
    router.get('/tasks', async (ctx) => {
      const label = String(ctx.query['req']);
      const n = Number(ctx.query['n']);
      const ms = Number(ctx.query['ms'] ?? 0);
      for (let k = 0; k < n; k++) {
        afterResponse(ctx, async () => {
          assert.ok(ctx.res.writableFinished, 'the response has finished before its task starts');
          running++;
          if (running > 1) overlapped = true;
          trace.push(`${label}.${k}`);
          if (ms > 0) await delay(ms);
          running--;
        });
      }
      ctx.body = { label, registered: n, pending: pendingTasks(ctx.app) };
    });

    router.get('/slow-response', async (ctx) => {
      afterResponse(ctx, () => void trace.push('slow'));
      await new Promise<void>((resolve) => (releaseSlow = resolve));
      ctx.body = 'slow';
    });

    router.get('/failing', (ctx) => {
      afterResponse(ctx, function throwsSync() {
        throw new Error('sync task failure');
      });
      afterResponse(ctx, async function rejects() {
        await delay(1);
        throw new Error('async task failure');
      });
      afterResponse(ctx, function survivor() {
        trace.push('survivor');
      });
      ctx.body = { answer: 42 };
    });

    router.get('/abandoned', async (ctx) => {
      afterResponse(ctx, () => void trace.push('after-abandoned'));
      await new Promise<void>((resolve) => ctx.res.once('close', resolve));
      ctx.body = 'nobody reads this';
    });

    router.get('/nested', (ctx) => {
      afterResponse(ctx, function outer() {
        trace.push('outer');
        afterResponse(ctx, function inner() {
          trace.push('inner');
        });
      });
      ctx.body = 'ok';
    });

    app.use(router.routes());
    served = await serve(app);
  });

  after(async () => {
    await served.close();
    process.off('uncaughtException', onProcessFailure);
    process.off('unhandledRejection', onProcessFailure);
  });

  const settle = () => waitFor(() => pendingTasks(app) === 0, 'the after-response queue to drain');

  it('a task starts only after the client can have the whole response (worker-thread client, blocked server)', async () => {
    const worker = new Worker(CLIENT, { eval: true, workerData: { port: served.port, flag: flagBuffer } });
    try {
      const [result] = (await once(worker, 'message')) as [{ status?: number; received?: number; intact?: boolean; error?: string }];
      assert.equal(result.error, undefined);
      assert.equal(result.status, 200);
      assert.equal(result.received, BIG);
      assert.equal(result.intact, true);
      await waitFor(() => blockOutcome !== undefined, 'the blocking task');
      assert.equal(blockOutcome, 'ok', 'the task was woken by the client, which had read the whole response while the server was blocked');
      await settle();
      const line = log.records.find((r) => r.msg === 'task' && r['task'] === 'block-until-client-has-all');
      assert.ok(line, 'the task is logged');
      assert.equal(line['request_id'], 'big-1');
      assert.equal(line['ok'], true);
      assert.equal(line.level, 'info');
    } finally {
      await worker.terminate();
    }
  });

  it('runs tasks one at a time: a request’s in registration order, requests in turn (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ n: fc.integer({ min: 0, max: 4 }), ms: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 5 }),
        async (requests) => {
          trace = [];
          overlapped = false;
          const expected: string[] = [];
          for (const [i, { n, ms }] of requests.entries()) {
            const reply = await request(served.port, { path: `/tasks?req=r${i}&n=${n}&ms=${ms}` });
            assert.equal(reply.status, 200);
            assert.equal(reply.json<{ registered: number }>().registered, n);
            for (let k = 0; k < n; k++) expected.push(`r${i}.${k}`);
          }
          await settle();
          assert.deepEqual(trace, expected);
          assert.equal(overlapped, false, 'two tasks ran at once');
        },
      ),
      { numRuns: 15 },
    );
  });

  it('requests take their turn by when their response finished, not when they registered', async () => {
    trace = [];
    const slow = request(served.port, { path: '/slow-response' });
    await waitFor(() => pendingTasks(app) === 1, 'the slow request to register its task');
    const quick = await request(served.port, { path: '/tasks?req=quick&n=1' });
    assert.equal(quick.json<{ pending: number }>().pending, 2, 'both tasks pending while the quick response is built');
    await waitFor(() => trace.length === 1, "the quick request's task");
    assert.deepEqual(trace, ['quick.0'], 'the slow request has not answered: its task waits');
    releaseSlow();
    assert.equal((await slow).text, 'slow');
    await settle();
    assert.deepEqual(trace, ['quick.0', 'slow']);
  });

  it('a failing task is logged with the request id and emitted on the app; the response and later tasks are untouched', async () => {
    trace = [];
    const before = emitted.length;
    const reply = await request(served.port, { path: '/failing', headers: { 'x-request-id': 'failing-1' } });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json(), { answer: 42 });
    await settle();
    assert.deepEqual(trace, ['survivor']);
    const errors = emitted.slice(before);
    assert.deepEqual(
      errors.map((e) => [(e.error as Error).message, e.requestId]),
      [
        ['sync task failure', 'failing-1'],
        ['async task failure', 'failing-1'],
      ],
    );
    const lines = log.records.filter((r) => r.msg === 'task' && r['request_id'] === 'failing-1');
    assert.deepEqual(
      lines.map((r) => [r['task'], r['ok'], r.level]),
      [
        ['throwsSync', false, 'error'],
        ['rejects', false, 'error'],
        ['survivor', true, 'info'],
      ],
    );
    assert.equal((lines[0]?.['err'] as Error).message, 'sync task failure');
    // The server goes on serving, and nothing reached the process as uncaught.
    const next = await request(served.port, { path: '/tasks?req=after-failure&n=1' });
    assert.equal(next.status, 200);
    await settle();
    assert.deepEqual(trace, ['survivor', 'after-failure.0']);
    assert.deepEqual(processFailures, []);
  });

  it('a task of a request whose client went away still runs', async () => {
    trace = [];
    const req = http.get({ host: '127.0.0.1', port: served.port, path: '/abandoned', agent: false });
    req.on('error', () => undefined);
    await waitFor(() => pendingTasks(app) === 1, 'the task to be registered');
    req.destroy();
    await settle();
    assert.deepEqual(trace, ['after-abandoned']);
  });

  it('a task may register another for the same request; it runs and the queue drains', async () => {
    trace = [];
    const reply = await request(served.port, { path: '/nested' });
    assert.equal(reply.text, 'ok');
    await waitFor(() => trace.length >= 1, 'the outer task');
    await settle();
    assert.deepEqual(trace, ['outer', 'inner']);
  });
});

describe('afterResponse: failures that also break the logging', () => {
  it('a task throwing a circular value, and a logger that throws, neither stop the queue nor reach the process', async () => {
    const failures: unknown[] = [];
    const onFailure = (error: unknown): void => void failures.push(error);
    process.on('uncaughtException', onFailure);
    process.on('unhandledRejection', onFailure);
    const lines: string[] = [];
    const app = new Koa();
    app.use(requestId());
    registerErrorHandlers(app);
    const trace: string[] = [];
    const router = new Router<GpuframeState>();
    router.get('/circular', (ctx) => {
      setLogger(app, jsonLogger({ write: (line) => void lines.push(line) }));
      afterResponse(ctx, function circular() {
        const value: Record<string, unknown> = { reason: 'loop' };
        value['self'] = value;
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the test throws a non-Error on purpose
        throw value;
      });
      afterResponse(ctx, () => void trace.push('after-circular'), 'after-circular');
      ctx.body = 'ok';
    });
    router.get('/bad-logger', (ctx) => {
      const explode = (): void => {
        throw new Error('logger is broken');
      };
      setLogger(app, { debug: explode, info: explode, warn: explode, error: explode });
      afterResponse(ctx, () => {
        throw new Error('task failure with a broken logger');
      });
      afterResponse(ctx, () => void trace.push('after-bad-logger'));
      ctx.body = 'ok';
    });
    app.use(router.routes());
    const served = await serve(app);
    try {
      assert.equal((await request(served.port, { path: '/circular', headers: { 'x-request-id': 'circ-1' } })).status, 200);
      await waitFor(() => pendingTasks(app) === 0, 'the queue to drain after a circular failure');
      const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'task' && l['ok'] === false);
      assert.equal(failed?.['request_id'], 'circ-1');
      assert.match(JSON.stringify(failed['err']), /\[Circular\]/);
      assert.equal((await request(served.port, { path: '/bad-logger' })).status, 200);
      await waitFor(() => pendingTasks(app) === 0, 'the queue to drain with a logger that throws');
      assert.deepEqual(trace, ['after-circular', 'after-bad-logger']);
      await delay(20);
      assert.deepEqual(failures, []);
    } finally {
      process.off('uncaughtException', onFailure);
      process.off('unhandledRejection', onFailure);
      await served.close();
    }
  });
});
