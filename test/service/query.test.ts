// POST /query: data and a plan in, the answer in the format Accept asks for. Results are checked against
// a plain JS computation of the same plan over random data (fast-check), as JSON and as Arrow input.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { getJson, postJson, startService, type Running } from './service-helpers.js';

interface Data {
  readonly userId: number[];
  readonly amount: number[];
  readonly country: (string | null)[];
}

/** sum/count/min/max of amount per group of user_id (or per country), after `amount > threshold`. */
function reference(data: Data, threshold: number, key: 'user_id' | 'country'): Record<string, unknown>[] {
  const groups = new Map<unknown, { sum: number; count: number; min: number; max: number }>();
  data.userId.forEach((u, i) => {
    const a = data.amount[i]!;
    if (!(a > threshold)) return;
    const k = key === 'user_id' ? u : data.country[i];
    const g = groups.get(k) ?? { sum: 0, count: 0, min: Infinity, max: -Infinity };
    g.sum += a;
    g.count += 1;
    g.min = Math.min(g.min, a);
    g.max = Math.max(g.max, a);
    groups.set(k, g);
  });
  // Ordered by the key, nulls first (the plan sorts ascending).
  return [...groups.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : (a as number | string) < (b as number | string) ? -1 : 1))
    .map(([k, g]) => ({ [key]: k, total: g.sum, n: g.count, lo: g.min, hi: g.max }));
}

function plan(threshold: number, key: 'user_id' | 'country'): unknown {
  return {
    filter: [{ column: 'amount', op: 'gt', value: threshold }],
    group_by: [key],
    aggregations: {
      total: { op: 'sum', column: 'amount' },
      n: { op: 'count', column: 'amount' },
      lo: { op: 'min', column: 'amount' },
      hi: { op: 'max', column: 'amount' },
    },
    sort: [{ column: key }],
  };
}

const dataArb = fc.integer({ min: 0, max: 300 }).chain((n) =>
  fc.record({
    userId: fc.array(fc.integer({ min: -20, max: 20 }), { minLength: n, maxLength: n }),
    amount: fc.array(
      fc.integer({ min: -4000, max: 4000 }).map((q) => q / 4),
      { minLength: n, maxLength: n },
    ),
    country: fc.array(fc.constantFrom('NL', 'DE', 'FR', 'ÅLAND', null), { minLength: n, maxLength: n }),
  }),
);

describe('POST /query', () => {
  let running: Running;
  before(async () => {
    running = await startService({ workers: 2 });
  });
  after(async () => {
    await running.stop();
  });

  test('a JSON body with a plan answers what the plan computes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataArb,
        fc.integer({ min: -1000, max: 1000 }),
        fc.constantFrom<'user_id' | 'country'>('user_id', 'country'),
        async (data, threshold, key) => {
          const response = await postJson(`${running.url}/query`, { data, plan: plan(threshold, key) });
          assert.equal(response.status, 200, JSON.stringify(response.body));
          assert.deepEqual(response.body, reference(data, threshold, key));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('an Arrow body with the plan in the query string, answered as NDJSON', async () => {
    const data: Data = { userId: [1, 2, 1, 3, 2], amount: [5, -1, 2.5, 10, 4], country: ['NL', null, 'NL', 'DE', 'DE'] };
    const table = arrow.tableFromArrays({ userId: Int32Array.from(data.userId), amount: Float64Array.from(data.amount), country: data.country as string[] });
    const body = arrow.tableToIPC(table, 'stream');
    const response = await fetch(`${running.url}/query?plan=${encodeURIComponent(JSON.stringify(plan(0, 'user_id')))}`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.apache.arrow.stream', accept: 'application/x-ndjson' },
      body,
    });
    assert.equal(response.status, 200);
    const lines = (await response.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, reference(data, 0, 'user_id'));
  });

  test('answers Arrow when Accept asks', async () => {
    const data: Data = { userId: [1, 2, 1], amount: [5, 6, 7], country: ['NL', 'NL', null] };
    const response = await fetch(`${running.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/vnd.apache.arrow.stream' },
      body: JSON.stringify({ data, plan: plan(-1, 'country') }),
    });
    assert.equal(response.status, 200);
    const table = arrow.tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    assert.deepEqual(
      table.toArray().map((r: Record<string, unknown>) => ({ ...r })),
      reference(data, -1, 'country'),
    );
  });

  test('a bad plan answers 422 naming the place in the plan; a type error 400', async () => {
    const data = { userId: [1], amount: [1], country: ['NL'] };
    const unknownOp = await postJson(`${running.url}/query`, { data, plan: { aggregations: { x: { op: 'explode', column: 'amount' } } } });
    assert.equal(unknownOp.status, 422);
    const issues = (unknownOp.body as { error: { issues: { message: string; code: string }[] } }).error.issues;
    assert.ok(
      issues.some((i) => i.message.startsWith('plan.aggregations.x')),
      JSON.stringify(issues),
    );

    const unknownColumn = await postJson(`${running.url}/query`, { data, plan: { group_by: ['planet'], aggregations: { n: { op: 'count_rows' } } } });
    assert.equal(unknownColumn.status, 422);

    const badSort = await postJson(`${running.url}/query`, { data, plan: { aggregations: { n: { op: 'count_rows' } }, sort: [{ column: 'amount' }] } });
    assert.equal(badSort.status, 422);

    const typeError = await postJson(`${running.url}/query`, {
      data,
      plan: { filter: [{ column: 'amount', op: 'gt', value: 'lots' }], aggregations: { n: { op: 'count_rows' } } },
    });
    assert.equal(typeError.status, 400);
    assert.equal((typeError.body as { error: { code: string } }).error.code, 'expression_type');

    const noPlan = await postJson(`${running.url}/query`, { data });
    assert.equal(noPlan.status, 422);

    const arrowNoPlan = await fetch(`${running.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
      body: new Uint8Array([1, 2, 3]),
    });
    assert.equal(arrowNoPlan.status, 422);
  });

  test('/health reports the engine, the pool, the queues and the uptime', async () => {
    const response = await getJson(`${running.url}/health`);
    assert.equal(response.status, 200);
    const body = response.body as {
      status: string;
      backend: { configured: string; in_use: string };
      pool: { workers: number; queue_depth: number };
      tasks: { pending: number };
      uptime_s: number;
    };
    assert.equal(body.status, 'ok');
    assert.deepEqual([body.backend.configured, body.backend.in_use], ['cpu', 'cpu']);
    assert.equal(body.pool.workers, 2);
    assert.equal(body.pool.queue_depth, 0);
    assert.equal(body.tasks.pending, 0);
    assert.ok(body.uptime_s > 0 && body.uptime_s < 600, `uptime ${body.uptime_s} s`);
    const missing = await getJson(`${running.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal((missing.body as { error: { code: string } }).error.code, 'not_found');
    const wrongMethod = await fetch(`${running.url}/rollups`, { method: 'DELETE' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(((await wrongMethod.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
    assert.equal(wrongMethod.headers.get('allow'), 'HEAD, GET');
  });
});
