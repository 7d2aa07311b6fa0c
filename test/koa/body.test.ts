// columnarBody and rowsBody over real HTTP: every accepted encoding round-trips into ctx.state.frame, the
// model's options reach the ingest, and the byte limit holds on the wire and after decompression without
// the body being read whole (Content-Length refused before any body byte, a chunked body cut off while the
// client is still writing, a gzip bomb stopped at the limit).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import Router from '@koa/router';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import Koa from 'koa';
import { z } from 'zod';
import { DataFrameModel } from '../../src/index.js';
import { columnarBody, registerErrorHandlers, requestId, rowsBody, setLogger, silentLogger, type FrameState, type GpuframeState } from '../../src/koa/index.js';
import { assertErrorReply, Event, issueKeys, request, serve, type Served } from './koa-helpers.js';

const LIMIT = 64 * 1024;

class Payment extends DataFrameModel({ amount: z.float64().nonnegative() }) {}

type EventRow = { user_id: number; amount: number; country: string | null };

function buildApp(): Koa {
  const app = new Koa();
  app.use(requestId());
  registerErrorHandlers(app);
  setLogger(app, silentLogger);
  const router = new Router<GpuframeState>();
  const answerRows = async (ctx: Koa.ParameterizedContext<FrameState<Event>>): Promise<void> => {
    ctx.body = { rows: await ctx.state.frame.collect() };
  };
  router.post<FrameState<Event>>('/columns', columnarBody(Event, { limit: LIMIT }), answerRows);
  router.post<FrameState<Event>>('/columns-big', columnarBody(Event), answerRows);
  router.post<FrameState<Event>>('/columns-by-name', columnarBody(Event, { inputKeyMode: 'names' }), answerRows);
  router.post<FrameState<Event>>('/rows', rowsBody(Event, { limit: LIMIT }), answerRows);
  router.post<FrameState<Payment>>('/payments', columnarBody(Payment), async (ctx) => {
    ctx.body = { rows: await ctx.state.frame.collect() };
  });
  router.post<FrameState<Payment>>('/payments-trusted', columnarBody(Payment, { trustedMode: 'shape_only' }), async (ctx) => {
    ctx.body = { rows: await ctx.state.frame.collect() };
  });
  app.use(router.routes());
  return app;
}

const rowArb: fc.Arbitrary<EventRow> = fc
  .record({
    user_id: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    amount: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
    country: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  })
  .map((r) => ({ ...r })); // fc.record builds null-prototype objects; rows from JSON are plain ones

function columnsOf(rows: readonly EventRow[]): { userId: number[]; amount: number[]; country: (string | null)[] } {
  return { userId: rows.map((r) => r.user_id), amount: rows.map((r) => r.amount), country: rows.map((r) => r.country) };
}

describe('columnarBody / rowsBody: decoding', () => {
  let served: Served;
  before(async () => {
    served = await serve(buildApp());
  });
  after(() => served.close());

  const post = (path: string, type: string, body: string | Uint8Array, headers: http.OutgoingHttpHeaders = {}) =>
    request(served.port, { method: 'POST', path, headers: { 'content-type': type, ...headers }, body });

  it('application/json columnar bodies keyed by alias arrive as the same rows (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 30 }), async (rows) => {
        const reply = await post('/columns', 'application/json', JSON.stringify(columnsOf(rows)));
        assert.equal(reply.status, 200, reply.text);
        assert.deepEqual(reply.json<{ rows: EventRow[] }>().rows, rows);
      }),
      { numRuns: 30 },
    );
  });

  it('rowsBody: a JSON array of rows and the same rows as NDJSON give the same frame (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 30 }), async (rows) => {
        const withAliases = rows.map((r) => ({ userId: r.user_id, amount: r.amount, country: r.country }));
        const asJson = await post('/rows', 'application/json', JSON.stringify(withAliases));
        const asNdjson = await post('/rows', 'application/x-ndjson', `${withAliases.map((r) => JSON.stringify(r)).join('\n')}\n`);
        assert.equal(asJson.status, 200, asJson.text);
        assert.equal(asNdjson.status, 200, asNdjson.text);
        assert.deepEqual(asJson.json<{ rows: EventRow[] }>().rows, rows);
        assert.deepEqual(asNdjson.json<{ rows: EventRow[] }>().rows, rows);
      }),
      { numRuns: 20 },
    );
  });

  it('application/vnd.apache.arrow.stream (and .file) bodies are read as Arrow IPC', async () => {
    const rows: EventRow[] = [
      { user_id: 7, amount: 1.25, country: 'DE' },
      { user_id: -3, amount: 0, country: null },
      { user_id: 2 ** 31 - 1, amount: -1e300, country: 'FR' },
    ];
    const table = new arrow.Table({
      userId: arrow.vectorFromArray(
        rows.map((r) => r.user_id),
        new arrow.Int32(),
      ),
      amount: arrow.vectorFromArray(
        rows.map((r) => r.amount),
        new arrow.Float64(),
      ),
      country: arrow.vectorFromArray(
        rows.map((r) => r.country),
        new arrow.Utf8(),
      ),
    });
    const stream = await post('/columns', 'application/vnd.apache.arrow.stream', arrow.tableToIPC(table, 'stream'));
    assert.equal(stream.status, 200, stream.text);
    assert.deepEqual(stream.json<{ rows: EventRow[] }>().rows, rows);
    const file = await post('/columns', 'application/vnd.apache.arrow.file', arrow.tableToIPC(table, 'file'));
    assert.equal(file.status, 200, file.text);
    assert.deepEqual(file.json<{ rows: EventRow[] }>().rows, rows);
  });

  it('bytes that are not Arrow IPC are 400 malformed_arrow, not a validation error', async () => {
    for (const type of ['application/vnd.apache.arrow.stream', 'application/vnd.apache.arrow.file']) {
      const reply = await post('/columns', type, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]));
      const body = assertErrorReply(reply, 400, 'malformed_arrow');
      assert.match(body.error.message, /^Arrow IPC message 0 \(byte 0\): /);
    }
  });

  it('a frame made by the model and sent as Arrow comes back whole (names keyed, via inputKeyMode)', async () => {
    const frame = Event.fromColumns({ userId: [1, 2, 3], amount: [0.5, 1.5, 2.5], country: ['US', null, 'US'] });
    const ipc = arrow.tableToIPC(await frame.toArrow(), 'stream');
    const reply = await post('/columns-by-name', 'application/vnd.apache.arrow.stream', ipc);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json<{ rows: EventRow[] }>().rows, await frame.collect());
  });

  it('gzip, deflate and br bodies are decompressed; an unknown Content-Encoding is 415', async () => {
    const rows: EventRow[] = [
      { user_id: 1, amount: 2, country: 'IT' },
      { user_id: 2, amount: 3.5, country: null },
    ];
    const json = Buffer.from(JSON.stringify(columnsOf(rows)));
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['br', brotliCompressSync(json)],
    ] as const) {
      const reply = await post('/columns', 'application/json', bytes, { 'content-encoding': encoding });
      assert.equal(reply.status, 200, `${encoding}: ${reply.text}`);
      assert.deepEqual(reply.json<{ rows: EventRow[] }>().rows, rows);
    }
    const unknown = await post('/columns', 'application/json', json, { 'content-encoding': 'compress' });
    assertErrorReply(unknown, 415, 'unsupported_media_type');
  });

  it('a corrupt gzip body is 400, not 500', async () => {
    const gz = gzipSync(Buffer.from('{"userId":[1],"amount":[1],"country":[null]}'));
    const corrupt = Buffer.concat([gz.subarray(0, 12), Buffer.alloc(20, 0xff)]);
    const reply = await post('/columns', 'application/json', corrupt, { 'content-encoding': 'gzip' });
    const body = assertErrorReply(reply, 400, 'malformed_json');
    assert.match(body.error.message, /gzip/);
  });

  it('the model options reach the ingest: inputKeyMode and trustedMode', async () => {
    const byName = await post('/columns-by-name', 'application/json', JSON.stringify({ user_id: [4], amount: [1], country: ['NL'] }));
    assert.equal(byName.status, 200, byName.text);
    assert.deepEqual(byName.json<{ rows: EventRow[] }>().rows, [{ user_id: 4, amount: 1, country: 'NL' }]);
    const byAlias = await post('/columns-by-name', 'application/json', JSON.stringify({ userId: [4], amount: [1], country: ['NL'] }));
    assertErrorReply(byAlias, 400, 'unknown_column');

    // The refinement (amount >= 0) is checked by default and skipped by trustedMode 'shape_only'.
    const checked = await post('/payments', 'application/json', JSON.stringify({ amount: [1, -1] }));
    assert.deepEqual(issueKeys(assertErrorReply(checked, 422, 'validation_failed')), [{ column: 'amount', row: 1, code: 'too_small' }]);
    const trusted = await post('/payments-trusted', 'application/json', JSON.stringify({ amount: [1, -1] }));
    assert.equal(trusted.status, 200, trusted.text);
    assert.deepEqual(trusted.json<{ rows: unknown[] }>().rows, [{ amount: 1 }, { amount: -1 }]);
  });

  it('Content-Type: charset other than utf-8 is 415; utf-8 with a BOM is read', async () => {
    const json = JSON.stringify({ userId: [1], amount: [1], country: ['é'] });
    assertErrorReply(await post('/columns', 'application/json; charset=latin1', json), 415, 'unsupported_media_type');
    const bom = await post('/columns', 'application/json; charset=UTF-8', `\uFEFF${json}`);
    assert.equal(bom.status, 200, bom.text);
    assert.deepEqual(bom.json<{ rows: EventRow[] }>().rows, [{ user_id: 1, amount: 1, country: 'é' }]);
  });

  it('NDJSON lines that are not JSON are 400 with one issue per bad line; bad cells stay 422', async () => {
    const ndjson = ['{"userId":1,"amount":1,"country":null}', '{bad', '{"userId":2,"amount":2,"country":"SE"}', 'nope'].join('\n');
    const malformed = assertErrorReply(await post('/rows', 'application/x-ndjson', ndjson), 400, 'malformed_json');
    assert.deepEqual(issueKeys(malformed), [
      { column: null, row: 1, code: 'invalid_json' },
      { column: null, row: 3, code: 'invalid_json' },
    ]);
    const badCell = assertErrorReply(await post('/rows', 'application/x-ndjson', '{"userId":"x","amount":1,"country":null}\n'), 422, 'validation_failed');
    assert.deepEqual(issueKeys(badCell), [{ column: 'user_id', row: 0, code: 'invalid_type' }]);
  });
});

describe('columnarBody: the byte limit', () => {
  let served: Served;
  before(async () => {
    served = await serve(buildApp());
  });
  after(() => served.close());

  /** The response to a request the caller writes itself; client-side write errors after it are tolerated. */
  function open(headers: http.OutgoingHttpHeaders): {
    req: http.ClientRequest;
    reply: Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>;
  } {
    const req = http.request({ host: '127.0.0.1', port: served.port, method: 'POST', path: '/columns', headers, agent: false });
    const reply = new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() });
        });
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // Once the server has answered and closed, the client's further writes fail: expected.
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
    });
    return { req, reply };
  }

  function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${ms} ms: ${what}`));
      }, ms);
    });
    return Promise.race([promise, timeout]).finally(() => {
      clearTimeout(timer);
    });
  }

  it('Content-Length over the limit: 413 while the client has sent only the headers', async () => {
    const { req, reply } = open({ 'content-type': 'application/json', 'content-length': String(LIMIT * 1000), 'x-request-id': 'too-big-1' });
    req.flushHeaders();
    const answer = await within(reply, 5000, 'the server waited for a body the client never sent');
    assert.equal(answer.status, 413);
    assert.equal(answer.headers['connection'], 'close');
    assert.deepEqual(JSON.parse(answer.text), {
      error: { code: 'payload_too_large', message: `the request body exceeds the limit of ${LIMIT} bytes (${LIMIT * 1000} bytes)` },
      request_id: 'too-big-1',
    });
    req.destroy();
  });

  it('a chunked body without Content-Length: 413 while the client is still writing, long before the whole body', async () => {
    const planned = 256 * 1024 * 1024;
    const { req, reply } = open({ 'content-type': 'application/json' });
    let answered = false;
    let failed = false;
    const settled = reply.then(
      (r) => {
        answered = true;
        return r;
      },
      (error: unknown) => {
        failed = true;
        throw error;
      },
    );
    settled.catch(() => undefined);
    req.on('error', () => {
      failed = true;
    });
    // Wakes the writer on drain, on the answer or when the connection goes, whichever comes first.
    let wake: () => void = () => undefined;
    const nudge = (): void => {
      wake();
    };
    req.on('drain', nudge).on('close', nudge);
    settled.then(nudge, nudge);
    const chunk = Buffer.alloc(16 * 1024, 0x20); // JSON whitespace: only the size can refuse it
    let written = 0;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by event handlers while the loop awaits
    while (written < planned && !answered && !failed && !req.destroyed) {
      const more = req.write(chunk);
      written += chunk.length;
      if (!more) await new Promise<void>((resolve) => (wake = resolve));
    }
    const answer = await within(settled, 5000, 'the chunked body over the limit');
    assert.equal(answer.status, 413, answer.text);
    assert.equal((JSON.parse(answer.text) as { error: { code: string } }).error.code, 'payload_too_large');
    assert.ok(written > LIMIT, 'the client wrote past the limit');
    assert.ok(written < planned / 8, `the answer came after ${written} of ${planned} bytes: the server read far more than the limit`);
    req.destroy();
    // The server is still serving.
    const next = await request(served.port, {
      method: 'POST',
      path: '/columns',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: [1], amount: [1], country: [null] }),
    });
    assert.equal(next.status, 200, next.text);
  });

  it('a body exactly at the limit is read; one byte more is 413', async () => {
    const base = JSON.stringify({ userId: [1], amount: [1], country: [null] });
    const exact = base + ' '.repeat(LIMIT - Buffer.byteLength(base));
    const ok = await request(served.port, { method: 'POST', path: '/columns', headers: { 'content-type': 'application/json' }, body: exact });
    assert.equal(ok.status, 200, ok.text);
    const over = await request(served.port, { method: 'POST', path: '/columns', headers: { 'content-type': 'application/json' }, body: `${exact} ` });
    assertErrorReply(over, 413, 'payload_too_large');
  });

  it('a gzip bomb small on the wire but over the limit once inflated is 413', async () => {
    const inflated = Buffer.concat([Buffer.from('{"userId":[1],"amount":[1],"country":[null]}'), Buffer.alloc(LIMIT * 256, 0x20)]);
    const bomb = gzipSync(inflated);
    assert.ok(bomb.length < LIMIT / 4, 'the bomb itself is well under the limit');
    const reply = await request(served.port, {
      method: 'POST',
      path: '/columns',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assertErrorReply(reply, 413, 'payload_too_large');
    // The same bomb is fine where the limit is the default 32 MiB (16 MiB inflated).
    const roomy = await request(served.port, {
      method: 'POST',
      path: '/columns-big',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(roomy.status, 200, roomy.text);
  });
});

describe('readBody: a client that hangs up mid-body', () => {
  for (const [encoding, framing] of [
    ['identity', 'chunked'],
    ['gzip', 'chunked'],
    ['identity', 'length'],
    ['gzip', 'length'],
  ] as const) {
    it(`the request settles as request_aborted instead of hanging (${encoding}, ${framing})`, async () => {
      const app = new Koa();
      registerErrorHandlers(app);
      setLogger(app, silentLogger);
      const errors: { code: unknown }[] = [];
      app.on('error', (error: { code?: unknown }) => void errors.push({ code: error.code }));
      const router = new Router<GpuframeState>();
      router.post<FrameState<Event>>('/columns', columnarBody(Event), (ctx) => {
        ctx.body = { rows: ctx.state.frame.shape[0] };
      });
      app.use(router.routes());
      const served = await serve(app);
      try {
        const json = JSON.stringify({
          userId: Array.from({ length: 50_000 }, (_, i) => i),
          amount: Array.from({ length: 50_000 }, () => 1.5),
          country: Array.from({ length: 50_000 }, () => 'NL'),
        });
        const bytes = encoding === 'gzip' ? gzipSync(json) : Buffer.from(json);
        const size = framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes.length) };
        const req = http.request({
          host: '127.0.0.1',
          port: served.port,
          method: 'POST',
          path: '/columns',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-encoding': encoding, ...size },
        });
        req.on('error', () => undefined);
        req.write(bytes.subarray(0, bytes.length >> 1));
        await new Promise((resolve) => setTimeout(resolve, 50));
        req.destroy();
        const deadline = Date.now() + 3000;
        const aborted = (): boolean => errors.some((e) => e.code === 'request_aborted');
        while (!aborted() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        // Node's parser may report the cut-off stream too (HPE_INVALID_EOF_STATE); what matters is that
        // the body read itself ended, once, as an abort.
        assert.equal(errors.filter((e) => e.code === 'request_aborted').length, 1, `the body read ended with the abort: ${JSON.stringify(errors)}`);
      } finally {
        await served.close();
      }
    });
  }
});
