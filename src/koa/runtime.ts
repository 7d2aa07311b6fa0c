// Per-application state shared by the middleware: the logger and the after-response queue. Kept in a
// WeakMap keyed by the Koa application, so two apps in one process never share a queue.

import type Koa from 'koa';
import { TaskQueue } from './after-response.js';
import { jsonLogger } from './log.js';
import { maxArguments } from '../options.js';
import { koaApp, logger as checkLogger } from './options.js';
import type { Logger } from './types.js';

export interface AppRuntime {
  logger: Logger;
  readonly tasks: TaskQueue;
}

const runtimes = new WeakMap<Koa, AppRuntime>();

export function runtimeOf(app: Koa): AppRuntime {
  let runtime = runtimes.get(app);
  if (!runtime) {
    const created: AppRuntime = { logger: jsonLogger(), tasks: new TaskQueue(app, () => created.logger) };
    runtime = created;
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
