// Persistence of the billing-ingest service: per-user rollups accumulated in an embedded DuckDB file,
// with a ledger of batches that makes every write idempotent, and a dead-letter folder for batches that
// could not be written. Knows nothing about HTTP or frames; the service hands it plain columns.

import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  BIGINT,
  DECIMAL,
  decimalValue,
  DuckDBDataChunk,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBVector,
  INTEGER,
  TIMESTAMP,
  timestampValue,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { z } from 'zod';
import { GpuframeError } from '../errors.js';
import { fitsPrecision, formatDecimal, numberToDecimal, parseDecimal } from '../model/decimal.js';
import { AMOUNT_SCALE } from './models.js';

/** One accepted request's rollup, as the service hands it over for persistence. */
export interface RollupBatch {
  /** Unique per accepted request (a uuid made by the service): the idempotency key. */
  readonly batchId: string;
  /** The HTTP request id, kept for audit only: clients may repeat it, so nothing dedupes on it. */
  readonly requestId: string;
  /** Rows the request carried; must equal the sum of `counts`. */
  readonly acceptedRows: number;
  /** Distinct int32 user ids. */
  readonly userIds: ArrayLike<number>;
  /**
   * Exact sum of amounts per user, aligned with `userIds`: decimal text ("17.30"), or a number taken by its
   * shortest round-trip text (0.1 is 0.1); at most two fraction digits, as amounts have.
   */
  readonly totals: ArrayLike<string | number>;
  /** Row count per user, aligned with `userIds`. */
  readonly counts: ArrayLike<number>;
}

/**
 * A user's totals accumulated over every persisted batch: `total` is the exact sum as decimal text with two
 * fraction digits ("17.30"); `mean` (a float64) is NaN for a user with no rows.
 */
export interface RollupRow {
  readonly user_id: number;
  readonly total: string;
  readonly count: number;
  readonly mean: number;
}

export interface BillingStoreOptions {
  /** DuckDB worker threads (default: DuckDB's own, the machine's cores). */
  readonly threads?: number;
  /** Where `deadLetter` writes (default `<path>.dead-letter`; for ':memory:' a fresh folder under the OS temp dir). */
  readonly deadLetterDir?: string;
}

/** `persist`, `rollups` and the rest were called after `close`. */
export class BillingStoreClosedError extends GpuframeError {
  constructor() {
    super('store_closed', 'the billing store is closed', 503, true);
  }
}

/** Totals are exact: DECIMAL(38, 2) holds the sum of 2^53 amounts of up to MAX_AMOUNT, to the cent. */
const TOTAL_PRECISION = 38;
const TOTAL_SQL = `DECIMAL(${TOTAL_PRECISION}, ${AMOUNT_SCALE})`;
const TOTAL = DECIMAL(TOTAL_PRECISION, AMOUNT_SCALE);

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS rollups (user_id INTEGER PRIMARY KEY, total ${TOTAL_SQL} NOT NULL, count BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS batches (batch_id VARCHAR PRIMARY KEY, request_id VARCHAR NOT NULL, "rows" BIGINT NOT NULL,
     users INTEGER NOT NULL, total ${TOTAL_SQL} NOT NULL, persisted_at TIMESTAMP NOT NULL)`,
];

/** Files written before totals were exact hold them as DOUBLE; they move to DECIMAL, rounded to the cent, once. */
const DOUBLE_TOTALS = "SELECT table_name FROM information_schema.columns WHERE column_name = 'total' AND data_type = 'DOUBLE' AND table_schema = 'main'";

// A temporary table lives in memory, per connection, so staging a million users costs no disk writes;
// rows appended to it inside the transaction roll back with it.
const STAGING_TABLE = 'billing_staging';
const STAGING_TYPES = [INTEGER, TOTAL, BIGINT];
const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS ${STAGING_TABLE} (user_id INTEGER NOT NULL, total ${TOTAL_SQL} NOT NULL, count BIGINT NOT NULL)`;

const INSERT_LEDGER = `INSERT INTO batches (batch_id, request_id, "rows", users, total, persisted_at)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (batch_id) DO NOTHING`;
const LEDGER_TYPES = [VARCHAR, VARCHAR, BIGINT, INTEGER, TOTAL, TIMESTAMP];
const UPSERT_ROLLUPS = `INSERT INTO rollups (user_id, total, count) SELECT user_id, total, count FROM temp.${STAGING_TABLE}
  ON CONFLICT (user_id) DO UPDATE SET total = total + excluded.total, count = count + excluded.count`;
const CLEAR_STAGING = `DELETE FROM temp.${STAGING_TABLE}`;

// Batch ids name dead-letter files, so they are held to characters that are safe in a file name.
const BATCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const DEAD_LETTER_SUFFIX = '.json';

// Two DuckDB instances on one file in one process both open it without complaint and then corrupt it.
const openFiles = new Set<string>();

/** A batch after validation, copied so that a caller reusing its arrays cannot change a queued write. */
interface CheckedBatch {
  readonly batchId: string;
  readonly requestId: string;
  readonly acceptedRows: number;
  readonly userIds: Int32Array;
  /** Unscaled totals: cents. */
  readonly totals: readonly bigint[];
  readonly counts: Float64Array;
  readonly total: bigint;
}

const deadLetterFile = z.object({
  batchId: z.string(),
  requestId: z.string(),
  acceptedRows: z.number(),
  userIds: z.array(z.number()),
  // Exact text since totals became decimals; an older letter holds float64 totals.
  totals: z.array(z.union([z.string(), z.number()])),
  counts: z.array(z.number()),
});

/** Runs tasks one after another; a failed task does not stop the ones queued behind it. */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Settles once every task queued so far has. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * The service's database. Writes go through one connection, one at a time, so concurrent `persist` calls
 * are safe; reads use a second connection and see only committed batches. One store per file per process.
 */
export class BillingStore {
  /** The database file, or ':memory:'. */
  readonly path: string;
  /** The folder `deadLetter` writes to and `replayDeadLetters` reads. */
  readonly deadLetterDir: string;
  private readonly instance: DuckDBInstance;
  private readonly writer: DuckDBConnection;
  private readonly reader: DuckDBConnection;
  private readonly writes = new SerialQueue();
  // Reads are queued too, though DuckDB would take them concurrently, so that close can wait for them.
  private readonly reads = new SerialQueue();
  private closing: Promise<void> | undefined;

  private constructor(path: string, deadLetterDir: string, instance: DuckDBInstance, writer: DuckDBConnection, reader: DuckDBConnection) {
    this.path = path;
    this.deadLetterDir = deadLetterDir;
    this.instance = instance;
    this.writer = writer;
    this.reader = reader;
  }

  /** Opens (creating the file, its folder and the tables if missing) a database file, or ':memory:'. */
  static async open(path: string, options: BillingStoreOptions = {}): Promise<BillingStore> {
    const memory = path === ':memory:' || path === '';
    const location = memory ? ':memory:' : resolve(path);
    const config: Record<string, string> = {};
    if (options.threads !== undefined) {
      if (!Number.isSafeInteger(options.threads) || options.threads < 1) throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
      config['threads'] = String(options.threads);
    }
    const deadLetterDir =
      options.deadLetterDir !== undefined
        ? resolve(options.deadLetterDir)
        : memory
          ? join(tmpdir(), `billing-dead-letter-${randomUUID()}`)
          : `${location}.dead-letter`;
    if (!memory) {
      if (openFiles.has(location)) throw new Error(`${location} is already open in this process; close that store first`);
      openFiles.add(location);
    }
    const connections: DuckDBConnection[] = [];
    let instance: DuckDBInstance | undefined;
    try {
      if (!memory) await mkdir(dirname(location), { recursive: true });
      instance = await DuckDBInstance.create(location, config);
      const writer = await instance.connect();
      connections.push(writer);
      const reader = await instance.connect();
      connections.push(reader);
      for (const statement of SCHEMA) await writer.run(statement);
      const legacy = await writer.runAndReadAll(DOUBLE_TOTALS);
      for (const [table] of legacy.getRows()) await writer.run(`ALTER TABLE ${String(table)} ALTER COLUMN total SET DATA TYPE ${TOTAL_SQL}`);
      await writer.run(CREATE_STAGING);
      return new BillingStore(location, deadLetterDir, instance, writer, reader);
    } catch (error) {
      for (const connection of connections) connection.closeSync();
      instance?.closeSync();
      openFiles.delete(location);
      throw error;
    }
  }

  /**
   * Adds a batch to the rollups in one transaction, ledger row included. A batch id already in the ledger
   * changes nothing and answers `{ duplicate: true }`. An invalid batch rejects with a TypeError or
   * RangeError before the database is touched; a database failure rolls everything back and rejects with it.
   */
  async persist(batch: RollupBatch): Promise<{ readonly duplicate: boolean }> {
    this.assertOpen();
    const checked = checkBatch(batch);
    return this.writes.run(() => this.persistChecked(checked));
  }

  /** Every user's accumulated totals, by user id ascending. */
  async rollups(): Promise<RollupRow[]> {
    this.assertOpen();
    return this.reads.run(async () => {
      const result = await this.reader.run('SELECT user_id, total, count FROM rollups ORDER BY user_id');
      const rows: RollupRow[] = [];
      for (let c = 0; c < result.chunkCount; c++) {
        const chunk = result.getChunk(c);
        const userIds = chunk.getColumnVector(0);
        const totals = chunk.getColumnVector(1);
        const counts = chunk.getColumnVector(2);
        for (let r = 0; r < chunk.rowCount; r++) {
          const total = totals.getItem(r);
          if (!(total instanceof DuckDBDecimalValue)) throw new TypeError(`total: expected a decimal from the database, got ${String(total)}`);
          const text = formatDecimal(total.value, total.scale);
          const count = toNumber(counts.getItem(r), 'count');
          rows.push({ user_id: toNumber(userIds.getItem(r), 'user_id'), total: text, count, mean: Number(text) / count });
        }
      }
      return rows;
    });
  }

  /** Batches in the ledger, the rows they carried, and the users with a rollup. */
  async totals(): Promise<{ readonly batches: number; readonly rows: number; readonly users: number }> {
    this.assertOpen();
    return this.reads.run(async () => {
      const reader = await this.reader.runAndReadAll(
        'SELECT (SELECT count(*) FROM batches), (SELECT coalesce(sum("rows"), 0) FROM batches), (SELECT count(*) FROM rollups)',
      );
      const [batches, rows, users] = reader.getRows()[0] ?? [];
      return { batches: toNumber(batches, 'batches'), rows: toNumber(rows, 'rows'), users: toNumber(users, 'users') };
    });
  }

  /**
   * Keeps a batch that could not be persisted as `<batchId>.json` in the dead-letter folder, with the
   * error's message, for `replayDeadLetters`. The file appears whole or not at all. Returns its path.
   * Works after `close` too, since a write refused at shutdown is exactly what must not be lost.
   */
  async deadLetter(batch: RollupBatch, error: unknown): Promise<string> {
    if (typeof batch.batchId !== 'string' || !BATCH_ID_PATTERN.test(batch.batchId)) {
      throw new RangeError(`batchId ${JSON.stringify(batch.batchId)} cannot name a dead-letter file`);
    }
    const letter = {
      batchId: batch.batchId,
      requestId: batch.requestId,
      acceptedRows: batch.acceptedRows,
      userIds: Array.from(batch.userIds),
      totals: Array.from(batch.totals, (total) => (typeof total === 'number' ? String(total) : total)),
      counts: Array.from(batch.counts),
      error: error instanceof Error ? error.message : String(error),
      deadLetteredAt: new Date().toISOString(),
    };
    await mkdir(this.deadLetterDir, { recursive: true });
    const file = join(this.deadLetterDir, `${batch.batchId}${DEAD_LETTER_SUFFIX}`);
    // The temporary name does not end in .json, so replay never sees a file that is half written.
    const temporary = join(this.deadLetterDir, `.${batch.batchId}.${randomUUID()}.tmp`);
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(JSON.stringify(letter));
      await handle.sync();
    } catch (writeError) {
      await handle.close();
      await rm(temporary, { force: true });
      throw writeError;
    }
    await handle.close();
    await rename(temporary, file);
    await syncDirectory(this.deadLetterDir);
    return file;
  }

  /**
   * Persists every dead-letter file and deletes those that were persisted, whether now or before (counted
   * as duplicates). A file that cannot be read or persisted stays, counted as failed.
   */
  async replayDeadLetters(): Promise<{ readonly replayed: number; readonly duplicates: number; readonly failed: number }> {
    this.assertOpen();
    let names: string[];
    try {
      names = await readdir(this.deadLetterDir);
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') return { replayed: 0, duplicates: 0, failed: 0 };
      throw error;
    }
    let replayed = 0;
    let duplicates = 0;
    let failed = 0;
    for (const name of names.filter((n) => n.endsWith(DEAD_LETTER_SUFFIX)).sort()) {
      const file = join(this.deadLetterDir, name);
      try {
        const letter = deadLetterFile.parse(JSON.parse(await readFile(file, 'utf8')));
        // A float64 total of an older letter is rounded to the cent: it held no more than that anyway.
        const batch = { ...letter, totals: letter.totals.map((total) => (typeof total === 'number' ? total.toFixed(AMOUNT_SCALE) : total)) };
        const { duplicate } = await this.persist(batch);
        await unlink(file);
        if (duplicate) duplicates++;
        else replayed++;
      } catch {
        // The file itself is the record of the failure; it stays for a later replay or a person to inspect.
        failed++;
      }
    }
    return { replayed, duplicates, failed };
  }

  /** Waits for queued writes and reads, then closes the database. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([this.writes.idle(), this.reads.idle()]);
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
    openFiles.delete(this.path);
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new BillingStoreClosedError();
  }

  private async persistChecked(batch: CheckedBatch): Promise<{ readonly duplicate: boolean }> {
    const connection = this.writer;
    await connection.run('BEGIN TRANSACTION');
    try {
      const ledger = await connection.run(
        INSERT_LEDGER,
        [
          batch.batchId,
          batch.requestId,
          BigInt(batch.acceptedRows),
          batch.userIds.length,
          decimalValue(batch.total, TOTAL_PRECISION, AMOUNT_SCALE),
          timestampValue(BigInt(Date.now()) * 1000n),
        ],
        LEDGER_TYPES,
      );
      if (ledger.rowsChanged === 0) {
        await connection.run('ROLLBACK');
        return { duplicate: true };
      }
      if (batch.userIds.length > 0) {
        await appendToStaging(connection, batch);
        await connection.run(UPSERT_ROLLUPS);
        // Emptied in the same transaction that filled it, so staging is empty whether this commits or not.
        await connection.run(CLEAR_STAGING);
      }
      await connection.run('COMMIT');
      return { duplicate: false };
    } catch (error) {
      await rollBack(connection, error);
      throw error;
    }
  }
}

/**
 * Fills the staging table through an appender, a data chunk at a time: one native copy per column per
 * 2048 rows. (Per-value appends take about 2.5x as long; list parameters with unnest, about 50x.)
 */
async function appendToStaging(connection: DuckDBConnection, batch: CheckedBatch): Promise<void> {
  const appender = await connection.createAppender(STAGING_TABLE, 'main', 'temp');
  let complete = false;
  try {
    const chunkRows = DuckDBVector.standardSize();
    for (let offset = 0; offset < batch.userIds.length; offset += chunkRows) {
      const rowCount = Math.min(chunkRows, batch.userIds.length - offset);
      const chunk = DuckDBDataChunk.create(STAGING_TYPES, rowCount);
      const userIds = chunk.getColumnVector(0);
      const totals = chunk.getColumnVector(1);
      const counts = chunk.getColumnVector(2);
      for (let i = 0; i < rowCount; i++) {
        userIds.setItem(i, batch.userIds[offset + i]!);
        totals.setItem(i, decimalValue(batch.totals[offset + i]!, TOTAL_PRECISION, AMOUNT_SCALE));
        counts.setItem(i, BigInt(batch.counts[offset + i]!));
      }
      userIds.flush();
      totals.flush();
      counts.flush();
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    complete = true;
  } finally {
    // Rows of a transaction that is about to roll back are dropped, not flushed on close.
    if (!complete) appender.clear();
    appender.closeSync();
  }
}

/** Ends the failed transaction. DuckDB has already ended it after some failures (a failed COMMIT). */
async function rollBack(connection: DuckDBConnection, cause: unknown): Promise<void> {
  try {
    await connection.run('ROLLBACK');
  } catch (rollbackError) {
    if (rollbackError instanceof Error && /no transaction is active/i.test(rollbackError.message)) return;
    throw new AggregateError([cause, rollbackError], 'persist failed and so did its rollback', { cause });
  }
}

function checkBatch(batch: RollupBatch): CheckedBatch {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers can pass anything: checked at runtime
  if (typeof batch !== 'object' || batch === null) throw new TypeError('a rollup batch must be an object');
  const { batchId, requestId, acceptedRows } = batch;
  if (typeof batchId !== 'string') throw new TypeError('batchId must be a string');
  if (!BATCH_ID_PATTERN.test(batchId))
    throw new RangeError(`batchId ${JSON.stringify(batchId)} must be 1-200 letters, digits, '_', '.' or '-', not starting with '.', '_' or '-'`);
  if (typeof requestId !== 'string') throw new TypeError('requestId must be a string');
  if (typeof acceptedRows !== 'number') throw new TypeError('acceptedRows must be a number');
  if (!Number.isSafeInteger(acceptedRows) || acceptedRows < 0) throw new RangeError(`acceptedRows must be a non-negative integer, got ${acceptedRows}`);
  const userIds = numberColumn(batch.userIds, 'userIds');
  const totals = arrayLike(batch.totals, 'totals');
  const counts = numberColumn(batch.counts, 'counts');
  const length = userIds.length;
  if (totals.length !== length || counts.length !== length) {
    throw new TypeError(`userIds, totals and counts must have equal lengths, got ${length}, ${totals.length} and ${counts.length}`);
  }
  const checkedIds = new Int32Array(length);
  const checkedTotals: bigint[] = [];
  const checkedCounts = new Float64Array(length);
  let total = 0n;
  let rows = 0;
  for (let i = 0; i < length; i++) {
    const userId = element(userIds, i, 'userIds');
    if (!Number.isInteger(userId) || userId < INT32_MIN || userId > INT32_MAX) throw new RangeError(`userIds[${i}] = ${userId} is not an int32`);
    const userTotal = decimalTotal(totals[i], i);
    const count = element(counts, i, 'counts');
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`counts[${i}] = ${count} is not a non-negative integer`);
    checkedIds[i] = userId;
    checkedTotals.push(userTotal);
    checkedCounts[i] = count;
    total += userTotal;
    rows += count;
  }
  if (!fitsPrecision(total, TOTAL_PRECISION)) throw new RangeError(`the sum of totals overflows ${TOTAL_SQL}`);
  // The ledger's rows and the rollups' counts are the same rows counted twice; they must agree.
  if (rows !== acceptedRows) throw new RangeError(`acceptedRows is ${acceptedRows} but counts sum to ${rows}`);
  const sortedIds = checkedIds.slice().sort();
  for (let i = 1; i < length; i++) {
    if (sortedIds[i] === sortedIds[i - 1]) throw new RangeError(`userIds holds ${String(sortedIds[i])} more than once`);
  }
  return { batchId, requestId, acceptedRows, userIds: checkedIds, totals: checkedTotals, counts: checkedCounts, total };
}

function numberColumn(column: ArrayLike<number>, name: string): ArrayLike<number> {
  return arrayLike(column, name);
}

function arrayLike<T>(column: ArrayLike<T>, name: string): ArrayLike<T> {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers can pass anything: checked at runtime
  if (typeof column !== 'object' || column === null || !Number.isSafeInteger(column.length) || column.length < 0) {
    throw new TypeError(`${name} must be an array or typed array of numbers`);
  }
  return column;
}

/** A user's total as cents, exactly: decimal text or a number by its shortest round-trip text. */
function decimalTotal(value: unknown, index: number): bigint {
  const cents = typeof value === 'string' ? parseDecimal(value, AMOUNT_SCALE) : typeof value === 'number' ? numberToDecimal(value, AMOUNT_SCALE) : undefined;
  if (cents === undefined) throw new TypeError(`totals[${index}] must be decimal text or a number, got ${typeof value}`);
  if (typeof cents !== 'bigint')
    throw new RangeError(`totals[${index}] = ${String(value)} is not a finite decimal with at most ${AMOUNT_SCALE} fraction digits`);
  if (!fitsPrecision(cents, TOTAL_PRECISION)) throw new RangeError(`totals[${index}] = ${String(value)} does not fit ${TOTAL_SQL}`);
  return cents;
}

function element(column: ArrayLike<number>, index: number, name: string): number {
  const value: unknown = column[index];
  if (typeof value !== 'number') throw new TypeError(`${name}[${index}] must be a number, got ${typeof value}`);
  return value;
}

/** DuckDB answers BIGINT and HUGEINT (sum of BIGINT) as bigint; every count here fits a double exactly. */
function toNumber(value: DuckDBValue | undefined, column: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    const converted = Number(value);
    if (!Number.isSafeInteger(converted)) throw new RangeError(`${column} = ${value} is beyond the safe integer range`);
    return converted;
  }
  throw new TypeError(`${column}: expected a number from the database, got ${String(value)}`);
}

/** Makes a rename durable: the new directory entry is on disk only once the directory itself is synced. */
async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a directory for syncing, and NTFS journals the rename anyway.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
