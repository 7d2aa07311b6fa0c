// Streaming on its own (src/exec/stream.ts through Frame.stream): batches of random plans at random batch
// sizes concatenate to collectSync()'s rows, filter/project/slice plans stream window by window without
// evaluating rows past the ones read, an AbortSignal stops a stream with CancelledError, and batchSize is
// checked both at the public call and by streamPlan itself.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { CPU_ONLY, planPhysical } from '../../src/exec/physical.js';
import { streamPlan } from '../../src/exec/stream.js';
import { ArithmeticOverflowError, CancelledError, col, createExecutor, DataFrameModel, InvalidArgumentError, type Frame } from '../../src/index.js';
import { optimize } from '../../src/plan/optimize.js';
import { gpuSkip } from '../engines/webgpu/device.js';
import { RefFrame, type RefField, type RefRow } from '../reference.js';
import { arrowRows, assertRowsMatch, buildBoth, Chooser, describePlan, fieldsOf, genExpr, genPlan, randomTable, runs } from '../property/harness.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
after(() => pool.close());
/** Streams run through the dispatcher, so under 'webgpu' a filter-project streams on the device. */
const gpu = (await gpuSkip()) === false ? createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { maxBindingBytes: 8192 } }) : null;
after(() => gpu?.close());

function schemaOf(frame: Frame): RefField[] {
  return frame.schema.map((f) => ({ name: f.name, dtype: f.dtype }));
}

/** Every streamed row, checking that no batch is empty or larger than `batchSize`. */
async function streamedRows(frame: Frame, options: Parameters<Frame['stream']>[0] & { batchSize: number }, label: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const batch of frame.stream(options)) {
    assert.ok(batch.numRows >= 1 && batch.numRows <= options.batchSize, `${label}: a batch of ${batch.numRows} rows (batchSize ${options.batchSize})`);
    assert.deepEqual(
      batch.schema.fields.map((f) => f.name),
      frame.columns,
      `${label}: batch columns`,
    );
    rows.push(...arrowRows(batch, schemaOf(frame)));
  }
  return rows;
}

/** What collectSync() returns, or null when the plan overflows (the property tests check overflows). */
function collectedSync(frame: Frame): RefFrame | null {
  try {
    return new RefFrame(schemaOf(frame), frame.collectSync() as RefRow[]);
  } catch (error) {
    if (error instanceof ArithmeticOverflowError) return null;
    throw error;
  }
}

function int32Frame(values: number[]): Frame {
  return DataFrameModel({ a: z.int32() }).fromColumns({ a: values });
}

describe('stream: batches concatenated equal collectSync()', () => {
  it('random plans of every verb, random batch sizes, inline and on the pool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.chance(10) ? 0 : ch.int(1, 60));
        const steps = genPlan(ch, fieldsOf(table), 4, 10);
        const frame = steps.reduce((f, s) => s.frame(f), buildBoth(table).frame);
        const expected = collectedSync(frame);
        if (expected === null) return;
        const batchSize = ch.chance(20) ? ch.int(61, 70_000) : ch.int(1, 16);
        const executor = ch.chance(40) ? pool : gpu && ch.chance(30) ? gpu : undefined;
        const label = `${executor === pool ? 'pool' : executor ? 'webgpu' : 'inline'}, batchSize ${batchSize}\n${describePlan(table, steps)}\n`;
        assertRowsMatch(await streamedRows(frame, { batchSize, ...(executor ? { executor } : {}) }, label), expected, `stream: ${label}`);
      }),
      runs(200),
    );
  });

  it('filter and projection plans across several 64Ki-row windows, each window cut into batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(65_536, 150_000), ['int32', 'float64', 'bool', 'utf8']);
        const fields = fieldsOf(table);
        let frame = buildBoth(table).frame;
        if (ch.chance(80)) frame = frame.filter(genExpr(ch, fields, 'bool', 2));
        if (ch.chance(60)) frame = frame.withColumns({ e: genExpr(ch, fields, 'num', 2) });
        if (ch.chance(50)) frame = frame.slice(ch.int(0, 70_000), ch.chance(50) ? Infinity : ch.int(0, 70_000));
        const expected = collectedSync(frame);
        if (expected === null) return;
        const batchSize = ch.pick([1, 7, 4096, 65_535, 65_536, 100_000]);
        if (batchSize < 100 && expected.rows.length > 20_000) return; // too many batches to be worth the time
        assertRowsMatch(await streamedRows(frame, { batchSize }, `batchSize ${batchSize}`), expected, `stream, batchSize ${batchSize}`);
      }),
      runs(8, 40),
    );
  });

  it('evaluates a streamable plan window by window: rows past the ones read are never computed', async () => {
    // Only the last of 300k rows overflows a + 1: collectSync meets it, a stream read for one batch does not.
    const values = Array.from({ length: 300_000 }, (_, i) => i % 1000);
    values[values.length - 1] = 2 ** 31 - 1;
    const frame = int32Frame(values).withColumns({ b: col('a').add(1) });
    assert.throws(() => frame.collectSync(), ArithmeticOverflowError);
    let first = -1;
    for await (const batch of frame.stream({ batchSize: 1000 })) {
      first = batch.numRows;
      break;
    }
    assert.equal(first, 1000);
    await assert.rejects(async () => {
      // Reading every batch is the point: the overflow sits in the last one.
      const reader = frame.stream({ batchSize: 1000 })[Symbol.asyncIterator]();
      while (!(await reader.next()).done);
    }, ArithmeticOverflowError);
  });
});

describe('stream: cancellation', () => {
  const frame = int32Frame(Array.from({ length: 300_000 }, (_, i) => i));

  for (const [name, build] of [
    ['a streamable filter', (f: Frame) => f.filter(col('a').ge(0))],
    ['a blocking sort', (f: Frame) => f.sort('a', { descending: true })],
  ] as const) {
    it(`an aborted signal stops ${name} before the first batch, inline and on the pool`, async () => {
      for (const executor of [undefined, pool]) {
        const controller = new AbortController();
        const reason = new Error('client went away');
        controller.abort(reason);
        let batches = 0;
        await assert.rejects(
          async () => {
            for await (const batch of build(frame).stream({ signal: controller.signal, ...(executor ? { executor } : {}) }))
              batches += batch.numRows > 0 ? 1 : 0;
          },
          (error: unknown) => error instanceof CancelledError && error.code === 'cancelled' && error.cause === reason,
        );
        assert.equal(batches, 0);
      }
    });
  }

  it('aborting in the middle of a stream ends it with CancelledError before the remaining windows run', async () => {
    for (const executor of [undefined, pool]) {
      const controller = new AbortController();
      let rows = 0;
      await assert.rejects(async () => {
        for await (const batch of frame.filter(col('a').ge(0)).stream({ batchSize: 65_536, signal: controller.signal, ...(executor ? { executor } : {}) })) {
          rows += batch.numRows;
          controller.abort();
        }
      }, CancelledError);
      assert.ok(rows > 0 && rows < 300_000, `${rows} rows arrived before the stream stopped`);
    }
  });
});

describe('stream: batchSize', () => {
  const frame = int32Frame([1, 2, 3, 4, 5]);

  it('refuses a batchSize that is not an integer in 1..2^24 at the call, before any batch', () => {
    for (const batchSize of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 24 + 1, '8' as unknown as number]) {
      assert.throws(() => frame.stream({ batchSize }), InvalidArgumentError, `batchSize ${String(batchSize)}`);
    }
  });

  it('accepts the bounds: batchSize 1 gives one row per batch, 2^24 one batch', async () => {
    const sizes = async (batchSize: number): Promise<number[]> => {
      const out: number[] = [];
      for await (const batch of frame.stream({ batchSize })) out.push(batch.numRows);
      return out;
    };
    assert.deepEqual(await sizes(1), [1, 1, 1, 1, 1]);
    assert.deepEqual(await sizes(2), [2, 2, 1]);
    assert.deepEqual(await sizes(2 ** 24), [5]);
  });

  it('streamPlan itself rejects a batchSize that is not a positive integer', async () => {
    const plan = optimize(frame.plan);
    for (const batchSize of [0, -3, 2.5, Number.NaN]) {
      await assert.rejects(
        streamPlan(planPhysical(plan, CPU_ONLY), batchSize, { cpu: { pool: null, inlineThreshold: 0 }, gpu: null }, [false]).next(),
        RangeError,
        `batchSize ${batchSize}`,
      );
    }
  });
});
