// fillNull({ strategy }): forward and backward fills (with limits), min, max and mean, against plain loops
// over the same values (fast-check), on every dtype they take, inside larger expressions, under a filter and
// a head above them, streamed, on a worker pool with small morsels and under the WebGPU backend (where the
// fill is CPU-only and explain() says so); and the errors for what they cannot do.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { col, createExecutor, DataFrameModel, ExpressionTypeError, InvalidArgumentError, type Frame } from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 8 });
after(() => pool.close());
const noGpu = await gpuSkip();

class Table extends DataFrameModel({
  k: z.int32(),
  i: z.int32().nullable(),
  big: z.bigint().nullable(),
  f: z.float64().nullable(),
  s: z.string().nullable(),
  b: z.boolean().nullable(),
}) {}

interface Row {
  k: number;
  i: number | null;
  big: bigint | null;
  f: number | null;
  s: string | null;
  b: boolean | null;
}

const rowArb = fc.record({
  k: fc.integer({ min: 0, max: 9 }),
  i: fc.option(fc.integer({ min: -1000, max: 1000 }), { freq: 2 }),
  big: fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), { freq: 2 }),
  f: fc.option(fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constant(Number.NaN)), { freq: 2 }),
  s: fc.option(fc.constantFrom('a', 'b', 'ccc', ''), { freq: 2 }),
  b: fc.option(fc.boolean(), { freq: 2 }),
});

function frameOf(rows: readonly Row[]): Frame<Row> {
  const column = <K extends keyof Row>(key: K): Row[K][] => rows.map((r) => r[key]);
  return Table.fromColumns(
    { k: column('k'), i: column('i'), big: column('big'), f: column('f'), s: column('s'), b: column('b') },
    { trustedMode: 'shape_only' },
  );
}

/** The reference fill: a loop over the values in order (reversed for backward), counting the nulls in a row. */
function carried<T>(values: readonly (T | null)[], forward: boolean, limit: number | null): (T | null)[] {
  const out = [...values];
  const order = forward ? values.map((_, i) => i) : values.map((_, i) => values.length - 1 - i);
  let last: T | null = null;
  let run = 0;
  for (const i of order) {
    if (values[i] !== null) {
      last = values[i]!;
      run = 0;
    } else {
      run++;
      if (limit === null || run <= limit) out[i] = last;
    }
  }
  return out;
}

/** Min or max with NaN above every number, as the engine orders them. */
function extreme(values: readonly (number | bigint | null)[], min: boolean): number | bigint | null {
  const present = values.filter((v) => v !== null);
  if (present.length === 0) return null;
  const rank = (v: number | bigint): number | bigint => (typeof v === 'number' && Number.isNaN(v) ? Infinity : v);
  return present.reduce((best, v) => {
    if (typeof v === 'number' && Number.isNaN(v)) return min ? best : typeof best === 'number' && Number.isNaN(best) ? best : v;
    if (typeof best === 'number' && Number.isNaN(best)) return min ? v : best;
    return (min ? rank(v) < rank(best) : rank(v) > rank(best)) ? v : best;
  });
}

function mean(values: readonly (number | bigint | null)[]): number | null {
  const present = values.filter((v) => v !== null);
  if (present.length === 0) return null;
  if (typeof present[0] === 'bigint') return Number((present as bigint[]).reduce((a, b) => a + b, 0n)) / present.length;
  return (present as number[]).reduce((a, b) => a + b, 0) / present.length;
}

const KEYS = ['i', 'big', 'f', 's', 'b'] as const;
const NUMERIC = ['i', 'big', 'f'] as const;

async function everyWay(frame: Frame): Promise<Record<string, unknown>[]> {
  const inline = frame.collectSync();
  assert.deepEqual(await frame.collect({ executor: pool }), inline, 'a worker pool with 8-row morsels agrees with inline');
  const streamed: Record<string, unknown>[] = [];
  for await (const batch of frame.stream({ batchSize: 5 })) for (const row of batch) streamed.push(row.toJSON());
  assert.equal(streamed.length, inline.length, 'streaming gives every row');
  return inline;
}

describe('fillNull({ strategy })', () => {
  it('forward and backward fills, with and without a limit, match a loop on every dtype', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 40 }),
        fc.constantFrom('forward', 'backward'),
        fc.option(fc.integer({ min: 0, max: 3 })),
        async (rows, strategy, limit) => {
          const options = limit === null ? { strategy } : { strategy, limit };
          const frame = frameOf(rows).select(Object.fromEntries(KEYS.map((key) => [key, col(key).fillNull(options)])));
          const out = await everyWay(frame);
          for (const key of KEYS) {
            assert.deepEqual(
              out.map((r) => r[key]),
              carried(
                rows.map((r) => r[key]),
                strategy === 'forward',
                limit,
              ),
              `${key}.fillNull(${JSON.stringify(options)})`,
            );
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('min, max and mean fill with the value over the non-null values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 40 }), async (rows) => {
        const exprs = Object.fromEntries(
          NUMERIC.flatMap((key) => [
            [`${key}_min`, col(key).fillNull({ strategy: 'min' })],
            [`${key}_max`, col(key).fillNull({ strategy: 'max' })],
            [`${key}_mean`, col(key).fillNull({ strategy: 'mean' })],
          ]),
        );
        const out = await everyWay(frameOf(rows).select(exprs));
        for (const key of NUMERIC) {
          const values = rows.map((r) => r[key]);
          const lo = extreme(values, true);
          const hi = extreme(values, false);
          const m = mean(values);
          assert.deepEqual(
            out.map((r) => r[`${key}_min`]),
            values.map((v) => v ?? lo),
          );
          assert.deepEqual(
            out.map((r) => r[`${key}_max`]),
            values.map((v) => v ?? hi),
          );
          out.forEach((r, n) => {
            const got = r[`${key}_mean`] as number | null;
            const want = values[n] === null ? m : Number(values[n]);
            if (got === null || want === null || Number.isNaN(want)) assert.deepEqual(got, want, `${key} mean at row ${n}`);
            else assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${key} mean at row ${n}: ${got} vs ${want}`);
          });
        }
      }),
      { numRuns: 60 },
    );
  });

  it('fills inside larger expressions, nested, before the filter and head above, with no hidden column left', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 40 }), async (rows) => {
        const frame = frameOf(rows)
          .withColumns({
            y: col('i').add(1).fillNull({ strategy: 'backward' }).fillNull({ strategy: 'zero' }),
            z: col('i').fillNull({ strategy: 'forward', limit: 1 }),
          })
          .filter(
            col('k')
              .gt(3)
              .and(col('f').fillNull({ strategy: 'forward' }).isNotNull()),
          )
          .head(7);
        assert.deepEqual(frame.columns, ['k', 'i', 'big', 'f', 's', 'b', 'y', 'z']);
        const out = await everyWay(frame);
        const y = carried(
          rows.map((r) => (r.i === null ? null : r.i + 1)),
          false,
          null,
        ).map((v) => v ?? 0);
        const z = carried(
          rows.map((r) => r.i),
          true,
          1,
        );
        const fForward = carried(
          rows.map((r) => r.f),
          true,
          null,
        );
        const expected = rows
          .map((r, n) => ({ ...r, y: y[n], z: z[n], keep: r.k > 3 && fForward[n] !== null }))
          .filter((r) => r.keep)
          .slice(0, 7)
          .map(({ keep: _keep, ...r }) => r);
        assert.deepEqual(out, expected);
      }),
      { numRuns: 60 },
    );
  });

  it('runs on the CPU under the WebGPU backend, and explain() says why', { skip: noGpu }, async () => {
    const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    try {
      const rows = fc.sample(rowArb, { numRuns: 300, seed: 7 });
      const frame = frameOf(rows).withColumns({ f: col('f').fillNull({ strategy: 'forward' }).mul(2) });
      const text = frame.explain({ executor: gpu });
      assert.match(text, /FillNull __fill0=f\.fillNull\(forward\) \[cpu(: CPU-only: one pass over the whole column[^\]]*)?\]/);
      assert.deepEqual(await frame.collect({ executor: gpu }), frame.collectSync());
    } finally {
      await gpu.close();
    }
  });

  it('refuses what it cannot do, with a typed error', () => {
    const frame = frameOf([{ k: 1, i: null, big: null, f: null, s: null, b: null }]);
    assert.throws(() => frame.select({ s: col('s').fillNull({ strategy: 'mean' }) }), ExpressionTypeError);
    assert.throws(() => frame.select({ s: col('b').fillNull({ strategy: 'zero' }) }), ExpressionTypeError);
    assert.throws(() => frame.groupBy('k').agg({ t: col('i').fillNull({ strategy: 'forward' }).sum() }), ExpressionTypeError);
    assert.throws(() => col('i').fillNull({ strategy: 'min', limit: 2 } as never), InvalidArgumentError);
    assert.throws(() => col('i').fillNull({ strategy: 'sideways' } as never), InvalidArgumentError);
    assert.throws(() => col('i').fillNull({ strategy: 'forward', limit: -1 }), InvalidArgumentError);
    assert.throws(() => col('i').fillNull({ limit: 1 } as never), InvalidArgumentError);
  });
});
