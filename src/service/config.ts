// Service configuration, parsed once from the environment with zod. A bad value stops the service at
// start with every problem listed, rather than surfacing as a strange failure later.

import { z } from 'zod';
import { serverTimeouts } from '../koa/lifecycle.js';

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "33554432", "32mb", "32 MiB" → bytes. */
const byteSize = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*([kmg]i?b|b)?$/i, 'a byte size such as 33554432, 32mb or 32MiB')
  .transform((text) => {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text)!;
    return Math.floor(Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!);
  })
  .pipe(
    z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1),
  );

/** Milliseconds for a timeout: 0 turns it off; Node keeps no timer longer than 2^31 - 1 ms. */
const timeoutMs = z.coerce
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    /** DuckDB database file; ':memory:' keeps nothing across restarts. */
    BILLING_DB_PATH: z.string().min(1).default('data/billing.duckdb'),
    BODY_LIMIT: byteSize.default(32 * 1024 * 1024),
    GPUFRAME_BACKEND: z.enum(['auto', 'cpu', 'webgpu']).default('auto'),
    /** Worker threads of the CPU engine (default: the machine's cores). */
    GPUFRAME_WORKERS: z.coerce.number().int().min(0).max(256).optional(),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
    /** Ingests are refused (503, Retry-After) while this many rollups wait to be written. */
    MAX_PENDING_WRITES: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** Slow-header (slowloris) connections are closed after this long without complete headers. */
    HEADERS_TIMEOUT_MS: timeoutMs.optional(),
    /** A whole request, headers and body, must arrive within this. */
    REQUEST_TIMEOUT_MS: timeoutMs.optional(),
    KEEP_ALIVE_TIMEOUT_MS: timeoutMs.default(5_000),
    /** A connection with no bytes either way for this long is closed. */
    IDLE_TIMEOUT_MS: timeoutMs.default(120_000),
    /** A body with no new bytes for this long is answered 408. */
    BODY_TIMEOUT_MS: timeoutMs.default(30_000),
  })
  .refine(
    (env) =>
      env.HEADERS_TIMEOUT_MS === undefined ||
      env.REQUEST_TIMEOUT_MS === undefined ||
      env.HEADERS_TIMEOUT_MS === 0 ||
      env.REQUEST_TIMEOUT_MS === 0 ||
      env.HEADERS_TIMEOUT_MS <= env.REQUEST_TIMEOUT_MS,
    {
      path: ['HEADERS_TIMEOUT_MS'],
      error: 'must not exceed REQUEST_TIMEOUT_MS: the headers are part of the request',
    },
  );

export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly dbPath: string;
  readonly bodyLimit: number;
  readonly backend: 'auto' | 'cpu' | 'webgpu';
  readonly workers: number | undefined;
  readonly shutdownTimeoutMs: number;
  readonly maxPendingWrites: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads the configuration from `env` (default process.env); empty variables count as unset. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): ServiceConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in envSchema.shape && value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const c = parsed.data;
  // Headers 60 s and request 300 s by default, but the default of one gives way to the other if given.
  const pair = serverTimeouts({
    ...(c.HEADERS_TIMEOUT_MS === undefined ? {} : { headersTimeoutMs: c.HEADERS_TIMEOUT_MS }),
    ...(c.REQUEST_TIMEOUT_MS === undefined ? {} : { requestTimeoutMs: c.REQUEST_TIMEOUT_MS }),
  });
  return {
    port: c.PORT,
    host: c.HOST,
    dbPath: c.BILLING_DB_PATH,
    bodyLimit: c.BODY_LIMIT,
    backend: c.GPUFRAME_BACKEND,
    workers: c.GPUFRAME_WORKERS,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    maxPendingWrites: c.MAX_PENDING_WRITES,
    logLevel: c.LOG_LEVEL,
    headersTimeoutMs: pair.headersTimeoutMs,
    requestTimeoutMs: pair.requestTimeoutMs,
    keepAliveTimeoutMs: c.KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: c.IDLE_TIMEOUT_MS,
    bodyTimeoutMs: c.BODY_TIMEOUT_MS,
  };
}
