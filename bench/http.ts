// Load test of the billing-ingest service over loopback: the service runs in a child process exactly as
// `npm start` runs it, autocannon posts columnar bodies to POST /ingest, and once the background writes
// have drained the harness checks that the database holds every accepted row with the right per-user
// totals, then stops the service with SIGTERM. `runHttpBench` is the core; run as a script it prints a
// summary, writes a JSON result to bench/results/ and exits 1 when any check fails:
//   node dist/bench/http.js [--duration 10] [--connections 50] [--rows-per-request 1000] [--users 100] [--out DIR]

import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { rng } from './data.js';

const SERVICE_MAIN = fileURLToPath(new URL('../src/service/main.js', import.meta.url));
const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export interface HttpBenchOptions {
  /** Seconds of load; requests in flight at the end are answered before the load stops. */
  readonly durationS: number;
  readonly connections: number;
  readonly rowsPerRequest: number;
  /** Distinct user ids in the bodies (1..users). */
  readonly users?: number;
  /** Distinct pre-built bodies the connections cycle through. */
  readonly bodies?: number;
  /** Extra environment for the service (GPUFRAME_BACKEND, GPUFRAME_WORKERS, MAX_PENDING_WRITES, ...). */
  readonly serviceEnv?: Readonly<Record<string, string>>;
  /** How long to wait for the service's background writes after the load (default 120 s). */
  readonly drainTimeoutMs?: number;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}

export interface HttpBenchResult {
  readonly benchmark: 'http-ingest';
  readonly host: string;
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpu_model: string;
  readonly options: {
    readonly duration_s: number;
    readonly connections: number;
    readonly rows_per_request: number;
    readonly users: number;
    readonly bodies: number;
  };
  readonly service: { readonly backend: string; readonly adapter: string | null; readonly workers: number };
  readonly requests: {
    readonly sent: number;
    readonly answered: number;
    /** Sent but never answered (connection errors, timeouts): rows the service may hold that nobody saw accepted. */
    readonly unanswered: number;
    /** Every answer, 503s included, per second of load. */
    readonly per_s: number;
    readonly accepted: number;
    /** 202s per second of load. */
    readonly accepted_per_s: number;
    readonly non_2xx: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly status_codes: Readonly<Record<string, number>>;
  };
  /** Of the 202 answers only (503s from an overloaded write queue are fast and would flatter it). */
  readonly latency_ms: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly rows: {
    readonly accepted: number;
    readonly persisted: number;
    readonly accepted_per_s: number;
    /** Rows persisted per second from the start of the load until the last background write: the sustained rate. */
    readonly persisted_per_s: number;
  };
  readonly users: { readonly expected: number; readonly persisted: number; readonly mismatched: number };
  /** From the end of the load until /health reported no pending background task. */
  readonly drain_ms: number;
  readonly background_tasks: { readonly completed: number; readonly failed: number };
  readonly shutdown: { readonly exit_code: number | null; readonly signal: string | null; readonly ms: number };
  readonly ok: boolean;
  /** Every failed check, in words; empty when the run is consistent. */
  readonly problems: readonly string[];
  /** The service's last log lines, kept only when a check failed. */
  readonly service_log_tail?: readonly string[];
}

interface Totals {
  total: number;
  count: number;
}

interface IngestBody {
  readonly json: string;
  readonly rows: number;
  readonly perUser: ReadonlyMap<number, Totals>;
}

/**
 * Bodies of `rows` rows; amounts are multiples of 0.25 within ±1000, so every sum the service and this
 * harness form is exact in float64 whatever the order of addition, and totals compare exactly with the
 * service's decimal text.
 */
function makeBodies(count: number, rows: number, users: number, seed = 7): IngestBody[] {
  const random = rng(seed);
  return Array.from({ length: count }, () => {
    const userId = new Array<number>(rows);
    const amount = new Array<number>(rows);
    const perUser = new Map<number, Totals>();
    for (let i = 0; i < rows; i++) {
      const user = 1 + Math.floor(random() * users);
      const value = Math.round((random() * 2000 - 1000) * 4) / 4;
      userId[i] = user;
      amount[i] = value;
      const totals = perUser.get(user) ?? { total: 0, count: 0 };
      totals.total += value;
      totals.count += 1;
      perUser.set(user, totals);
    }
    return { json: JSON.stringify({ userId, amount }), rows, perUser };
  });
}

// autocannon 9 ships no type declarations; these describe the part of its API used here.
interface AutocannonRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly onResponse: (status: number, body: string) => void;
}
/**
 * autocannon's per-connection client. `reqsMade` and `responseMax` are internals (the fields behind its
 * `amount` option): a client whose `reqsMade` reaches `responseMax` closes after its current response.
 */
interface AutocannonClient {
  readonly reqsMade: number;
  responseMax: number | undefined;
}
interface AutocannonHistogram {
  readonly mean: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}
interface AutocannonResult {
  readonly latency: AutocannonHistogram;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
}
interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly timeout: number;
  readonly sampleInt: number;
  readonly excludeErrorStats: boolean;
  readonly requests: readonly AutocannonRequest[];
  readonly setupClient: (client: AutocannonClient) => void;
}
type Autocannon = (options: AutocannonOptions, done: (error: Error | null, result: AutocannonResult) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** Seconds autocannon waits for one response; also how long the end of the load can take. */
const REQUEST_TIMEOUT_S = 10;

interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logPath: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the service on a free loopback port. Its output goes to a file, not through this process, so
 * the per-request log lines cost the load generator nothing; the port comes from the 'listening' line.
 */
async function startService(dir: string, env: Readonly<Record<string, string>>): Promise<ServiceProcess> {
  const logPath = join(dir, 'service.log');
  const log = await open(logPath, 'w');
  const child = spawn(process.execPath, [SERVICE_MAIN], {
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', BILLING_DB_PATH: join(dir, 'billing.duckdb'), LOG_LEVEL: 'info' },
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const port = listeningPort(await readFile(logPath, 'utf8'));
    if (port !== null) return { child, url: `http://127.0.0.1:${port}`, logPath, exited };
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the service exited before listening (${describeExit(await exited)}):\n${await logTail(logPath)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service did not log 'listening' within 60 s:\n${await logTail(logPath)}`);
    }
    await sleep(50);
  }
}

function listeningPort(log: string): number | null {
  for (const line of log.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const record = JSON.parse(line) as { msg?: unknown; port?: unknown };
      if (record.msg === 'listening' && typeof record.port === 'number') return record.port;
    } catch {
      // A line that only mentions 'listening' is not the one.
    }
  }
  return null;
}

async function logTail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  return { status: response.status, body: await response.json() };
}

interface Health {
  readonly backend: { readonly in_use: string; readonly adapter: string | null };
  readonly pool: { readonly workers: number };
  readonly tasks: { readonly pending: number; readonly completed: number; readonly failed: number };
}

async function health(url: string): Promise<Health> {
  const { status, body } = await getJson(`${url}/health`);
  if (status !== 200) throw new Error(`GET /health answered ${status}: ${JSON.stringify(body)}`);
  return body as Health;
}

interface LoadOutcome {
  readonly result: AutocannonResult;
  readonly sent: number;
  readonly answered: number;
  readonly acceptedRows: number;
  /** 202s per body index. */
  readonly acceptedPerBody: readonly number[];
  readonly elapsedMs: number;
  readonly problems: readonly string[];
}

/**
 * Runs autocannon for `durationS`, then lets every connection finish the request it has in flight
 * instead of cutting it off: a cut-off request may still be accepted by the service, and its rows
 * would be persisted without this harness having counted them.
 */
function load(url: string, bodies: readonly IngestBody[], options: HttpBenchOptions): Promise<LoadOutcome> {
  const acceptedPerBody = bodies.map(() => 0);
  const problems: string[] = [];
  const clients: AutocannonClient[] = [];
  let answered = 0;
  let acceptedRows = 0;
  let lastAnswerAt = 0;
  const requests: AutocannonRequest[] = bodies.map((body, index) => ({
    method: 'POST',
    path: '/ingest',
    headers: { 'content-type': 'application/json' },
    body: body.json,
    onResponse(status: number, text: string) {
      answered++;
      lastAnswerAt = performance.now();
      if (status !== 202) return;
      let rows: unknown;
      try {
        rows = (JSON.parse(text) as { accepted_rows?: unknown }).accepted_rows;
      } catch {
        rows = undefined;
      }
      if (rows !== body.rows && problems.length < 10) problems.push(`a 202 for a body of ${body.rows} rows reported accepted_rows ${String(rows)}`);
      acceptedPerBody[index] = acceptedPerBody[index]! + 1;
      if (typeof rows === 'number') acceptedRows += rows;
    },
  }));
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const endLoad = setTimeout(() => {
      for (const client of clients) client.responseMax = client.reqsMade;
    }, options.durationS * 1000);
    autocannon(
      {
        url,
        connections: options.connections,
        // Only a backstop: the connections close on their own once their last request is answered or times out.
        duration: options.durationS + REQUEST_TIMEOUT_S + 5,
        timeout: REQUEST_TIMEOUT_S,
        // How often autocannon looks for the end of the run; its per-interval request counts are not used.
        sampleInt: 100,
        // Latency of 202s only: an overloaded service sheds load with fast 503s, which would hide how long an ingest takes.
        excludeErrorStats: true,
        requests,
        setupClient: (client) => void clients.push(client),
      },
      (error, result) => {
        clearTimeout(endLoad);
        if (error) {
          reject(error);
          return;
        }
        const sent = clients.reduce((sum, client) => sum + client.reqsMade, 0);
        resolve({ result, sent, answered, acceptedRows, acceptedPerBody, elapsedMs: (lastAnswerAt || performance.now()) - startedAt, problems });
      },
    );
  });
}

/** Waits until /health reports no pending background task (every accepted rollup written or failed). */
async function drain(url: string, timeoutMs: number): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // While MAX_PENDING_WRITES rollups wait, the service sheds every request, /health included.
    const state = await health(url).catch((error: unknown) => {
      if (error instanceof Error && error.message.includes('"overloaded"')) return null;
      throw error;
    });
    if (state?.tasks.pending === 0) return state;
    if (Date.now() > deadline)
      throw new Error(`background writes did not drain within ${timeoutMs} ms (${state ? state.tasks.pending : 'over MAX_PENDING_WRITES'} pending)`);
    await sleep(100);
  }
}

interface RollupRow {
  readonly user_id: number;
  /** The exact decimal text of the total (the service sums amounts as decimal(15, 2)). */
  readonly total: string;
  readonly count: number;
}

/** Compares /rollups with what the accepted bodies add up to; returns the problems found. */
function checkRollups(
  rollups: readonly RollupRow[],
  bodies: readonly IngestBody[],
  acceptedPerBody: readonly number[],
): { problems: string[]; expectedUsers: number; mismatched: number } {
  const expected = new Map<number, Totals>();
  bodies.forEach((body, index) => {
    const times = acceptedPerBody[index]!;
    if (times === 0) return;
    for (const [user, { total, count }] of body.perUser) {
      const entry = expected.get(user) ?? { total: 0, count: 0 };
      entry.total += total * times;
      entry.count += count * times;
      expected.set(user, entry);
    }
  });
  const problems: string[] = [];
  let mismatched = 0;
  const seen = new Set<number>();
  for (const row of rollups) {
    seen.add(row.user_id);
    const want = expected.get(row.user_id);
    // Quarter multiples sum exactly in float64, so the expected total's two-decimal text is exact too.
    if (want && want.total.toFixed(2) === row.total && want.count === row.count) continue;
    mismatched++;
    if (problems.length < 10)
      problems.push(
        `user ${row.user_id}: persisted total ${row.total} over ${row.count} rows, expected ${want ? `${want.total} over ${want.count}` : 'no rows'}`,
      );
  }
  for (const [user, want] of expected) {
    if (seen.has(user)) continue;
    mismatched++;
    if (problems.length < 10) problems.push(`user ${user}: nothing persisted, expected total ${want.total} over ${want.count} rows`);
  }
  return { problems, expectedUsers: expected.size, mismatched };
}

async function stopService(service: ServiceProcess): Promise<{ exit_code: number | null; signal: string | null; ms: number }> {
  const started = performance.now();
  service.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, 90_000, null)));
  const exit = await Promise.race([service.exited, timeout]);
  clearTimeout(timer);
  if (exit === null) {
    service.child.kill('SIGKILL');
    await service.exited;
    return { exit_code: null, signal: 'SIGKILL (no exit within 90 s of SIGTERM)', ms: Math.round(performance.now() - started) };
  }
  return { exit_code: exit.code, signal: exit.signal, ms: Math.round(performance.now() - started) };
}

export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchResult> {
  const users = options.users ?? 100;
  const bodyCount = options.bodies ?? 4;
  const progress = options.progress ?? (() => undefined);
  for (const [name, value] of [
    ['durationS', options.durationS],
    ['connections', options.connections],
    ['rowsPerRequest', options.rowsPerRequest],
    ['users', users],
    ['bodies', bodyCount],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
  const bodies = makeBodies(bodyCount, options.rowsPerRequest, users);
  const dir = await mkdtemp(join(tmpdir(), 'gpuframe-http-bench-'));
  try {
    const service = await startService(dir, options.serviceEnv ?? {});
    try {
      const before = await health(service.url);
      progress(
        `service at ${service.url} (${before.backend.in_use}, ${before.pool.workers} workers); ${options.connections} connections for ${options.durationS} s, ${options.rowsPerRequest} rows per request`,
      );
      const outcome = await load(service.url, bodies, options);
      progress(`load done: ${outcome.answered} answered; waiting for the background writes`);
      const drainStarted = performance.now();
      const after = await drain(service.url, options.drainTimeoutMs ?? 120_000);
      const drainMs = Math.round(performance.now() - drainStarted);
      const rollups = await getJson(`${service.url}/rollups`);
      if (rollups.status !== 200 || !Array.isArray(rollups.body))
        throw new Error(`GET /rollups answered ${rollups.status}: ${JSON.stringify(rollups.body).slice(0, 500)}`);
      const rows = rollups.body as RollupRow[];
      const persistedRows = rows.reduce((sum, row) => sum + row.count, 0);
      const check = checkRollups(rows, bodies, outcome.acceptedPerBody);
      const shutdown = await stopService(service);

      const { result } = outcome;
      const problems = [...outcome.problems];
      const unanswered = outcome.sent - outcome.answered;
      if (unanswered !== 0)
        problems.push(
          `${unanswered} requests were never answered (${result.errors} errors, ${result.timeouts} timeouts): the service may hold rows nobody saw accepted`,
        );
      if (persistedRows !== outcome.acceptedRows) problems.push(`rows persisted (${persistedRows}) != rows accepted (${outcome.acceptedRows})`);
      problems.push(...check.problems);
      if (after.tasks.failed > 0) problems.push(`${after.tasks.failed} background writes failed (their rollups are in the dead-letter folder)`);
      if (shutdown.exit_code !== 0)
        problems.push(`the service did not exit 0 on SIGTERM (exit code ${String(shutdown.exit_code)}, signal ${String(shutdown.signal)})`);
      const accepted = outcome.acceptedPerBody.reduce((sum, n) => sum + n, 0);
      const seconds = outcome.elapsedMs / 1000;
      const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
      return {
        benchmark: 'http-ingest',
        host: hostname(),
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model ?? 'unknown',
        options: { duration_s: options.durationS, connections: options.connections, rows_per_request: options.rowsPerRequest, users, bodies: bodyCount },
        service: { backend: before.backend.in_use, adapter: before.backend.adapter, workers: before.pool.workers },
        requests: {
          sent: outcome.sent,
          answered: outcome.answered,
          unanswered,
          per_s: round(outcome.answered / seconds),
          accepted,
          accepted_per_s: round(accepted / seconds),
          non_2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          status_codes: statusCodes,
        },
        latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
        rows: {
          accepted: outcome.acceptedRows,
          persisted: persistedRows,
          accepted_per_s: round(outcome.acceptedRows / seconds),
          persisted_per_s: round(persistedRows / (seconds + drainMs / 1000)),
        },
        users: { expected: check.expectedUsers, persisted: rows.length, mismatched: check.mismatched },
        drain_ms: drainMs,
        background_tasks: { completed: after.tasks.completed, failed: after.tasks.failed },
        shutdown,
        ok: problems.length === 0,
        problems,
        ...(problems.length > 0 ? { service_log_tail: (await logTail(service.logPath)).split('\n') } : {}),
      };
    } finally {
      if (service.child.exitCode === null && service.child.signalCode === null) {
        service.child.kill('SIGKILL');
        await service.exited;
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Writes the result as `http-<host>-<date>.json` under `dir` and returns the file's path. */
export async function writeResult(result: HttpBenchResult, dir = DEFAULT_RESULTS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = result.date.replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const safeHost = result.host.replace(/[^A-Za-z0-9_.-]/g, '_');
  const path = join(dir, `http-${safeHost}-${stamp}.json`);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function formatSummary(result: HttpBenchResult): string {
  const { requests, latency_ms: latency, rows } = result;
  const lines: [string, string][] = [
    ['requests/s (all / 202)', `${requests.per_s} / ${requests.accepted_per_s}`],
    [
      'requests answered',
      `${requests.answered} (202: ${requests.accepted}, non-2xx: ${requests.non_2xx}, errors: ${requests.errors}, timeouts: ${requests.timeouts})`,
    ],
    ['202 latency p50/p90/p99/max', `${latency.p50} / ${latency.p90} / ${latency.p99} / ${latency.max} ms`],
    ['rows accepted / persisted', `${rows.accepted} / ${rows.persisted}`],
    ['rows/s accepted (load)', `${rows.accepted_per_s}`],
    ['rows/s persisted (load+drain)', `${rows.persisted_per_s}`],
    ['users checked', `${result.users.expected} expected, ${result.users.persisted} persisted, ${result.users.mismatched} mismatched`],
    ['drain after load', `${result.drain_ms} ms`],
    ['SIGTERM', `exit code ${String(result.shutdown.exit_code)} after ${result.shutdown.ms} ms`],
  ];
  const width = Math.max(...lines.map(([label]) => label.length));
  const head = `http-ingest on ${result.host} (${result.cpus} x ${result.cpu_model}, node ${result.node}, engine ${result.service.backend}): ${result.options.connections} connections, ${result.options.duration_s} s, ${result.options.rows_per_request} rows/request`;
  return [head, ...lines.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      'rows-per-request': { type: 'string', default: '1000' },
      users: { type: 'string', default: '100' },
      out: { type: 'string', default: DEFAULT_RESULTS_DIR },
    },
    strict: true,
  });
  const result = await runHttpBench({
    durationS: Number(values.duration),
    connections: Number(values.connections),
    rowsPerRequest: Number(values['rows-per-request']),
    users: Number(values.users),
    progress: (line) => {
      console.log(line);
    },
  });
  console.log(`\n${formatSummary(result)}`);
  console.log(`\nresult: ${await writeResult(result, values.out)}`);
  if (!result.ok) {
    console.error(`\nHTTP BENCHMARK FAILED its consistency checks:\n  ${result.problems.join('\n  ')}`);
    if (result.service_log_tail) console.error(`\nservice log (last lines):\n${result.service_log_tail.join('\n')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
