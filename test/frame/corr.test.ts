// col('x').corr(col('y')): Pearson's r against a plain two-pass computation (fast-check), its null, NaN and
// constant-side cases, exact int64 pairs, merging across 8-row morsels on two workers, the WebGPU engine's
// hand-off to the CPU, and agreement with DuckDB's corr on a random table.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { col, countRows, createExecutor, DataFrameModel, ExpressionTypeError, type Frame } from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 8 });
after(() => pool.close());
const noGpu = await gpuSkip();

const EPSILON = 2 ** -53;

class Pairs extends DataFrameModel({
  k: z.int32(),
  x: z.float64().nullable(),
  y: z.float64().nullable(),
}) {}

interface Pair {
  readonly k: number;
  readonly x: number | null;
  readonly y: number | null;
}

function pairsFrame(rows: readonly Pair[]): Frame<{ k: number; x: number | null; y: number | null }> {
  return Pairs.fromColumns({ k: rows.map((r) => r.k), x: rows.map((r) => r.x), y: rows.map((r) => r.y) }, { trustedMode: 'shape_only' });
}

/**
 * The textbook two-pass r in float64 over the pairs with both sides non-null, null below two pairs or when a
 * side is constant, and the error allowed to a one-pass computation: about n·ε·κ² per moment.
 */
function plainCorr(xs: readonly (number | null)[], ys: readonly (number | null)[]): { r: number | null; tolerance: number } {
  const px: number[] = [];
  const py: number[] = [];
  xs.forEach((x, i) => {
    const y = ys[i] ?? null;
    if (x !== null && y !== null) {
      px.push(x);
      py.push(y);
    }
  });
  const n = px.length;
  if (n < 2 || px.every((v) => v === px[0]) || py.every((v) => v === py[0])) return { r: null, tolerance: 0 };
  const mean = (vs: readonly number[]): number => vs.reduce((s, v) => s + v, 0) / n;
  const mx = mean(px);
  const my = mean(py);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  let qx = 0;
  let qy = 0;
  px.forEach((x, i) => {
    const y = py[i]!;
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
    sxy += (x - mx) * (y - my);
    qx += x * x;
    qy += y * y;
  });
  // Square roots taken apart: sxx * syy underflows to 0 for sides near 1e-100 (the reference, not the engine, then said Infinity).
  return { r: sxy / (Math.sqrt(sxx) * Math.sqrt(syy)), tolerance: 1e-12 + 16 * n * EPSILON * (qx / sxx + qy / syy) };
}

function groupsOf(rows: readonly Pair[]): Map<number, Pair[]> {
  const groups = new Map<number, Pair[]>();
  for (const row of rows) groups.set(row.k, [...(groups.get(row.k) ?? []), row]);
  return groups;
}

function assertCorrClose(actual: unknown, expected: { r: number | null; tolerance: number }, label: string): void {
  if (expected.r === null) {
    assert.equal(actual, null, label);
    return;
  }
  assert.equal(typeof actual, 'number', label);
  assert.ok(Math.abs((actual as number) - expected.r) <= expected.tolerance, `${label}: got ${String(actual)}, expected ${expected.r} ± ${expected.tolerance}`);
  assert.ok(Math.abs(actual as number) <= 1, `${label}: |r| > 1`);
}

/** Values with few distinct magnitudes and frequent repeats, so constant sides and near-constant ones occur. */
const value = fc.oneof(
  fc.integer({ min: -4, max: 4 }),
  fc.integer({ min: -80_000, max: 80_000 }).map((v) => v / 8),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((v) => v === 0 || Math.abs(v) > 1e-100),
);
const pair = fc.record({ k: fc.integer({ min: 0, max: 3 }), x: fc.option(value, { freq: 6 }), y: fc.option(value, { freq: 6 }) });

describe('corr against a plain computation', () => {
  it('matches the two-pass formula per group, inline and over 8-row morsels on two workers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 120 }), async (rows) => {
        const query = pairsFrame(rows)
          .groupBy('k')
          .agg({ r: col('x').corr(col('y')), n: countRows() });
        const expected = [...groupsOf(rows)].map(([k, members]) => ({
          k,
          ...plainCorr(
            members.map((m) => m.x),
            members.map((m) => m.y),
          ),
        }));
        for (const [label, out] of [
          ['inline', query.collectSync()],
          ['pool', await query.collect({ executor: pool })],
        ] as const) {
          assert.deepEqual(
            out.map((o) => o.k),
            expected.map((e) => e.k),
            label,
          );
          out.forEach((o, i) => {
            assertCorrClose(o.r, expected[i]!, `${label} group ${o.k}`);
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is symmetric and invariant under positive affine maps of either side', () => {
    const rows = Array.from({ length: 50 }, (_, i): Pair => ({ k: 0, x: Math.sin(i) * 10, y: Math.cos(i * 0.7) + i / 25 }));
    const frame = pairsFrame(rows).withColumns({ x2: col('x').mul(3).add(1000), y2: col('y').mul(-2) });
    const [out] = frame
      .agg({ xy: col('x').corr(col('y')), yx: col('y').corr(col('x')), scaled: col('x2').corr(col('y')), flipped: col('x').corr(col('y2')) })
      .collectSync();
    assert.ok(Math.abs(out!.xy! - out!.yx!) < 1e-15);
    assert.ok(Math.abs(out!.xy! - out!.scaled!) < 1e-12);
    assert.ok(Math.abs(out!.xy! + out!.flipped!) < 1e-12);
  });
});

describe('corr edge cases', () => {
  it('is null below two complete pairs: a pair with either side null does not count', () => {
    const out = pairsFrame([
      { k: 0, x: 1, y: 2 },
      { k: 0, x: null, y: 3 },
      { k: 0, x: 4, y: null },
      { k: 1, x: 1, y: 1 },
      { k: 1, x: 2, y: 3 },
      { k: 2, x: null, y: null },
    ])
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')) })
      .collectSync();
    assert.deepEqual(out, [
      { k: 0, r: null },
      { k: 1, r: 1 },
      { k: 2, r: null },
    ]);
  });

  it('is null when either side is constant over the pairs (0 and -0 are one value), as SQL says', () => {
    const out = pairsFrame([
      { k: 0, x: 3, y: 1 },
      { k: 0, x: 3, y: 2 },
      { k: 1, x: 1, y: 0.1 },
      { k: 1, x: 2, y: 0.1 },
      { k: 2, x: 0, y: 1 },
      { k: 2, x: -0, y: 2 },
      // Constant over the complete pairs, though not over the column.
      { k: 3, x: 5, y: 1 },
      { k: 3, x: 6, y: null },
      { k: 3, x: 5, y: 2 },
    ])
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')) })
      .collectSync();
    assert.deepEqual(
      out.map((o) => o.r),
      [null, null, null, null],
    );
  });

  it('is NaN when a pair holds NaN or ±Infinity, as var and std are', () => {
    const rows: Pair[] = [
      { k: 0, x: 1, y: 2 },
      { k: 0, x: Number.NaN, y: 3 },
      { k: 0, x: 2, y: 5 },
      { k: 1, x: 1, y: Number.POSITIVE_INFINITY },
      { k: 1, x: 2, y: 3 },
      { k: 2, x: 1, y: Number.NaN },
      { k: 2, x: 1, y: 3 },
      // One pair only: null, NaN or not.
      { k: 3, x: Number.NaN, y: 1 },
    ];
    const query = pairsFrame(rows)
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')), v: col('x').var() });
    const out = query.collectSync();
    assert.deepEqual(
      out.map((o) => o.r),
      [Number.NaN, Number.NaN, Number.NaN, null],
    );
    assert.deepEqual(
      out.map((o) => o.v),
      [Number.NaN, 0.5, 0, null],
    );
  });

  it('is NaN, not a wrong number, when squared deviations leave float64', () => {
    const out = pairsFrame([
      { k: 0, x: 1e300, y: 1 },
      { k: 0, x: -1e300, y: 2 },
      { k: 0, x: 5e299, y: 4 },
      { k: 1, x: 1e-300, y: 1 },
      { k: 1, x: 2e-300, y: 2 },
      { k: 1, x: 4e-300, y: 3 },
    ])
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')) })
      .collectSync();
    assert.deepEqual(
      out.map((o) => o.r),
      [Number.NaN, Number.NaN],
    );
  });

  it('is ±1 for exactly linear data and stays within [-1, 1]', () => {
    const rows = Array.from({ length: 1000 }, (_, i): Pair => ({ k: i % 2, x: i * 0.1 + 1e6, y: i % 2 === 0 ? 3 * i - 7 : -0.5 * i }));
    const out = pairsFrame(rows)
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')) })
      .collectSync();
    assert.ok(Math.abs(out[0]!.r! - 1) < 1e-12 && out[0]!.r! <= 1);
    assert.ok(Math.abs(out[1]!.r! + 1) < 1e-12 && out[1]!.r! >= -1);
  });

  it('over an empty frame: a whole-frame corr is null; in a group-by there are no groups', () => {
    const empty = pairsFrame([]);
    assert.deepEqual(empty.agg({ r: col('x').corr(col('y')) }).collectSync(), [{ r: null }]);
    assert.deepEqual(
      empty
        .groupBy('k')
        .agg({ r: col('x').corr(col('y')) })
        .collectSync(),
      [],
    );
  });
});

describe('corr over integers', () => {
  class Ints extends DataFrameModel({ k: z.int32(), a: z.int32(), b: z.int64().nullable(), f: z.float32() }) {}
  const big = 2n ** 60n;
  const ints = Ints.fromColumns({
    k: [0, 0, 0, 1, 1, 1],
    a: [1, 2, 4, 7, 7, 8],
    b: [big, big + 1n, big + 2n, 5n, null, 9n],
    f: [0.5, 1.5, 2.5, 1, 2, 3],
  });

  it('keeps int64 values past 2^53 exact when the other side is an integer too', () => {
    const out = ints
      .groupBy('k')
      .agg({ r: col('b').corr(col('a')), s: col('a').corr(col('b')) })
      .collectSync();
    // x − 2^60 = 0, 1, 2 against 1, 2, 4: r² = 3² / (2 · 14/3) = 27/28.
    assert.ok(Math.abs(out[0]!.r! - Math.sqrt(27 / 28)) <= 2 ** -52);
    assert.equal(out[0]!.s, out[0]!.r);
    assert.equal(out[1]!.r, 1);
  });

  it('converts an int64 side paired with a float to float64 first, like var does for int64 and float sums', () => {
    // 2^60, 2^60 + 1, 2^60 + 2 are one double: the x side is constant as float64.
    const out = ints
      .groupBy('k')
      .agg({ r: col('b').corr(col('f')) })
      .collectSync();
    assert.equal(out[0]!.r, null);
  });

  it('accepts int32, int64, float32 and float64 and refuses other types at build time', () => {
    class Mixed extends DataFrameModel({ i: z.int32(), s: z.string(), b: z.boolean(), d: z.date(), v: z.float64() }) {}
    const frame = Mixed.fromColumns({ i: [1], s: ['a'], b: [true], d: [new Date(0)], v: [1] });
    for (const other of ['s', 'b', 'd']) {
      assert.throws(
        () => frame.agg({ r: col('v').corr(col(other)) }),
        (e: unknown) => e instanceof ExpressionTypeError && /corr does not apply to/.test(e.message),
      );
      assert.throws(() => frame.agg({ r: col(other).corr(col('v')) }), ExpressionTypeError);
    }
    assert.throws(
      () => frame.agg({ r: col('v').corr(col('v').sum()) }),
      (e: unknown) => e instanceof ExpressionTypeError && /only allowed inside/.test(e.message),
    );
    assert.throws(() => frame.agg({ r: col('v').corr('v' as never) }), TypeError);
    assert.deepEqual(frame.agg({ r: col('i').corr(col('v')) }).schema, [{ name: 'r', dtype: 'float64', nullable: true }]);
  });
});

describe('corr in plans', () => {
  class Q9 extends DataFrameModel({ id2: z.string(), id4: z.int32(), v1: z.int32(), v2: z.float64(), v3: z.float64() }) {}
  const n = 2000;
  const q9 = Q9.fromColumns({
    id2: Array.from({ length: n }, (_, i) => `id${(i * 7) % 5}`),
    id4: Array.from({ length: n }, (_, i) => (i * 13) % 3),
    v1: Array.from({ length: n }, (_, i) => ((i * 37) % 5) + 1),
    v2: Array.from({ length: n }, (_, i) => ((i * 53) % 15) + 1 + (i % 7) * 0.25),
    v3: Array.from({ length: n }, (_, i) => i / 3),
  });

  it('answers db-benchmark q9: corr(v1, v2) squared by id2, id4, as an expression over the aggregation', async () => {
    const query = q9.groupBy('id2', 'id4').agg({
      r2: col('v1')
        .corr(col('v2'))
        .mul(col('v1').corr(col('v2'))),
      r: col('v1').corr(col('v2')),
    });
    const inline = query.collectSync();
    assert.equal(inline.length, 15);
    for (const row of inline) assert.ok(Math.abs(row.r2! - row.r! * row.r!) < 1e-15);
    const pooled = await query.collect({ executor: pool });
    inline.forEach((row, i) => {
      assert.ok(Math.abs(row.r2! - pooled[i]!.r2!) < 1e-12);
    });
  });

  it('shows both arguments in explain() and keeps both columns through pruning', () => {
    const text = q9
      .groupBy('id2')
      .agg({ r: col('v1').corr(col('v2').add(1)) })
      .explain();
    assert.match(text, /r=corr\(v1, \(v2 add 1(\.0)?\)\)/);
    assert.match(text, /Source \w+ \[id2, v1, v2\]/);
  });

  it('merges morsels exactly as the states say: constant per morsel but not overall is not constant', async () => {
    // Every 8-row morsel of group 0 holds one x value, a different one in each morsel.
    const rows = Array.from({ length: 64 }, (_, i): Pair => ({ k: i % 2, x: i % 2 === 0 ? Math.floor(i / 8) : 4, y: (i * 17) % 11 }));
    const query = pairsFrame(rows)
      .groupBy('k')
      .agg({ r: col('x').corr(col('y')) });
    const [inline, pooled] = [query.collectSync(), await query.collect({ executor: pool })];
    const expected = [...groupsOf(rows)].map(([, members]) =>
      plainCorr(
        members.map((m) => m.x),
        members.map((m) => m.y),
      ),
    );
    assert.equal(expected[1]!.r, null);
    for (const out of [inline, pooled])
      out.forEach((o, i) => {
        assertCorrClose(o.r, expected[i]!, `group ${o.k}`);
      });
  });

  it('leaves the group-by to the CPU engine under the WebGPU backend, with the same answer', { skip: noGpu }, async () => {
    const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
    try {
      const query = q9.groupBy('id4').agg({ r: col('v1').corr(col('v2')), s: col('v1').sum() });
      const analysed = await query.explainAnalyze({ executor: gpu });
      assert.match(
        analysed.split('\n').find((l) => l.startsWith('Aggregate'))!,
        /\[cpu [\d.]+ ms\]$/,
      );
      assert.deepEqual(await query.collect({ executor: gpu }), query.collectSync());
    } finally {
      await gpu.close();
    }
  });
});

describe('corr against DuckDB', () => {
  // DuckDB 1.5 answers NaN, not NULL, for a constant side and for a single pair (NULL only without pairs);
  // gpuframe follows the SQL standard and PostgreSQL there, so those groups must be null here.
  it('agrees with DuckDB corr(y, x) by group on a random table, within 1e-12', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const sample = fc.sample(pair, { numRuns: 3000, seed: 20240917 });
      // Group 4 is constant in x, group 5 has a single pair, group 6 none.
      const rows: Pair[] = [...sample, { k: 4, x: 2, y: 1 }, { k: 4, x: 2, y: 3 }, { k: 5, x: 1, y: 1 }, { k: 6, x: null, y: 1 }];
      const literal = (v: number | null): string => (v === null ? 'NULL' : `${v}::DOUBLE`);
      await connection.run('CREATE TABLE t (k INTEGER, x DOUBLE, y DOUBLE)');
      await connection.run(`INSERT INTO t VALUES ${rows.map((r) => `(${r.k}, ${literal(r.x)}, ${literal(r.y)})`).join(', ')}`);
      const reader = await connection.runAndReadAll('SELECT k, corr(y, x) AS r FROM t GROUP BY k ORDER BY k');
      const duck = reader.getRowObjects().map((o) => ({ k: Number(o['k']), r: o['r'] as number | null }));
      const ours = await pairsFrame(rows)
        .groupBy('k')
        .agg({ r: col('x').corr(col('y')) })
        .sort('k')
        .collect({ executor: pool });
      assert.deepEqual(
        ours.map((o) => o.k),
        duck.map((d) => d.k),
      );
      assert.deepEqual(
        duck.slice(4).map((d) => d.r),
        [Number.NaN, Number.NaN, null],
      );
      assert.deepEqual(
        ours.slice(4).map((o) => o.r),
        [null, null, null],
      );
      ours.slice(0, 4).forEach((o, i) => {
        const d = duck[i]!.r;
        if (d === null) assert.equal(o.r, null, `group ${o.k}`);
        else assert.ok(Math.abs(o.r! - d) <= 1e-12, `group ${o.k}: ${String(o.r)} vs DuckDB ${d}`);
      });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
