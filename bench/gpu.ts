// GPU rows of `npm run bench`: the WebGPU engine beside the CPU engine on the same data in the same
// run. Upload (first run over a new frame, pipelines already compiled) and resident query time are
// reported apart. On a software adapter the GPU is not expected to win; the rows still prove the path.

import { z } from 'zod';
import { col, createExecutor, DataFrameModel, lit, type Executor, type Frame } from '../src/index.js';
import { groupByData } from './data.js';
import { median } from './timing.js';

class GpuBench extends DataFrameModel({ key: z.string(), v: z.int32(), f: z.float32() }) {}

type Data = ReturnType<typeof groupByData>;

function frameOf(data: Data, rows: number): Frame<{ key: string; v: number; f: number }> {
  return GpuBench.fromColumns(
    { key: data.key.slice(0, rows), v: data.v.subarray(0, rows), f: Float32Array.from(data.x.subarray(0, rows)) },
    { trustedMode: 'strict' },
  );
}

export async function benchGpu(data: Data, rows: number, reps: number, cpu: Executor): Promise<void> {
  const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
  try {
    const adapter = await gpu.warmUp().catch((error: unknown) => {
      console.log(`\nGPU rows skipped: ${(error as Error).message}`);
      return null;
    });
    if (!adapter) return;
    console.log(`\nGPU: ${adapter.description} (${adapter.vendor}, ${adapter.architecture}${adapter.isFallbackAdapter ? ', fallback adapter' : ''})`);
    const queries: [string, (f: Frame<{ key: string; v: number; f: number }>) => Frame][] = [
      ['group-by sum int32 by 100 keys', (f) => f.groupBy('key').agg({ total: col('v').sum() })],
      [
        'filter f < 50, sum and mean',
        (f) =>
          f
            .filter(col('f').lt(lit(50)))
            .groupBy()
            .agg({ total: col('v').sum(), mean: col('f').mean() }),
      ],
      ['sort by v descending, head 10', (f) => f.sort('v', { descending: true }).head(10)],
    ];
    const small = frameOf(data, Math.min(rows, 4096));
    const df = frameOf(data, rows);
    const bytes = rows * 4 * 3;
    for (const [name, build] of queries) {
      // Compile the pipelines on a small frame of the same schema, so the first big run is upload + query.
      await build(small).collect({ executor: gpu });
      const t0 = performance.now();
      await build(df).collect({ executor: gpu });
      const first = performance.now() - t0;
      const resident = await median(`  gpu resident: ${name}`, reps, () => build(df).collect({ executor: gpu }), false);
      const onCpu = await median(`  cpu 2 workers: ${name}`, reps, () => build(df).collect({ executor: cpu }));
      const where = (await build(df).explainAnalyze({ executor: gpu }))
        .split('\n')
        .map((line) => /^\s*(\w+).*\[(cpu|webgpu) [\d.]+ ms\]$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => `${String(m[1])} on ${String(m[2])}`)
        .join(', ');
      console.log(
        `  ${name}: first run ${first.toFixed(1)} ms (upload ≈ ${Math.max(0, first - resident).toFixed(1)} ms), gpu/cpu ${(resident / onCpu).toFixed(2)}x (${where})`,
      );
    }
    const stats = gpu.stats().gpu;
    if (stats)
      console.log(
        `  resident: ${(stats.resident.bytes / 2 ** 20).toFixed(1)} MiB in ${stats.resident.columns} columns (${stats.resident.uploads} uploads, ${stats.resident.hits} hits); ${stats.pipelines} pipelines; input ${(bytes / 2 ** 20).toFixed(1)} MiB`,
      );
  } finally {
    await gpu.close();
  }
}
