// The HTTP side of executorLifecycle over real loopback connections: the server timeouts it sets
// (slow-header clients are disconnected, silent connections closed), their validation, uploads still
// arriving at shutdown ended with 503 after a short grace instead of holding the drain, and the
// pending-task cap held at admission, before any body is read.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import {
  afterResponse,
  columnarBody,
  executorLifecycle,
  registerErrorHandlers,
  requestId,
  type FrameState,
  type GpuframeState,
  type LifecycleOptions,
  type ExecutorLifecycle,
} from '../../src/koa/index.js';
import { InvalidArgumentError } from '../../src/index.js';
import { assertErrorReply, captureLogger, delay, Event, listen, request, waitFor, type Reply } from './koa-helpers.js';

function app(
  options: LifecycleOptions,
  extra: (router: Router<GpuframeState>, lifecycle: ExecutorLifecycle) => void = () => undefined,
): { app: Koa; lifecycle: ReturnType<typeof executorLifecycle>; records: ReturnType<typeof captureLogger>['records'] } {
  const { logger, records } = captureLogger();
  const koa = new Koa();
  koa.use(requestId());
  registerErrorHandlers(koa);
  const lifecycle = executorLifecycle(koa, { backend: 'cpu', maxWorkers: 0, signals: false, logger, ...options });
  const router = new Router<GpuframeState>();
  router.get('/ok', (ctx) => {
    ctx.body = { ok: true };
  });
  router.post<FrameState<Event>>('/columns', columnarBody(Event), (ctx) => {
    ctx.body = { rows: ctx.state.frame.shape[0] };
  });
  extra(router, lifecycle);
  koa.use(router.routes());
  return { app: koa, lifecycle, records };
}

/** Resolves with everything the server sent once it closes the connection. */
function untilClosed(socket: net.Socket): Promise<string> {
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  socket.on('error', () => undefined);
  return new Promise((resolve) =>
    socket.on('close', () => {
      resolve(Buffer.concat(received).toString());
    }),
  );
}

function parseRaw(text: string): Reply {
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  const body = text.slice(split + 4);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const headers: http.IncomingHttpHeaders = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects, as with JSON.parse
  return { status, headers, body: Buffer.from(body), text: body, json: <T>() => JSON.parse(body) as T };
}

describe('executorLifecycle: server timeouts', () => {
  it('are checked where they enter: integers from 0 to 2^31 - 1, and headers no longer than the request', () => {
    for (const bad of [-1, 1.5, 2 ** 31, Number.NaN, '5000' as unknown as number]) {
      assert.throws(
        () => executorLifecycle(new Koa(), { signals: false, idleTimeoutMs: bad }),
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the test checks the runtime code, not the declared one
        (e: unknown) => e instanceof InvalidArgumentError && e.code === 'invalid_argument' && /idleTimeoutMs/.test(e.message),
        String(bad),
      );
    }
    assert.throws(
      () => executorLifecycle(new Koa(), { signals: false, headersTimeoutMs: 10_000, requestTimeoutMs: 5_000 }),
      (e: unknown) => e instanceof InvalidArgumentError && /headersTimeoutMs.*at most requestTimeoutMs/.test(e.message),
    );
    assert.throws(() => executorLifecycle(new Koa(), { signals: false, uploadGraceMs: -5 }), InvalidArgumentError);
    // One of the pair given alone: the other's default gives way instead of refusing a sensible setting.
    assert.equal(executorLifecycle(new Koa(), { signals: false, requestTimeoutMs: 10_000 }).timeouts.headersTimeoutMs, 10_000);
    assert.equal(executorLifecycle(new Koa(), { signals: false, headersTimeoutMs: 400_000 }).timeouts.requestTimeoutMs, 400_000);
    assert.deepEqual(executorLifecycle(new Koa(), { signals: false }).timeouts, {
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 300_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 120_000,
    });
    // 0 turns a timeout off; then the headers may be given any bound.
    const zero = executorLifecycle(new Koa(), { signals: false, requestTimeoutMs: 0, headersTimeoutMs: 10_000, idleTimeoutMs: 0 });
    assert.deepEqual(zero.timeouts, { headersTimeoutMs: 10_000, requestTimeoutMs: 0, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 0 });
  });

  it('listen() serves with the defaults: headers 60 s, request 300 s, keep-alive 5 s, idle 120 s', async () => {
    const s = app({});
    const served = await listen(s.app);
    try {
      const server = served.server;
      assert.deepEqual([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.timeout], [60_000, 300_000, 5_000, 120_000]);
      assert.equal((await request(served.port, { path: '/ok' })).status, 200);
    } finally {
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('slowloris: 50 connections sending their headers a byte at a time are all disconnected; others are served meanwhile', { timeout: 30_000 }, async () => {
    const s = app({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const served = await listen(s.app);
    try {
      const head = 'GET /ok HTTP/1.1\r\nHost: slow\r\nX-Padding: ' + 'a'.repeat(400);
      const sockets = Array.from({ length: 50 }, () => net.connect(served.port, '127.0.0.1'));
      const closed = sockets.map(untilClosed);
      let stop = false;
      // Each socket sends one more header byte every 20 ms: never idle, never done.
      void (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by event handlers while the loop awaits
        for (let i = 0; i < head.length && !stop; i++) {
          for (const socket of sockets) if (!socket.destroyed) socket.write(head[i]!);
          await delay(20);
        }
      })();
      const served200 = await request(served.port, { path: '/ok' });
      assert.equal(served200.status, 200, 'a normal request is served while the slow ones hold their connections');
      const answers = await Promise.all(closed);
      stop = true;
      for (const answer of answers)
        assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), `a slow-header connection got ${JSON.stringify(answer.slice(0, 40))}`);
      assert.ok(sockets.every((socket) => socket.destroyed));
    } finally {
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('a body that trickles in, never stalling, is cut at requestTimeoutMs with a 408', { timeout: 20_000 }, async () => {
    const s = app({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const served = await listen(s.app);
    try {
      const socket = net.connect(served.port, '127.0.0.1');
      const closed = untilClosed(socket);
      socket.write('POST /columns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
      // A byte every 20 ms: well inside the 30 s body timeout, so only the request timeout can end it.
      const trickle = setInterval(() => socket.destroyed || socket.write(' '), 20);
      try {
        assert.match(await closed, /^HTTP\/1\.1 408 /);
      } finally {
        clearInterval(trickle);
      }
    } finally {
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('a connection silent past idleTimeoutMs is closed, even with a response still being computed', async () => {
    const s = app({ idleTimeoutMs: 200 }, (router) => {
      router.get('/slow', async (ctx) => {
        await delay(1500);
        ctx.body = { late: true };
      });
    });
    const served = await listen(s.app);
    try {
      const socket = net.connect(served.port, '127.0.0.1');
      const closed = untilClosed(socket);
      socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(await closed, '', 'closed before any answer');
      const open = net.connect(served.port, '127.0.0.1');
      assert.equal(await untilClosed(open), '', 'a connection that never sends is closed too');
    } finally {
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });
});

describe('executorLifecycle: uploads at shutdown', () => {
  it('a slow upload gets uploadGraceMs, then 503 in the error shape; the drain completes without waiting drainTimeoutMs', { timeout: 20_000 }, async () => {
    const s = app({ uploadGraceMs: 300, drainTimeoutMs: 60_000 });
    const served = await listen(s.app);
    try {
      const socket = net.connect(served.port, '127.0.0.1');
      const closed = untilClosed(socket);
      socket.write('POST /columns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nX-Request-ID: slow-upload-1\r\n\r\n');
      // One byte every 50 ms: never stalled long enough for the body timeout, never finished.
      const trickle = setInterval(() => socket.destroyed || socket.write(' '), 50);
      await waitFor(() => s.lifecycle.stats().inFlightRequests === 1, 'the upload to be in flight');
      try {
        const report = await s.lifecycle.shutdown('test');
        assert.equal(report.drained, true, 'the ended upload is answered, so every request finished');
        const reply = parseRaw(await closed);
        const body = assertErrorReply(reply, 503, 'executor_unavailable');
        assert.equal(body.request_id, 'slow-upload-1');
        assert.match(body.error.message, /shutting down: the upload did not finish within 300 ms/);
        assert.equal(reply.headers['connection'], 'close');
        assert.ok(s.records.some((r) => r.msg === 'uploads ended at shutdown' && r['uploads'] === 1));
      } finally {
        clearInterval(trickle);
      }
    } finally {
      await served.close();
    }
  });

  it('an idle keep-alive connection is closed as the shutdown starts, not after keepAliveTimeoutMs', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = app({ keepAliveTimeoutMs: 60_000 }, (router) => {
      router.get('/held', async (ctx) => {
        await gate;
        ctx.body = { held: true };
      });
    });
    const served = await listen(s.app);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const held = new http.Agent({ keepAlive: false });
    try {
      assert.equal((await request(served.port, { path: '/ok', agent })).status, 200);
      const [idleSocket] = Object.values(agent.freeSockets).flat();
      assert.ok(idleSocket, 'the keep-alive connection is idle in the agent');
      const idleClosed = new Promise<void>((resolve) =>
        idleSocket.once('close', () => {
          resolve();
        }),
      );
      const inFlight = request(served.port, { path: '/held', agent: held });
      await waitFor(() => s.lifecycle.stats().inFlightRequests === 1, 'the held request');
      const shutdown = s.lifecycle.shutdown('test');
      // The drain is still waiting for /held, yet the idle connection is already gone.
      await idleClosed;
      assert.equal(s.lifecycle.state, 'draining');
      release();
      assert.equal((await inFlight).status, 200);
      assert.equal((await shutdown).drained, true);
    } finally {
      release();
      agent.destroy();
      await served.close();
    }
  });
});

describe('executorLifecycle: the pending-task cap at admission', () => {
  it('30 requests admitted together with maxPendingTasks 5: exactly 5 accepted, the rest 503 overloaded with Retry-After', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = app({ maxPendingTasks: 5 }, (router, lifecycle) => {
      router.post<FrameState<Event>>('/accept', lifecycle.reserveTask(), columnarBody(Event), (ctx) => {
        afterResponse(ctx, () => gate, 'held');
        ctx.status = 202;
        ctx.body = { rows: ctx.state.frame.shape[0] };
      });
    });
    const served = await listen(s.app);
    try {
      // Every request sends its headers first; the bodies follow only once all 30 were admitted or refused.
      const body = JSON.stringify({ userId: [1], amount: [1], country: [null] });
      const sockets = Array.from({ length: 30 }, () => net.connect(served.port, '127.0.0.1'));
      const answers = sockets.map(untilClosed);
      for (const socket of sockets)
        socket.write(`POST /accept HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      await waitFor(() => s.lifecycle.stats().inFlightRequests === 5, 'five requests admitted');
      await delay(100);
      for (const socket of sockets) if (!socket.destroyed) socket.end(body);
      const replies = (await Promise.all(answers)).map(parseRaw);
      const accepted = replies.filter((r) => r.status === 202);
      const refused = replies.filter((r) => r.status === 503);
      assert.equal(accepted.length, 5, replies.map((r) => r.status).join(','));
      assert.equal(refused.length, 25);
      for (const reply of refused) {
        assertErrorReply(reply, 503, 'overloaded');
        assert.equal(reply.headers['retry-after'], '1');
      }
      assert.equal(s.lifecycle.stats().pendingTasks, 5);
    } finally {
      release();
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('a request on a route without reserveTask() (a query) holds no slot: with maxPendingTasks 1, an ingest beside it is accepted', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const s = app({ maxPendingTasks: 1 }, (router, lifecycle) => {
      router.post('/slow-query', async (ctx) => {
        started = true;
        await gate;
        ctx.body = { ok: true };
      });
      router.post<FrameState<Event>>('/accept', lifecycle.reserveTask(), columnarBody(Event), (ctx) => {
        afterResponse(ctx, () => undefined, 'write');
        ctx.status = 202;
        ctx.body = { rows: ctx.state.frame.shape[0] };
      });
    });
    const served = await listen(s.app);
    try {
      const query = request(served.port, { method: 'POST', path: '/slow-query' });
      await waitFor(() => started, 'the query in flight');
      const body = JSON.stringify({ userId: [1], amount: [1], country: [null] });
      const accepted = await request(served.port, { method: 'POST', path: '/accept', headers: { 'content-type': 'application/json' }, body });
      assert.equal(accepted.status, 202, accepted.text);
      release();
      assert.equal((await query).status, 200);
    } finally {
      release();
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });

  it('a request that fails before registering its task gives its slot back', async () => {
    const s = app({ maxPendingTasks: 1 }, (router, lifecycle) => {
      router.post<FrameState<Event>>('/accept', lifecycle.reserveTask(), columnarBody(Event), (ctx) => {
        afterResponse(ctx, () => undefined, 'quick');
        ctx.status = 202;
        ctx.body = { rows: ctx.state.frame.shape[0] };
      });
    });
    const served = await listen(s.app);
    try {
      for (let i = 0; i < 3; i++) {
        const bad = await request(served.port, { method: 'POST', path: '/accept', headers: { 'content-type': 'application/json' }, body: '{"userId": [1,' });
        assertErrorReply(bad, 400, 'malformed_json');
      }
      const good = await request(served.port, {
        method: 'POST',
        path: '/accept',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: [1], amount: [1], country: [null] }),
      });
      assert.equal(good.status, 202, good.text);
    } finally {
      await s.lifecycle.shutdown('test');
      await served.close();
    }
  });
});
