// Per-application state shared by the middleware: the logger, kept in a WeakMap keyed by the Koa
// application so two apps in one process never share one, and the request id of a context. A leaf of
// koa/: the after-response queue and the error handler read it, and it imports neither.

import type Koa from 'koa';
import { jsonLogger } from './log.js';
import { maxArguments } from '../options.js';
import { koaApp, logger as checkLogger } from './options.js';
import type { Logger } from './types.js';

export interface AppRuntime {
  logger: Logger;
}

const runtimes = new WeakMap<Koa, AppRuntime>();

export function runtimeOf(app: Koa): AppRuntime {
  let runtime = runtimes.get(app);
  if (!runtime) {
    runtime = { logger: jsonLogger() };
    runtimes.set(app, runtime);
  }
  return runtime;
}

/** Sets the logger gpuframe's middleware use for this app (request lines, task lines, errors). */
export function setLogger(app: Koa, logger: Logger): void {
  maxArguments('setLogger(app, logger)', arguments, 2);
  koaApp(app, 'setLogger(app)');
  runtimeOf(app).logger = checkLogger(logger, 'setLogger(logger)');
}

/** The request id of a context, when requestId() ran. */
export function requestIdOf(ctx: Koa.Context): string | null {
  const id: unknown = (ctx.state as { requestId?: unknown }).requestId;
  return typeof id === 'string' ? id : null;
}
