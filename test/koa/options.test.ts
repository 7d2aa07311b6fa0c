// Invalid arguments over real HTTP: an InvalidArgumentError raised inside a route (a client's query
// parameter handed to join or head) answers 400 with code invalid_argument in the one error shape, and
// the Koa helpers refuse bad options when they are made or mounted, not on each request.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import { createExecutor, DataFrameModel, InvalidArgumentError, type Executor } from '../../src/index.js';
import { executorLifecycle, registerErrorHandlers, requestId, sendFrame } from '../../src/koa/index.js';
import { assertErrorReply, request, serve, type Served } from './koa-helpers.js';

class Orders extends DataFrameModel({ id: z.int32(), amount: z.float64() }) {}
class Users extends DataFrameModel({ id: z.int32(), name: z.string() }) {}
const orders = Orders.fromColumns({ id: [1, 2, 3], amount: [10, 20, 30] });
const users = Users.fromColumns({ id: [2, 3], name: ['b', 'c'] });

describe('InvalidArgumentError in a route', () => {
  let served: Served;
  let executor: Executor;

  before(async () => {
    executor = createExecutor({ maxWorkers: 0 });
    const app = new Koa();
    app.use(requestId());
    registerErrorHandlers(app);
    const router = new Router();
    // The query string goes to the library unchecked: the library is what refuses it.
    router.get('/joined', async (ctx) => {
      await sendFrame(ctx, orders.join(users, { on: 'id', how: ctx.query['how'] as 'inner' }), { executor, format: 'json' });
    });
    router.get('/head', async (ctx) => {
      await sendFrame(ctx, orders.head(Number(ctx.query['n'])), { executor, format: 'json', batchSize: Number(ctx.query['batch'] ?? 10) });
    });
    app.use(router.routes());
    served = await serve(app);
  });

  after(async () => {
    await served.close();
    await executor.close();
  });

  it('answers 400 invalid_argument naming the allowed values for how=full, right, cross and typos', async () => {
    for (const how of ['full', 'right', 'cross', 'outer', 'inner%20']) {
      const body = assertErrorReply(await request(served.port, { path: `/joined?how=${how}` }), 400, 'invalid_argument');
      assert.match(
        body.error.message,
        /^join\(options\)\.how: expected one of 'inner', 'left', 'semi', 'anti' \(right, full and cross joins are not implemented\), received "/,
      );
      assert.equal(typeof body.request_id, 'string');
    }
  });

  it('answers the join for the implemented values', async () => {
    const inner = await request(served.port, { path: '/joined?how=inner' });
    assert.equal(inner.status, 200);
    assert.deepEqual(inner.json(), [
      { id: 2, amount: 20, name: 'b' },
      { id: 3, amount: 30, name: 'c' },
    ]);
    const anti = await request(served.port, { path: '/joined?how=anti' });
    assert.deepEqual(anti.json(), [{ id: 1, amount: 10 }]);
  });

  it('answers 400 for numbers out of range (NaN, negative, fraction, batch size 0), 200 within it', async () => {
    for (const path of ['/head?n=abc', '/head?n=-1', '/head?n=1.5', '/head?n=2&batch=0']) {
      const body = assertErrorReply(await request(served.port, { path }), 400, 'invalid_argument');
      assert.match(body.error.message, /^(head\(n\)|sendFrame\(options\)\.batchSize): expected an integer/);
    }
    const ok = await request(served.port, { path: '/head?n=2&batch=1' });
    assert.deepEqual(ok.json(), [
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
    ]);
  });

  it('caps what the message echoes of a long value', async () => {
    const body = assertErrorReply(await request(served.port, { path: `/joined?how=${'x'.repeat(10_000)}` }), 400, 'invalid_argument');
    assert.ok(body.error.message.length < 300, `${body.error.message.length} characters`);
  });
});

describe('lifecycle options are checked when it is mounted', () => {
  it('refuses a bad executor option at once (each request answered 503 when the executor failed to start)', () => {
    assert.throws(
      () => executorLifecycle(new Koa(), { maxWorkers: 2 ** 31 }),
      (error: unknown) =>
        error instanceof InvalidArgumentError && /^executorLifecycle\(options\)\.maxWorkers: expected an integer in 0\.\.256/.test(error.message),
    );
    assert.throws(() => executorLifecycle(new Koa(), { backend: 'gpu' as 'cpu' }), /executorLifecycle\(options\)\.backend/);
  });

  it('refuses timers Node cannot honour and signals it cannot catch', () => {
    assert.throws(
      () => executorLifecycle(new Koa(), { drainTimeoutMs: 2 ** 31 }),
      /^InvalidArgumentError: executorLifecycle\(options\)\.drainTimeoutMs: expected a number of milliseconds/,
    );
    assert.throws(() => executorLifecycle(new Koa(), { abandonGraceMs: Infinity }), /abandonGraceMs/);
    assert.throws(
      () => executorLifecycle(new Koa(), { signals: ['SIGKILL'] }),
      /^InvalidArgumentError: executorLifecycle\(options\)\.signals\[0\]: expected one of/,
    );
    assert.throws(() => executorLifecycle(new Koa(), { signals: 'SIGTERM' as never }), /executorLifecycle\(options\)\.signals: expected an array/);
  });

  it('refuses an unknown option, listing the known ones', () => {
    assert.throws(
      () => executorLifecycle(new Koa(), { drainTimeout: 5 } as never),
      /unknown option "drainTimeout"; known options: backend, maxWorkers, .*drainTimeoutMs/,
    );
  });

  it('refuses idle(timeoutMs) Node would fire at once', async () => {
    const lifecycle = executorLifecycle(new Koa(), { signals: false });
    await assert.rejects(lifecycle.idle(2 ** 31), /^InvalidArgumentError: idle\(timeoutMs\)/);
    assert.equal(await lifecycle.idle(2 ** 31 - 1), true);
  });
});
