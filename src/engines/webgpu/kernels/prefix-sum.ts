// Exclusive prefix sum of u32 values on the device (shaders/prefix-sum.wgsl): the building block of
// stream compaction, radix sort scatter offsets and join output offsets.

import type { GpuContext, Recorder } from '../context.js';

const WG = 256;
const ITEMS = 4;
const BLOCK = WG * ITEMS;

/**
 * Records `output[i] = input[0] + … + input[i-1]` for i < count, and the grand total at `total[0]` when
 * given. `input` and `output` must be different buffers.
 */
export function encodeExclusiveScan(ctx: GpuContext, run: Recorder, input: GPUBuffer, output: GPUBuffer, count: number, total?: GPUBuffer): void {
  if (count === 0) {
    if (total) run.clear(total, 0, 4);
    return;
  }
  const blocks = Math.ceil(count / BLOCK);
  const sums = run.temp(blocks * 4 + 4);
  const params = run.uniform(Uint32Array.of(count, blocks));
  const reduce = ctx.pipeline('prefix-sum', {}, { WG }, 'reduce_blocks');
  const scan = ctx.pipeline('prefix-sum', {}, { WG }, 'scan_blocks');
  run.dispatch(reduce, [params, input, null, sums], blocks);
  if (blocks > 1) {
    // Scan the block sums in place through a scratch copy; its total is the grand total.
    const offsets = run.temp(blocks * 4 + 4);
    encodeExclusiveScan(ctx, run, sums, offsets, blocks, total);
    run.copy(offsets, 0, sums, 0, blocks * 4);
  } else {
    if (total) run.copy(sums, 0, total, 0, 4);
    run.clear(sums, 0, 4);
  }
  run.dispatch(scan, [params, input, output, sums], blocks);
}
