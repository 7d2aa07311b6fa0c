// Shared by the Koa middleware tests: a Koa app served on an ephemeral loopback port, a plain HTTP client
// that returns status, headers and the whole body, a capturing logger, the test model and the assertions
// every error answer must pass (the one JSON shape of the error handler).

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { z } from 'zod';
import { DataFrameModel } from '../../src/index.js';
import type { ErrorBody, Logger, LogRecord } from '../../src/koa/index.js';

export class Event extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
  country: z.string().nullable(),
}) {}

export interface Served {
  readonly server: http.Server;
  readonly port: number;
  close(): Promise<void>;
}

function served(server: http.Server): Served {
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Serves `app` through app.callback() (no lifecycle attach), on 127.0.0.1 and a free port. */
export async function serve(app: Koa): Promise<Served> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback catches its own errors and answers them; the server need not await it
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return served(server);
}

/** Serves `app` through app.listen(), which executorLifecycle() wraps to start and attach itself. */
export async function listen(app: Koa): Promise<Served> {
  const server = app.listen(0, '127.0.0.1');
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', resolve));
  return served(server);
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects, as with JSON.parse
  json<T = unknown>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: string | Uint8Array;
  readonly agent?: http.Agent;
}

/** One request over a fresh connection (or `agent`); resolves with the whole response. */
export function request(port: number, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it expects, as with JSON.parse
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; fails the test after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

export interface CapturedLog extends LogRecord {
  readonly level: string;
}

export function captureLogger(): { readonly logger: Logger; readonly records: CapturedLog[] } {
  const records: CapturedLog[] = [];
  const push = (level: string) => (record: LogRecord) => void records.push({ ...record, level });
  return { logger: { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') }, records };
}

/**
 * Asserts the shared error shape: JSON `{ error: { code, message, issues? }, request_id }` with nothing
 * else, the given status and code. Returns the parsed body.
 */
export function assertErrorReply(reply: Reply, status: number, code: string): ErrorBody {
  assert.equal(reply.status, status, `status of ${reply.text}`);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  const body = reply.json<ErrorBody>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  for (const key of Object.keys(body.error)) assert.ok(['code', 'message', 'issues', 'truncated_issues'].includes(key), `unexpected key error.${key}`);
  if (body.request_id !== null) assert.equal(typeof body.request_id, 'string');
  return body;
}

/** Issues reduced to what a client acts on: column, row and code. */
export function issueKeys(body: ErrorBody): { column: string | null; row: number | null; code: string }[] {
  return (body.error.issues ?? []).map(({ column, row, code }) => ({ column, row, code }));
}
