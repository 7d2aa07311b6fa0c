// The billing-ingest service end to end over loopback HTTP: ingest is accepted at once and persisted after
// the response, rollups add up exactly under 200 concurrent ingests, bad bodies answer 4xx and change
// nothing, a failing background write leaves the service healthy and loses nothing.

import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import { BillingStore, type RollupBatch } from '../../src/service/store.js';
import { gpuSkip } from '../engines/webgpu/device.js';
import {
  arrowDecimalCents,
  centsText,
  expectedRollups,
  getJson,
  postJson,
  randomBatch,
  rng,
  startService,
  tempDir,
  type Batch,
  type Running,
} from './service-helpers.js';

async function rollupsOf(running: Running): Promise<unknown> {
  const response = await getJson(`${running.url}/rollups`);
  assert.equal(response.status, 200);
  return response.body;
}

const gpuSkipReason = await gpuSkip();

describe('POST /ingest and GET /rollups', () => {
  const started: Running[] = [];
  after(async () => {
    for (const r of started) await r.stop();
  });

  test('answers 202 with the accepted rows and the request id, then persists the rollup after the response', async () => {
    const running = await startService();
    started.push(running);
    const batch: Batch = { userId: [3, 1, 3, 2, 3], amount: [1.5, 2, 4, -1.25, 0.5] };
    const response = await postJson(`${running.url}/ingest`, batch, { 'x-request-id': 'req-ingest-1' });
    assert.equal(response.status, 202);
    assert.deepEqual(response.body, { accepted_rows: 5, request_id: 'req-ingest-1' });
    assert.equal(response.headers.get('x-request-id'), 'req-ingest-1');
    assert.equal(await running.service.lifecycle.idle(10_000), true);
    assert.deepEqual(await rollupsOf(running), [
      { user_id: 1, total: '2.00', count: 1, mean: 2 },
      { user_id: 2, total: '-1.25', count: 1, mean: -1.25 },
      { user_id: 3, total: '6.00', count: 3, mean: 2 },
    ]);
    const task = running.logs.find((l) => l.msg === 'task' && l.request_id === 'req-ingest-1');
    assert.equal(task?.['ok'], true, 'the background task logs a line carrying the request id');
    const line = running.logs.find((l) => l.msg === 'request' && l.request_id === 'req-ingest-1');
    assert.equal(line?.['status'], 202);
  });

  test('1,000 concurrent ingests of cents: totals are exact, where float64 sums drifted', async () => {
    const running = await startService({ workers: 2 });
    started.push(running);
    const ingests = 1000;
    // Amounts as JSON numbers and as strings; none of 0.1, 0.7 and 0.01 is a binary fraction. Sent 250 at a
    // time, so that every wave is in flight at once (more open sockets than that, the test machine refuses).
    for (let wave = 0; wave < ingests; wave += 250) {
      const answers = await Promise.all(
        Array.from({ length: 250 }, (_, j) =>
          postJson(`${running.url}/ingest`, { userId: [(wave + j) % 10, (wave + j + 1) % 10, 42], amount: [0.1, 0.7, '0.01'] }),
        ),
      );
      assert.deepEqual(
        answers.filter((a) => a.status !== 202),
        [],
      );
    }
    assert.equal(await running.service.lifecycle.idle(120_000), true);
    // Each of users 0..9 got 100 × 0.1 and 100 × 0.7; user 42 got 1000 × 0.01.
    const expected = [
      ...Array.from({ length: 10 }, (_, user) => ({ user_id: user, total: '80.00', count: 200, mean: 0.4 })),
      { user_id: 42, total: '10.00', count: 1000, mean: 0.01 },
    ];
    assert.deepEqual(await rollupsOf(running), expected);
    // What the float64 totals did: the same additions in doubles miss the exact sums.
    let floatTotal = 0;
    for (let i = 0; i < ingests; i++) floatTotal += 0.01;
    assert.notEqual(floatTotal, 10);
  });

  test('amounts may be sent as decimal strings; /rollups answers exact totals as strings', async () => {
    const running = await startService();
    started.push(running);
    const response = await postJson(`${running.url}/ingest`, { userId: [1, 1, 2], amount: ['0.10', '0.20', 3] });
    assert.equal(response.status, 202);
    assert.equal(await running.service.lifecycle.idle(10_000), true);
    assert.deepEqual(await rollupsOf(running), [
      { user_id: 1, total: '0.30', count: 2, mean: 0.15 },
      { user_id: 2, total: '3.00', count: 1, mean: 3 },
    ]);
  });

  test('200 concurrent ingests of random sizes: every accepted row is in /rollups once', async () => {
    const running = await startService({ workers: 2 });
    started.push(running);
    const next = rng(20261124);
    const batches = Array.from({ length: 200 }, () => randomBatch(next, Math.floor(next() * 3000), 400));
    const answers = await Promise.all(batches.map((b, i) => postJson(`${running.url}/ingest`, b, { 'x-request-id': `bulk-${i}` })));
    answers.forEach((a, i) => {
      assert.equal(a.status, 202, `request ${i}`);
      assert.deepEqual(a.body, { accepted_rows: batches[i]!.userId.length, request_id: `bulk-${i}` });
    });
    assert.equal(await running.service.lifecycle.idle(60_000), true);
    const expected = expectedRollups(batches);
    assert.deepEqual(await rollupsOf(running), expected);
    const totals = await running.service.store.totals();
    assert.equal(totals.batches, 200);
    assert.equal(
      totals.rows,
      batches.reduce((n, b) => n + b.userId.length, 0),
    );
    assert.equal(running.logs.filter((l) => l.msg === 'task' && l['ok'] === false).length, 0);
  });

  test('the routes do not care which engine runs: the webgpu backend gives the same rollups', { skip: gpuSkipReason }, async () => {
    const running = await startService({ backend: 'webgpu' });
    started.push(running);
    const next = rng(4242);
    const batches = Array.from({ length: 12 }, () => randomBatch(next, 3000, 200));
    for (const b of batches) assert.equal((await postJson(`${running.url}/ingest`, b)).status, 202);
    assert.equal(await running.service.lifecycle.idle(30_000), true);
    assert.deepEqual(await rollupsOf(running), expectedRollups(batches));
    const health = (await getJson(`${running.url}/health`)).body as { backend: { configured: string; in_use: string; adapter: string | null } };
    assert.deepEqual([health.backend.configured, health.backend.in_use], ['webgpu', 'webgpu']);
    assert.equal(typeof health.backend.adapter, 'string');
  });

  test('/rollups answers NDJSON and Arrow with the same rows when Accept asks', async () => {
    const running = await startService();
    started.push(running);
    const next = rng(7);
    const batches = [randomBatch(next, 500, 50), randomBatch(next, 700, 80)];
    for (const b of batches) assert.equal((await postJson(`${running.url}/ingest`, b)).status, 202);
    assert.equal(await running.service.lifecycle.idle(10_000), true);
    const expected = expectedRollups(batches);

    const ndjson = await fetch(`${running.url}/rollups`, { headers: { accept: 'application/x-ndjson' } });
    assert.equal(ndjson.headers.get('content-type'), 'application/x-ndjson');
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, expected);

    const ipc = await fetch(`${running.url}/rollups`, { headers: { accept: 'application/vnd.apache.arrow.stream' } });
    assert.equal(ipc.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
    const table = arrow.tableFromIPC(new Uint8Array(await ipc.arrayBuffer()));
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      ['user_id', 'total', 'count', 'mean'],
    );
    const rows = table.toArray().map((r: Record<string, unknown>) => ({
      user_id: r['user_id'],
      total: centsText(arrowDecimalCents(r['total'])),
      count: Number(r['count'] as bigint),
      mean: r['mean'],
    }));
    assert.deepEqual(rows, expected);

    const refused = await getJson(`${running.url}/rollups`, { accept: 'text/csv' });
    assert.equal(refused.status, 406);
    assert.equal((refused.body as { error: { code: string } }).error.code, 'not_acceptable');
  });

  test('bad bodies answer 4xx in the error shape and persist nothing', async () => {
    const running = await startService({ bodyLimit: 4096 });
    started.push(running);
    const url = `${running.url}/ingest`;
    const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
      ['malformed JSON', () => postJson(url, '{"userId": [1, 2', { 'x-request-id': 'bad-1' }), 400, 'malformed_json'],
      ['columns of different lengths', () => postJson(url, { userId: [1, 2], amount: [1] }), 400, 'column_length_mismatch'],
      ['a non-integer user id (strict)', () => postJson(url, { userId: [1, 2.5], amount: [1, 2] }), 422, 'validation_failed'],
      ['an amount that is no number (strict)', () => postJson(url, { userId: [1], amount: ['seven'] }), 422, 'validation_failed'],
      ['an amount with fractions of a cent', () => postJson(url, { userId: [1], amount: [0.125] }), 422, 'validation_failed'],
      ['over the body limit', () => postJson(url, { userId: new Array(2000).fill(1), amount: new Array(2000).fill(1) }), 413, 'payload_too_large'],
      [
        'text/csv',
        async () => {
          const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'userId,amount\n1,2\n' });
          return { status: r.status, body: await r.json() };
        },
        415,
        'unsupported_media_type',
      ],
    ];
    for (const [name, send, status, code] of cases) {
      const response = await send();
      assert.equal(response.status, status, name);
      const body = response.body as { error: { code: string; message: string }; request_id: string | null };
      assert.equal(body.error.code, code, name);
      assert.equal(typeof body.error.message, 'string', name);
      assert.equal(typeof body.request_id, 'string', name);
    }
    const strict = await postJson(url, { userId: [1, 2.5, 3], amount: [1, 2, Number.MAX_VALUE] });
    assert.deepEqual(
      (strict.body as { error: { issues: unknown[] } }).error.issues.map((i) => {
        const { column, row, code } = i as { column: string; row: number; code: string };
        return { column, row, code };
      }),
      // Amounts are decimal(15, 2): Number.MAX_VALUE is refused by validation itself, with the user id.
      [
        { column: 'user_id', row: 1, code: 'invalid_type' },
        { column: 'amount', row: 2, code: 'too_big' },
      ],
    );
    // Finite, but so large that totals could overflow to Infinity: refused before the 202, with the rows named.
    const huge = await postJson(url, { userId: [1, 1, 2], amount: [1.7e308, 5, -1e13] });
    assert.equal(huge.status, 422);
    assert.deepEqual(
      (huge.body as { error: { issues: { column: string; row: number; code: string }[] } }).error.issues.map(({ column, row, code }) => ({
        column,
        row,
        code,
      })),
      [
        { column: 'amount', row: 0, code: 'too_big' },
        { column: 'amount', row: 2, code: 'too_big' },
      ],
    );
    assert.equal(await running.service.lifecycle.idle(10_000), true);
    assert.deepEqual(await rollupsOf(running), []);
    assert.equal((await running.service.store.totals()).batches, 0);
  });

  test('a background write that throws leaves the service healthy, and the batch is replayed at the next start', async () => {
    const dir = await tempDir();
    const store = await BillingStore.open(`${dir}/billing.duckdb`);
    let failing = true;
    const faulty = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'persist') {
          return async (batch: RollupBatch) => {
            if (failing && batch.requestId === 'doomed') throw new Error('disk on fire (injected)');
            return target.persist(batch);
          };
        }
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const running = await startService({}, { dir, store: faulty });
    const errors: unknown[] = [];
    running.service.app.on('error', (e: unknown) => errors.push(e));
    const doomed: Batch = { userId: [1, 1, 2], amount: [10, 20, 30] };
    const fine: Batch = { userId: [2, 3], amount: [1, 2] };
    assert.equal((await postJson(`${running.url}/ingest`, doomed, { 'x-request-id': 'doomed' })).status, 202);
    assert.equal(await running.service.lifecycle.idle(20_000), true);
    assert.equal(errors.length, 1, 'the failure is emitted on the app');
    const failed = running.logs.find((l) => l.msg === 'task' && l['ok'] === false);
    assert.equal(failed?.request_id, 'doomed');
    const health = await getJson(`${running.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((health.body as { status: string; tasks: { failed: number } }).status, 'ok');
    assert.equal((health.body as { tasks: { failed: number } }).tasks.failed, 1);
    assert.equal((await postJson(`${running.url}/ingest`, fine)).status, 202);
    assert.equal(await running.service.lifecycle.idle(20_000), true);
    assert.deepEqual(await rollupsOf(running), expectedRollups([fine]));
    const letters = await readdir(`${dir}/billing.duckdb.dead-letter`);
    assert.equal(letters.length, 1, 'the failed rollup waits in the dead-letter folder');
    await running.stop();

    failing = false;
    const restarted = await startService({}, { dir });
    started.push(restarted);
    assert.deepEqual(await rollupsOf(restarted), expectedRollups([doomed, fine]), 'replayed at start: nothing accepted is lost');
    assert.deepEqual(await readdir(`${dir}/billing.duckdb.dead-letter`), []);
    await restarted.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
