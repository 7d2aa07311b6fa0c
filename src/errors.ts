// The error hierarchy shared by every layer: a stable `code`, the HTTP `status` a service should answer
// with, and `expose` (whether the message is safe to show a client). Layers throw these early, where they
// know what is wrong; the Koa layer maps them to responses without knowing each class.

import { listForMessage } from './echo.js';

const brand = Symbol.for('gpuframe.error');

export interface ValidationIssue {
  /** Column name as declared in the model (not the alias), or null for frame-level issues. */
  readonly column: string | null;
  /** Zero-based row index in the input, or null when the issue concerns a whole column. */
  readonly row: number | null;
  readonly code: string;
  readonly message: string;
}

export interface ErrorOptions {
  readonly cause?: unknown;
}

/** Base class. `instanceof GpuframeError` also holds for the few errors that must extend TypeError. */
export class GpuframeError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: string, message: string, status: number, expose: boolean, options: ErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.status = status;
    this.expose = expose;
    markGpuframeError(this);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === GpuframeError) return typeof value === 'object' && value !== null && brand in value;
    return typeof value === 'object' && value !== null && this.prototype.isPrototypeOf(value);
  }
}

function markGpuframeError(error: Error): void {
  Object.defineProperty(error, brand, { value: true, enumerable: false });
  Object.defineProperty(error, 'name', { value: error.constructor.name, enumerable: false, configurable: true, writable: true });
}

/** Shape shared by errors that must be TypeErrors (schema and expression type errors). */
abstract class GpuframeTypeError extends TypeError {
  abstract readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  constructor(message: string, status: number, expose: boolean, options: ErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.status = status;
    this.expose = expose;
    markGpuframeError(this);
  }
}

/** Cells failed validation. `issues` is capped; `truncatedIssues` says how many more were found. */
export class ValidationError extends GpuframeError {
  readonly issues: readonly ValidationIssue[];
  readonly truncatedIssues: number;
  constructor(issues: readonly ValidationIssue[], truncatedIssues = 0, options: ErrorOptions = {}) {
    const total = issues.length + truncatedIssues;
    const first = issues[0];
    const head = first ? `${first.column ?? '(frame)'}${first.row === null ? '' : `[${first.row}]`}: ${first.message}` : 'invalid input';
    super('validation_failed', `${total} validation issue${total === 1 ? '' : 's'}; first: ${head}`, 422, true, options);
    this.issues = issues;
    this.truncatedIssues = truncatedIssues;
  }
}

export class ColumnLengthMismatchError extends GpuframeError {
  readonly lengths: Readonly<Record<string, number>>;
  constructor(lengths: Readonly<Record<string, number>>) {
    const text = Object.entries(lengths)
      .map(([name, n]) => `${name}=${n}`)
      .join(', ');
    super('column_length_mismatch', `columns have different lengths: ${text}`, 400, true);
    this.lengths = lengths;
  }
}

export class UnknownColumnError extends GpuframeError {
  readonly columns: readonly string[];
  constructor(columns: readonly string[], available: readonly string[], context: string) {
    // The unknown names come from the caller (a body's keys): capped, so the answer stays small.
    super(
      'unknown_column',
      `unknown column${columns.length === 1 ? '' : 's'} ${listForMessage(columns)} in ${context}; available: ${available.join(', ') || '(none)'}`,
      400,
      true,
    );
    this.columns = columns;
  }
}

/** Most characters of a MalformedArrowError's message: input can make the reasons long (field names, counts). */
const MALFORMED_ARROW_MESSAGE_MAX = 500;

/**
 * Bytes offered as Arrow IPC are not a well-formed stream or file: framing, metadata flatbuffers, schema,
 * or buffers that do not hold what the declared lengths and types need. The message says what is wrong and
 * where; `messageIndex` (the schema is message 0) and `byteOffset` locate it when known.
 */
export class MalformedArrowError extends GpuframeError {
  readonly messageIndex: number | null;
  readonly byteOffset: number | null;
  constructor(message: string, where: { readonly messageIndex?: number | null; readonly byteOffset?: number | null } = {}, options: ErrorOptions = {}) {
    const capped = message.length > MALFORMED_ARROW_MESSAGE_MAX ? `${message.slice(0, MALFORMED_ARROW_MESSAGE_MAX - 3)}...` : message;
    super('malformed_arrow', capped, 400, true, options);
    this.messageIndex = where.messageIndex ?? null;
    this.byteOffset = where.byteOffset ?? null;
  }
}

/** A model uses a zod type with no columnar representation, or a malformed alias. */
export class SchemaDefinitionError extends GpuframeTypeError {
  readonly code = 'schema_definition';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`field '${field}': ${message}`, 500, false);
    this.field = field;
  }
}

/** An expression does not type-check against the frame's schema. */
export class ExpressionTypeError extends GpuframeTypeError {
  readonly code = 'expression_type';
  constructor(message: string) {
    super(message, 400, true);
  }
}

/** Integer arithmetic left the range of its type; results are never silently wrapped. */
export class ArithmeticOverflowError extends GpuframeError {
  constructor(message: string) {
    super('arithmetic_overflow', message, 422, true);
  }
}

/** A strict cast met a value its target cannot represent (a string that is not a number, say); the message names the value and row. */
export class CastError extends GpuframeError {
  constructor(message: string) {
    super('invalid_cast', message, 422, true);
  }
}

/**
 * A wall-clock time that a time zone skips (a DST gap) or repeats (a DST overlap) where the caller asked to
 * raise on it, as Polars' default `ambiguous: 'raise'` and `nonExistent: 'raise'` do.
 */
export class LocalTimeError extends GpuframeError {
  constructor(message: string) {
    super('local_time', message, 422, true);
  }
}

export class CancelledError extends GpuframeError {
  constructor(message = 'execution was cancelled', options: ErrorOptions = {}) {
    super('cancelled', message, 499, true, options);
  }
}

export class ExecutorClosedError extends GpuframeError {
  constructor() {
    super('executor_closed', 'the executor is closed and takes no more work', 503, true);
  }
}

export class BackendUnavailableError extends GpuframeError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('backend_unavailable', message, 503, true, options);
  }
}

/** The device has not the memory for a query's columns, even after evicting everything it may. */
export class GpuMemoryError extends GpuframeError {
  constructor(message: string) {
    super('gpu_memory_exhausted', message, 507, true);
  }
}

/** Failure inside an engine that is not the caller's fault. */
export class ExecutionError extends GpuframeError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('execution_failed', message, 500, false, options);
  }
}

// --- Invalid arguments: what TypeScript's types say, checked at run time for JavaScript callers ---

const MAX_DESCRIBED = 40;
const BUILT_INS: readonly (readonly [string, abstract new (...args: never[]) => unknown])[] = [
  ['a Map', Map],
  ['a Set', Set],
  ['a Date', Date],
  ['a RegExp', RegExp],
  ['an Error', Error],
  ['a Promise', Promise],
  ['an ArrayBuffer', ArrayBuffer],
  ['an AbortSignal', AbortSignal],
];

/**
 * A short, printable description of any value, safe to put in a message a client may see: strings and
 * keys are cut to 40 characters and quoted, objects are named by kind, and nothing user-defined runs
 * (no toString, no getters, no Proxy traps beyond a type check).
 */
export function describeArgument(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_DESCRIBED ? `${value.slice(0, MAX_DESCRIBED)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      try {
        if (Array.isArray(value)) return `an array of length ${value.length}`;
        if (ArrayBuffer.isView(value)) return 'a typed array';
        // instanceof, not Object.prototype.toString: that would run a Symbol.toStringTag getter of the caller's.
        for (const [kind, cls] of BUILT_INS) if (value instanceof cls) return kind;
        return 'an object';
      } catch {
        // A revoked Proxy throws on any inspection.
        return 'an object';
      }
  }
}

/**
 * An argument or option a public function does not accept: the wrong type, a number out of range or not
 * an integer, a string outside a closed set, an unknown option name. Thrown where the value enters the
 * API, before any work; a TypeError, like the other errors about what the caller wrote.
 */
export class InvalidArgumentError extends GpuframeTypeError {
  readonly code = 'invalid_argument';
  /** The parameter, as the caller wrote it: `join(options).how`, `head(n)`. */
  readonly argument: string;
  /** What the parameter accepts, in words. */
  readonly expected: string;
  /** The accepted values, when they are a closed set. */
  readonly allowed: readonly unknown[] | null;
  constructor(argument: string, received: unknown, expected: string, allowed: readonly unknown[] | null = null) {
    super(`${argument}: expected ${expected}, received ${describeArgument(received)}`, 400, true);
    this.argument = argument;
    this.expected = expected;
    this.allowed = allowed;
  }

  /** An options object carries a key the function does not know (a typo, or an option of another function). */
  static unknownOption(argument: string, key: string, known: readonly string[]): InvalidArgumentError {
    const error = new InvalidArgumentError(argument, key, `only the options ${known.join(', ') || '(none)'}`, known);
    error.message = `${argument}: unknown option ${describeArgument(key)}; known options: ${known.join(', ') || '(none)'}`;
    return error;
  }
}

export function isGpuframeError(value: unknown): value is GpuframeError {
  return value instanceof GpuframeError;
}
