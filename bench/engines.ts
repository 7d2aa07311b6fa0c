// The engines of the group-by benchmark behind one interface: load the Arrow table, run a question
// (materialising its answer the engine's own way, which is what gets timed), then hand the answer to the
// checker. gpuframe runs on its CPU engine and, where Dawn finds an adapter, its WebGPU engine.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DuckDBDataChunk, DuckDBDoubleType, DuckDBInstance, DuckDBIntegerType, DuckDBVarCharType, type DuckDBConnection } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { createExecutor, type Executor } from '../src/index.js';
import type { ArqueroRequest, ArqueroResponse, ArqueroWorkerData } from './arquero-worker.js';
import { numbersFromArrow, stringAsNumber, type Answer } from './check.js';
import type { LoadedTable } from './datagen.js';
import { GroupByTable, type GroupByQuery } from './groupby-queries.js';

export const ENGINE_NAMES = ['duckdb', 'gpuframe-cpu', 'gpuframe-webgpu', 'arquero'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** One run's answer, kept by the engine until the checker has read it. */
export interface RunResult {
  answer(): Promise<Answer>;
  dispose(): Promise<void>;
}

export interface Engine {
  readonly name: EngineName;
  /** What ran: version, threads, adapter. */
  readonly label: string;
  load(data: LoadedTable): Promise<void>;
  run(query: GroupByQuery): Promise<RunResult>;
  /** Where each operator of the question ran, for engines that choose per operator. */
  placement?(query: GroupByQuery): Promise<string>;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** Threads for DuckDB and workers for gpuframe's CPU engine. */
  readonly threads: number;
  /** Engines that can stop a question (Arquero) stop it after this long and throw QueryTimeoutError. */
  readonly maxQueryMs: number;
}

export type EngineOrUnavailable = Engine | { readonly name: EngineName; readonly unavailable: string };

export async function createEngine(name: EngineName, options: EngineOptions): Promise<EngineOrUnavailable> {
  switch (name) {
    case 'duckdb':
      return DuckDbEngine.create(options.threads);
    case 'gpuframe-cpu':
      return new GpuframeEngine(name, createExecutor({ backend: 'cpu', maxWorkers: options.threads }), `gpuframe CPU engine, ${options.threads} workers`);
    case 'gpuframe-webgpu':
      return GpuframeEngine.webgpu(options.threads);
    case 'arquero':
      return new ArqueroEngine(options.maxQueryMs);
  }
}

function answerFromArrow(table: arrow.Table): Answer {
  const columns = new Map<string, Float64Array>();
  for (const name of table.schema.fields.map((f) => f.name)) columns.set(name, numbersFromArrow(table.getChild(name)!));
  return { rows: table.numRows, columns };
}

class GpuframeEngine implements Engine {
  private frame: GroupByTable | null = null;

  constructor(
    readonly name: EngineName,
    private readonly executor: Executor,
    readonly label: string,
  ) {}

  /** The WebGPU engine, or why there is none; the label names the adapter (llvmpipe is a software one). */
  static async webgpu(threads: number): Promise<EngineOrUnavailable> {
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: threads });
    try {
      const adapter = await executor.warmUp();
      if (!adapter) throw new Error('no WebGPU adapter');
      const software = adapter.architecture === 'software' || adapter.isFallbackAdapter ? ', software adapter' : '';
      return new GpuframeEngine(
        'gpuframe-webgpu',
        executor,
        `gpuframe WebGPU engine on ${adapter.description || adapter.device} (${adapter.vendor}${software}); CPU fallback ${threads} workers`,
      );
    } catch (error) {
      await executor.close();
      return { name: 'gpuframe-webgpu', unavailable: (error as Error).message };
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- implements the async Engine interface; this engine loads synchronously
  async load(data: LoadedTable): Promise<void> {
    this.frame = GroupByTable.fromArrow(data.table, { trustedMode: 'strict' });
  }

  async run(query: GroupByQuery): Promise<RunResult> {
    if (!this.frame) throw new Error('load() first');
    const table = await query.gpuframe(this.frame).toArrow({ executor: this.executor });
    // eslint-disable-next-line @typescript-eslint/require-await -- implements the async Answer interface; the answer is already in memory
    return { answer: async () => answerFromArrow(table), dispose: async () => {} };
  }

  /** `aggregate on webgpu, source on cpu`, from one more run under explainAnalyze. */
  async placement(query: GroupByQuery): Promise<string> {
    if (!this.frame) throw new Error('load() first');
    const text = await query.gpuframe(this.frame).explainAnalyze({ executor: this.executor });
    return text
      .split('\n')
      .map((line) => /^\s*(\w+).*\[(cpu|webgpu) [\d.]+ ms\]$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => `${String(m[1])} on ${String(m[2])}`)
      .join(', ');
  }

  async close(): Promise<void> {
    this.frame = null;
    await this.executor.close();
  }
}

/**
 * DuckDB in memory, set up as db-benchmark's groupby-duckdb.R does: rows appended into `y` (VARCHAR ids),
 * id1 and id2 turned into ENUMs in `x`. v3 is DOUBLE here (the script uses FLOAT) so that every engine
 * sums the same values. A question is timed as `CREATE TEMP TABLE ans AS <query>`, as in the script.
 */
class DuckDbEngine implements Engine {
  readonly name = 'duckdb';

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly label: string,
  ) {}

  static async create(threads: number): Promise<DuckDbEngine> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`SET threads = ${threads}`);
    await connection.run('SET enable_progress_bar = false');
    const version = (await connection.runAndReadAll('SELECT version()')).getRows()[0]?.[0];
    return new DuckDbEngine(instance, connection, `DuckDB ${String(version)}, ${threads} threads`);
  }

  async load(data: LoadedTable): Promise<void> {
    const c = this.connection;
    await c.run('CREATE TABLE y (id1 VARCHAR, id2 VARCHAR, id3 VARCHAR, id4 INTEGER, id5 INTEGER, id6 INTEGER, v1 INTEGER, v2 INTEGER, v3 DOUBLE)');
    await appendArrowTable(c, 'y', data.table);
    await c.run('CREATE TYPE id1ENUM AS ENUM (SELECT id1 FROM y WHERE id1 IS NOT NULL)');
    await c.run('CREATE TYPE id2ENUM AS ENUM (SELECT id2 FROM y WHERE id2 IS NOT NULL)');
    await c.run('CREATE TABLE x (id1 id1ENUM, id2 id2ENUM, id3 VARCHAR, id4 INTEGER, id5 INTEGER, id6 INTEGER, v1 INTEGER, v2 INTEGER, v3 DOUBLE)');
    await c.run('INSERT INTO x (SELECT * FROM y)');
    await c.run('DROP TABLE y');
  }

  async run(query: GroupByQuery): Promise<RunResult> {
    await this.connection.run(`CREATE TEMP TABLE ans AS ${query.sql}`);
    return {
      answer: () => this.readAnswer(),
      dispose: async () => {
        await this.connection.run('DROP TABLE IF EXISTS ans');
      },
    };
  }

  private async readAnswer(): Promise<Answer> {
    const result = await this.connection.run('SELECT * FROM ans');
    const names = result.columnNames();
    const rows = result.rowCount;
    const columns = names.map(() => new Float64Array(rows));
    const strings = new Map<string, number>();
    let base = 0;
    for (let c = 0; c < result.chunkCount; c++) {
      const chunk = result.getChunk(c);
      for (let k = 0; k < names.length; k++) {
        const vector = chunk.getColumnVector(k);
        const out = columns[k]!;
        // Strings repeat: convert each distinct one once.
        for (let i = 0; i < chunk.rowCount; i++) {
          const value = vector.getItem(i);
          if (typeof value === 'string') {
            let n = strings.get(value);
            if (n === undefined) strings.set(value, (n = stringAsNumber(value)));
            out[base + i] = n;
          } else {
            out[base + i] = value === null ? NaN : typeof value === 'number' || typeof value === 'bigint' ? Number(value) : NaN;
          }
        }
      }
      base += chunk.rowCount;
    }
    return { rows, columns: new Map(names.map((n, k) => [n, columns[k]!])) };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- implements the async Engine interface; nothing to close
  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const APPEND_CHUNK_ROWS = 2048;

/** Appends every row of an Arrow table (dictionary strings, int32, float64) through DuckDB's appender. */
async function appendArrowTable(connection: DuckDBConnection, table: string, data: arrow.Table): Promise<void> {
  const fields = data.schema.fields;
  const types = fields.map((f) =>
    arrow.DataType.isDictionary(f.type) || arrow.DataType.isUtf8(f.type)
      ? DuckDBVarCharType.instance
      : arrow.DataType.isFloat(f.type)
        ? DuckDBDoubleType.instance
        : DuckDBIntegerType.instance,
  );
  // Flattened once: every column as values indexed by row (strings through their dictionary).
  const columns = fields.map((f) => flatColumn(data.getChild(f.name)!));
  const appender = await connection.createAppender(table);
  const chunk = DuckDBDataChunk.create(types, APPEND_CHUNK_ROWS);
  for (let start = 0; start < data.numRows; start += APPEND_CHUNK_ROWS) {
    const length = Math.min(APPEND_CHUNK_ROWS, data.numRows - start);
    chunk.reset();
    chunk.rowCount = length;
    for (let k = 0; k < columns.length; k++) {
      const vector = chunk.getColumnVector(k);
      const column = columns[k]!;
      if (column.kind === 'dictionary') {
        for (let i = 0; i < length; i++) vector.setItem(i, column.labels[column.codes[start + i]!]!);
      } else {
        for (let i = 0; i < length; i++) vector.setItem(i, column.values[start + i]!);
      }
      vector.flush();
    }
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
}

type FlatColumn = { kind: 'dictionary'; codes: Int32Array; labels: string[] } | { kind: 'numbers'; values: ArrayLike<number> };

function flatColumn(vector: arrow.Vector): FlatColumn {
  if (vector.data.length !== 1) throw new Error('expected a single-batch Arrow column');
  const data = vector.data[0]!;
  if (arrow.DataType.isDictionary(data.type) && data.dictionary) {
    return { kind: 'dictionary', codes: data.values as Int32Array, labels: data.dictionary.toArray() as string[] };
  }
  return { kind: 'numbers', values: data.values as ArrayLike<number> };
}

/** A question that ran past the time limit and was stopped. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
}

/**
 * Arquero over the same Arrow IPC bytes, decoded by Arquero's own Arrow reader (flechette) as its
 * documentation recommends (an arrow-js Table also works, but was slower on most questions here). It
 * runs in a worker thread (bench/arquero-worker.ts) so that a question past `maxQueryMs` can be stopped;
 * the thread is then gone and every later question is refused.
 */
class ArqueroEngine implements Engine {
  readonly name = 'arquero';
  readonly label = `Arquero ${(createRequire(import.meta.url)('arquero/package.json') as { version: string }).version} (single-threaded, in a worker thread)`;
  private worker: Worker | null = null;
  private stopped: string | null = null;

  constructor(private readonly maxQueryMs: number) {}

  async load(data: LoadedTable): Promise<void> {
    const bytes = data.bytes.slice().buffer;
    const workerData: ArqueroWorkerData = { bytes };
    this.worker = new Worker(new URL('./arquero-worker.js', import.meta.url), { workerData, transferList: [bytes] });
    await this.request(null, Infinity);
  }

  async run(query: GroupByQuery): Promise<RunResult> {
    await this.request({ kind: 'run', query: query.id }, this.maxQueryMs);
    return {
      answer: async () => {
        const response = await this.request({ kind: 'answer' }, Infinity);
        if (response.kind !== 'answer') throw new Error(`unexpected ${response.kind}`);
        return { rows: response.rows, columns: new Map(response.columns) };
      },
      dispose: async () => {},
    };
  }

  /** Sends a request (or none, to wait for `ready`) and waits for the reply, stopping the worker at the deadline. */
  private request(message: ArqueroRequest | null, limitMs: number): Promise<ArqueroResponse> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error(this.stopped ?? 'load() first'));
    return new Promise<ArqueroResponse>((resolve, reject) => {
      const timer = Number.isFinite(limitMs)
        ? setTimeout(() => {
            this.stopped = `stopped after ${limitMs / 1000} s`;
            this.worker = null;
            cleanup();
            void worker.terminate();
            reject(new QueryTimeoutError(this.stopped));
          }, limitMs)
        : null;
      const onMessage = (response: ArqueroResponse): void => {
        cleanup();
        if (response.kind === 'error') reject(new Error(response.message));
        else resolve(response);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError);
      };
      worker.on('message', onMessage).on('error', onError);
      if (message) worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}
