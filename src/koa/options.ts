// Run-time checks of what the Koa helpers are given: apps, contexts, models, loggers and the options of
// each helper. Options are checked when a middleware is made or a lifecycle mounted, so a bad value stops
// the service at start instead of failing every request (a 500 or 503 per request, before).

import { constants as bufferConstants } from 'node:buffer';
import { Server } from 'node:net';
import { constants as osConstants } from 'node:os';
import { EXECUTOR_OPTIONS } from '../exec/executor.js';
import { INGEST_OPTIONS } from '../model/ingest.js';
import { arrayOf, boolean, duration, fail, func, integer, isPlainObject, MAX_TIMER_MS, oneOf, options, timeoutMs, type Check } from '../options.js';
import type { Logger, LogLevel, ResponseFormat } from './types.js';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const RESPONSE_FORMATS: readonly ResponseFormat[] = ['json', 'ndjson', 'arrow'];

/** A body limit Node can hold in one Buffer. */
export const MAX_BODY_LIMIT = bufferConstants.MAX_LENGTH;

function hasFunctions(value: unknown, names: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((n) => typeof record[n] === 'function');
}

/** A Koa application (checked by shape, so apps of any copy of koa pass). */
export function koaApp(value: unknown, name: string): void {
  if (!hasFunctions(value, ['use', 'listen', 'callback', 'on', 'emit'])) fail(name, value, 'a Koa application (new Koa())');
}

/** A Koa context, as middleware receive it. */
export function koaContext(value: unknown, name: string): void {
  const ctx = value as { req?: unknown; res?: unknown; state?: unknown; app?: unknown } | null;
  if (
    typeof value !== 'object' ||
    ctx === null ||
    typeof ctx.req !== 'object' ||
    typeof ctx.res !== 'object' ||
    typeof ctx.state !== 'object' ||
    ctx.state === null
  ) {
    fail(name, value, 'a Koa context (the ctx a middleware receives)');
  }
  koaApp(ctx.app, `${name}.app`);
}

export const logger: Check<Logger> = (value, name) =>
  hasFunctions(value, LOG_LEVELS) ? (value as Logger) : fail(name, value, 'a logger: an object with debug, info, warn and error methods');

/** A model class made by DataFrameModel (or anything with its ingest methods and fields). */
export function frameModel(value: unknown, name: string, methods: readonly string[] = ['fromColumns', 'fromRows', 'fromNdjson', 'fromArrow']): void {
  const fields = typeof value === 'function' || typeof value === 'object' ? (value as { fields?: unknown } | null)?.fields : undefined;
  if (!hasFunctions(value, methods) || !Array.isArray(fields)) fail(name, value, 'a model class made by DataFrameModel({...})');
}

export function server(value: unknown, name: string): void {
  if (!(value instanceof Server)) fail(name, value, 'a server from app.listen() or http.createServer()');
}

export const bodyLimit = integer({ min: 1, max: MAX_BODY_LIMIT });

/** Options of columnarBody and rowsBody: the body limit, and what every model ingest takes. */
/** A server or body timeout: whole milliseconds from 0 (none) to what a Node timer can wait for. */
export const serverTimeoutMs = integer({ min: 0, max: MAX_TIMER_MS });
export const bodyOptions = options({ limit: bodyLimit, timeoutMs: serverTimeoutMs, ...INGEST_OPTIONS });
export const readBodyOptions = options({ limit: bodyLimit, timeoutMs: serverTimeoutMs });

// SIGKILL and SIGSTOP cannot be caught: Node refuses a handler for them.
const CATCHABLE_SIGNALS = Object.keys(osConstants.signals).filter((s) => s !== 'SIGKILL' && s !== 'SIGSTOP') as NodeJS.Signals[];
const signalList = arrayOf(oneOf(CATCHABLE_SIGNALS), { distinct: true });

export const lifecycleOptions = options({
  backend: EXECUTOR_OPTIONS.backend,
  maxWorkers: EXECUTOR_OPTIONS.maxWorkers,
  threadNamePrefix: EXECUTOR_OPTIONS.threadNamePrefix,
  gpu: EXECUTOR_OPTIONS.gpu,
  inlineThreshold: EXECUTOR_OPTIONS.inlineThreshold,
  morselRows: EXECUTOR_OPTIONS.morselRows,
  drainTimeoutMs: timeoutMs,
  // Waited for with a timer that must fire: no Infinity.
  abandonGraceMs: duration({ infinite: false }),
  uploadGraceMs: duration({ infinite: false }),
  headersTimeoutMs: serverTimeoutMs,
  requestTimeoutMs: serverTimeoutMs,
  keepAliveTimeoutMs: serverTimeoutMs,
  idleTimeoutMs: serverTimeoutMs,
  maxPendingTasks: integer({ min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true }),
  signals: (value: unknown, name: string) => (value === false ? false : signalList(value, name)),
  exitOnSignal: boolean,
  warmUp: boolean,
  logger,
});

export const afterResponseOptions = options({ name: (value, name) => (typeof value === 'string' ? value : fail(name, value, 'a string')), onAbandon: func });

// An HTTP header name is a token (RFC 9110 5.1).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
export const requestIdOptions = options({
  header: (value, name) => (typeof value === 'string' && HEADER_NAME.test(value) ? value : fail(name, value, 'an HTTP header name such as X-Request-ID')),
  generate: func,
});

export const jsonLoggerOptions = options({
  level: oneOf(LOG_LEVELS),
  write: func,
  base: (value, name) => (isPlainObject(value) ? value : fail(name, value, 'a plain object of fields')),
});

export const formatList = arrayOf(oneOf(RESPONSE_FORMATS), { min: 1, distinct: true });
