// sendFrame and negotiateFormat over real HTTP: JSON, NDJSON and Arrow IPC round-trip the same cells, JSON
// writes non-finite floats as null and int64 beyond 2^53 as strings, NDJSON lines leave as batches arrive,
// a paused client holds the producer back, a client that goes away stops it, and 406 answers an Accept
// nothing fits.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import Koa from 'koa';
import { col, createExecutor, type Executor } from '../../src/index.js';
import {
  negotiateFormat,
  registerErrorHandlers,
  requestId,
  sendFrame,
  setLogger,
  type BatchSource,
  type GpuframeState,
  type ResponseFormat,
} from '../../src/koa/index.js';
import { assertErrorReply, captureLogger, delay, Event, request, serve, waitFor, type Reply, type Served } from './koa-helpers.js';

const ACCEPT: Readonly<Record<ResponseFormat, string>> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  arrow: 'application/vnd.apache.arrow.stream',
};

/** A generator of `rows`-row batches that counts what was pulled and notes when it was stopped. */
class Producer {
  pulled = 0;
  stopped = false;
  constructor(
    private readonly rows: number,
    private readonly limit: number,
  ) {}

  async *batches(): AsyncGenerator<arrow.RecordBatch> {
    try {
      for (let b = 0; b < this.limit; b++) {
        this.pulled++;
        const base = b * this.rows;
        const table = new arrow.Table({
          n: arrow.vectorFromArray(
            Array.from({ length: this.rows }, (_, i) => base + i),
            new arrow.Int32(),
          ),
          label: arrow.vectorFromArray(
            Array.from({ length: this.rows }, (_, i) => `row number ${base + i} of an endless stream`),
            new arrow.Utf8(),
          ),
        });
        yield* table.batches;
        await Promise.resolve();
      }
    } finally {
      this.stopped = true;
    }
  }
}

function decodeNdjson(text: string): unknown[] {
  assert.ok(text === '' || text.endsWith('\n'), 'NDJSON ends with a newline');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/** The rows a reply holds, whatever its format. */
function rowsOf(reply: Reply, format: ResponseFormat): unknown[] {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(String(reply.headers['content-type']).split(';')[0], ACCEPT[format]);
  if (format === 'json') return reply.json<unknown[]>();
  if (format === 'ndjson') return decodeNdjson(reply.text);
  return arrow
    .tableFromIPC(reply.body)
    .toArray()
    .map((row) => ({ ...(row as { toJSON(): object }).toJSON() }));
}

describe('sendFrame', () => {
  const log = captureLogger();
  const emitted: unknown[] = [];
  let executor: Executor;
  let served: Served;
  let current: BatchSource = new arrow.Table({});
  let producer = new Producer(1, 1);
  let firstLineSeen: (line: string) => void = () => undefined;
  let incrementalOutcome: string | undefined;

  const sample = Event.fromColumns({ userId: [1, 2, 3, 4], amount: [0.5, -2, 1e21, 3], country: ['US', null, 'DE', 'US'] });

  before(async () => {
    executor = createExecutor({ backend: 'cpu', maxWorkers: 0 });
    const app = new Koa();
    app.use(requestId());
    registerErrorHandlers(app);
    setLogger(app, log.logger);
    app.on('error', (error: unknown) => void emitted.push(error));
    const router = new Router<GpuframeState>();
    router.get('/current', (ctx) => sendFrame(ctx, current));
    router.get('/sample', (ctx) => sendFrame(ctx, sample));
    router.get('/sample-json-only', (ctx) => sendFrame(ctx, sample, { formats: ['json'] }));
    router.get('/sample-ndjson', (ctx) => sendFrame(ctx, sample, { format: 'ndjson', status: 201 }));
    router.get('/large-frame', (ctx) => {
      const n = 10_000;
      const frame = Event.fromColumns({
        userId: Array.from({ length: n }, (_, i) => i),
        amount: Array.from({ length: n }, (_, i) => i / 4),
        country: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `c${i % 7}`)),
      });
      return sendFrame(ctx, frame.filter(col('amount').gt(100)), { executor, batchSize: 1000 });
    });
    router.get('/empty-frame', (ctx) => sendFrame(ctx, sample.filter(col('amount').gt(1e300))));
    router.get('/format', (ctx) => {
      ctx.body = { format: negotiateFormat(ctx) };
    });
    router.get('/incremental', (ctx) => {
      const first = new arrow.Table({ n: arrow.vectorFromArray([1], new arrow.Int32()) });
      const second = new arrow.Table({ n: arrow.vectorFromArray([2], new arrow.Int32()) });
      const seen = new Promise<string>((resolve) => (firstLineSeen = resolve));
      async function* batches(): AsyncGenerator<arrow.RecordBatch> {
        yield* first.batches;
        // The second batch is made only once the client holds the first line: were the answer buffered
        // to the end, the client would see nothing and this would time out.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<string>(
          (resolve) =>
            (timer = setTimeout(() => {
              resolve('timeout');
            }, 5000)),
        );
        incrementalOutcome = await Promise.race([seen.then((line) => `client has ${line}`), timeout]);
        clearTimeout(timer);
        yield* second.batches;
      }
      return sendFrame(ctx, batches(), { format: 'ndjson' });
    });
    router.get('/produce', (ctx) => sendFrame(ctx, producer.batches()));
    router.get('/fail-first', (ctx) => {
      async function* batches(): AsyncGenerator<arrow.RecordBatch> {
        await Promise.resolve();
        throw new Error('plan failed before any row: secret detail');
      }
      return sendFrame(ctx, batches());
    });
    router.get('/fail-later', (ctx) => {
      async function* batches(): AsyncGenerator<arrow.RecordBatch> {
        yield* new arrow.Table({ n: arrow.vectorFromArray([1, 2], new arrow.Int32()) }).batches;
        await delay(10);
        throw new Error('plan failed mid-stream');
      }
      return sendFrame(ctx, batches());
    });
    app.use(router.routes());
    served = await serve(app);
  });

  after(async () => {
    await served.close();
    await executor.close();
  });

  const fetchAs = (path: string, format: ResponseFormat): Promise<Reply> => request(served.port, { path, headers: { accept: ACCEPT[format] } });

  it('a model frame arrives as the same rows in JSON, NDJSON and Arrow IPC', async () => {
    const expected = await sample.collect();
    for (const format of ['json', 'ndjson', 'arrow'] as const) {
      assert.deepEqual(rowsOf(await fetchAs('/sample', format), format), expected, format);
    }
    const ipc = arrow.tableFromIPC((await fetchAs('/sample', 'arrow')).body);
    assert.deepEqual(
      ipc.schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ['user_id', 'Int32'],
        ['amount', 'Float64'],
        ['country', 'Dictionary<Int32, Utf8>'],
      ],
    );
  });

  it('cells of every type round-trip; JSON writes NaN/±Infinity as null and int64 beyond 2^53 as strings (property)', async () => {
    const int64 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.constantFrom(2n ** 53n, 2n ** 53n - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, 0n),
    );
    const row = fc.record({
      i: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
      f: fc.option(fc.double(), { nil: null }),
      big: fc.option(int64, { nil: null }),
      s: fc.option(fc.string({ maxLength: 6 }), { nil: null }),
      ok: fc.option(fc.boolean(), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 40 }), async (rows) => {
        const table = new arrow.Table({
          i: arrow.vectorFromArray(
            rows.map((r) => r.i),
            new arrow.Int32(),
          ),
          f: arrow.vectorFromArray(
            rows.map((r) => r.f),
            new arrow.Float64(),
          ),
          big: arrow.vectorFromArray(
            rows.map((r) => r.big),
            new arrow.Int64(),
          ),
          s: arrow.vectorFromArray(
            rows.map((r) => r.s),
            new arrow.Utf8(),
          ),
          ok: arrow.vectorFromArray(
            rows.map((r) => r.ok),
            new arrow.Bool(),
          ),
        });
        current = table;
        const inJson = rows.map((r) => ({
          i: r.i,
          f: r.f === null || !Number.isFinite(r.f) ? null : r.f === 0 ? 0 : r.f,
          big: r.big === null ? null : r.big >= -(2n ** 53n) + 1n && r.big <= 2n ** 53n - 1n ? Number(r.big) : r.big.toString(),
          s: r.s,
          ok: r.ok,
        }));
        assert.deepEqual(rowsOf(await fetchAs('/current', 'json'), 'json'), inJson);
        assert.deepEqual(rowsOf(await fetchAs('/current', 'ndjson'), 'ndjson'), inJson);
        const back = arrow.tableFromIPC((await fetchAs('/current', 'arrow')).body);
        assert.equal(back.numRows, rows.length);
        for (const name of ['i', 'f', 'big', 's', 'ok'] as const) {
          assert.deepEqual(Array.from(back.getChild(name) ?? []), Array.from(table.getChild(name) ?? []), name);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('an empty result is still a valid answer: [] in JSON, nothing in NDJSON, a schema-only Arrow stream', async () => {
    assert.deepEqual(rowsOf(await fetchAs('/empty-frame', 'json'), 'json'), []);
    assert.deepEqual(rowsOf(await fetchAs('/empty-frame', 'ndjson'), 'ndjson'), []);
    const reply = await fetchAs('/empty-frame', 'arrow');
    assert.ok(reply.body.byteLength > 0, 'the Arrow stream carries the schema');
    const table = arrow.tableFromIPC(reply.body);
    assert.equal(table.numRows, 0);
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      ['user_id', 'amount', 'country'],
    );
  });

  it('timestamps go out as ISO 8601 strings in JSON', async () => {
    current = new arrow.Table({ at: arrow.vectorFromArray([new Date(Date.UTC(2024, 1, 29, 12, 30)), null], new arrow.TimestampMillisecond()) });
    assert.deepEqual(rowsOf(await fetchAs('/current', 'json'), 'json'), [{ at: '2024-02-29T12:30:00.000Z' }, { at: null }]);
  });

  it('a frame run on an executor streams every result row, in batches', async () => {
    const n = 10_000;
    const expected = Array.from({ length: n }, (_, i) => ({ user_id: i, amount: i / 4, country: i % 3 === 0 ? null : `c${i % 7}` })).filter(
      (r) => r.amount > 100,
    );
    assert.deepEqual(rowsOf(await fetchAs('/large-frame', 'ndjson'), 'ndjson'), expected);
    assert.deepEqual(rowsOf(await fetchAs('/large-frame', 'json'), 'json'), expected);
    const viaArrow = await fetchAs('/large-frame', 'arrow');
    assert.deepEqual(rowsOf(viaArrow, 'arrow'), expected);
    assert.ok(arrow.tableFromIPC(viaArrow.body).batches.length > 1, 'more than one batch on the wire');
  });

  it('options: `format` skips negotiation and `status` is sent; `formats` limits what is offered', async () => {
    const forced = await request(served.port, { path: '/sample-ndjson', headers: { accept: 'application/json' } });
    assert.equal(forced.status, 201);
    assert.equal(forced.headers['content-type'], 'application/x-ndjson');
    assert.equal(decodeNdjson(forced.text).length, 4);
    const limited = await request(served.port, { path: '/sample-json-only', headers: { accept: 'application/x-ndjson', 'x-request-id': 'limited-1' } });
    const body = assertErrorReply(limited, 406, 'not_acceptable');
    assert.equal(body.request_id, 'limited-1');
    assert.match(body.error.message, /available: application\/json$/);
  });

  it('negotiateFormat follows Accept and its q-values; none acceptable is 406 in the error shape', async () => {
    const cases: [string | undefined, ResponseFormat][] = [
      [undefined, 'json'],
      ['*/*', 'json'],
      ['application/x-ndjson', 'ndjson'],
      ['application/vnd.apache.arrow.stream', 'arrow'],
      ['application/json;q=0.5, application/x-ndjson', 'ndjson'],
      ['application/*;q=0.1, application/vnd.apache.arrow.stream', 'arrow'],
      ['text/html, application/json;q=0.9', 'json'],
    ];
    for (const [accept, format] of cases) {
      const reply = await request(served.port, { path: '/format', headers: accept === undefined ? {} : { accept } });
      assert.deepEqual(reply.json(), { format }, String(accept));
    }
    const refused = await request(served.port, { path: '/sample', headers: { accept: 'text/html, text/csv' } });
    const body = assertErrorReply(refused, 406, 'not_acceptable');
    assert.match(body.error.message, /'text\/html, text\/csv'/);
  });

  it('NDJSON rows leave as batches arrive: the client holds the first line before the second batch exists', async () => {
    incrementalOutcome = undefined;
    const text = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: served.port, path: '/incremental', agent: false }, (res) => {
          let received = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received += chunk;
            const newline = received.indexOf('\n');
            if (newline >= 0) firstLineSeen(received.slice(0, newline));
          });
          res.on('end', () => {
            resolve(received);
          });
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(incrementalOutcome, 'client has {"n":1}');
    assert.equal(text, '{"n":1}\n{"n":2}\n');
  });

  for (const format of ['ndjson', 'json', 'arrow'] as const) {
    it(`backpressure (${format}): a paused client stops the producer; resuming moves it on; hanging up stops it for good`, async () => {
      producer = new Producer(1024, 5_000);
      const req = http.get({ host: '127.0.0.1', port: served.port, path: '/produce', agent: false, headers: { accept: ACCEPT[format] } });
      req.on('error', () => undefined);
      const [res] = await new Promise<[http.IncomingMessage]>((resolve) =>
        req.once('response', (r) => {
          resolve([r]);
        }),
      );
      res.pause();
      // Wait until the producer has been still for 200 ms: buffers are full and nothing reads them.
      let last = -1;
      let stillSince = performance.now();
      await waitFor(
        () => {
          if (producer.pulled !== last) {
            last = producer.pulled;
            stillSince = performance.now();
          }
          return performance.now() - stillSince > 200;
        },
        'the producer to stall',
        10_000,
      );
      const stalledAt = producer.pulled;
      assert.ok(stalledAt < 1_000, `a paused client let the server produce ${stalledAt} batches (~${Math.round((stalledAt * 1024 * 45) / 2 ** 20)} MiB)`);
      assert.equal(producer.stopped, false);

      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
      });
      res.resume();
      await waitFor(() => producer.pulled > stalledAt + 20, 'the producer to move on once the client reads');
      req.destroy();
      await waitFor(() => producer.stopped, 'the producer to be stopped after the client hung up');
      const final = producer.pulled;
      await delay(100);
      assert.equal(producer.pulled, final, 'nothing is pulled after the client hung up');
      assert.ok(read > 0);
    });
  }

  it('a client that hangs up mid-stream, while reading, stops the producer', async () => {
    producer = new Producer(256, 100_000);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: served.port, path: '/produce', agent: false, headers: { accept: ACCEPT.ndjson } }, (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > 1024 * 1024 && !req.destroyed) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
    });
    await waitFor(() => producer.stopped, 'the producer to stop');
    const final = producer.pulled;
    assert.ok(final < 100_000);
    await delay(100);
    assert.equal(producer.pulled, final);
  });

  it('a source failing before its first batch answers 500 in the error shape, hiding the message', async () => {
    const reply = await request(served.port, { path: '/fail-first', headers: { 'x-request-id': 'fail-first-1' } });
    const body = assertErrorReply(reply, 500, 'internal_error');
    assert.equal(body.request_id, 'fail-first-1');
    assert.ok(!reply.text.includes('secret'));
  });

  it('a source failing after the first batch cuts the response short and emits the error on the app', async () => {
    const before = emitted.length;
    const outcome = await new Promise<{ aborted: boolean; text: string }>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: served.port, path: '/fail-later', agent: false, headers: { accept: ACCEPT.json } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ aborted: false, text });
        });
        res.on('error', () => {
          resolve({ aborted: true, text });
        });
        res.on('aborted', () => {
          resolve({ aborted: true, text });
        });
      });
      req.on('error', () => {
        resolve({ aborted: true, text: '' });
      });
    });
    assert.equal(outcome.aborted, true, `the client must not see a complete answer: ${outcome.text}`);
    assert.ok(!outcome.text.endsWith(']'), 'the JSON array is not closed');
    await waitFor(() => emitted.length > before, "the 'error' event");
    assert.equal((emitted[before] as Error).message, 'plan failed mid-stream');
  });
});
