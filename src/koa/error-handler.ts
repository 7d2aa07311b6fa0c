// errorHandler(): the one place errors become responses. Every error answer has the same JSON shape,
//   { "error": { "code", "message", "issues"? }, "request_id" }
// with the status the error carries. Messages of errors not marked `expose` are never sent: a client sees
// "internal server error" and the log has the rest. Every error is also emitted on the app, as Koa does.
//
// Cancellation: a CancelledError answers 499 when the client has gone away (nobody reads it; it is the
// status outer middleware see, nginx's "client closed request"), and 503 when the server cancelled the
// work (a shutdown), so a client that is still there knows to retry.

import { STATUS_CODES } from 'node:http';
import type Koa from 'koa';
import { truncateForMessage } from '../echo.js';
import { CancelledError, isGpuframeError, ValidationError } from '../errors.js';
import { codeForStatus, ExecutorUnavailableError, MalformedBodyError, RouteNotFoundError } from './errors.js';
import { bodyDiscardable, bodyUnread, lingerAfterAnswer } from './linger.js';
import { maxArguments } from '../options.js';
import { koaApp, koaContext } from './options.js';
import { requestIdOf, runtimeOf } from './runtime.js';

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly issues?: readonly { readonly column: string | null; readonly row: number | null; readonly code: string; readonly message: string }[];
    readonly truncated_issues?: number;
  };
  readonly request_id: string | null;
}

interface Mapped {
  readonly status: number;
  readonly body: ErrorBody['error'];
  readonly headers: Readonly<Record<string, string>>;
}

const logged = new WeakSet<object>();

/** A failing logger must not turn an error answer into a crash. */
function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // Nothing better to do with a logger that throws.
  }
}

/** Marks an error as already written to the log, so the app's 'error' listener does not write it again. */
export function markLogged(error: unknown): void {
  if (typeof error === 'object' && error !== null) logged.add(error);
}
const KEEP_HEADERS = Symbol.for('gpuframe.keepHeaders');

/** Headers an error answer keeps (the request id header registers itself here). */
export function keepHeaderOnError(ctx: Koa.Context, name: string): void {
  const state = ctx.state as Record<symbol, Set<string> | undefined>;
  (state[KEEP_HEADERS] ??= new Set()).add(name.toLowerCase());
}

// Not req.destroyed: Node destroys a request once its body has been read, with the client still waiting.
function clientGone(ctx: Koa.Context): boolean {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- @types/node types req.socket as non-null, but it is null once the socket is detached
  return !ctx.res.writableEnded && (ctx.res.destroyed || ctx.req.socket === null || ctx.req.socket.destroyed || !ctx.req.socket.writable);
}

function httpStatusOf(error: unknown): number | null {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : null;
}

function mapError(ctx: Koa.Context, error: unknown): Mapped {
  if (error instanceof CancelledError) {
    const gone = clientGone(ctx);
    return { status: gone ? 499 : 503, body: { code: error.code, message: error.message }, headers: gone ? {} : { 'Retry-After': '1' } };
  }
  if (isGpuframeError(error)) {
    const body =
      error instanceof ValidationError
        ? { code: error.code, message: error.message, issues: error.issues, ...(error.truncatedIssues > 0 ? { truncated_issues: error.truncatedIssues } : {}) }
        : error instanceof MalformedBodyError && error.issues.length > 0
          ? { code: error.code, message: error.message, issues: error.issues }
          : { code: error.code, message: error.expose ? error.message : 'internal server error' };
    const headers: Record<string, string> = {};
    if (error.status === 503) headers['Retry-After'] = '1';
    return { status: error.status, body, headers };
  }
  // Koa's ctx.throw / http-errors: a status, `expose`, maybe a code.
  const status = httpStatusOf(error);
  if (status !== null) {
    const e = error as { expose?: unknown; code?: unknown; message?: unknown; headers?: unknown };
    const expose = typeof e.expose === 'boolean' ? e.expose : status < 500;
    const code = typeof e.code === 'string' && /^[a-z0-9_]+$/i.test(e.code) ? e.code : codeForStatus(status);
    const headers = typeof e.headers === 'object' && e.headers !== null ? (e.headers as Record<string, string>) : {};
    return { status, body: { code, message: expose && typeof e.message === 'string' ? e.message : hiddenMessage(status) }, headers };
  }
  return { status: 500, body: { code: 'internal_error', message: 'internal server error' }, headers: {} };
}

/** What an answer whose message is not exposed says: the status text (501 "not implemented"), never the error's own words. */
function hiddenMessage(status: number): string {
  return status === 500 ? 'internal server error' : (STATUS_CODES[status] ?? 'error').toLowerCase();
}

/** Answers the error on `ctx` in the shared shape, logs server errors and emits the error on the app. */
export function respondWithError(ctx: Koa.Context, error: unknown): void {
  koaContext(ctx, 'respondWithError(ctx)');
  const mapped = mapError(ctx, error);
  const requestId = requestIdOf(ctx);
  const logger = runtimeOf(ctx.app).logger;
  if (mapped.status >= 500 && mapped.status !== 503) {
    safeLog(() => {
      logger.error({ msg: 'request failed', request_id: requestId, method: ctx.method, path: ctx.path, status: mapped.status, err: error });
    });
  }
  markLogged(error);
  if (ctx.app.listenerCount('error') > 0) {
    try {
      ctx.app.emit('error', error, ctx);
    } catch {
      // An 'error' listener that throws must not turn into a second failure of this request.
    }
  }
  if (ctx.res.headersSent || !ctx.writable) {
    // Part of the answer is on the wire: it cannot become an error answer. Cut it so the client sees a
    // truncated response rather than one that looks complete. With nothing sent (the client went away),
    // the status is still recorded, so outer middleware and the request log see 499, not Koa's 404.
    if (!ctx.res.headersSent) ctx.status = mapped.status;
    ctx.res.destroy();
    return;
  }
  const keep = new Set((ctx.state as Record<symbol, Set<string> | undefined>)[KEEP_HEADERS]);
  // RFC 9110: a 405 lists the methods the resource allows (the router sets Allow); a 501 may as well.
  if (mapped.status === 405 || mapped.status === 501) keep.add('allow');
  for (const name of ctx.res.getHeaderNames()) if (!keep.has(name)) ctx.res.removeHeader(name);
  ctx.set(mapped.headers);
  ctx.status = mapped.status;
  // Answered before the body was read in full: close after a bounded lingering read, so the client reads
  // this answer. A small body not yet touched is read and dropped instead, keeping the connection, unless
  // the body is what was refused (413, 408) or the service is going away (a 503 at shutdown).
  const refusedBody = mapped.status === 413 || mapped.status === 408 || error instanceof ExecutorUnavailableError;
  if (mapped.status === 413 || (bodyUnread(ctx.req) && (refusedBody || !bodyDiscardable(ctx.req)))) lingerAfterAnswer(ctx);
  const body: ErrorBody = { error: mapped.body, request_id: requestId };
  ctx.body = body;
}

/**
 * Catches what later middleware throw and answers in the shared shape. Requests no route answered get
 * the same shape with 404, and an error status set with no body (the router's 405 and 501, a route's
 * bare `ctx.status = 409`) gets it with the status's named code. Mount it first (after requestId(), so
 * the request id is known).
 */
export function errorHandler(): Koa.Middleware {
  maxArguments('errorHandler()', arguments, 0);
  return async function errorHandlerMiddleware(ctx, next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        // A route that set 404 itself found no such resource; otherwise no route matched at all.
        const explicit = (ctx.response as { _explicitStatus?: boolean })._explicitStatus === true;
        throw explicit
          ? new RouteNotFoundError(ctx.method, ctx.path, `${truncateForMessage(ctx.path)} was not found`)
          : new RouteNotFoundError(ctx.method, ctx.path);
      }
      if (ctx.status >= 400 && ctx.body == null) {
        const status = ctx.status;
        const allow = ctx.response.get('Allow');
        const message =
          status === 405 && allow
            ? `${truncateForMessage(ctx.method)} is not allowed here; allowed: ${allow}`
            : status === 501
              ? `the method ${truncateForMessage(ctx.method)} is not implemented`
              : (STATUS_CODES[status] ?? 'error').toLowerCase();
        throw Object.assign(new Error(message), { status, expose: true });
      }
    } catch (error) {
      respondWithError(ctx, error);
    }
  };
}

/**
 * Mounts requestId-aware error handling on an app: errorHandler() as middleware, and an 'error' listener
 * that writes errors nobody logged yet as structured lines, in place of Koa's plain-text default.
 */
export function registerErrorHandlers(app: Koa): void {
  maxArguments('registerErrorHandlers(app)', arguments, 1);
  koaApp(app, 'registerErrorHandlers(app)');
  app.use(errorHandler());
  app.on('error', (error: unknown, ctx?: Koa.Context) => {
    if (typeof error === 'object' && error !== null && logged.has(error)) return;
    const status = httpStatusOf(error) ?? 500;
    if (status < 500) return;
    safeLog(() => {
      runtimeOf(app).logger.error({ msg: 'unhandled error', request_id: ctx ? requestIdOf(ctx) : null, err: error });
    });
  });
}
