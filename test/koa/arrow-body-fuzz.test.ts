// The Arrow body reader under hostile input, over real loopback HTTP: 800 mutated bodies and a regression
// set (declared lengths no buffer holds, a byte flip to 2.8e14 rows, a second stream after the first,
// 2,000 Null batches, overlapping buffers, a footer listing one batch 2,001 times) each answer a 2xx or a
// typed 4xx in the error shape, never a 500, and the server keeps answering.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import * as arrow from 'apache-arrow';
import Koa from 'koa';
import { columnarBody, registerErrorHandlers, requestId, setLogger, silentLogger, type FrameState, type GpuframeState } from '../../src/koa/index.js';
import { FuzzEvent, fuzzCorpus, fuzzMutants } from '../model/arrow-fuzz-corpus.js';
import { bytesOf, concat, EOS, fileOf, ipcFieldPositions, recordBatchMessage, schemaMessage, schemaOf, type BatchSpec } from '../model/arrow-ipc-craft.js';
import { assertErrorReply, request, serve, type Reply, type Served } from './koa-helpers.js';

const STREAM = 'application/vnd.apache.arrow.stream';
const FILE = 'application/vnd.apache.arrow.file';
const ALLOWED = new Set([400, 413, 415, 422]);

function buildApp(): Koa {
  const app = new Koa();
  app.use(requestId());
  registerErrorHandlers(app);
  setLogger(app, silentLogger);
  const router = new Router<GpuframeState>();
  router.post<FrameState<FuzzEvent>>('/ingest', columnarBody(FuzzEvent, { limit: 1024 * 1024 }), (ctx) => {
    ctx.body = { accepted_rows: ctx.state.frame.shape[0] };
  });
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  app.use(router.routes());
  return app;
}

/** Two columns of four rows, with whatever lengths and buffers a hostile client declares. */
const schemaIF = schemaOf({ i: new arrow.Int32(), f: new arrow.Float64() });
const fourRows = concat(bytesOf(new Int32Array([1, 2, 3, 4])), bytesOf(new Float64Array([1.5, 2.5, 3.5, 4.5])));
const batchIF = (spec: Partial<BatchSpec> = {}): Uint8Array =>
  recordBatchMessage({
    length: 4,
    nodes: [
      [4, 0],
      [4, 0],
    ],
    buffers: [
      [0, 0],
      [0, 16],
      [16, 0],
      [16, 32],
    ],
    body: fourRows,
    ...spec,
  });
const declaring = (rows: number): Uint8Array =>
  concat(
    schemaMessage(schemaIF),
    batchIF({
      length: rows,
      nodes: [
        [rows, 0],
        [rows, 0],
      ],
    }),
    EOS,
  );

function regressionBodies(): Record<string, { bytes: Uint8Array; message: RegExp }> {
  const valid = concat(schemaMessage(schemaIF), batchIF(), EOS);
  const flipped = valid.slice();
  flipped[ipcFieldPositions(flipped).find((f) => f.kind === 'length')!.position + 6]! ^= 1;
  const nullBatch = recordBatchMessage({ length: 65_536, nodes: [[65_536, 65_536]], buffers: [] });
  const batchBlock = { bytes: batchIF(), kind: 'batch' } as const;
  return {
    'a 1e9-row batch with 4-row buffers': { bytes: declaring(1e9), message: /data buffer holds 16 bytes; 1000000000 rows need 4000000000/ },
    'a 2^31-1-row batch with 4-row buffers': { bytes: declaring(2 ** 31 - 1), message: /2147483647 rows need 8589934588/ },
    'a byte flip that declares 2.8e14 rows': { bytes: flipped, message: /declares 281474976710660 rows/ },
    'a second stream after the first': { bytes: concat(valid, valid), message: /bytes follow the end-of-stream marker/ },
    '2,000 batches of 65,536 Null rows': {
      bytes: concat(schemaMessage(schemaOf({ n: new arrow.Null() })), ...Array<Uint8Array>(2000).fill(nullBatch), EOS),
      message: /rows that no buffer holds .* over the limit/,
    },
    'overlapping buffers': {
      bytes: concat(
        schemaMessage(schemaIF),
        batchIF({
          buffers: [
            [0, 0],
            [0, 16],
            [0, 0],
            [8, 32],
          ],
        }),
        EOS,
      ),
      message: /inside or before the previous buffer/,
    },
    'a footer listing one batch 2,001 times': {
      bytes: fileOf(schemaIF, [batchBlock], (_, batches) => batches.push(...Array.from({ length: 2000 }, () => batches[0]!))),
      message: /does not follow block 0/,
    },
  };
}

describe('Arrow body reader fuzz', () => {
  let served: Served;
  before(async () => {
    served = await serve(buildApp());
  });
  after(async () => {
    await served.close();
  });
  const post = (bytes: Uint8Array, type = STREAM): Promise<Reply> =>
    request(served.port, { method: 'POST', path: '/ingest', headers: { 'content-type': type, 'content-length': bytes.length }, body: bytes });
  const healthy = async (): Promise<void> => {
    assert.equal((await request(served.port, { path: '/health' })).status, 200);
  };

  it('answers each regression body 400 malformed_arrow', async (t) => {
    for (const [name, { bytes, message }] of Object.entries(regressionBodies())) {
      const started = performance.now();
      const reply = await post(bytes, bytes[0] === 0x41 ? FILE : STREAM);
      t.diagnostic(`${name}: ${bytes.length} bytes, ${reply.status} in ${(performance.now() - started).toFixed(1)} ms`);
      assert.match(assertErrorReply(reply, 400, 'malformed_arrow').error.message, message, name);
      await healthy();
    }
    assert.deepEqual((await post(concat(schemaMessage(schemaIF), batchIF(), EOS))).json(), { accepted_rows: 4 });
  });

  it('answers 800 mutated bodies with a 2xx or a typed 4xx, never a 500, and keeps answering', async (t) => {
    const corpus = fuzzCorpus(24, 21);
    const statuses = new Map<string, number>();
    const unexpected: string[] = [];
    for (const [index, { mutator, bytes }] of fuzzMutants(corpus, 800, 22).entries()) {
      const reply = await post(bytes, index % 2 === 0 ? STREAM : FILE);
      const key = reply.status < 300 ? '2xx' : `${reply.status} ${reply.json<{ error: { code: string } }>().error.code}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (reply.status >= 300) assertErrorReply(reply, reply.status, reply.json<{ error: { code: string } }>().error.code);
      if (!(reply.status < 300 || ALLOWED.has(reply.status))) unexpected.push(`mutant ${index} (${mutator}): ${reply.status} ${reply.text.slice(0, 200)}`);
      if (index % 100 === 99) await healthy();
    }
    t.diagnostic(
      `statuses: ${[...statuses]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join('; ')}`,
    );
    assert.deepEqual(unexpected, []);
    assert.ok((statuses.get('2xx') ?? 0) > 0 && (statuses.get('400 malformed_arrow') ?? 0) > 200, JSON.stringify([...statuses]));
    await healthy();
  });
});
