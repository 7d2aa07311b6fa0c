// requestId() over real HTTP: a usable X-Request-ID is kept, echoed and put on ctx.state and on error
// bodies; an unusable one (empty, too long, with spaces, tabs or bytes outside printable ASCII) is replaced
// by a fresh id; the header name and the generator can be chosen.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { registerErrorHandlers, requestId, setLogger, silentLogger, type ErrorBody, type GpuframeState } from '../../src/koa/index.js';
import { assertErrorReply, request, serve, type Served } from './koa-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PRINTABLE = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));

function buildApp(options: Parameters<typeof requestId>[0] = {}): Koa {
  const app = new Koa();
  app.use(requestId(options));
  registerErrorHandlers(app);
  setLogger(app, silentLogger);
  const router = new Router<GpuframeState>();
  router.get('/id', (ctx) => {
    ctx.body = { id: ctx.state.requestId ?? null };
  });
  router.get('/fail', (ctx) => ctx.throw(409, 'conflict'));
  app.use(router.routes());
  return app;
}

describe('requestId()', () => {
  let served: Served;
  before(async () => {
    served = await serve(buildApp());
  });
  after(() => served.close());

  const idOf = async (headers: Record<string, string>): Promise<{ header: unknown; state: unknown }> => {
    const reply = await request(served.port, { path: '/id', headers });
    assert.equal(reply.status, 200, reply.text);
    return { header: reply.headers['x-request-id'], state: reply.json<{ id: unknown }>().id };
  };

  it('keeps and echoes any usable id: 1 to 200 printable ASCII characters (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: 1, maxLength: 200 }), async (id) => {
        const seen = await idOf({ 'x-request-id': id });
        assert.equal(seen.header, id);
        assert.equal(seen.state, id);
      }),
      { numRuns: 60 },
    );
  });

  it('replaces an unusable id with a fresh UUID (property): too long, inner space or tab, non-ASCII bytes', async () => {
    const printable = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...PRINTABLE), minLength: min, maxLength: max });
    const unusable = fc.oneof(
      printable(201, 400),
      fc.tuple(printable(1, 50), fc.constantFrom(' ', '\t', ' \t ', '\u00e9', '\u00ff', '\u0080'), printable(1, 50)).map(([a, bad, b]) => a + bad + b),
    );
    await fc.assert(
      fc.asyncProperty(unusable, async (id) => {
        const seen = await idOf({ 'x-request-id': id });
        assert.match(String(seen.header), UUID);
        assert.equal(seen.state, seen.header);
      }),
      { numRuns: 60 },
    );
  });

  it('makes a different id for every request that brings none (or an empty one)', async () => {
    const ids = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      const seen = await idOf(i % 2 === 0 ? {} : { 'x-request-id': '' });
      assert.match(String(seen.header), UUID);
      assert.equal(seen.state, seen.header);
      ids.add(seen.header);
    }
    assert.equal(ids.size, 20);
  });

  it('error answers carry the id in the body and keep the header', async () => {
    const given = await request(served.port, { path: '/fail', headers: { 'x-request-id': 'trace-abc.123' } });
    assert.equal(assertErrorReply(given, 409, 'conflict').request_id, 'trace-abc.123');
    assert.equal(given.headers['x-request-id'], 'trace-abc.123');
    const made = await request(served.port, { path: '/missing', headers: { 'x-request-id': 'has space' } });
    const body: ErrorBody = assertErrorReply(made, 404, 'not_found');
    assert.match(String(body.request_id), UUID);
    assert.equal(made.headers['x-request-id'], body.request_id);
  });
});

describe('requestId({ header, generate })', () => {
  it('reads and echoes the named header and makes ids with the given generator', async () => {
    let made = 0;
    const served = await serve(buildApp({ header: 'X-Correlation-ID', generate: () => `corr-${++made}` }));
    try {
      const given = await request(served.port, { path: '/id', headers: { 'x-correlation-id': 'upstream-7' } });
      assert.equal(given.headers['x-correlation-id'], 'upstream-7');
      assert.equal(given.headers['x-request-id'], undefined);
      assert.deepEqual(given.json(), { id: 'upstream-7' });
      const ignored = await request(served.port, { path: '/id', headers: { 'x-request-id': 'not-this-one' } });
      assert.deepEqual(ignored.json(), { id: 'corr-1' });
      assert.equal(ignored.headers['x-correlation-id'], 'corr-1');
      const failed = await request(served.port, { path: '/fail' });
      assert.equal(assertErrorReply(failed, 409, 'conflict').request_id, 'corr-2');
      assert.equal(failed.headers['x-correlation-id'], 'corr-2');
    } finally {
      await served.close();
    }
  });
});
