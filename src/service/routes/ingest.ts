// POST /ingest: a columnar body of billing events, validated in strict mode. The rollup per user is
// submitted to the shared executor and the request answers 202 at once; after the response, a background
// task awaits the rollup and writes it to the database in one transaction. Accepted rows are never
// dropped: a write that keeps failing, or that a shutdown deadline cuts off, goes to the dead-letter
// folder and is replayed at the next start.

import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { ValidationError, type ValidationIssue } from '../../errors.js';
import { afterResponse, columnarBody, getExecutor, type FrameState, type GpuframeState } from '../../koa/index.js';
import { formatDecimal, readDecimal } from '../../model/decimal.js';
import { AMOUNT_SCALE, BillingEvent, MAX_AMOUNT } from '../models.js';
import type { ServiceContext } from '../context.js';
import { BillingStoreClosedError, type RollupBatch } from '../store.js';

/** Pauses before the second and third persist attempts; after those the rollup goes to the dead-letter folder. */
const RETRY_DELAYS_MS = [100, 500];

export function ingestRouter(service: ServiceContext): Router<GpuframeState> {
  const router = new Router<GpuframeState>();
  // The write slot is held from admission, before the body is read: MAX_PENDING_WRITES is never overshot.
  router.post<FrameState<BillingEvent>>(
    '/ingest',
    service.lifecycle.reserveTask(),
    columnarBody(BillingEvent, { trustedMode: 'strict', limit: service.config.bodyLimit, timeoutMs: service.config.bodyTimeoutMs }),
    (ctx) => {
      const frame = ctx.state.frame;
      checkAmounts(frame);
      const executor = getExecutor(ctx);
      const acceptedRows = frame.shape[0];
      const rollup = frame.groupBy('user_id').agg({ total: BillingEvent.col('amount').sum(), count: BillingEvent.col('amount').count() });
      const handle = rollup.submit({ executor });
      // Kept only until the executor delivers, to recompute inline if it fails; then the rows can go.
      let fallback: typeof rollup | null = rollup;
      handle.result().then(
        () => (fallback = null),
        () => undefined,
      );
      const batchId = randomUUID();
      const requestId = ctx.state.requestId ?? batchId;
      const rollupBatch = async (): Promise<RollupBatch> => {
        const rows = await handle.result().catch((error: unknown) => {
          if (!fallback) throw error;
          service.logger.warn({ msg: 'rollup failed on the executor; recomputing inline', request_id: requestId, err: error });
          return fallback.collect();
        });
        return {
          batchId,
          requestId,
          acceptedRows,
          userIds: rows.map((r) => r.user_id),
          // Exact decimal text of each user's sum ("17.30"): the store adds them as DECIMAL(38, 2).
          // Every group has rows, so no sum is null.
          totals: rows.map((r) => r.total ?? '0'),
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- Number() guards the batch's numeric type against an int64 count read back as bigint
          counts: rows.map((r) => Number(r.count)),
        };
      };
      afterResponse(ctx, async ({ signal }) => persistWithRetry(service, await rollupBatch(), signal), {
        name: 'persist-rollup',
        onAbandon: async () => {
          const batch = await rollupBatch();
          const file = await service.store.deadLetter(batch, new Error('the shutdown deadline passed before the write started'));
          service.logger.warn({
            msg: 'rollup saved to the dead-letter folder at shutdown; it is replayed at the next start',
            request_id: requestId,
            batch_id: batchId,
            file,
          });
        },
      });
      ctx.status = 202;
      ctx.body = { accepted_rows: acceptedRows, request_id: requestId };
    },
  );
  return router;
}

/**
 * Validation checks that amounts are exact decimals with at most two fraction digits; a billing amount must
 * also stay within ±MAX_AMOUNT, so that no total, however many batches add to it, can leave DECIMAL(38, 2).
 */
function checkAmounts(frame: BillingEvent): void {
  if (frame.plan.kind !== 'source') return;
  const index = frame.plan.batch.names.indexOf('amount');
  const column = frame.plan.batch.columns[index];
  if (column?.dtype !== 'decimal') return;
  const words = column.values as BigInt64Array;
  const bound = BigInt(MAX_AMOUNT) * 10n ** BigInt(AMOUNT_SCALE);
  const issues: ValidationIssue[] = [];
  let more = 0;
  for (let row = 0; row < column.length; row++) {
    const unscaled = readDecimal(words, row);
    if (unscaled <= bound && unscaled >= -bound) continue;
    if (issues.length < 100)
      issues.push({
        column: 'amount',
        row,
        code: 'too_big',
        message: `|amount| must be at most ${MAX_AMOUNT}, got ${formatDecimal(unscaled, AMOUNT_SCALE)}`,
      });
    else more++;
  }
  if (issues.length > 0) throw new ValidationError(issues, more);
}

/** Persists the batch, retrying after a failure; with retries spent, or once a shutdown stops waiting (`signal`), it goes to the dead-letter folder. */
async function persistWithRetry(service: ServiceContext, batch: RollupBatch, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { duplicate } = await service.store.persist(batch);
      service.logger.debug({
        msg: 'rollup persisted',
        request_id: batch.requestId,
        batch_id: batch.batchId,
        users: batch.userIds.length,
        rows: batch.acceptedRows,
        duplicate,
        attempt,
      });
      return;
    } catch (error) {
      const delay = error instanceof BillingStoreClosedError || signal.aborted ? undefined : RETRY_DELAYS_MS[attempt];
      if (delay === undefined) {
        const file = await service.store.deadLetter(batch, error);
        service.logger.error({
          msg: 'rollup not persisted; kept in the dead-letter folder for replay at the next start',
          request_id: batch.requestId,
          batch_id: batch.batchId,
          file,
          err: error,
        });
        throw error;
      }
      service.logger.warn({ msg: 'rollup persist failed; retrying', request_id: batch.requestId, batch_id: batch.batchId, attempt, err: error });
      // A shutdown that stops waiting wakes the pause, and the next failure is the last.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
