// The CPU engine's scheduler: an input is cut into morsels whose bounds depend only on its row count,
// and a generated kernel runs over each, inline or on the worker pool. Operators merge the morsels'
// results in morsel order, so results are identical whatever ran where.

import { setMaxListeners } from 'node:events';
import type { Column, ColumnBatch } from '../../model/types.js';
import { compileKernel } from './kernels/compile.js';
import { kernelLib } from './kernels/runtime.js';
import { kernelColumns, type PreparedKernel } from './kernels/types.js';
import { TICK, type CpuRunOptions, type Work } from './work.js';

/** Exact integer partial sums need a morsel of at most 2^21 rows of int32 (|sum| < 2^52). */
export const MAX_MORSEL = 1 << 20;
const MIN_MORSEL = 1 << 14;

/** Rows per morsel for an input of `length` rows. */
export function morselSize(length: number, morselRows?: number): number {
  return Math.min(MAX_MORSEL, morselRows ?? Math.max(MIN_MORSEL, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(length / 16))))));
}

export function morselRanges(length: number, morselRows?: number): [number, number][] {
  const size = morselSize(length, morselRows);
  const ranges: [number, number][] = [];
  for (let start = 0; start < length; start += size) ranges.push([start, Math.min(length, start + size)]);
  return ranges;
}

export function columnMap(batch: ColumnBatch): Map<string, Column> {
  return new Map(batch.names.map((name, i) => [name, batch.columns[i]!]));
}

/** Runs a kernel over every morsel; stops early (in morsel order) once `enough(results)` holds. */
export function* runMorsels(
  prepared: PreparedKernel,
  length: number,
  outFor: (start: number) => unknown,
  options: CpuRunOptions,
  enough?: (results: readonly unknown[]) => boolean,
): Work<unknown[]> {
  const ranges = morselRanges(length, options.morselRows);
  const cols = kernelColumns(prepared.inputs);
  const results: unknown[] = [];
  const { pool } = options;
  if (pool === null || length < options.inlineThreshold) {
    const fn = compileKernel(prepared.source);
    for (const [start, end] of ranges) {
      yield TICK;
      results.push(fn(cols, prepared.params, start, end, outFor(start), kernelLib));
      if (enough?.(results)) break;
    }
    return results;
  }
  // Every queued task listens on the query's signal; many morsels are expected, not a listener leak.
  if (options.signal) setMaxListeners(ranges.length + 16, options.signal);
  // With an early stop, dispatch one wave of pool.size morsels at a time; otherwise everything at once.
  const wave = enough ? pool.size : ranges.length;
  for (let w = 0; w < ranges.length; w += wave) {
    const tasks = ranges
      .slice(w, w + wave)
      .map(([start, end]) => pool.run({ source: prepared.source, cols, params: prepared.params, start, end, out: outFor(start) }, options.signal));
    results.push(...((yield Promise.all(tasks)) as unknown[]));
    if (enough?.(results)) break;
  }
  return results;
}
