// The service as `npm start` runs it, in a child process: SIGTERM with background writes in flight drains
// them before the process exits, so every accepted row is in the database afterwards. Also: a bad
// configuration stops the process at start with the problems listed.

import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/service/config.js';
import { spawnLogged, type LoggedProcess } from './child-process.js';
import { assertAllPersisted, postJson, randomBatch, rng, tempDir, type Batch } from './service-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/service/main.js', import.meta.url));

function runService(env: Record<string, string>): LoggedProcess {
  return spawnLogged(process.execPath, [MAIN], { env: { ...process.env, ...env } });
}

interface Load {
  readonly seed: number;
  readonly batches: number;
  /** Rows per batch are `minRows` plus up to `extraRows` more. */
  readonly minRows: number;
  readonly extraRows: number;
  readonly users: number;
  readonly requestPrefix: string;
}

/**
 * Starts the service on a fresh database with this shutdown deadline, posts the load's batches (every one
 * must be accepted), sends SIGTERM at once and waits for the exit; then `check` runs and the process and
 * folder are cleaned up whatever happened.
 */
async function ingestThenSigterm(
  shutdownTimeoutMs: string,
  load: Load,
  check: (run: { child: LoggedProcess; dbPath: string; batches: Batch[]; exit: Awaited<LoggedProcess['exited']> }) => Promise<void>,
  afterSigterm: (child: LoggedProcess) => Promise<void> = async () => undefined,
): Promise<void> {
  const dir = await tempDir();
  const dbPath = `${dir}/billing.duckdb`;
  const child = runService({
    PORT: '0',
    HOST: '127.0.0.1',
    BILLING_DB_PATH: dbPath,
    GPUFRAME_BACKEND: 'cpu',
    GPUFRAME_WORKERS: '1',
    SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs,
    LOG_LEVEL: 'info',
  });
  try {
    const listening = await child.waitFor((l) => l['msg'] === 'listening');
    const url = `http://127.0.0.1:${String(listening['port'])}`;
    const next = rng(load.seed);
    const batches = Array.from({ length: load.batches }, () => randomBatch(next, load.minRows + Math.floor(next() * load.extraRows), load.users));
    const answers = await Promise.all(batches.map((b, i) => postJson(`${url}/ingest`, b, { 'x-request-id': `${load.requestPrefix}-${i}` })));
    assert.ok(answers.every((a) => a.status === 202));
    child.process.kill('SIGTERM');
    await afterSigterm(child);
    await check({ child, dbPath, batches, exit: await child.exited });
  } finally {
    child.process.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

test('SIGTERM with background writes in flight: all accepted work is persisted before the process exits', async () => {
  const load = { seed: 99, batches: 60, minRows: 5000, extraRows: 15000, users: 5000, requestPrefix: 'term' };
  await ingestThenSigterm('60000', load, async ({ child, dbPath, batches, exit }) => {
    assert.deepEqual(exit, { code: 0, signal: null }, 'a drained shutdown exits 0');
    const started = child.lines.find((l) => l['msg'] === 'shutdown started');
    assert.equal(started?.['reason'], 'signal SIGTERM');
    assert.ok(Number(started['pending_tasks']) > 0, `writes were still pending at SIGTERM (${String(started['pending_tasks'])}), so the drain was exercised`);
    const complete = child.lines.find((l) => l['msg'] === 'shutdown complete');
    assert.equal(complete?.['drained'], true);
    assert.equal(complete['abandoned_tasks'], 0);

    await assertAllPersisted(dbPath, batches);
  });
});

test('SIGTERM with a zero deadline: unwritten rollups go to the dead-letter folder, and the next start writes them all', async () => {
  const load = { seed: 7, batches: 40, minRows: 5000, extraRows: 10000, users: 3000, requestPrefix: 'cut' };
  await ingestThenSigterm('0', load, async ({ child, dbPath, batches, exit }) => {
    assert.equal(exit.code, 1, 'a shutdown that missed its deadline exits 1');
    const cut = child.lines.find((l) => l['msg'] === 'shutdown deadline passed with background tasks pending');
    assert.ok(Number(cut?.['abandoned_tasks']) > 0, 'the deadline really cut background writes off');
    const saved = await readdir(`${dbPath}.dead-letter`);
    assert.ok(saved.length > 0, 'the abandoned rollups were saved');

    // The next start replays them: every accepted row is in the database once.
    await assertAllPersisted(dbPath, batches, async (store) => {
      const replay = await store.replayDeadLetters();
      assert.equal(replay.failed, 0);
      assert.equal(replay.replayed + replay.duplicates, saved.length);
    });
  });
});

test('a second SIGTERM during the drain shortens it: writes not yet made go to the dead-letter folder first, so nothing accepted is lost', async () => {
  const load = { seed: 11, batches: 80, minRows: 20000, extraRows: 20000, users: 60000, requestPrefix: 'twice' };
  let exitedEarly = false;
  await ingestThenSigterm(
    '600000',
    load,
    async ({ child, dbPath, batches, exit }) => {
      assert.equal(exitedEarly, false, 'the drain was still running when the second signal came (make the load heavier if not)');
      assert.equal(exit.code, 1, 'a shortened shutdown exits 1');
      assert.ok(child.lines.some((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('second signal during shutdown')));
      const cut = child.lines.find((l) => l['msg'] === 'shutdown shortened by a second signal with background tasks pending');
      assert.ok(Number(cut?.['abandoned_tasks']) > 0, 'the second signal really cut background writes off');
      const complete = child.lines.find((l) => l['msg'] === 'shutdown complete');
      assert.equal(complete?.['drained'], false);
      const saved = await readdir(`${dbPath}.dead-letter`);
      assert.ok(saved.length > 0, 'the writes not yet made were saved');
      // Accepted = written before the signal + dead-lettered: the next start's replay makes the totals whole.
      await assertAllPersisted(dbPath, batches, async (store) => {
        const before = await store.totals();
        assert.ok(before.batches < batches.length, 'some batches were not written before the exit');
        assert.equal(before.batches + saved.length, batches.length, 'every accepted batch was either written or dead-lettered');
        const replay = await store.replayDeadLetters();
        assert.equal(replay.failed, 0);
        assert.equal(replay.replayed + replay.duplicates, saved.length);
      });
    },
    async (child) => {
      await child.waitFor((l) => l['msg'] === 'shutdown started');
      // More than a second after the first: a repeat within a second may be dropped as the same signal delivered twice.
      const exited = await Promise.race([
        child.exited.then(() => true),
        new Promise<false>((resolve) =>
          setTimeout(() => {
            resolve(false);
          }, 1300),
        ),
      ]);
      exitedEarly = exited;
      if (!exited) child.process.kill('SIGTERM');
    },
  );
});

test('a bad configuration stops the service at start, listing every problem', async () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', BODY_LIMIT: 'huge', GPUFRAME_BACKEND: 'tpu' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.length === 3 &&
      error.problems.some((p) => p.startsWith('PORT')) &&
      error.problems.some((p) => p.startsWith('BODY_LIMIT')),
  );
  const config = loadConfig({ PORT: '8080', BODY_LIMIT: '4MiB', GPUFRAME_WORKERS: '3', LOG_LEVEL: '' });
  assert.equal(config.port, 8080);
  assert.equal(config.bodyLimit, 4 * 1024 * 1024);
  assert.equal(config.workers, 3);
  assert.equal(config.logLevel, 'info');
  assert.equal(loadConfig({}).port, 3000);

  const child = runService({ PORT: '-1' });
  const exit = await child.exited;
  assert.equal(exit.code, 2);
  assert.ok(
    child.lines.some((l) => typeof l['text'] === 'string' && l['text'].includes('PORT')),
    'the message names PORT',
  );
});
