// The service's HTTP behaviour over loopback: MAX_PENDING_WRITES holds under a burst of simultaneous
// ingests, every status has a named code (405 with Allow, TRACE 501), echoed input is capped so a
// hostile name cannot inflate an error answer, the timeouts come from the environment, and a service
// listening beyond loopback says so in its log.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BillingStore, type RollupBatch } from '../../src/service/store.js';
import { ConfigError, loadConfig } from '../../src/service/config.js';
import { isLoopback } from '../../src/service/app.js';
import { getJson, postJson, startService, tempDir, type Running } from './service-helpers.js';

const BURST_CLIENT = fileURLToPath(new URL('./burst-client.js', import.meta.url));

describe('billing-ingest service: HTTP behaviour', () => {
  const started: Running[] = [];
  after(async () => {
    for (const r of started) await r.stop();
  });

  test('MAX_PENDING_WRITES 5 and 100 simultaneous 0.8 MB ingests from another process: exactly 5 accepted while the writes wait, the rest 503 with Retry-After', async () => {
    const dir = await tempDir();
    const store = await BillingStore.open(`${dir}/billing.duckdb`);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Writes wait at the gate, so every accepted ingest stays pending for the whole burst.
    const held = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'persist') return async (batch: RollupBatch) => (await gate, target.persist(batch));
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const running = await startService({ maxPendingWrites: 5 }, { dir, store: held });
    started.push(running);
    const rows = 110_000;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BURST_CLIENT, running.url, '100', String(rows)], { maxBuffer: 1 << 20 }, (error, stdout) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- execFile's error is an ExecFileException: an Error whose declared type @types/node rebuilds with Omit
        if (error) reject(error);
        else resolve(stdout);
      }),
    );
    const { bodyBytes, statuses } = JSON.parse(out) as { bodyBytes: number; statuses: { status: number; code: string | null; retryAfter: string | null }[] };
    assert.ok(bodyBytes > 800_000);
    const accepted = statuses.filter((r) => r.status === 202);
    const refused = statuses.filter((r) => r.status === 503);
    assert.equal(accepted.length, 5, statuses.map((r) => r.status).join(','));
    assert.equal(refused.length, 95);
    for (const r of refused) assert.deepEqual([r.code, r.retryAfter], ['overloaded', '1']);
    assert.equal(running.service.lifecycle.stats().pendingTasks, 5);
    release();
    assert.equal(await running.service.lifecycle.idle(20_000), true);
    assert.equal((await running.service.store.totals()).rows, 5 * rows, 'every accepted row is written');
  });

  test('GET /ingest is 405 method_not_allowed with Allow: POST; TRACE /ingest is 501 not_implemented', async () => {
    const running = await startService();
    started.push(running);
    const get = await getJson(`${running.url}/ingest`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((get.body as { error: { code: string } }).error.code, 'method_not_allowed');
    const trace = await fetch(`${running.url}/ingest`, { method: 'PATCH' });
    assert.equal(trace.status, 405);
    // fetch refuses TRACE; a raw request sends it.
    const { request } = await import('../koa/koa-helpers.js');
    const port = Number(new URL(running.url).port);
    const traced = await request(port, { method: 'TRACE', path: '/ingest' });
    assert.equal(traced.status, 501);
    assert.equal(traced.json<{ error: { code: string; message: string } }>().error.code, 'not_implemented');
    assert.doesNotMatch(traced.text, /internal server error/);
  });

  test('a 1 MB name in a body answers in under 2 KB: an unknown column, a plan key, a sort column', async () => {
    const running = await startService();
    started.push(running);
    const name = 'x'.repeat(1024 * 1024);
    const unknown = await postJson(`${running.url}/ingest`, { userId: [1], amount: [1], [name]: [1] });
    const plan = await postJson(`${running.url}/query`, {
      data: { userId: [1], amount: [1] },
      plan: { aggregations: { [name]: { op: 'sum', column: 'amount' } } },
    });
    const sort = await postJson(`${running.url}/query`, {
      data: { userId: [1], amount: [1] },
      plan: { aggregations: { t: { op: 'sum', column: 'amount' } }, sort: [{ column: name }] },
    });
    for (const [reply, status, code] of [
      [unknown, 400, 'unknown_column'],
      [plan, 422, 'validation_failed'],
      [sort, 422, 'validation_failed'],
    ] as const) {
      assert.equal(reply.status, status);
      const text = JSON.stringify(reply.body);
      assert.equal((reply.body as { error: { code: string } }).error.code, code);
      assert.ok(text.length < 2048, `${code}: the answer is ${text.length} characters`);
      assert.match(text, /… \(1048576 characters\)/, 'the name is cut, saying how long it was');
    }
  });

  test('a plan with 5,000 problems lists 20 issues and counts the rest', async () => {
    const running = await startService();
    started.push(running);
    const aggregations = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`a${i}`, { op: 'nope', column: 'amount' }]));
    const reply = await postJson(`${running.url}/query`, { data: { userId: [1], amount: [1] }, plan: { aggregations } });
    assert.equal(reply.status, 422);
    const error = (reply.body as { error: { issues: unknown[]; truncated_issues: number } }).error;
    assert.equal(error.issues.length, 20);
    assert.ok(error.truncated_issues >= 4980, String(error.truncated_issues));
  });

  test('the timeouts come from the environment, checked at start', () => {
    const defaults = loadConfig({});
    assert.deepEqual(
      [defaults.headersTimeoutMs, defaults.requestTimeoutMs, defaults.keepAliveTimeoutMs, defaults.idleTimeoutMs, defaults.bodyTimeoutMs],
      [60_000, 300_000, 5_000, 120_000, 30_000],
    );
    const set = loadConfig({
      HEADERS_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: '0',
      KEEP_ALIVE_TIMEOUT_MS: '2500',
      IDLE_TIMEOUT_MS: '0',
      BODY_TIMEOUT_MS: '750',
    });
    assert.deepEqual([set.headersTimeoutMs, set.requestTimeoutMs, set.keepAliveTimeoutMs, set.idleTimeoutMs, set.bodyTimeoutMs], [1000, 0, 2500, 0, 750]);
    assert.throws(
      () => loadConfig({ HEADERS_TIMEOUT_MS: '-1', IDLE_TIMEOUT_MS: '1.5', BODY_TIMEOUT_MS: String(2 ** 31), KEEP_ALIVE_TIMEOUT_MS: 'soon' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        ['HEADERS_TIMEOUT_MS', 'IDLE_TIMEOUT_MS', 'BODY_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS'].every((v) => e.problems.some((p) => p.startsWith(v))),
    );
    const requestOnly = loadConfig({ REQUEST_TIMEOUT_MS: '10000' });
    assert.deepEqual(
      [requestOnly.headersTimeoutMs, requestOnly.requestTimeoutMs],
      [10_000, 10_000],
      'the headers default gives way to a shorter request timeout',
    );
    assert.throws(
      () => loadConfig({ HEADERS_TIMEOUT_MS: '90000', REQUEST_TIMEOUT_MS: '60000' }),
      (e: unknown) => e instanceof ConfigError && /HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/.test(e.message),
    );
  });

  test('a stalled ingest body answers 408 request_timeout after BODY_TIMEOUT_MS', async () => {
    const running = await startService({ bodyTimeoutMs: 200 });
    started.push(running);
    const { default: net } = await import('node:net');
    const socket = net.connect(Number(new URL(running.url).port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) =>
      socket.on('close', () => {
        resolve();
      }),
    );
    socket.write('POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"userId"');
    await closed;
    const text = Buffer.concat(received).toString();
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":"request_timeout"/);
  });

  test('listening beyond loopback logs a warning naming HOST; on loopback it does not', async () => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1') && isLoopback('127.1.2.3'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('10.0.0.1'));
    const local = await startService();
    started.push(local);
    assert.ok(!local.logs.some((l) => l.level === 'warn' && /beyond loopback/.test(l.msg)));
    const open = await startService({ host: '0.0.0.0' });
    started.push(open);
    const warning = open.logs.find((l) => l.level === 'warn' && /beyond loopback/.test(l.msg));
    assert.ok(warning, 'a warning for 0.0.0.0');
    assert.match(warning.msg, /HOST=127\.0\.0\.1/);
  });
});
