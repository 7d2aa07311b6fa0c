// requestLog(): one structured line per request, written when the response has finished (or the client
// went away), with the request id, the status actually sent and the time taken.

import type Koa from 'koa';
import { maxArguments } from '../options.js';
import { onResponseDone } from './after-response.js';
import { requestIdOf, runtimeOf } from './runtime.js';

export function requestLog(): Koa.Middleware {
  maxArguments('requestLog()', arguments, 0);
  return async function requestLogMiddleware(ctx, next) {
    const started = performance.now();
    onResponseDone(ctx.res, () => {
      const status = ctx.res.headersSent ? ctx.res.statusCode : null;
      const record = {
        msg: 'request',
        request_id: requestIdOf(ctx),
        method: ctx.method,
        path: ctx.path,
        status,
        ms: Math.round((performance.now() - started) * 100) / 100,
        completed: ctx.res.writableFinished,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- @types/koa types request.length as number, but it is undefined without a Content-Length
        ...(ctx.request.length === undefined ? {} : { bytes_in: ctx.request.length }),
      };
      const logger = runtimeOf(ctx.app).logger;
      if (status === null || status >= 500) logger.error(record);
      else logger.info(record);
    });
    await next();
  };
}
