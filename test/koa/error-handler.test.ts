// errorHandler() / registerErrorHandlers(app) over real HTTP: every status the Koa layer answers with has
// the one JSON shape { error: { code, message, issues? }, request_id }, messages of unexposed errors never
// leave the server, cancellation answers 499 or 503 by who cancelled, and every error is emitted on the app.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { CancelledError, createExecutor, ExecutionError, type Executor } from '../../src/index.js';
import {
  codeForStatus,
  columnarBody,
  errorHandler,
  getExecutor,
  negotiateFormat,
  registerErrorHandlers,
  requestId,
  requestLog,
  setLogger,
  type FrameState,
  type GpuframeState,
} from '../../src/koa/index.js';
import { assertErrorReply, captureLogger, Event, issueKeys, request, serve, waitFor, type Reply, type Served } from './koa-helpers.js';

const SECRET = 'hunter2-at-/srv/app/db.js:42';

interface Emitted {
  readonly error: unknown;
  readonly requestId: unknown;
}

describe('errorHandler: one error shape for every status', () => {
  const log = captureLogger();
  const emitted: Emitted[] = [];
  /** Final status and request id of each request, seen from outside the error handler. */
  const finals: { id: unknown; status: number }[] = [];
  let executor: Executor;
  let closedExecutor: Executor;
  let served: Served;
  let jobStarted: () => void = () => undefined;

  before(async () => {
    executor = createExecutor({ backend: 'cpu', maxWorkers: 0 });
    closedExecutor = createExecutor({ backend: 'cpu', maxWorkers: 0 });
    await closedExecutor.close();

    const app = new Koa();
    app.use(async (ctx, next) => {
      await next();
      finals.push({ id: ctx.state['requestId'], status: ctx.status });
    });
    app.use(requestId());
    app.use(requestLog());
    registerErrorHandlers(app);
    setLogger(app, log.logger);
    app.on('error', (error: unknown, ctx?: Koa.Context) => void emitted.push({ error, requestId: ctx?.state['requestId'] }));

    const router = new Router<GpuframeState>();
    router.post<FrameState<Event>>('/events', columnarBody(Event, { limit: 1024 }), (ctx) => {
      ctx.body = { rows: ctx.state.frame.shape[0] };
    });
    router.post<FrameState<Event>>('/events-few-issues', columnarBody(Event, { maxIssues: 2 }), (ctx) => {
      ctx.body = { rows: ctx.state.frame.shape[0] };
    });
    router.get('/boom', (ctx) => {
      ctx.set('X-Partial', 'set before the failure');
      throw new Error(`database unreachable: ${SECRET}`);
    });
    router.get('/execution', () => {
      throw new ExecutionError(`kernel crashed: ${SECRET}`);
    });
    router.get('/throw-400', (ctx) => ctx.throw(400, 'the cursor parameter is not a number'));
    router.get('/throw-500', (ctx) => ctx.throw(500, `upstream said ${SECRET}`));
    router.get('/throw-string', () => {
      // A non-Error thrown value: still a 500 in the shape, with nothing of it shown.
      throw SECRET as unknown as Error;
    });
    router.get('/executor', (ctx) => {
      ctx.body = { backend: getExecutor(ctx).backend };
    });
    router.get('/closed-executor', (ctx) => {
      ctx.state.executor = closedExecutor;
      ctx.body = { backend: getExecutor(ctx).backend };
    });
    router.get('/format', (ctx) => {
      ctx.body = { format: negotiateFormat(ctx) };
    });
    router.get('/missing-thing', (ctx) => {
      ctx.status = 404;
    });
    router.get('/cancel-server', async (ctx) => {
      const handle = executor.submit(
        (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          }),
      );
      setTimeout(() => handle.cancel(), 20);
      ctx.body = { result: await handle.result() };
    });
    router.post<FrameState<Event>>('/cancel-server-after-body', columnarBody(Event), async (ctx) => {
      // The body has been read, so Node has destroyed the request stream: the client is still there.
      const handle = executor.submit(
        (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          }),
      );
      setTimeout(() => handle.cancel(), 20);
      ctx.body = { result: await handle.result() };
    });
    router.get('/cancel-client', async (ctx) => {
      const controller = new AbortController();
      ctx.res.on('close', () => {
        if (!ctx.res.writableFinished) controller.abort(new Error('client went away'));
      });
      const handle = executor.submit(
        (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              reject(signal.reason as Error);
            });
          }),
        {
          signal: controller.signal,
        },
      );
      jobStarted();
      ctx.body = { result: await handle.result() };
    });
    app.use(router.routes());
    served = await serve(app);
  });

  after(async () => {
    await served.close();
    await executor.close();
  });

  const get = (path: string, id: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> =>
    request(served.port, { path, headers: { 'x-request-id': id, ...headers } });
  const post = (path: string, id: string, type: string, body: string): Promise<Reply> =>
    request(served.port, { method: 'POST', path, headers: { 'x-request-id': id, 'content-type': type }, body });

  /** The error emitted on the app for request `id`, exactly once. */
  function emittedFor(id: string): unknown {
    const matches = emitted.filter((e) => e.requestId === id);
    assert.equal(matches.length, 1, `one 'error' event for ${id}`);
    return matches[0]!.error;
  }

  it('malformed JSON: 400 malformed_json', async () => {
    const reply = await post('/events', 'malformed-1', 'application/json', '{"userId": [1,');
    const body = assertErrorReply(reply, 400, 'malformed_json');
    assert.equal(body.request_id, 'malformed-1');
    assert.equal(reply.headers['x-request-id'], 'malformed-1');
    assert.match(body.error.message, /not valid JSON/);
    assert.equal((emittedFor('malformed-1') as { code?: unknown }).code, 'malformed_json');
  });

  it('column length mismatch: 400 column_length_mismatch naming the lengths', async () => {
    const reply = await post('/events', 'mismatch-1', 'application/json', JSON.stringify({ userId: [1, 2, 3], amount: [1, 2], country: [null, null, null] }));
    const body = assertErrorReply(reply, 400, 'column_length_mismatch');
    assert.equal(body.error.message, 'columns have different lengths: user_id=3, amount=2, country=3');
    assert.equal(body.request_id, 'mismatch-1');
    emittedFor('mismatch-1');
  });

  it('body over the limit: 413 payload_too_large, and the connection is closed', async () => {
    const reply = await post(
      '/events',
      'large-1',
      'application/json',
      JSON.stringify({ userId: Array.from({ length: 500 }, (_, i) => i), amount: [], country: [] }),
    );
    const body = assertErrorReply(reply, 413, 'payload_too_large');
    assert.equal(body.request_id, 'large-1');
    assert.equal(reply.headers['connection'], 'close');
    emittedFor('large-1');
  });

  it('unsupported content type: 415 naming what is accepted', async () => {
    const reply = await post('/events', 'type-1', 'text/csv', 'userId,amount,country\n1,2,\n');
    const body = assertErrorReply(reply, 415, 'unsupported_media_type');
    assert.match(body.error.message, /'text\/csv'/);
    assert.match(body.error.message, /application\/json/);
    assert.match(body.error.message, /application\/vnd\.apache\.arrow\.stream/);
    const none = await request(served.port, { method: 'POST', path: '/events', headers: { 'x-request-id': 'type-2' }, body: '{}' });
    assertErrorReply(none, 415, 'unsupported_media_type');
    emittedFor('type-1');
  });

  it('validation: 422 with each issue naming its column (model name, not alias), row and code', async () => {
    const reply = await post(
      '/events',
      'invalid-1',
      'application/json',
      JSON.stringify({ userId: [1, 'x', 2.5], amount: [1, 2, 'nope'], country: ['US', null, 5] }),
    );
    const body = assertErrorReply(reply, 422, 'validation_failed');
    assert.equal(body.request_id, 'invalid-1');
    assert.deepEqual(issueKeys(body), [
      { column: 'user_id', row: 1, code: 'invalid_type' },
      { column: 'user_id', row: 2, code: 'invalid_type' },
      { column: 'amount', row: 2, code: 'invalid_type' },
      { column: 'country', row: 2, code: 'invalid_type' },
    ]);
    for (const issue of body.error.issues ?? []) assert.ok(issue.message.length > 0);
    assert.equal(body.error.truncated_issues, undefined);
    const missing = assertErrorReply(
      await post('/events', 'invalid-2', 'application/json', JSON.stringify({ amount: [1], country: [null] })),
      422,
      'validation_failed',
    );
    assert.deepEqual(issueKeys(missing), [{ column: 'user_id', row: null, code: 'missing_column' }]);
    emittedFor('invalid-1');
  });

  it('validation beyond maxIssues: the list is capped and truncated_issues counts the rest', async () => {
    const reply = await post(
      '/events-few-issues',
      'invalid-3',
      'application/json',
      JSON.stringify({ userId: ['a', 'b', 'c', 'd', 'e'], amount: [1, 2, 3, 4, 5], country: [null, null, null, null, null] }),
    );
    const body = assertErrorReply(reply, 422, 'validation_failed');
    assert.deepEqual(issueKeys(body), [
      { column: 'user_id', row: 0, code: 'invalid_type' },
      { column: 'user_id', row: 1, code: 'invalid_type' },
    ]);
    assert.equal(body.error.truncated_issues, 3);
  });

  it('no executor on the request: 503 executor_unavailable with Retry-After', async () => {
    const reply = await get('/executor', 'no-exec-1');
    const body = assertErrorReply(reply, 503, 'executor_unavailable');
    assert.match(body.error.message, /executorLifecycle/);
    assert.equal(reply.headers['retry-after'], '1');
    emittedFor('no-exec-1');
  });

  it('a shut-down executor on the request: 503 executor_unavailable', async () => {
    const reply = await get('/closed-executor', 'closed-exec-1');
    const body = assertErrorReply(reply, 503, 'executor_unavailable');
    assert.match(body.error.message, /shut down/);
    assert.equal(reply.headers['retry-after'], '1');
  });

  it('nothing acceptable: 406 not_acceptable listing the available types', async () => {
    const reply = await get('/format', 'accept-1', { accept: 'text/html' });
    const body = assertErrorReply(reply, 406, 'not_acceptable');
    assert.match(body.error.message, /application\/x-ndjson/);
    emittedFor('accept-1');
  });

  it('work cancelled by the server while the client waits: 503 cancelled with Retry-After', async () => {
    const reply = await get('/cancel-server', 'cancel-server-1');
    const body = assertErrorReply(reply, 503, 'cancelled');
    assert.equal(body.request_id, 'cancel-server-1');
    assert.equal(reply.headers['retry-after'], '1');
    assert.ok(emittedFor('cancel-server-1') instanceof CancelledError);
  });

  it('work cancelled by the server after the body was read: still 503, not 499', async () => {
    const reply = await post('/cancel-server-after-body', 'cancel-server-2', 'application/json', JSON.stringify({ userId: [1], amount: [2], country: ['NL'] }));
    assertErrorReply(reply, 503, 'cancelled');
    assert.equal(reply.headers['retry-after'], '1');
    assert.ok(emittedFor('cancel-server-2') instanceof CancelledError);
  });

  it('work cancelled because the client went away: 499, emitted on the app', async () => {
    const started = new Promise<void>((resolve) => (jobStarted = resolve));
    const req = http.request({ host: '127.0.0.1', port: served.port, path: '/cancel-client', headers: { 'x-request-id': 'cancel-client-1' }, agent: false });
    req.on('error', () => undefined); // the client hangs up on purpose
    req.on('response', () => assert.fail('nobody should read an answer to a request that was abandoned'));
    req.end();
    await started;
    req.destroy();
    await waitFor(() => finals.some((f) => f.id === 'cancel-client-1'), 'the abandoned request to finish');
    assert.deepEqual(
      finals.filter((f) => f.id === 'cancel-client-1'),
      [{ id: 'cancel-client-1', status: 499 }],
    );
    assert.ok(emittedFor('cancel-client-1') instanceof CancelledError);
    // requestLog() writes its line when the connection closes, before the handler learns of it.
    const line = log.records.find((r) => r.msg === 'request' && r['request_id'] === 'cancel-client-1');
    assert.equal(line?.['status'], null);
    assert.equal(line['completed'], false);
  });

  it('any other error: 500 internal_error, with neither the message nor the stack in the body', async () => {
    const reply = await get('/boom', 'boom-1');
    const body = assertErrorReply(reply, 500, 'internal_error');
    assert.equal(body.error.message, 'internal server error');
    assert.ok(!reply.text.includes('hunter2'), 'the thrown message leaked');
    assert.ok(!reply.text.includes('database unreachable'), 'the thrown message leaked');
    assert.ok(!/\bat \S+ \(|\.js:\d+/.test(reply.text), 'a stack trace leaked');
    assert.equal(reply.headers['x-partial'], undefined, 'headers of the failed handler are dropped');
    assert.equal(reply.headers['x-request-id'], 'boom-1', 'the request id header stays');
    const error = emittedFor('boom-1');
    assert.ok(error instanceof Error && error.message.includes(SECRET), 'the app gets the real error');
    const line = log.records.find((r) => r.msg === 'request failed' && r['request_id'] === 'boom-1');
    assert.ok(line, 'the 500 is logged with its request id');
    assert.equal(line.level, 'error');
    assert.equal(line['err'], error);
  });

  it('unexposed library errors and ctx.throw(500) hide their message; ctx.throw(4xx) shows it', async () => {
    const execution = assertErrorReply(await get('/execution', 'exec-fail-1'), 500, 'execution_failed');
    assert.equal(execution.error.message, 'internal server error');
    const thrown500 = await get('/throw-500', 'throw-500-1');
    assert.equal(assertErrorReply(thrown500, 500, 'internal_error').error.message, 'internal server error');
    assert.ok(!thrown500.text.includes('hunter2'));
    const thrown400 = assertErrorReply(await get('/throw-400', 'throw-400-1'), 400, 'bad_request');
    assert.equal(thrown400.error.message, 'the cursor parameter is not a number');
    const thrownString = await get('/throw-string', 'throw-string-1');
    assert.equal(assertErrorReply(thrownString, 500, 'internal_error').error.message, 'internal server error');
    assert.ok(!thrownString.text.includes('hunter2'));
    for (const id of ['exec-fail-1', 'throw-500-1', 'throw-400-1', 'throw-string-1']) emittedFor(id);
  });

  it('an unmatched route: 404 not_found in the same shape', async () => {
    const reply = await request(served.port, { method: 'DELETE', path: '/nowhere?x=1', headers: { 'x-request-id': 'nowhere-1' } });
    const body = assertErrorReply(reply, 404, 'not_found');
    assert.equal(body.error.message, 'no route for DELETE /nowhere');
    assert.equal(body.request_id, 'nowhere-1');
    emittedFor('nowhere-1');
  });

  it('a path of 10 KB in a 404 is echoed capped, so the answer stays small', async () => {
    const long = `/${'p'.repeat(10_000)}`;
    const reply = await request(served.port, { path: long, headers: { 'x-request-id': 'long-path-1' } });
    const body = assertErrorReply(reply, 404, 'not_found');
    assert.ok(reply.body.length < 600, `the answer is ${reply.body.length} bytes`);
    assert.match(body.error.message, /^no route for GET \/p+… \(10001 characters\)$/);
  });

  it('a route that answers 404 itself gets the same shape, saying the resource was not found', async () => {
    const reply = await request(served.port, { path: '/missing-thing', headers: { 'x-request-id': 'missing-1' } });
    const body = assertErrorReply(reply, 404, 'not_found');
    assert.equal(body.error.message, '/missing-thing was not found');
    emittedFor('missing-1');
  });

  it('client errors are not logged as failures; server errors other than 503 are', () => {
    const failed = new Set(log.records.filter((r) => r.msg === 'request failed').map((r) => r['request_id']));
    for (const id of ['malformed-1', 'mismatch-1', 'large-1', 'type-1', 'invalid-1', 'no-exec-1', 'cancel-server-1', 'nowhere-1'])
      assert.ok(!failed.has(id), id);
    for (const id of ['boom-1', 'exec-fail-1', 'throw-500-1', 'throw-string-1']) assert.ok(failed.has(id), id);
  });
});

describe('errorHandler: a named code for every status', () => {
  let served: Served;
  let servedThrowing: Served;
  before(async () => {
    const app = new Koa();
    app.use(requestId());
    registerErrorHandlers(app);
    // allowedMethods() as the service mounts it (no throw: the router sets Allow), and with throw: true.
    const plain = new Router<GpuframeState>();
    plain.post('/ingest', (ctx) => {
      ctx.body = { ok: true };
    });
    plain.get('/conflict', (ctx) => {
      ctx.status = 409;
    });
    app.use(plain.routes()).use(plain.allowedMethods());
    served = await serve(app);
    const throwingApp = new Koa();
    registerErrorHandlers(throwingApp);
    const throwing = new Router<GpuframeState>();
    throwing.post('/ingest', (ctx) => {
      ctx.body = { ok: true };
    });
    throwingApp.use(throwing.routes()).use(throwing.allowedMethods({ throw: true }));
    servedThrowing = await serve(throwingApp);
  });
  after(async () => {
    await served.close();
    await servedThrowing.close();
  });

  it('codeForStatus names every status from 400 to 599 in snake case, never http_<n>', () => {
    const expected: Record<number, string> = {
      400: 'bad_request',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not_found',
      405: 'method_not_allowed',
      406: 'not_acceptable',
      408: 'request_timeout',
      409: 'conflict',
      411: 'length_required',
      413: 'payload_too_large',
      415: 'unsupported_media_type',
      422: 'unprocessable_entity',
      429: 'too_many_requests',
      500: 'internal_error',
      501: 'not_implemented',
      503: 'service_unavailable',
    };
    for (const [status, code] of Object.entries(expected)) assert.equal(codeForStatus(Number(status)), code, `status ${status}`);
    for (let status = 400; status < 600; status++) {
      const code = codeForStatus(status);
      assert.match(code, /^[a-z][a-z0-9_]*[a-z0-9]$/, `status ${status}: ${code}`);
      assert.doesNotMatch(code, /^http_\d+$/, `status ${status}`);
    }
  });

  it('a method the route does not allow: 405 method_not_allowed in the shape, with Allow', async () => {
    const reply = await request(served.port, { method: 'GET', path: '/ingest', headers: { 'x-request-id': 'get-ingest-1' } });
    const body = assertErrorReply(reply, 405, 'method_not_allowed');
    assert.equal(reply.headers['allow'], 'POST');
    assert.match(body.error.message, /GET is not allowed here; allowed: POST/);
    assert.equal(body.request_id, 'get-ingest-1');
  });

  it('a method no route implements (TRACE): 501 not_implemented, not an internal error', async () => {
    for (const port of [served.port, servedThrowing.port]) {
      const reply = await request(port, { method: 'TRACE', path: '/ingest' });
      const body = assertErrorReply(reply, 501, 'not_implemented');
      assert.match(body.error.message, /not implemented/);
    }
  });

  it('allowedMethods({ throw: true }) answers 405 with a named code too', async () => {
    const reply = await request(servedThrowing.port, { method: 'PUT', path: '/ingest' });
    assertErrorReply(reply, 405, 'method_not_allowed');
  });

  it('a route that sets an error status and no body gets the shape with the named code', async () => {
    const body = assertErrorReply(await request(served.port, { path: '/conflict' }), 409, 'conflict');
    assert.equal(body.error.message, 'conflict');
  });
});

describe('errorHandler() without registerErrorHandlers', () => {
  it('answers in the shape with request_id null when requestId() is not mounted, and emits on the app', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(errorHandler());
    setLogger(app, captureLogger().logger);
    const emitted: unknown[] = [];
    app.on('error', (error: unknown) => void emitted.push(error));
    app.use(() => {
      throw new Error('plain failure');
    });
    const served = await serve(app);
    try {
      const reply = await request(served.port, { path: '/x' });
      const body = assertErrorReply(reply, 500, 'internal_error');
      assert.equal(body.request_id, null);
      assert.equal(emitted.length, 1);
      assert.equal((emitted[0] as Error).message, 'plain failure');
    } finally {
      await served.close();
    }
  });
});
