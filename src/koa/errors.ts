// Errors raised by the HTTP layer itself. They share the library's base class, so the error handler maps
// them like every other GpuframeError: by `status`, `code` and `expose`.

import { GpuframeError, type ErrorOptions, type ValidationIssue } from '../errors.js';

/**
 * The body cannot be read as its type says: not valid JSON (or an NDJSON line is not), not UTF-8
 * (`malformed_json`), or not Arrow IPC (`malformed_arrow`). `issues` name the lines.
 */
export class MalformedBodyError extends GpuframeError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, options: ErrorOptions & { readonly issues?: readonly ValidationIssue[]; readonly code?: 'malformed_json' | 'malformed_arrow' } = {}) {
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
    super('unsupported_media_type', `unsupported ${what} ${received === null ? '(none given)' : `'${received}'`}; accepted: ${accepted.join(', ')}`, 415, true);
    this.accepted = accepted;
  }
}

/** No format the route can answer in is acceptable to the client. */
export class NotAcceptableError extends GpuframeError {
  readonly available: readonly string[];
  constructor(accept: string, available: readonly string[]) {
    super('not_acceptable', `cannot answer in any type of Accept '${accept}'; available: ${available.join(', ')}`, 406, true);
    this.available = available;
  }
}

/** The client went away before its body arrived in full. */
export class RequestAbortedError extends GpuframeError {
  constructor(options: ErrorOptions = {}) {
    super('request_aborted', 'the client aborted the request before its body was complete', 400, true, options);
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
  constructor(method: string, path: string, message = `no route for ${method} ${path}`) {
    super('not_found', message, 404, true);
  }
}
