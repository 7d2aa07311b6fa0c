// Lingering close, as nginx does it: an error answered before the request body was read in full (413,
// 408, a 503 at shutdown; any other when the body is large, of unknown length or partly read) goes out
// with `Connection: close`, and then the server does not destroy the
// socket at once. Destroying it with the client's body still arriving makes the kernel answer those bytes
// with a reset, and a client still writing (Node's fetch, curl) then fails with EPIPE or ECONNRESET
// before it has read the answer sitting in its receive buffer. Instead the server half-closes (the client
// sees the answer end), reads and discards what the client still sends, and closes when the client
// closes its side or finishes its body, or when a time or byte bound is reached.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type Koa from 'koa';

/**
 * How long a refused request may keep sending after its answer. nginx lingers up to 30 s in all and 5 s
 * between reads; a client needs only long enough to read an answer that is already in its receive buffer,
 * a few milliseconds on a LAN, so 2 s covers a slow client on a slow link while holding a refused
 * connection open for little.
 */
export const LINGER_MS = 2000;

/**
 * Most body bytes discarded while lingering. Discarding costs bandwidth and a little CPU; 4 MiB is a
 * fraction of a second on any link where the client reads its answer quickly anyway, and bounds what a
 * client that keeps sending gigabytes after a 413 can make the server read.
 */
export const LINGER_BYTES = 4 * 1024 * 1024;

const lingering = new WeakSet<Socket>();

/** True while the request still has body bytes the server has not read: answering now calls for lingering. */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * True when a request refused before any of its body was read can keep its connection: its declared
 * body is small enough to read and throw away (Node's server does that itself when the answer ends,
 * then reuses the connection). A keep-alive client that meets a shed 503 or a 415 then carries on
 * without a new connection, and nothing it sent is left unanswered. Bodies without a length, larger
 * ones, and bodies partly read already are closed with a lingering read instead.
 */
export function bodyDiscardable(req: IncomingMessage): boolean {
  if (req.readableDidRead) return false;
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || length === undefined) return false;
  const bytes = Number(length);
  return Number.isSafeInteger(bytes) && bytes <= LINGER_BYTES;
}

/**
 * Arranges a lingering close of this request's connection once its answer is sent: call it while the
 * answer is built (it needs `Connection: close` on the answer, which it sets). Nothing happens when the
 * body has been read by the time the answer is done; the connection then closes as any other.
 */
export function lingerAfterAnswer(ctx: Koa.Context): void {
  ctx.set('Connection', 'close');
  const req = ctx.req;
  const socket = req.socket as Socket | null;
  if (socket === null || socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  // Node's server ends an answer marked `Connection: close` with socket.destroySoon(), which destroys the
  // socket as soon as the answer is flushed. There is no option to linger instead, so this one socket's
  // destroySoon is replaced; every other socket keeps Node's own.
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = function lingeringClose(): void {
    if (req.complete) {
      destroySoon();
      return;
    }
    const startBytes = socket.bytesRead;
    // eslint-disable-next-line prefer-const -- close() reads the timer and is defined before it can be set
    let timer: NodeJS.Timeout | undefined;
    const close = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', close);
      socket.off('end', close);
      socket.destroy();
    };
    const onData = (): void => {
      if (socket.bytesRead - startBytes > LINGER_BYTES) close();
    };
    timer = setTimeout(close, LINGER_MS);
    timer.unref();
    // The answer is flushed and FIN sent; the read side stays open (Node's HTTP server allows half-open sockets).
    socket.end();
    req.on('data', onData);
    req.once('end', close);
    socket.once('end', close);
    // The body reader paused the request; resumed, the parser keeps reading and the bytes are dropped.
    req.resume();
  };
}
