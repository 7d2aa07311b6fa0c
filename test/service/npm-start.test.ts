// `npm start` as a process manager runs it (`CMD ["npm", "start"]`, a systemd unit): the npm process is
// the one signalled, never the service inside it. A SIGTERM to npm, or to npm's whole process group,
// drains the service (every accepted row written), leaves no process behind, and npm exits 0; with the
// build current, nothing is compiled on the way up.

import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { processRunning, spawnLogged, type LoggedProcess } from './child-process.js';
import { assertAllPersisted, getJson, postJson, randomBatch, rng, tempDir } from './service-helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STAMP = join(ROOT, 'dist/.build-stamp.json');

interface BuildStateModule {
  buildState: (root: string) => Promise<{ current: true } | { current: false; reason: string }>;
}

/** npm itself: the one under which these tests run (npm_execpath), else the one on PATH. */
function npm(args: readonly string[], env: Record<string, string>): LoggedProcess {
  const npmCli = process.env['npm_execpath'];
  const [command, prefix] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  // Its own process group, so that a test can signal the group as a terminal or process manager does.
  return spawnLogged(command, [...prefix, ...args], { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
}

async function npmStartThenSigterm(target: 'npm' | 'process group'): Promise<void> {
  const { buildState } = (await import(pathToFileURL(join(ROOT, 'scripts/build-state.mjs')).href)) as BuildStateModule;
  const state = await buildState(ROOT);
  // npm start would rebuild dist/ under the running tests: refuse instead.
  assert.ok(state.current, `run \`npm run build\` before this test: ${state.current ? '' : state.reason}`);
  const stampBefore = (await stat(STAMP)).mtimeMs;

  const dir = await tempDir();
  const dbPath = join(dir, 'billing.duckdb');
  const child = npm(['start'], {
    PORT: '0',
    HOST: '127.0.0.1',
    BILLING_DB_PATH: dbPath,
    GPUFRAME_BACKEND: 'cpu',
    GPUFRAME_WORKERS: '1',
    SHUTDOWN_TIMEOUT_MS: '120000',
    LOG_LEVEL: 'info',
  });
  let servicePid: number | null = null;
  try {
    const starting = await child.waitFor((l) => l['msg'] === 'starting service', 120_000);
    servicePid = Number(starting['pid']);
    assert.notEqual(servicePid, child.process.pid, 'the service is not the npm process');
    assert.equal(starting['built'], false, 'the build was current: nothing compiled');
    assert.ok(!child.lines.some((l) => l['msg'] === 'build is not current: building'));

    const listening = await child.waitFor((l) => l['msg'] === 'listening', 120_000);
    const url = `http://127.0.0.1:${String(listening['port'])}`;
    assert.equal((await getJson(`${url}/health`)).status, 200);
    const next = rng(target === 'npm' ? 11 : 12);
    const batches = Array.from({ length: 40 }, () => randomBatch(next, 5000 + Math.floor(next() * 15000), 4000));
    const answers = await Promise.all(batches.map((b) => postJson(`${url}/ingest`, b)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([202]));

    process.kill(target === 'npm' ? child.process.pid! : -child.process.pid!, 'SIGTERM');
    const exit = await child.exited;
    assert.equal(processRunning(servicePid), false, 'the service process is gone with npm, not left behind');
    assert.deepEqual(exit, { code: 0, signal: null }, 'npm exits 0 after a drained shutdown');
    // npm waited for the service, so its last lines are written; they may still be on their way here.
    const started = await child.waitFor((l) => l['msg'] === 'shutdown started', 10_000);
    assert.equal(started['reason'], 'signal SIGTERM');
    assert.ok(Number(started['pending_tasks']) > 0, `writes were still pending at SIGTERM (${String(started['pending_tasks'])}), so the drain was exercised`);
    const complete = await child.waitFor((l) => l['msg'] === 'shutdown complete', 10_000);
    assert.equal(complete['drained'], true);
    assert.equal(complete['abandoned_tasks'], 0);
    assert.ok(!child.lines.some((l) => l['msg'] === 'second signal during shutdown: exiting now'), 'one SIGTERM counted once');

    await assertAllPersisted(dbPath, batches);
    assert.equal((await stat(STAMP)).mtimeMs, stampBefore, 'no build ran: the stamp is untouched');
  } finally {
    try {
      process.kill(-child.process.pid!, 'SIGKILL');
    } catch {
      // The group has exited.
    }
    if (servicePid !== null && processRunning(servicePid)) process.kill(servicePid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

test('SIGTERM to the npm start process: the service drains every accepted write, exits with npm, and npm exits 0', { timeout: 600_000 }, async () => {
  await npmStartThenSigterm('npm');
});

test('SIGTERM to the whole process group (the service gets it directly and forwarded by npm): still one drain, exit 0', { timeout: 600_000 }, async () => {
  await npmStartThenSigterm('process group');
});
