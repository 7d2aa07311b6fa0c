// Running frames on an executor: submit/cancel frees the workers for the next job, AbortSignals cancel,
// a closed executor refuses work, and `await using` closes it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CancelledError, col, countRows, createExecutor, DataFrameModel, Executor, ExecutorClosedError, type Expr } from '../../src/index.js';

const Numbers = DataFrameModel({ a: z.float64() });
const small = Numbers.fromColumns({ a: Array.from({ length: 5000 }, (_, i) => i % 100) });

/** Two morsels of 2^20 rows through ~900 float operations per row: seconds of work per worker. */
function longJob(): { frame: ReturnType<typeof Numbers.fromColumns>; heavy: Expr } {
  const rows = 2 ** 21;
  const frame = Numbers.fromColumns({ a: Array.from({ length: rows }, (_, i) => i % 1000) }, { trustedMode: 'strict' });
  let heavy: Expr = col('a');
  for (let k = 0; k < 300; k++) heavy = heavy.mul(1.0000001).add(0.5).round(2);
  return { frame, heavy };
}

describe('cancellation', () => {
  it('cancel() rejects result() with CancelledError, and the freed workers run the next job promptly', async () => {
    await using executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 2 ** 20 });
    const { frame, heavy } = longJob();
    const handle = frame
      .withColumns({ heavy })
      .agg({ s: col('heavy').sum() })
      .submit({ executor });
    assert.equal(handle.status, 'pending');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(handle.status, 'running');
    assert.equal(executor.stats().queueDepth, 2, 'both workers are busy with the long job');

    const cancelledAt = performance.now();
    assert.equal(handle.cancel(), true);
    await assert.rejects(handle.result(), CancelledError);
    assert.equal(handle.status, 'cancelled');
    assert.equal(handle.cancel(), false, 'a settled job cannot be cancelled again');
    const toReject = performance.now() - cancelledAt;

    // Were the running morsels not stopped, this job would queue behind seconds of work on both workers.
    const next = await small
      .agg({ n: countRows(), s: col('a').sum() })
      .submit({ executor })
      .result();
    const toNext = performance.now() - cancelledAt;
    assert.deepEqual(next, [{ n: 5000, s: 247_500 }]);
    assert.ok(toReject < 1000, `cancel took ${toReject.toFixed(0)} ms to reject`);
    assert.ok(toNext < 1500, `the next job finished ${toNext.toFixed(0)} ms after cancel`);
    assert.equal(executor.stats().queueDepth, 0);
  });

  it('an aborted signal cancels collect(), inline and on the executor', async () => {
    await using executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
    const query = small.withColumns({ b: col('a').mul(2) });
    await assert.rejects(query.collect({ signal: AbortSignal.abort() }), CancelledError);
    await assert.rejects(query.collect({ executor, signal: AbortSignal.abort() }), CancelledError);
    const controller = new AbortController();
    const handle = query.submit({ executor, signal: controller.signal });
    controller.abort();
    await assert.rejects(handle.result(), CancelledError);
    assert.equal((await query.collect({ executor })).length, 5000);
  });
});

describe('closing', () => {
  it('close() lets the job in flight finish, then refuses work with ExecutorClosedError', async () => {
    const executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
    const inFlight = small.agg({ n: countRows() }).collect({ executor });
    const closed = executor.close();
    assert.equal(executor.closed, true);
    assert.deepEqual(await inFlight, [{ n: 5000 }]);
    await closed;
    await executor.close();

    await assert.rejects(small.collect({ executor }), ExecutorClosedError);
    assert.throws(() => small.submit({ executor }), ExecutorClosedError);
    assert.throws(() => small.stream({ executor }), ExecutorClosedError);
    const error = new ExecutorClosedError();
    assert.equal(error.code, 'executor_closed');
    assert.equal(error.status, 503);
  });

  it('`await using` closes the executor at the end of its block', async () => {
    let kept: Executor | undefined;
    {
      await using executor = createExecutor({ maxWorkers: 1, inlineThreshold: 0 });
      kept = executor;
      assert.deepEqual(await small.agg({ n: countRows() }).collect({ executor }), [{ n: 5000 }]);
      assert.equal(executor.closed, false);
    }
    assert.ok(kept instanceof Executor);
    assert.equal(kept.closed, true);
    await assert.rejects(small.collect({ executor: kept }), ExecutorClosedError);
  });
});
