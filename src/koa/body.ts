// Body middleware: columnarBody(Model) and rowsBody(Model) read the request body as a stream under a byte
// limit, decode it by Content-Type, validate it through the model and leave a typed frame on
// ctx.state.frame. A body over the limit is refused as soon as the limit is passed (or at once, when
// Content-Length says so), never buffered whole; a body that stops arriving is given up after a timeout.

import type Koa from 'koa';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { isGpuframeError, MalformedArrowError, ValidationError } from '../errors.js';
import type { Frame } from '../frame/frame.js';
import { MalformedBodyError, PayloadTooLargeError, RequestAbortedError, RequestTimeoutError, UnsupportedMediaTypeError } from './errors.js';
import { arrayOf, fail, maxArguments, nonEmptyString } from '../options.js';
import { bodyOptions, frameModel, koaContext, readBodyOptions } from './options.js';
import type { BodyOptions, FrameModel, FrameState } from './types.js';
import { ingestOptions as checkIngestOptions } from '../model/ingest.js';

/** Default body limit: 32 MiB. */
export const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

export const JSON_TYPE = 'application/json';
export const NDJSON_TYPE = 'application/x-ndjson';
export const ARROW_STREAM_TYPE = 'application/vnd.apache.arrow.stream';
export const ARROW_FILE_TYPE = 'application/vnd.apache.arrow.file';

const ENCODINGS = ['identity', 'gzip', 'deflate', 'br'] as const;

/** Default longest wait for the next bytes of a body: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export interface ReadBodyOptions {
  /** Most bytes accepted, on the wire and after decompression (default 32 MiB). */
  readonly limit?: number;
  /** When no bytes of the body arrive for this long, 408 request_timeout (default 30 s; 0 waits forever). */
  readonly timeoutMs?: number;
}

/** Body reads in progress, so a shutdown can end the uploads that outlast its grace. */
const activeReads = new WeakMap<IncomingMessage, (error: Error) => void>();

/**
 * Ends the body read of `req` in progress with `error` (it answers in the error shape, with a lingering
 * close). False when no readBody is reading that request.
 */
export function abortBodyRead(req: IncomingMessage, error: Error): boolean {
  const abort = activeReads.get(req);
  if (!abort) return false;
  abort(error);
  return true;
}

function decoder(encoding: string): (Readable & NodeJS.WritableStream) | null {
  switch (encoding) {
    case 'identity':
    case '':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new UnsupportedMediaTypeError(encoding, ENCODINGS, 'content encoding');
  }
}

/**
 * The request body as bytes, decompressed per Content-Encoding, at most `limit` bytes. Throws
 * PayloadTooLargeError as soon as more arrives (or at once from Content-Length), and RequestTimeoutError
 * when no bytes arrive for `timeoutMs`, leaving the rest unread; the error answer closes the connection
 * after a lingering read (see linger.ts).
 */
export async function readBody(ctx: Koa.Context, options: ReadBodyOptions = {}): Promise<Buffer> {
  koaContext(ctx, 'readBody(ctx)');
  const checked = readBodyOptions(options, 'readBody(options)');
  const limit = checked.limit ?? DEFAULT_BODY_LIMIT;
  const timeoutMs = checked.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const declared = ctx.request.length;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- @types/koa types request.length as number, but it is undefined without a Content-Length
  if (declared !== undefined && declared > limit) {
    ctx.req.pause();
    throw new PayloadTooLargeError(limit, declared);
  }
  const encoding = (ctx.get('Content-Encoding') || 'identity').trim().toLowerCase();
  const inflate = decoder(encoding);
  const req = ctx.req;
  if (req.destroyed && !req.complete) throw new RequestAbortedError();
  // Read already (a second readBody): nothing more will arrive.
  if (req.readableEnded) return Buffer.alloc(0);
  const source: Readable = inflate ? req.pipe(inflate) : req;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let wire = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const armStallTimer = (): void => {
      if (timeoutMs === 0) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        fail(new RequestTimeoutError(timeoutMs));
      }, timeoutMs);
    };
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      activeReads.delete(req);
      req.off('data', onWire);
      req.off('close', onClose);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      cleanup();
      if (inflate) {
        req.unpipe(inflate);
        inflate.destroy();
      }
      req.pause();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what the stream or inflater emitted, an Error in practice
      reject(error);
    };
    const onWire = (chunk: Buffer): void => {
      wire += chunk.length;
      armStallTimer();
      if (wire > limit) fail(new PayloadTooLargeError(limit, null));
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) fail(new PayloadTooLargeError(limit, null));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (settled) return;
      if (!req.complete) {
        fail(new RequestAbortedError());
        return;
      }
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onError = (error: unknown): void => {
      if (req.destroyed && !req.complete) {
        fail(new RequestAbortedError({ cause: error }));
        return;
      }
      if (inflate) {
        fail(new MalformedBodyError(`the body is not valid ${encoding} data: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        return;
      }
      fail(error);
    };
    // pipe() does not pass an aborted request on to the decompressor, which would then wait forever.
    const onClose = (): void => {
      if (!req.complete) fail(new RequestAbortedError());
    };
    activeReads.set(req, fail);
    req.on('data', onWire);
    req.once('close', onClose);
    if (inflate) source.on('data', onData);
    else req.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    armStallTimer();
  });
}

/**
 * The request's media type (lower case, without parameters) when it is one of `accepted`; else 415. A
 * charset other than UTF-8 is refused too.
 */
export function requireMediaType(ctx: Koa.Context, accepted: readonly string[]): string {
  maxArguments('requireMediaType(ctx, accepted)', arguments, 2);
  koaContext(ctx, 'requireMediaType(ctx)');
  arrayOf(nonEmptyString, { min: 1 })(accepted, 'requireMediaType(accepted)');
  const header = ctx.get('Content-Type');
  if (!header) throw new UnsupportedMediaTypeError(null, accepted);
  const [type = '', ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (!accepted.includes(type)) throw new UnsupportedMediaTypeError(type, accepted);
  for (const param of params) {
    const [key, value] = param.split('=').map((p) => p.trim().replace(/^"|"$/g, ''));
    if (key === 'charset' && value !== 'utf-8' && value !== 'utf8')
      throw new UnsupportedMediaTypeError(
        header,
        accepted.map((a) => `${a}; charset=utf-8`),
        'character set',
      );
  }
  return type;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body; the errors say where the text went wrong. */
export function parseJson(bytes: Uint8Array): unknown {
  maxArguments('parseJson(bytes)', arguments, 1);
  if (!(bytes instanceof Uint8Array)) fail('parseJson(bytes)', bytes, 'a Uint8Array or Buffer');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new MalformedBodyError('the body is not valid UTF-8', { cause: error });
  }
  if (text.trim() === '') throw new MalformedBodyError('the body is empty; expected JSON');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new MalformedBodyError(`the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function bodyMiddleware<F extends Frame<object>>(
  accepted: readonly string[],
  decode: (type: string, bytes: Buffer) => F,
  options: BodyOptions,
): Koa.Middleware<FrameState<F>> {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  return async function frameBodyMiddleware(ctx, next) {
    const type = requireMediaType(ctx, accepted);
    const bytes = await readBody(ctx, { limit, timeoutMs });
    ctx.state.frame = decode(type, bytes);
    await next();
  };
}

function ingestOptions(options: BodyOptions): Omit<BodyOptions, 'limit' | 'timeoutMs'> {
  const { limit: _limit, timeoutMs: _timeoutMs, ...rest } = options;
  return rest;
}

/**
 * Reads a columnar body into ctx.state.frame, validated by `Model`:
 * - `application/json`: `{ "column": [cells...], ... }`, keyed by alias or name as `inputKeyMode` says;
 * - `application/vnd.apache.arrow.stream` (or `.file`): Arrow IPC.
 * Errors: 400 malformed JSON or column lengths that differ, 413 over `limit`, 415 other types, 422 cells
 * that fail validation (with every issue's column, row and code).
 */
export function columnarBody<F extends Frame<object>>(Model: FrameModel<F>, options: BodyOptions = {}): Koa.Middleware<FrameState<F>> {
  maxArguments('columnarBody(Model, options)', arguments, 2);
  frameModel(Model, 'columnarBody(Model)');
  options = bodyOptions(options, 'columnarBody(options)') as BodyOptions;
  const ingest = ingestOptions(options);
  return bodyMiddleware(
    [JSON_TYPE, ARROW_STREAM_TYPE, ARROW_FILE_TYPE],
    (type, bytes) => (type === JSON_TYPE ? Model.fromColumns(parseJson(bytes), ingest) : arrowFrame(Model, bytes, ingest)),
    options,
  );
}

/**
 * Reads a row body into ctx.state.frame, validated by `Model`: `application/json` holding an array of row
 * objects, or `application/x-ndjson` with one row object per line. Errors as for columnarBody.
 */
export function rowsBody<F extends Frame<object>>(Model: FrameModel<F>, options: BodyOptions = {}): Koa.Middleware<FrameState<F>> {
  maxArguments('rowsBody(Model, options)', arguments, 2);
  frameModel(Model, 'rowsBody(Model)');
  options = bodyOptions(options, 'rowsBody(options)') as BodyOptions;
  const ingest = ingestOptions(options);
  return bodyMiddleware(
    [JSON_TYPE, NDJSON_TYPE],
    (type, bytes) => (type === JSON_TYPE ? Model.fromRows(parseJson(bytes), ingest) : ndjsonFrame(Model, bytes, ingest)),
    options,
  );
}

/**
 * Bytes that are not well-formed Arrow IPC make the body malformed (400 malformed_arrow, from the model's
 * validation of the bytes, or from anything untyped a model's reader throws); cell issues stay 422.
 */
export function arrowFrame<F extends Frame<object>>(Model: FrameModel<F>, bytes: Uint8Array, ingest: Omit<BodyOptions, 'limit' | 'timeoutMs'> = {}): F {
  maxArguments('arrowFrame(Model, bytes, options)', arguments, 3);
  frameModel(Model, 'arrowFrame(Model)', ['fromArrow']);
  if (!(bytes instanceof Uint8Array)) fail('arrowFrame(bytes)', bytes, 'a Uint8Array or Buffer of Arrow IPC');
  checkIngestOptions(ingest, 'arrowFrame(options)');
  try {
    return Model.fromArrow(bytes, ingest);
  } catch (error) {
    if (!isGpuframeError(error))
      throw new MalformedArrowError(`Arrow IPC not readable: ${error instanceof Error ? error.message : String(error)}`, {}, { cause: error });
    const unreadable = error instanceof ValidationError ? error.issues.filter((i) => i.code === 'invalid_arrow') : [];
    if (unreadable.length > 0) throw new MalformedBodyError(unreadable[0]!.message, { cause: error, issues: unreadable, code: 'malformed_arrow' });
    throw error;
  }
}

/** NDJSON lines that are not JSON make the body malformed (400, one issue per line); cell issues stay 422. */
function ndjsonFrame<F extends Frame<object>>(Model: FrameModel<F>, bytes: Buffer, ingest: Omit<BodyOptions, 'limit' | 'timeoutMs'>): F {
  try {
    return Model.fromNdjson(bytes, ingest);
  } catch (error) {
    if (error instanceof ValidationError) {
      const framing = error.issues.filter((i) => i.code === 'invalid_json' || i.code === 'invalid_encoding');
      if (framing.length > 0)
        throw new MalformedBodyError(
          `the NDJSON body has ${framing.length} line${framing.length === 1 ? '' : 's'} that are not JSON; first: ${framing[0]!.message}`,
          { cause: error, issues: framing },
        );
    }
    throw error;
  }
}
