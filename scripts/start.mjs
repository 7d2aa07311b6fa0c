// `npm start`: the billing-ingest service from dist/, compiled first only when dist/ is not a build of the
// sources as they are (scripts/build-state.mjs). The service runs in this very process (package.json
// `exec`s it in place of npm's shell), so the SIGTERM that npm forwards reaches the service's own
// handler: it drains and exits 0, and no process is left behind. Plain JavaScript: it runs before any build.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildState, OUT_DIR } from './build-state.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const FORWARDED_SIGNALS = ['SIGTERM', 'SIGINT'];

/** One JSON line in the service's log format, so that a log shipper reads these lines like the rest. */
function log(level, record) {
  const line = `${JSON.stringify({ time: new Date().toISOString(), level, service: 'billing-ingest', ...record })}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
}

/**
 * `npm run build` (tsc between the stamp's prebuild and postbuild), its output on stderr so stdout stays
 * JSON lines. A SIGTERM or SIGINT meanwhile stops the build and then this process, by that signal. The
 * build runs in a process group of its own and the signal goes to all of it: npm would pass it only to
 * its shell, which dies and leaves tsc running.
 */
function build() {
  const npm = process.env['npm_execpath'];
  const [command, args] = npm ? [process.execPath, [npm, 'run', 'build']] : ['npm', ['run', 'build']];
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 2, 2], detached: true });
  let stoppedBy = null;
  const forward = (signal) => {
    stoppedBy ??= signal;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group has already gone.
    }
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      if (stoppedBy !== null) {
        log('info', { msg: 'build stopped by signal; not starting', signal: stoppedBy });
        process.kill(process.pid, stoppedBy);
        return;
      }
      if (signal !== null) log('error', { msg: 'build killed', signal });
      resolve(code ?? 1);
    });
  });
}

const state = await buildState(root);
if (!state.current) {
  log('info', { msg: 'build is not current: building', reason: state.reason });
  const code = await build();
  if (code !== 0) {
    log('error', { msg: 'build failed; not starting', exit_code: code });
    process.exit(code);
  }
}
log('info', { msg: 'starting service', pid: process.pid, built: !state.current });
await import(pathToFileURL(join(root, OUT_DIR, 'src/service/main.js')).href);
