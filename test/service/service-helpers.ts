// Shared by the service tests: a service on an ephemeral loopback port with its own database file, a
// capturing logger, a seeded generator of billing batches and the reference rollup they must add up to.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, type Service, type ServiceOptions } from '../../src/service/app.js';
import { BillingStore } from '../../src/service/store.js';
import type { ServiceConfig } from '../../src/service/config.js';
import type { Logger, LogRecord } from '../../src/koa/index.js';

export interface Running {
  readonly service: Service;
  readonly server: Server;
  readonly url: string;
  readonly dir: string;
  readonly config: ServiceConfig;
  readonly logs: LogRecord[];
  stop(): Promise<void>;
}

export function captureLogger(into: LogRecord[]): Logger {
  const push = (level: string) => (record: LogRecord) => void into.push({ ...record, level });
  return { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gpuframe-service-'));
}

export async function startService(overrides: Partial<ServiceConfig> = {}, options: ServiceOptions & { readonly dir?: string } = {}): Promise<Running> {
  const dir = options.dir ?? (await tempDir());
  const config: ServiceConfig = {
    port: 0,
    host: '127.0.0.1',
    dbPath: join(dir, 'billing.duckdb'),
    bodyLimit: 32 * 1024 * 1024,
    backend: 'cpu',
    workers: 1,
    shutdownTimeoutMs: 20_000,
    maxPendingWrites: 1000,
    logLevel: 'debug',
    headersTimeoutMs: 60_000,
    requestTimeoutMs: 300_000,
    keepAliveTimeoutMs: 5_000,
    idleTimeoutMs: 120_000,
    bodyTimeoutMs: 30_000,
    ...overrides,
  };
  const logs: LogRecord[] = [];
  const service = await createService(config, { logger: captureLogger(logs), signals: false, exitOnSignal: false, ...options });
  const server = await service.listen();
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    service,
    server,
    url: `http://127.0.0.1:${port}`,
    dir,
    config,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service.lifecycle.shutdown('test done');
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The benchmarks' seeded generator: deterministic batches. */
export { rng } from '../../bench/data.js';

export interface Batch {
  readonly userId: number[];
  readonly amount: number[];
}

/** Amounts are multiples of 0.25 well inside 2^53, so every sum is exact whatever the order of addition. */
export function randomBatch(next: () => number, rows: number, users: number): Batch {
  const userId: number[] = [];
  const amount: number[] = [];
  for (let i = 0; i < rows; i++) {
    userId.push(Math.floor(next() * users) - 5);
    amount.push(Math.round((next() * 2000 - 1000) * 4) / 4);
  }
  return { userId, amount };
}

export interface ExpectedRollup {
  readonly user_id: number;
  /** The exact total as /rollups answers it: decimal text with two fraction digits. */
  readonly total: string;
  readonly count: number;
  readonly mean: number;
}

export function expectedRollups(batches: readonly Batch[]): ExpectedRollup[] {
  const acc = new Map<number, { cents: bigint; count: number }>();
  for (const b of batches) {
    b.userId.forEach((u, i) => {
      const entry = acc.get(u) ?? { cents: 0n, count: 0 };
      // Test amounts are quarters: × 100 is an exact integer, and the sum of cents is exact.
      entry.cents += BigInt(b.amount[i]! * 100);
      entry.count += 1;
      acc.set(u, entry);
    });
  }
  return [...acc.entries()]
    .sort(([a], [b]) => a - b)
    .map(([user_id, { cents, count }]) => ({ user_id, total: centsText(cents), count, mean: Number(centsText(cents)) / count }));
}

/** Cents as decimal text with two fraction digits: 1234n is "12.34", -5n is "-0.05". */
export function centsText(cents: bigint): string {
  const magnitude = (cents < 0n ? -cents : cents).toString().padStart(3, '0');
  return `${cents < 0n ? '-' : ''}${magnitude.slice(0, -2)}.${magnitude.slice(-2)}`;
}

/** An Arrow Decimal128 cell (apache-arrow reads it as four little-endian 32-bit words) as cents. */
export function arrowDecimalCents(value: unknown): bigint {
  const words = value as Uint32Array;
  let unscaled = 0n;
  for (let w = 3; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[w]!);
  return BigInt.asIntN(128, unscaled);
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

/** Every accepted batch is in the database once, after `before` (a replay, say) ran on the reopened store. */
export async function assertAllPersisted(dbPath: string, batches: readonly Batch[], before?: (store: BillingStore) => Promise<void>): Promise<void> {
  const store = await BillingStore.open(dbPath);
  try {
    await before?.(store);
    const totals = await store.totals();
    assert.equal(totals.batches, batches.length);
    assert.equal(
      totals.rows,
      batches.reduce((n, b) => n + b.userId.length, 0),
    );
    assert.deepEqual(await store.rollups(), expectedRollups(batches));
  } finally {
    await store.close();
  }
}
