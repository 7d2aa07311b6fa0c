// requestId(): every request gets an id, taken from X-Request-ID when the caller sent a usable one, else
// made here. It lands on ctx.state.requestId and on the response, and every log line about the request
// (error, request line, background task) carries it.

import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { maxArguments } from '../options.js';
import { keepHeaderOnError } from './error-handler.js';
import { requestIdOptions } from './options.js';

export interface RequestIdOptions {
  /** Header read and echoed (default 'X-Request-ID'). */
  readonly header?: string;
  /** Makes an id when the request brings none (default: a random UUID). */
  readonly generate?: () => string;
}

// Ids end up in headers and log lines: printable ASCII without spaces, bounded length.
const USABLE = /^[\x21-\x7e]{1,200}$/;

export function requestId(options: RequestIdOptions = {}): Koa.Middleware {
  maxArguments('requestId(options)', arguments, 1);
  options = requestIdOptions(options, 'requestId(options)') as RequestIdOptions;
  const header = options.header ?? 'X-Request-ID';
  const generate = options.generate ?? randomUUID;
  return async function requestIdMiddleware(ctx, next) {
    const given = ctx.get(header);
    const id = USABLE.test(given) ? given : generate();
    ctx.state['requestId'] = id;
    ctx.set(header, id);
    keepHeaderOnError(ctx, header);
    await next();
  };
}
