// Timing helper shared by the benchmarks: one warm-up run, then the median of `reps` timed runs.

export async function median(label: string, reps: number, fn: () => unknown, warmUp = true): Promise<number> {
  if (warmUp) await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times[times.length >> 1]!;
  console.log(`${label.padEnd(52)} best ${times[0]!.toFixed(1).padStart(9)} ms   median ${mid.toFixed(1).padStart(9)} ms`);
  return mid;
}
