// The billing-ingest service as a Koa app: middleware in order (request id, request log, errors, the
// executor lifecycle), then the routers. main.ts runs it; tests build it on an ephemeral port.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { executorLifecycle, jsonLogger, registerErrorHandlers, requestId, requestLog, type ExecutorLifecycle, type Logger } from '../koa/index.js';
import type { ServiceConfig } from './config.js';
import type { ServiceContext } from './context.js';
import { healthRouter } from './routes/health.js';
import { ingestRouter } from './routes/ingest.js';
import { queryRouter } from './routes/query.js';
import { rollupsRouter } from './routes/rollups.js';
import { BillingStore } from './store.js';

export interface ServiceOptions {
  readonly logger?: Logger;
  /** A store to use instead of opening config.dbPath (tests wrap a real one to inject faults). */
  readonly store?: BillingStore;
  /** Signals that shut the service down (default SIGTERM and SIGINT; tests pass false). */
  readonly signals?: readonly NodeJS.Signals[] | false;
  readonly exitOnSignal?: boolean;
}

export interface Service {
  readonly app: Koa;
  readonly lifecycle: ExecutorLifecycle;
  readonly store: BillingStore;
  readonly logger: Logger;
  /** Listens on config.host:config.port (0 picks a free port) and resolves with the server once bound. */
  listen(): Promise<Server>;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms: reachable from this machine only. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1' || address === 'localhost';
}

export async function createService(config: ServiceConfig, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? jsonLogger({ level: config.logLevel, base: { service: 'billing-ingest' } });
  const store = options.store ?? (await BillingStore.open(config.dbPath));
  const app = new Koa({ proxy: false });
  app.use(requestId());
  app.use(requestLog());
  registerErrorHandlers(app);
  const lifecycle = executorLifecycle(app, {
    backend: config.backend,
    ...(config.workers === undefined ? {} : { maxWorkers: config.workers }),
    threadNamePrefix: 'billing-ingest',
    drainTimeoutMs: config.shutdownTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxPendingTasks: config.maxPendingWrites,
    signals: options.signals ?? ['SIGTERM', 'SIGINT'],
    exitOnSignal: options.exitOnSignal ?? true,
    logger,
  });
  lifecycle.onShutdown('close database', () => store.close());
  const service: ServiceContext = { config, store, lifecycle, logger };
  for (const router of [healthRouter(service), ingestRouter(service), rollupsRouter(service), queryRouter(service)]) {
    app.use(router.routes());
    // Not { throw: true }: the router then sets Allow on a 405, and the error handler keeps it.
    app.use(router.allowedMethods());
  }
  const replay = await store.replayDeadLetters();
  if (replay.replayed + replay.duplicates + replay.failed > 0) logger.info({ msg: 'dead-letter replay', ...replay });
  return {
    app,
    lifecycle,
    store,
    logger,
    listen: () =>
      new Promise((resolve, reject) => {
        const server = app.listen(config.port, config.host);
        server.once('error', reject);
        server.once('listening', () => {
          const address = server.address() as AddressInfo;
          logger.info({ msg: 'listening', host: address.address, port: address.port, db: config.dbPath, backend: config.backend });
          if (!isLoopback(address.address)) {
            logger.warn({
              msg: 'listening beyond loopback with no authentication: anyone who can reach this port can ingest and query; set HOST=127.0.0.1, or put the service behind a proxy that authenticates',
              host: address.address,
              port: address.port,
            });
          }
          resolve(server);
        });
      }),
  };
}
