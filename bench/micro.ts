// `npm run bench:micro`: the CPU engine against a hand-written typed-array loop measured in the same run, then
// the WebGPU engine beside the CPU engine (bench/gpu.ts) where an adapter exists, then Arrow ingest against a
// bare copy of the same buffers and columnar JSON ingest against JSON.parse (bench/ingest.ts).
// Speed is reported as ratios, never asserted: shared machines are noisy. Options: --rows N, --reps N.

import { z } from 'zod';
import { col, createExecutor, DataFrameModel, lit } from '../src/index.js';
import { groupByData } from './data.js';
import { benchGpu } from './gpu.js';
import { benchIngest, benchJsonIngest } from './ingest.js';
import { median } from './timing.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const rows = arg('rows', 10_000_000);
const reps = arg('reps', 5);

function best(label: string, fn: () => unknown): Promise<number> {
  return median(label, reps, fn);
}

class Bench extends DataFrameModel({ key: z.string(), v: z.int32(), x: z.float64() }) {}

console.log(`gpuframe bench: ${rows.toLocaleString()} rows, ${reps} timed reps (median reported), node ${process.version}`);
const data = groupByData(rows, 100);
const t0 = performance.now();
const df = Bench.fromColumns({ key: data.key, v: data.v, x: data.x }, { trustedMode: 'strict' });
console.log(`ingest (strict validation, dictionary encoding)   ${(performance.now() - t0).toFixed(1)} ms`);

// The baseline: what a careful programmer writes by hand for this one query.
const baseline = await best('baseline: hand-written loop, sum int32 by key', () => {
  const sums = new Float64Array(100);
  const codes = data.keyCodes;
  const v = data.v;
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i]!;
    sums[k] = sums[k]! + v[i]!;
  }
  return sums;
});

const query = df.groupBy('key').agg({ total: col('v').sum() });
const inline = await best('gpuframe inline (collectSync)', () => query.collectSync());
const executor = createExecutor({ maxWorkers: 2 });
const pooled = await best('gpuframe 2 workers (collect)', () => query.collect({ executor }));

const filtered = df
  .filter(col('x').lt(lit(50)))
  .groupBy('key')
  .agg({ total: col('v').sum(), mean: col('x').mean() });
const baselineFiltered = await best('baseline: filter x<50, sum v and mean x', () => {
  const sums = new Float64Array(100);
  const xs = new Float64Array(100);
  const n = new Float64Array(100);
  const { keyCodes, v, x } = data;
  for (let i = 0; i < keyCodes.length; i++) {
    if (x[i]! < 50) {
      const k = keyCodes[i]!;
      sums[k] = sums[k]! + v[i]!;
      xs[k] = xs[k]! + x[i]!;
      n[k] = n[k]! + 1;
    }
  }
  return sums;
});
const inlineFiltered = await best('gpuframe inline, filter+group-by', () => filtered.collectSync());
const pooledFiltered = await best('gpuframe 2 workers, filter+group-by', () => filtered.collect({ executor }));

console.log('\nratio to the hand-written baseline (lower is better; < 1 is faster than the baseline)');
console.log(`  group-by sum, inline     ${(inline / baseline).toFixed(2)}x   (target <= 1.5x)`);
console.log(`  group-by sum, 2 workers  ${(pooled / baseline).toFixed(2)}x   (target < 1x)`);
console.log(`  filter+group-by, inline     ${(inlineFiltered / baselineFiltered).toFixed(2)}x`);
console.log(`  filter+group-by, 2 workers  ${(pooledFiltered / baselineFiltered).toFixed(2)}x`);

// Where the pool starts to pay: the inline threshold's evidence.
console.log('\ninline vs pool by input size (group-by sum), for the inline threshold');
for (const n of [16_384, 65_536, 131_072, 262_144, 1_048_576]) {
  const small = Bench.fromColumns({ key: data.key.slice(0, n), v: data.v.subarray(0, n), x: data.x.subarray(0, n) }, { trustedMode: 'strict' });
  const q = small.groupBy('key').agg({ total: col('v').sum() });
  const poolExec = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
  const a = await best(`  ${n} rows inline`, () => q.collectSync());
  const b = await best(`  ${n} rows pool`, () => q.collect({ executor: poolExec }));
  console.log(`  ${n} rows: pool/inline = ${(b / a).toFixed(2)}`);
  await poolExec.close();
}
await benchGpu(data, rows, reps, executor);
await executor.close();
console.log('');
await benchIngest(rows, reps);
await benchJsonIngest(Math.min(rows, 1_000_000), reps);
