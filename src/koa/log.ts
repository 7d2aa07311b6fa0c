// Structured logs: one JSON object per line. Services pass their own Logger (pino and friends fit the
// shape); the default writes JSON lines to stdout, warnings and errors to stderr.

import { maxArguments } from '../options.js';
import { jsonLoggerOptions } from './options.js';
import type { Logger, LogLevel, LogRecord } from './types.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  /** Least severe level written (default 'info'). */
  readonly level?: LogLevel;
  /** Where lines go (default: stdout for debug/info, stderr for warn/error). */
  readonly write?: (line: string, level: LogLevel) => void;
  /** Fields added to every line, such as the service name. */
  readonly base?: Readonly<Record<string, unknown>>;
}

/** A JSON-lines logger. Values that JSON cannot hold (bigint, errors) are written readably. */
export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  maxArguments('jsonLogger(options)', arguments, 1);
  options = jsonLoggerOptions(options, 'jsonLogger(options)') as JsonLoggerOptions;
  const threshold = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string, level: LogLevel) => (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(line));
  const base = options.base ?? {};
  const emit = (level: LogLevel, record: LogRecord): void => {
    if (ORDER[level] < threshold) return;
    write(`${serialize({ time: new Date().toISOString(), level, ...base, ...record })}\n`, level);
  };
  return {
    debug: (record) => {
      emit('debug', record);
    },
    info: (record) => {
      emit('info', record);
    },
    warn: (record) => {
      emit('warn', record);
    },
    error: (record) => {
      emit('error', record);
    },
  };
}

/** Discards everything; for tests and embedding. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** JSON text of a record; cycles and values that throw on serialisation never make logging throw. */
function serialize(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(record, (key, value: unknown) => {
      const out = replacer(key, value);
      if (typeof out === 'object' && out !== null) {
        if (seen.has(out)) return '[Circular]';
        seen.add(out);
      }
      return out;
    });
  } catch (error) {
    return JSON.stringify({
      time: record['time'],
      level: record['level'],
      msg: String(record['msg']),
      log_error: `record not serialisable: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), ...(value.stack ? { stack: value.stack } : {}) };
  }
  return value;
}
