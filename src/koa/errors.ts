// Errors raised by the HTTP layer itself. They share the library's base class, so the error handler maps
// them like every other GpuframeError: by `status`, `code` and `expose`.

import { STATUS_CODES } from 'node:http';
import { truncateForMessage } from '../echo.js';
import { integer } from '../options.js';
import { GpuframeError, type ErrorOptions, type ValidationIssue } from '../errors.js';

/** The code of an error answer whose error names none (ctx.throw(405), a status set with no body). */
const STATUS_CODE_NAMES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  402: 'payment_required',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  407: 'proxy_authentication_required',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  411: 'length_required',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  417: 'expectation_failed',
  421: 'misdirected_request',
  422: 'unprocessable_entity',
  423: 'locked',
  424: 'failed_dependency',
  425: 'too_early',
  426: 'upgrade_required',
  428: 'precondition_required',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  451: 'unavailable_for_legal_reasons',
  499: 'client_closed_request',
  500: 'internal_error',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
  505: 'http_version_not_supported',
  507: 'insufficient_storage',
  508: 'loop_detected',
  511: 'network_authentication_required',
};

/** A named code for any error status: the table above, else the status text in snake case, else `client_error` / `server_error`. */
export function codeForStatus(status: number): string {
  integer({ min: 100, max: 599 })(status, 'codeForStatus(status)');
  const named = STATUS_CODE_NAMES[status];
  if (named !== undefined) return named;
  const text = STATUS_CODES[status];
  if (text !== undefined)
    return text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '');
  return status < 500 ? 'client_error' : 'server_error';
}

/**
 * The body cannot be read as its type says: not valid JSON (or an NDJSON line is not), not UTF-8
 * (`malformed_json`), or not Arrow IPC (`malformed_arrow`). `issues` name the lines.
 */
export class MalformedBodyError extends GpuframeError {
  readonly issues: readonly ValidationIssue[];
  constructor(
    message: string,
    options: ErrorOptions & { readonly issues?: readonly ValidationIssue[]; readonly code?: 'malformed_json' | 'malformed_arrow' } = {},
  ) {
    super(options.code ?? 'malformed_json', message, 400, true, options);
    this.issues = options.issues ?? [];
  }
}

/** The body is larger than the route's limit. The connection is closed after the answer. */
export class PayloadTooLargeError extends GpuframeError {
  readonly limit: number;
  constructor(limit: number, received: number | null) {
    const seen = received === null ? 'more' : `${received}`;
    super('payload_too_large', `the request body exceeds the limit of ${limit} bytes (${seen} bytes)`, 413, true);
    this.limit = limit;
  }
}

/** The Content-Type (or Content-Encoding) is not one the route reads. */
export class UnsupportedMediaTypeError extends GpuframeError {
  readonly accepted: readonly string[];
  constructor(received: string | null, accepted: readonly string[], what = 'content type') {
    super(
      'unsupported_media_type',
      `unsupported ${what} ${received === null ? '(none given)' : `'${truncateForMessage(received)}'`}; accepted: ${accepted.join(', ')}`,
      415,
      true,
    );
    this.accepted = accepted;
  }
}

/** No format the route can answer in is acceptable to the client. */
export class NotAcceptableError extends GpuframeError {
  readonly available: readonly string[];
  constructor(accept: string, available: readonly string[]) {
    super('not_acceptable', `cannot answer in any type of Accept '${truncateForMessage(accept)}'; available: ${available.join(', ')}`, 406, true);
    this.available = available;
  }
}

/** The client went away before its body arrived in full. */
export class RequestAbortedError extends GpuframeError {
  constructor(options: ErrorOptions = {}) {
    super('request_aborted', 'the client aborted the request before its body was complete', 400, true, options);
  }
}

/**
 * No bytes of the request body arrived for `timeoutMs`: the body reader gives up (408). The connection
 * is closed after the answer.
 */
export class RequestTimeoutError extends GpuframeError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('request_timeout', `no bytes of the request body arrived for ${timeoutMs} ms`, 408, true);
    this.timeoutMs = timeoutMs;
  }
}

/** The shared executor is not available to this request: the lifecycle is not mounted, or it is shutting down. */
export class ExecutorUnavailableError extends GpuframeError {
  constructor(message: string) {
    super('executor_unavailable', message, 503, true);
  }
}

/** Too much accepted work is waiting for the background queue; the request is refused before its body is read. */
export class ServiceOverloadedError extends GpuframeError {
  constructor(message: string) {
    super('overloaded', message, 503, true);
  }
}

/** A lifecycle used out of order: started twice, mounted twice, or used after shutdown. A programming error. */
export class LifecycleError extends GpuframeError {
  constructor(code: string, message: string) {
    super(code, message, 500, false);
  }
}

/** No route answered. Produced by the error handler so 404s share the JSON error shape. */
export class RouteNotFoundError extends GpuframeError {
  constructor(method: string, path: string, message = `no route for ${truncateForMessage(method)} ${truncateForMessage(path)}`) {
    super('not_found', message, 404, true);
  }
}
