// The documented error bound of float sums on the device, against an exact reference: every float32 is
// an integer multiple of 2^-149, so a BigInt sum of scaled values is exact.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { col, createExecutor, DataFrameModel } from '../../../src/index.js';
import { gpuSkip } from './device.js';

const skip = await gpuSkip();

const Values = DataFrameModel({ g: z.int32(), h: z.int32(), x: z.float32() });
const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
after(() => gpu.close());

const SCALE = 2n ** 149n;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x as an exact integer multiple of 2^-149. */
function scaled(x: number): bigint {
  f32[0] = x;
  const bits = u32[0]!;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = BigInt(bits & 0x7fffff);
  const magnitude = exponent === 0 ? mantissa : (mantissa | 0x800000n) << BigInt(exponent - 1);
  return bits >>> 31 ? -magnitude : magnitude;
}

function exactSum(values: readonly number[]): number {
  let total = 0n;
  for (const v of values) total += scaled(v);
  // Exact to the double nearest the true sum, up to one rounding of the division.
  return Number(total) / Number(SCALE);
}

/**
 * The bound README states for a group of m rows summed into at most P partials (m counted as the whole
 * group, the worst case of the hash-table path): (m³·2^-72 + (P + 2)·2^-53)·Σ|x|.
 */
function bound(values: readonly number[], partials: number): number {
  const m = values.length;
  const magnitude = values.reduce((s, v) => s + Math.abs(v), 0);
  return (m ** 3 * 2 ** -72 + (partials + 2) * 2 ** -53) * magnitude + Number.MIN_VALUE;
}

const finiteF32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => Math.fround(x));

test('float32 sums stay within the stated bound of the exact sum, per group and over the whole frame', { skip }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), finiteF32), { minLength: 1, maxLength: 3000 }), async (rows) => {
      // h spreads the same groups too far apart for dense slots: it takes the hash-table path.
      const frame = Values.fromColumns({ g: rows.map((r) => r[0]), h: rows.map((r) => r[0] * 600_000_000), x: rows.map((r) => r[1]) });
      for (const key of ['g', 'h'] as const) {
        const grouped = await frame
          .groupBy(key)
          .agg({ s: col('x').sum() })
          .collect({ executor: gpu });
        for (const row of grouped) {
          const values = rows.filter((r) => r[0] * (key === 'h' ? 600_000_000 : 1) === row[key]).map((r) => r[1]);
          const exact = exactSum(values);
          assert.ok(Math.abs((row.s as number) - exact) <= bound(values, 1024), `${key} group ${row[key]}: ${String(row.s)} vs exact ${exact}`);
        }
      }
      const [whole] = await frame
        .groupBy()
        .agg({ s: col('x').sum() })
        .collect({ executor: gpu });
      const all = rows.map((r) => r[1]);
      assert.ok(Math.abs((whole!.s as number) - exactSum(all)) <= bound(all, 1024));
    }),
    { numRuns: 40 },
  );
});

test('compensation works: a sum that plain f32 accumulation gets badly wrong comes out near exact', { skip }, async () => {
  // 2^24 + many ones: each 1 is lost by a plain f32 add (it is half an ulp of 2^24).
  const values = [2 ** 24, ...Array.from({ length: 20_000 }, () => 1)];
  let plain = 0;
  for (const v of values) plain = Math.fround(plain + v);
  const exact = exactSum(values);
  assert.ok(Math.abs(plain - exact) >= 10_000, 'the data defeats plain f32 summation');
  const frame = Values.fromColumns({ g: values.map(() => 0), h: values.map(() => 0), x: values });
  const [row] = await frame
    .groupBy('g')
    .agg({ s: col('x').sum() })
    .collect({ executor: gpu });
  assert.equal(row!.s, exact);
});

test('one large group through the hash table: a million small values after a large one', { skip }, async () => {
  // One partial holds the whole group here (the global table), the worst case for the bound.
  const n = 1_000_000;
  const values = [2 ** 24, ...Array.from({ length: n }, () => Math.fround(0.1))];
  const exact = exactSum(values);
  // A second key 1.4e9 away makes the key range too wide for dense slots: the hash table it is.
  const frame = Values.fromColumns({ g: [...values.map(() => 0), 0], h: [...values.map(() => 700_000_000), -700_000_000], x: [...values, 0] });
  const query = frame.groupBy('h').agg({ s: col('x').sum() });
  const [row] = await query.collect({ executor: gpu });
  assert.match(await query.explainAnalyze({ executor: gpu }), /^Aggregate .*\[webgpu/m);
  const error = Math.abs((row!.s as number) - exact);
  assert.ok(error <= bound(values, 1), `error ${error} over the bound ${bound(values, 1)}`);
  // Plain f32 accumulation loses every 0.1 here (error 1e5); the three-word compensation keeps the
  // error below 2^-20 of the sum. Biased rounding in the third word is what remains (README).
  let plain = 0;
  for (const v of values) plain = Math.fround(plain + v);
  assert.ok(Math.abs(plain - exact) >= 1e4 * error, `plain f32 error ${Math.abs(plain - exact)} vs ${error}`);
  assert.ok(error <= 2 ** -20 * exact, `error ${error} (relative ${error / exact})`);
});
