// `npm run bench -- --rows 1e7`: the db-benchmark group-by questions on DuckDB, gpuframe's CPU engine,
// gpuframe's WebGPU engine (where Dawn finds an adapter) and Arquero, from one Arrow file. Each engine
// loads the data (timed apart), runs every question twice (as db-benchmark does), and every answer is
// checked against DuckDB's; a disagreement or an error exits 1. Results go to bench/results/ as JSON + SVG.
// Options: --rows N (1e6), --seed S (108), --engines a,b, --queries q1,q3, --out dir, --max-query-s 60.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksumAnswer, compareChecksums, describeDisagreement, RELATIVE_TOLERANCE, type AnswerChecksum } from './check.js';
import { DEFAULT_SEED, K, loadGroupByTable, parseCount, type LoadedTable } from './datagen.js';
import { createEngine, ENGINE_NAMES, QueryTimeoutError, type Engine, type EngineName } from './engines.js';
import { selectQueries, type GroupByQuery, type QueryId } from './groupby-queries.js';
import { formatTable, rowsLabel, svgChart, type BenchRecord, type EngineResult, type QueryResult, type RunOutcome } from './report.js';

const RUNS = 2;
const DEFAULT_OUT = fileURLToPath(new URL('../../bench/results/', import.meta.url));

export interface BenchOptions {
  readonly rows: number;
  readonly seed: number;
  readonly engines: readonly EngineName[];
  readonly queries: readonly GroupByQuery[];
  readonly out: string | null;
  /** An engine (other than the reference) whose single run takes longer is not run again at this size. */
  readonly maxQueryMs: number;
  readonly threads: number;
}

function parseOptions(argv: readonly string[]): BenchOptions {
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0 && argv[i + 1] === undefined) throw new RangeError(`--${name} needs a value`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = new Set(['--rows', '--seed', '--engines', '--queries', '--out', '--max-query-s']);
  const stray = argv.filter((a, i) => a.startsWith('--') && !known.has(a) && !known.has(argv[i - 1] ?? ''));
  if (stray.length > 0) throw new RangeError(`unknown option ${stray.join(' ')}`);
  const engineSpec = option('engines');
  const engines = engineSpec === undefined ? [...ENGINE_NAMES] : engineSpec.split(',').map((s) => s.trim());
  const unknown = engines.filter((e) => !(ENGINE_NAMES as readonly string[]).includes(e));
  if (unknown.length > 0) throw new RangeError(`--engines: unknown ${unknown.join(', ')} (${ENGINE_NAMES.join(', ')})`);
  return {
    rows: parseCount(option('rows') ?? '1e6', 'rows'),
    seed: parseCount(option('seed') ?? String(DEFAULT_SEED), 'seed'),
    engines: engines as EngineName[],
    queries: selectQueries(option('queries')),
    out: option('out') ?? DEFAULT_OUT,
    maxQueryMs: Number(option('max-query-s') ?? 60) * 1000,
    threads: os.availableParallelism(),
  };
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

type Progress = (line: string) => void;

/**
 * Runs every selected engine over the data. DuckDB always runs first, whether selected or not: its
 * answers are the reference every other answer is checked against.
 */
export async function runBenchmark(
  options: BenchOptions,
  data: LoadedTable,
  log: Progress = console.log,
): Promise<{ engines: EngineResult[]; failures: number }> {
  const order: EngineName[] = ['duckdb', ...ENGINE_NAMES.filter((n) => n !== 'duckdb' && options.engines.includes(n))];
  const reference = new Map<QueryId, AnswerChecksum>();
  const results: EngineResult[] = [];
  let failures = 0;
  for (const name of order) {
    const created = await createEngine(name, { threads: options.threads, maxQueryMs: options.maxQueryMs });
    if ('unavailable' in created) {
      log(`${name}: unavailable (${created.unavailable})`);
      results.push({ name, label: name, unavailable: created.unavailable, queries: [] });
      continue;
    }
    const engine: Engine = created;
    const loadAverage: { before: number; after?: number } = { before: os.loadavg()[0]! };
    const result: EngineResult = { name, label: engine.label, loadAverage, queries: [] };
    results.push(result);
    try {
      collectGarbage();
      const t0 = performance.now();
      await engine.load(data);
      result.loadMs = performance.now() - t0;
      log(`${name}: ${engine.label}; loaded in ${result.loadMs.toFixed(0)} ms`);
      let skipReason: string | null = null;
      for (const query of options.queries) {
        const entry: QueryResult = { id: query.id, question: query.question, runs: [] };
        result.queries.push(entry);
        for (let run = 1; run <= RUNS; run++) {
          if (skipReason) {
            entry.runs.push({ check: 'skipped', reason: skipReason });
            continue;
          }
          const outcome = await timedRun(engine, query, reference, run);
          entry.runs.push(outcome);
          if (outcome.check === 'skipped') {
            skipReason = `${query.id} run ${run}: ${outcome.reason}`;
            log(`  ${name}: ${skipReason}; skipping the rest at this size`);
            continue;
          }
          if (outcome.check === 'failed' || outcome.check === 'error') failures++;
          log(`  ${name} ${query.id} run ${run}: ${describeOutcome(outcome)}`);
          if (name !== 'duckdb' && 'ms' in outcome && outcome.ms > options.maxQueryMs) {
            skipReason = `${query.id} run ${run} took ${(outcome.ms / 1000).toFixed(1)} s > ${options.maxQueryMs / 1000} s`;
            log(`  ${name}: skipping the rest at this size (${skipReason})`);
          }
        }
        if (engine.placement && name === 'gpuframe-webgpu' && !skipReason && entry.runs.every((r) => r.check === 'ok')) {
          entry.placement = await engine.placement(query).catch((error: unknown) => `explainAnalyze failed: ${(error as Error).message}`);
          log(`  ${name} ${query.id} ran: ${entry.placement}`);
        }
      }
    } finally {
      loadAverage.after = os.loadavg()[0]!;
      await engine.close();
    }
  }
  return { engines: results, failures };
}

async function timedRun(engine: Engine, query: GroupByQuery, reference: Map<QueryId, AnswerChecksum>, run: number): Promise<RunOutcome> {
  collectGarbage();
  const t0 = performance.now();
  let result;
  try {
    result = await engine.run(query);
  } catch (error) {
    if (error instanceof QueryTimeoutError) return { check: 'skipped', reason: error.message };
    return { check: 'error', error: (error as Error).stack ?? String(error) };
  }
  const ms = performance.now() - t0;
  try {
    const checksum = checksumAnswer(await result.answer(), query);
    const expected = reference.get(query.id);
    if (engine.name === 'duckdb' && run === 1) {
      reference.set(query.id, checksum);
      return { ms, rows: checksum.rows, check: 'reference' };
    }
    if (!expected) return { check: 'error', error: 'no reference answer from DuckDB' };
    const disagreements = compareChecksums(expected, checksum, query).map(describeDisagreement);
    return disagreements.length === 0 ? { ms, rows: checksum.rows, check: 'ok' } : { ms, rows: checksum.rows, check: 'failed', disagreements };
  } finally {
    await result.dispose();
  }
}

function describeOutcome(outcome: RunOutcome): string {
  switch (outcome.check) {
    case 'reference':
      return `${outcome.ms.toFixed(1)} ms, ${outcome.rows} rows (reference)`;
    case 'ok':
      return `${outcome.ms.toFixed(1)} ms, ${outcome.rows} rows, agrees with DuckDB`;
    case 'failed':
      return `${outcome.ms.toFixed(1)} ms, ${outcome.rows} rows, DISAGREES WITH DUCKDB:\n      ${outcome.disagreements.join('\n      ')}`;
    case 'error':
      return `ERROR ${outcome.error}`;
    case 'skipped':
      return `skipped (${outcome.reason})`;
  }
}

function hostInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

function fileStem(record: BenchRecord): string {
  const engines = record.engines
    .filter((e) => !e.unavailable)
    .map((e) => e.name)
    .join('+');
  const host = String(record.host['hostname']).replace(/[^\w.-]+/g, '_');
  const stamp = record.date.slice(0, 16).replace(/:/g, '');
  return `groupby-${rowsLabel(record.rows)}-${host}-${engines}-${stamp}`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const host = hostInfo();
  console.log(
    `db-benchmark group-by: N = ${options.rows.toLocaleString()}, K = ${K}, seed ${options.seed}; ${String(host['cores'])} cores (${String(host['cpu'])}), node ${process.version}`,
  );
  const data = loadGroupByTable(options.rows, options.seed);
  console.log(`data: ${data.cached ? 'read from' : 'generated into'} ${data.path} in ${data.ms.toFixed(0)} ms`);
  const { engines, failures } = await runBenchmark(options, data);
  const record: BenchRecord = {
    benchmark: 'db-benchmark groupby',
    rows: options.rows,
    k: K,
    seed: options.seed,
    date: new Date().toISOString(),
    host,
    data: { path: data.path, cached: data.cached, ms: data.ms },
    tolerances: RELATIVE_TOLERANCE,
    engines,
    failures,
  };
  console.log(`\n${formatTable(record)}`);
  if (options.out) {
    mkdirSync(options.out, { recursive: true });
    const stem = join(options.out, fileStem(record));
    writeFileSync(`${stem}.json`, `${JSON.stringify(record, null, 2)}\n`);
    writeFileSync(`${stem}.svg`, svgChart(record));
    console.log(`\nwritten: ${stem}.json, ${stem}.svg`);
  }
  if (failures > 0) {
    console.error(`\n${failures} run(s) disagreed with DuckDB or failed: see the lines marked above`);
    for (const e of engines)
      for (const q of e.queries)
        q.runs.forEach((r, i) => {
          if (r.check === 'failed') console.error(`  ${e.name} ${q.id} run ${i + 1}:\n    ${r.disagreements.join('\n    ')}`);
          if (r.check === 'error') console.error(`  ${e.name} ${q.id} run ${i + 1}: ${String(r.error.split('\n')[0])}`);
        });
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
