// Lingering close over real HTTP: an error answered before the request body was read (413 over the limit,
// 408 for a stalled body) goes out with Connection: close, and the server keeps reading and discarding
// what the client still sends, for a bounded time and number of bytes, so that the client reads the
// answer instead of failing with EPIPE or ECONNRESET.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import Koa from 'koa';
import { columnarBody, registerErrorHandlers, requestId, type FrameState, type GpuframeState } from '../../src/koa/index.js';
import { LINGER_BYTES } from '../../src/koa/linger.js';
import { assertErrorReply, Event, request, serve, type Served } from './koa-helpers.js';

const LIMIT = 64 * 1024;
const CLIENT = fileURLToPath(new URL('./over-limit-client.js', import.meta.url));

function buildApp(): Koa {
  const app = new Koa();
  app.use(requestId());
  registerErrorHandlers(app);
  const router = new Router<GpuframeState>();
  router.post<FrameState<Event>>('/columns', columnarBody(Event, { limit: LIMIT, timeoutMs: 300 }), (ctx) => {
    ctx.body = { rows: ctx.state.frame.shape[0] };
  });
  app.use(router.routes());
  return app;
}

/** What a raw TCP client sees: every byte the server sent, whether it reset the connection, and when it closed. */
interface RawResult {
  readonly text: string;
  readonly reset: boolean;
  readonly written: number;
}

/**
 * Sends `head` then writes `chunk` repeatedly, up to `total` body bytes, until the server closes; resolves
 * with what came back. Writes stop at the first error.
 */
function rawUpload(port: number, head: string, chunk: Buffer, total: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let reset = false;
    let written = 0;
    let done = false;
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
    });
    socket.on('close', () => {
      done = true;
      resolve({ text: Buffer.concat(received).toString(), reset, written });
    });
    socket.write(head);
    const pump = (): void => {
      while (!done && written < total) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (!done) socket.end();
    };
    pump();
  });
}

describe('lingering close', () => {
  let served: Served;
  before(async () => {
    served = await serve(buildApp());
  });
  after(() => served.close());

  it('a small body refused before it was read (415) keeps its keep-alive connection; one of unknown length closes', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (
      headers: http.OutgoingHttpHeaders,
      body: string,
      chunked = false,
    ): Promise<{ status: number; connection: string | undefined; reused: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ port: served.port, host: '127.0.0.1', method: 'POST', path: '/columns', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket });
          });
        });
        req.on('error', reject);
        if (chunked) req.write(body);
        req.end(chunked ? undefined : body);
      });
    try {
      const good = JSON.stringify({ userId: [1], amount: [2.5], country: ['NL'] });
      const refused = await send({ 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(good)) }, good);
      assert.equal(refused.status, 415);
      assert.notEqual(refused.connection, 'close');
      const next = await send({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(good)) }, good);
      assert.equal(next.status, 200);
      assert.equal(next.reused, true, 'the request after the 415 went over the same connection');
      const chunked = await send({ 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }, good, true);
      assert.equal(chunked.status, 415);
      assert.equal(chunked.connection, 'close', 'a body of unknown length is not read to keep the connection');
    } finally {
      agent.destroy();
    }
  });

  it("Node's fetch in another process reads the 413 after keep-alive requests, 5 times of 5", async () => {
    const results: { small?: number[]; status?: number; code?: string; connection?: string; failed?: string }[] = [];
    for (let run = 0; run < 5; run++) {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [CLIENT, `http://127.0.0.1:${served.port}`, String(8 * 1024 * 1024)], (error, stdout) => {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- execFile's error is an ExecFileException: an Error whose declared type @types/node rebuilds with Omit
          if (error) reject(error);
          else resolve(stdout);
        }),
      );
      results.push(JSON.parse(out.trim()) as (typeof results)[number]);
    }
    for (const result of results) {
      assert.deepEqual(result.small, [200, 200, 200]);
      assert.deepEqual(
        { status: result.status, code: result.code, connection: result.connection },
        { status: 413, code: 'payload_too_large', connection: 'close' },
        JSON.stringify(result),
      );
    }
  });

  it('after the 413 the server reads the rest of a body within the bound without resetting, then closes', async () => {
    const body = LINGER_BYTES / 2;
    const head = `POST /columns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body}\r\n\r\n`;
    const result = await rawUpload(served.port, head, Buffer.alloc(16 * 1024, 0x20), body);
    assert.match(result.text, /^HTTP\/1\.1 413 /);
    assert.match(result.text, /\r\nconnection: close\r\n/i);
    assert.ok(result.text.includes('"payload_too_large"'));
    assert.equal(result.reset, false, 'the server reset the connection while the client was still sending');
    assert.equal(result.written, body, 'the client could send its whole body');
  });

  it('a client that keeps sending past the byte bound is cut off, and the server keeps serving', async () => {
    const body = LINGER_BYTES * 64;
    const head = `POST /columns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body}\r\n\r\n`;
    const result = await rawUpload(served.port, head, Buffer.alloc(64 * 1024, 0x20), body);
    assert.match(result.text, /^HTTP\/1\.1 413 /, 'the answer arrived first');
    assert.ok(result.written < body, `the server read all ${body} bytes`);
    const next = await request(served.port, {
      method: 'POST',
      path: '/columns',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: [1], amount: [1], country: [null] }),
    });
    assert.equal(next.status, 200, next.text);
  });

  it('a body arriving in pieces 100 ms apart, longer in all than the 300 ms timeout, is read: the timeout is per gap', async () => {
    const body = JSON.stringify({ userId: [1, 2], amount: [1, 2], country: [null, 'NL'] });
    const socket = net.connect(served.port, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      const received: Buffer[] = [];
      socket.on('data', (data: Buffer) => received.push(data));
      socket.on('close', () => {
        resolve(Buffer.concat(received).toString());
      });
    });
    socket.write(`POST /columns HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let i = 0; i < body.length; i += 8) {
      socket.write(body.slice(i, i + 8));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const text = await closed;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith('{"rows":2}'), text);
  });

  it('a body that stalls: 408 request_timeout in the error shape, then the connection closes within the linger time', async () => {
    const socket = net.connect(served.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (data: Buffer) => received.push(data));
    const closed = new Promise<void>((resolve) =>
      socket.on('close', () => {
        resolve();
      }),
    );
    socket.on('error', () => undefined);
    socket.write(`POST /columns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-ID: stall-1\r\n\r\n{"userId": [1`);
    await closed;
    const text = Buffer.concat(received).toString();
    const [head = '', body = ''] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 408 /);
    assert.match(head, /\r\nconnection: close/i);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects, as with JSON.parse
    const reply = { status: 408, headers: { 'content-type': 'application/json' }, body: Buffer.from(body), text: body, json: <T>() => JSON.parse(body) as T };
    const parsed = assertErrorReply(reply, 408, 'request_timeout');
    assert.equal(parsed.request_id, 'stall-1');
    assert.match(parsed.error.message, /no bytes of the request body arrived for 300 ms/);
  });
});
