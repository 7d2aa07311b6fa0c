// The WebGPU device for tests. Without an adapter the GPU tests are skipped with the reason, unless
// GPUFRAME_REQUIRE_GPU=1 (set by .ci/run after it installs a software GPU), which makes it a failure.

import { acquireDevice, dawnConfigFromEnv, dawnLoadError, requestAdapter } from '../../../native/dawn.js';
import { GpuContext, type GpuContextOptions } from '../../../src/engines/webgpu/context.js';

export const requireGpu = process.env['GPUFRAME_REQUIRE_GPU'] === '1';

export interface TestGpu {
  readonly ctx: GpuContext | null;
  /** false when a device exists, else why the GPU tests are skipped. */
  readonly skip: string | false;
}

/** Why the GPU tests cannot run here; throws instead under GPUFRAME_REQUIRE_GPU=1. */
function missingAdapter(): string {
  const loadError = dawnLoadError();
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- whatever the binding threw when it failed to load, printed as is
  const reason = loadError ? `Dawn's binding did not load (${String(loadError)})` : 'no WebGPU adapter on this machine (run native/setup-software-gpu.sh)';
  if (requireGpu) throw new Error(`GPUFRAME_REQUIRE_GPU=1 but ${reason}`);
  return reason;
}

/** A device context for kernel-level tests, or the reason to skip them. */
export async function testGpu(options: GpuContextOptions = {}): Promise<TestGpu> {
  const acquired = await acquireDevice(dawnConfigFromEnv());
  return acquired ? { ctx: new GpuContext(acquired, options), skip: false } : { ctx: null, skip: missingAdapter() };
}

/** For tests that go through executors: false when an adapter exists, else why the GPU tests are skipped. */
export async function gpuSkip(): Promise<string | false> {
  return (await requestAdapter(dawnConfigFromEnv())) ? false : missingAdapter();
}
