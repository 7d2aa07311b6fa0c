// POST /ingest: a columnar body of billing events, validated in strict mode. The rollup per user is
// submitted to the shared executor and the request answers 202 at once; after the response, a background
// task awaits the rollup and writes it to the database in one transaction.

import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { col } from '../../index.js';
import { afterResponse, columnarBody, getExecutor, type FrameState, type GpuframeState } from '../../koa/index.js';
import { BillingEvent } from '../models.js';
import type { ServiceContext } from '../context.js';
import type { RollupBatch } from '../store.js';

/** Persist attempts before a rollup goes to the dead-letter folder, and the pause before each retry. */
const RETRY_DELAYS_MS = [100, 500];

export function ingestRouter(service: ServiceContext): Router<GpuframeState> {
  const router = new Router<GpuframeState>();
  router.post<FrameState<BillingEvent>>('/ingest', columnarBody(BillingEvent, { trustedMode: 'strict', limit: service.config.bodyLimit }), (ctx) => {
    const frame = ctx.state.frame;
    const executor = getExecutor(ctx);
    const acceptedRows = frame.shape[0];
    const rollup = frame.groupBy('user_id').agg({ total: col('amount').sum(), count: col('amount').count() });
    const handle = rollup.submit({ executor });
    const batchId = randomUUID();
    const requestId = ctx.state.requestId ?? batchId;
    afterResponse(
      ctx,
      async () => {
        // The rollup was computed while the response went out; if the engine failed, it is computed again
        // inline, so accepted rows are not lost to a transient engine fault.
        const rows = await handle.result().catch((error: unknown) => {
          service.logger.warn({ msg: 'rollup failed on the executor; recomputing inline', request_id: requestId, err: error });
          return rollup.collect();
        });
        const batch: RollupBatch = {
          batchId,
          requestId,
          acceptedRows,
          userIds: rows.map((r) => r.user_id),
          totals: rows.map((r) => Number(r.total)),
          counts: rows.map((r) => Number(r.count)),
        };
        await persistWithRetry(service, batch);
      },
      'persist-rollup',
    );
    ctx.status = 202;
    ctx.body = { accepted_rows: acceptedRows, request_id: requestId };
  });
  return router;
}

async function persistWithRetry(service: ServiceContext, batch: RollupBatch): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { duplicate } = await service.store.persist(batch);
      service.logger.debug({ msg: 'rollup persisted', request_id: batch.requestId, batch_id: batch.batchId, users: batch.userIds.length, rows: batch.acceptedRows, duplicate, attempt });
      return;
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) {
        const file = await service.store.deadLetter(batch, error);
        service.logger.error({ msg: 'rollup not persisted; kept in the dead-letter folder for replay at next start', request_id: batch.requestId, batch_id: batch.batchId, file, err: error });
        throw error;
      }
      service.logger.warn({ msg: 'rollup persist failed; retrying', request_id: batch.requestId, batch_id: batch.batchId, attempt, err: error });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
