// The HTTP benchmark's harness, briefly: two seconds of load on the service in a child process must end
// with every accepted row persisted, per-user totals equal to the accepted bodies' and a clean SIGTERM
// exit, and the result must have the shape bench/results/ files are read with.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { formatSummary, runHttpBench, writeResult } from '../../bench/http.js';

test('http bench: persisted rows equal accepted rows after a short load', { timeout: 120_000 }, async () => {
  // A small write queue keeps the drain short, and lets the load meet 503s that must not count as accepted.
  const result = await runHttpBench({
    durationS: 2,
    connections: 4,
    rowsPerRequest: 200,
    users: 20,
    serviceEnv: { GPUFRAME_BACKEND: 'cpu', GPUFRAME_WORKERS: '1', MAX_PENDING_WRITES: '200' },
  });

  assert.deepEqual(result.problems, [], formatSummary(result));
  assert.equal(result.ok, true);
  assert.ok(result.requests.accepted > 0, 'some requests were accepted');
  assert.equal(result.rows.persisted, result.rows.accepted);
  assert.equal(result.rows.accepted, result.requests.accepted * 200);
  assert.equal(result.requests.unanswered, 0);
  assert.equal(result.requests.sent, result.requests.answered);
  assert.equal(result.users.mismatched, 0);
  assert.equal(result.users.persisted, result.users.expected);
  assert.deepEqual(result.shutdown.exit_code, 0);
  assert.equal(result.service.backend, 'cpu');
  assert.deepEqual(result.options, { duration_s: 2, connections: 4, rows_per_request: 200, users: 20, bodies: 4 });
  assert.equal(result.service_log_tail, undefined);

  for (const value of [result.requests.per_s, result.requests.accepted_per_s, result.rows.accepted_per_s, result.rows.persisted_per_s, result.drain_ms]) {
    assert.ok(Number.isFinite(value) && value >= 0, `finite, non-negative: ${value}`);
  }
  const { p50, p90, p99, max } = result.latency_ms;
  assert.ok(p50 <= p90 && p90 <= p99 && p99 <= max, `ordered percentiles: ${p50} ${p90} ${p99} ${max}`);
  assert.equal(
    Object.values(result.requests.status_codes).reduce((a, b) => a + b, 0),
    result.requests.answered,
  );
  assert.equal(result.requests.status_codes['202'], result.requests.accepted);
  assert.equal(result.requests.accepted + result.requests.non_2xx, result.requests.answered);

  const dir = await mkdtemp(join(tmpdir(), 'gpuframe-http-result-'));
  try {
    const path = await writeResult(result, dir);
    assert.match(basename(path), /^http-[A-Za-z0-9_.-]+-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), result);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('http bench: rejects a non-positive setting before starting anything', async () => {
  await assert.rejects(runHttpBench({ durationS: 0, connections: 4, rowsPerRequest: 10 }), RangeError);
  await assert.rejects(runHttpBench({ durationS: 1, connections: 4, rowsPerRequest: Number.NaN }), RangeError);
});
