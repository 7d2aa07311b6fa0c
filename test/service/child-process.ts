// A process the service tests start (the service itself, or `npm start`), with its stdout and stderr read
// as log lines (JSON where they are JSON, { msg: 'raw', text } otherwise) and a wait for a given line.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LoggedProcess {
  readonly process: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function spawnLogged(command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio'> = {}): LoggedProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const onLine = (text: string): void => {
    let line: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      line = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { msg: 'raw', text };
    } catch {
      line = { msg: 'raw', text };
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  return {
    process: child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 30_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`timed out waiting for a log line; saw:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`));
        }, timeoutMs);
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/**
 * Whether the process with this id is still running. A zombie (exited, not yet reaped, as an orphan may
 * stay where the init process does not reap) counts as gone; /proc tells them apart on Linux.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    // The state is the first field after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // Gone between the two looks, or a system without /proc, where a zombie cannot be told apart.
    return process.platform !== 'linux';
  }
}
