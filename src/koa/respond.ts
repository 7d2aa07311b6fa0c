// Response helpers: a frame, an Arrow table or a stream of record batches sent as JSON (an array of row
// objects), NDJSON (one row per line) or an Arrow IPC stream, as the client's Accept asks. Batches are
// encoded and written as they arrive, through a Node stream, so a slow client slows the producer down
// (backpressure) instead of piling output up in memory.

import * as arrow from 'apache-arrow';
import { Readable } from 'node:stream';
import type Koa from 'koa';
import { Executor } from '../exec/executor.js';
import { Frame, MAX_BATCH_SIZE } from '../frame/frame.js';
import { fail, instanceOf, integer, maxArguments, oneOf, options as optionsOf } from '../options.js';
import { formatList, koaContext, RESPONSE_FORMATS } from './options.js';
import { arrowType } from '../model/column.js';
import { formatIsoDate, formatIsoDuration, formatIsoTime, formatIsoTimestamp } from '../model/temporal.js';
import type { TimeUnit } from '../model/types.js';
import { onResponseDone } from './after-response.js';
import { ARROW_STREAM_TYPE, JSON_TYPE, NDJSON_TYPE } from './body.js';
import { formatDecimal } from '../model/decimal.js';
import { respondWithError } from './error-handler.js';
import { NotAcceptableError } from './errors.js';
import type { ResponseFormat } from './types.js';

export const FORMAT_TYPES: Readonly<Record<ResponseFormat, string>> = { json: JSON_TYPE, ndjson: NDJSON_TYPE, arrow: ARROW_STREAM_TYPE };
const ALL_FORMATS: readonly ResponseFormat[] = ['json', 'ndjson', 'arrow'];

/** The format the client prefers among `available` (the first when Accept is absent or `*\/*`); 406 when none fits. */
export function negotiateFormat(ctx: Koa.Context, available: readonly ResponseFormat[] = ALL_FORMATS): ResponseFormat {
  maxArguments('negotiateFormat(ctx, available)', arguments, 2);
  koaContext(ctx, 'negotiateFormat(ctx)');
  formatList(available, 'negotiateFormat(available)');
  const types = available.map((f) => FORMAT_TYPES[f]);
  const chosen = ctx.accepts(types);
  const index = typeof chosen === 'string' ? types.indexOf(chosen) : -1;
  if (index < 0) throw new NotAcceptableError(ctx.get('Accept'), types);
  return available[index]!;
}

export interface SendOptions {
  /** Runs a frame's plan on this executor (default: inline on the event loop, fine only for small frames). */
  readonly executor?: Executor;
  /** Skips negotiation. */
  readonly format?: ResponseFormat;
  /** Formats offered to negotiation (default all three). */
  readonly formats?: readonly ResponseFormat[];
  /** Rows per batch when running a frame (default 65,536). */
  readonly batchSize?: number;
  readonly status?: number;
}

const sendOptions = optionsOf({
  executor: instanceOf(Executor, 'an Executor from createExecutor() or getExecutor(ctx)'),
  format: oneOf(RESPONSE_FORMATS),
  formats: formatList,
  batchSize: integer({ min: 1, max: MAX_BATCH_SIZE }),
  // A status whose answer has a body: 1xx, 204, 205 and 304 carry none.
  status: (value: unknown, name: string) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 200 && value <= 599 && value !== 204 && value !== 205 && value !== 304
      ? value
      : fail(name, value, 'an HTTP status from 200 to 599 whose answer has a body (not 204, 205 or 304)'),
});

function isBatchSource(value: unknown): value is BatchSource {
  if (value instanceof Frame || arrow.util.isArrowTable(value)) return true;
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

export type BatchSource = Frame<object> | arrow.Table | AsyncIterable<arrow.RecordBatch> | Iterable<arrow.RecordBatch>;

/**
 * Sends `source` in the negotiated format. The first batch is computed before anything is sent, so a plan
 * that fails answers with a proper error; a failure after that cuts the response short (the status is on
 * the wire already) and is emitted on the app. The plan is cancelled if the client goes away.
 */
export async function sendFrame(ctx: Koa.Context, source: BatchSource, options: SendOptions = {}): Promise<void> {
  maxArguments('sendFrame(ctx, source, options)', arguments, 3);
  koaContext(ctx, 'sendFrame(ctx)');
  if (!isBatchSource(source)) fail('sendFrame(source)', source, 'a frame, an Arrow table, or an iterable of Arrow record batches');
  options = sendOptions(options, 'sendFrame(options)');
  const format = options.format ?? negotiateFormat(ctx, options.formats);
  const abort = new AbortController();
  onResponseDone(ctx.res, () => {
    if (!ctx.res.writableFinished) abort.abort(new Error('the client closed the connection'));
  });
  const batches = batchesOf(source, options, abort.signal);
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest = async function* (): AsyncGenerator<arrow.RecordBatch> {
    try {
      if (!first.done) yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } catch (error) {
      if (!abort.signal.aborted) respondWithError(ctx, error);
    } finally {
      await iterator.return?.();
    }
  };
  ctx.status = options.status ?? 200;
  ctx.type = FORMAT_TYPES[format];
  const chunks = format === 'arrow' ? arrowChunks(rest(), schemaOf(source)) : format === 'json' ? jsonChunks(rest()) : ndjsonChunks(rest());
  ctx.body = Readable.from(chunks, { objectMode: false });
}

function batchesOf(source: BatchSource, options: SendOptions, signal: AbortSignal): AsyncIterable<arrow.RecordBatch> {
  if (source instanceof Frame) {
    return source.stream({
      ...(options.executor ? { executor: options.executor } : {}),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      signal,
    });
  }
  if (arrow.util.isArrowTable(source)) return toAsync(source.batches);
  if (Symbol.asyncIterator in source) return source;
  return toAsync(source);
}

/** The Arrow schema of a source that knows it before its first batch: an empty result still carries it. */
function schemaOf(source: BatchSource): arrow.Schema | null {
  if (source instanceof Frame) return new arrow.Schema(source.schema.map((f) => new arrow.Field(f.name, arrowType(f), f.nullable)));
  if (arrow.util.isArrowTable(source)) return source.schema;
  return null;
}

// eslint-disable-next-line @typescript-eslint/require-await -- lifts a synchronous iterable into the async one the stream takes
async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** Keeps what an Arrow writer writes until taken, so each batch's bytes leave as soon as it is encoded. */
class ChunkSink extends arrow.AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }

  take(): Buffer {
    return Buffer.concat(this.chunks.splice(0));
  }
}

// Not RecordBatchStreamWriter.throughNode(): its writable side takes every batch at once, so a slow
// client would let the whole result pile up in memory. Encoding here, one batch per pull, keeps the
// backpressure of the other formats.
async function* arrowChunks(batches: AsyncIterable<arrow.RecordBatch>, schema: arrow.Schema | null): AsyncGenerator<Buffer> {
  const sink = new ChunkSink();
  const writer = new arrow.RecordBatchStreamWriter();
  writer.reset(sink);
  let wrote = false;
  for await (const batch of batches) {
    writer.write(batch);
    wrote = true;
    const bytes = sink.take();
    if (bytes.byteLength > 0) yield bytes;
  }
  // No batch: still a valid stream (schema, then end), which every Arrow reader accepts.
  if (!wrote && schema) writer.write(new arrow.Table(schema));
  writer.close();
  const end = sink.take();
  if (end.byteLength > 0) yield end;
}

async function* ndjsonChunks(batches: AsyncIterable<arrow.RecordBatch>): AsyncGenerator<Buffer> {
  for await (const batch of batches) {
    const rows = encodeRows(batch);
    if (rows.length > 0) yield Buffer.from(`${rows.join('\n')}\n`);
  }
}

async function* jsonChunks(batches: AsyncIterable<arrow.RecordBatch>): AsyncGenerator<Buffer> {
  let started = false;
  for await (const batch of batches) {
    const rows = encodeRows(batch);
    if (rows.length === 0) continue;
    yield Buffer.from(`${started ? ',' : '['}${rows.join(',')}`);
    started = true;
  }
  yield Buffer.from(started ? ']' : '[]');
}

type CellEncoder = (value: unknown) => string;

const encodeNumber: CellEncoder = (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : 'null');
const encodeBigInt: CellEncoder = (v) => {
  const n = v as bigint;
  return Number.isSafeInteger(Number(n)) ? n.toString() : `"${n.toString()}"`;
};
const ARROW_UNITS: readonly (TimeUnit | 's')[] = ['s', 'ms', 'us', 'ns'];

/**
 * Temporal cells as ISO 8601 text from their raw integers (Arrow's `get` turns timestamps into lossy
 * milliseconds): timestamps in UTC with 'Z' or in their zone with its offset, dates 'YYYY-MM-DD', times
 * 'HH:MM:SS.fraction', durations 'PnDTnHnMn.nS'. Second units (only from foreign Arrow) are read as ms.
 */
function temporalEncoder(type: arrow.DataType): CellEncoder | null {
  const { DataType } = arrow;
  if (DataType.isDate(type))
    return type.unit === arrow.DateUnit.DAY
      ? (v) => `"${formatIsoDate(Number(v))}"`
      : (v) => `"${formatIsoTimestamp(BigInt(v as number | bigint), 'ms').slice(0, -14)}"`;
  if (!(DataType.isTimestamp(type) || DataType.isTime(type) || DataType.isDuration(type))) return null;
  const raw = ARROW_UNITS[type.unit]!;
  const unit: TimeUnit = raw === 's' ? 'ms' : raw;
  const scale = raw === 's' ? 1000n : 1n;
  if (DataType.isTimestamp(type)) {
    const zone = type.timezone ?? undefined;
    return (v) => `"${formatIsoTimestamp(BigInt(v as number | bigint) * scale, unit, zone === 'UTC' ? undefined : zone)}"`;
  }
  if (DataType.isTime(type)) return (v) => `"${formatIsoTime(BigInt(v as number | bigint) * scale, unit)}"`;
  return (v) => `"${formatIsoDuration(BigInt(v as number | bigint) * scale, unit)}"`;
}

/** A Decimal128 cell (apache-arrow gives its four little-endian 32-bit words) as its exact text, quoted. */
function decimalEncoder(scale: number): CellEncoder {
  return (v) => {
    const words = v as Uint32Array;
    let unscaled = 0n;
    for (let w = 3; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[w]!);
    return `"${formatDecimal(BigInt.asIntN(128, unscaled), scale)}"`;
  };
}

/**
 * The JSON text of each cell, by Arrow type: JSON has no NaN or Infinity (they become null, as
 * JSON.stringify writes them), int64 beyond 2^53 goes as a string, dates and timestamps as ISO 8601,
 * decimals as their exact text ("12.30"), which a JSON number could not keep.
 */
function encoderFor(type: arrow.DataType): CellEncoder {
  if (arrow.DataType.isDecimal(type) && type.bitWidth === 128) return decimalEncoder(type.scale);
  if (arrow.DataType.isDictionary(type)) return encoderFor(type.dictionary as arrow.DataType);
  if (arrow.DataType.isInt(type)) return type.bitWidth === 64 ? encodeBigInt : encodeNumber;
  if (arrow.DataType.isFloat(type)) return encodeNumber;
  if (arrow.DataType.isBool(type)) return (v) => (v ? 'true' : 'false');
  const temporal = temporalEncoder(type);
  if (temporal !== null) return temporal;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify returns undefined for undefined and functions, which its declared type hides
  return (v) => JSON.stringify(typeof v === 'bigint' ? v.toString() : v) ?? 'null';
}

function isTemporal(type: arrow.DataType): boolean {
  const { DataType } = arrow;
  return DataType.isTimestamp(type) || DataType.isDate(type) || DataType.isTime(type) || DataType.isDuration(type);
}

/** Reads a temporal cell's stored integer (null where invalid), across the vector's chunks. */
function rawReader(vector: arrow.Vector): (i: number) => unknown {
  const starts: number[] = [];
  let at = 0;
  for (const chunk of vector.data) {
    starts.push(at);
    at += chunk.length;
  }
  return (i) => {
    let c = starts.length - 1;
    while (starts[c]! > i) c--;
    const chunk = vector.data[c]!;
    const j = i - starts[c]!;
    return chunk.getValid(j) ? (chunk.values as ArrayLike<unknown>)[j] : null;
  };
}

function encodeRows(batch: arrow.RecordBatch): string[] {
  const fields = batch.schema.fields;
  const keys = fields.map((f) => JSON.stringify(f.name));
  const columns = fields.map((_, k) => batch.getChildAt(k)!);
  const encoders = fields.map((f) => encoderFor(f.type as arrow.DataType));
  const raws = columns.map((c) => (isTemporal(c.type as arrow.DataType) ? rawReader(c) : null));
  const rows = new Array<string>(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) {
    let text = '{';
    for (let k = 0; k < columns.length; k++) {
      const raw = raws[k];
      const value: unknown = raw ? raw(i) : columns[k]!.get(i);
      text += `${k === 0 ? '' : ','}${keys[k]!}:${value === null || value === undefined ? 'null' : encoders[k]!(value)}`;
    }
    rows[i] = `${text}}`;
  }
  return rows;
}
