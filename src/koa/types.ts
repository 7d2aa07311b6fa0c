// Public types of the Koa layer: the state middleware put on `ctx.state`, their options, the logger shape.

import type { Executor } from '../exec/executor.js';
import type { ExecutorOptions } from '../exec/types.js';
import type { Frame } from '../frame/frame.js';
import type { ModelField } from '../model/schema.js';
import type { Field, IngestOptions } from '../model/types.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log line; `msg` says what happened, the other fields carry the details. */
export interface LogRecord {
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Logger {
  debug(record: LogRecord): void;
  info(record: LogRecord): void;
  warn(record: LogRecord): void;
  error(record: LogRecord): void;
}

/** What a model class made by DataFrameModel offers the body middleware. */
export interface FrameModel<F extends Frame<object> = Frame<object>> {
  readonly name: string;
  readonly fields: readonly ModelField[];
  readonly schema: readonly Field[];
  fromColumns(columns: unknown, options?: IngestOptions): F;
  fromRows(rows: unknown, options?: IngestOptions): F;
  fromNdjson(text: string | Uint8Array, options?: IngestOptions): F;
  fromArrow(input: Uint8Array, options?: IngestOptions): F;
}

/** The state gpuframe's middleware put on `ctx.state`. */
export interface GpuframeState {
  /** Set by requestId(). */
  requestId?: string;
  /** Set by executorLifecycle(); read it with getExecutor(ctx), which fails with 503 when it is missing. */
  executor?: Executor;
}

/** `ctx.state` after columnarBody(Model) or rowsBody(Model). */
export interface FrameState<F> extends GpuframeState {
  frame: F;
}

export interface BodyOptions extends IngestOptions {
  /** Most bytes read from the body, after decompression too (default 32 MiB). */
  readonly limit?: number;
  /** When no bytes of the body arrive for this long, 408 request_timeout (default 30 s; 0 waits forever). */
  readonly timeoutMs?: number;
}

export interface LifecycleOptions extends Pick<ExecutorOptions, 'backend' | 'maxWorkers' | 'threadNamePrefix' | 'gpu' | 'inlineThreshold' | 'morselRows'> {
  /** How long shutdown waits for requests in flight and after-response tasks (default 30 s). */
  readonly drainTimeoutMs?: number;
  /** After the deadline, how long the task already running may still take (default 5 s); tasks not started are abandoned at once. */
  readonly abandonGraceMs?: number;
  /** At shutdown, how long request bodies still arriving may take before they are ended with 503 (default 5 s). */
  readonly uploadGraceMs?: number;
  /** Most time from a connection's first byte to the end of the request headers (default 60 s; 0: none). Slow-header clients are disconnected. */
  readonly headersTimeoutMs?: number;
  /** Most time to receive a whole request, headers and body (default 300 s; 0: none). Node answers 408 and closes. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open for a next request (default 5 s). */
  readonly keepAliveTimeoutMs?: number;
  /** A connection with no bytes in either direction for this long is closed (default 120 s; 0: none). */
  readonly idleTimeoutMs?: number;
  /** Requests other than GET/HEAD/OPTIONS are refused with 503 'overloaded' while this many after-response tasks are pending (default 10,000). */
  readonly maxPendingTasks?: number;
  /**
   * Signals that start a graceful shutdown (default SIGTERM and SIGINT); false installs no handler. The same
   * signal again within 1 s of the last one counted is a duplicate (a process group signalled while npm
   * forwards the signal too) and is ignored.
   */
  readonly signals?: readonly NodeJS.Signals[] | false;
  /** After a signal-initiated shutdown, end the process (default true): exit code 0 if everything drained, else 1. */
  readonly exitOnSignal?: boolean;
  /** Acquire the GPU at start, so the first request does not pay for it (default true unless backend is 'cpu'). */
  readonly warmUp?: boolean;
  readonly logger?: Logger;
}

export type LifecycleState = 'idle' | 'running' | 'draining' | 'closed';

export interface ShutdownReport {
  /** True when every request in flight and every after-response task finished before the deadline. */
  readonly drained: boolean;
  /** Tasks that had not finished at the deadline: each was logged and handed to its onAbandon, if it had one. */
  readonly abandonedTasks: number;
  readonly reason: string;
  readonly ms: number;
}

/**
 * A task run after a response: `requestId` is the request's id, when requestId() is mounted. `signal`
 * aborts when a shutdown stops waiting for the task (its deadline passed, or a second signal came): a
 * task that retries should stop retrying then and save its work instead.
 */
export type AfterResponseTask = (info: { readonly requestId: string | null; readonly signal: AbortSignal }) => unknown;

export type ResponseFormat = 'json' | 'ndjson' | 'arrow';
