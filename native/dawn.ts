// Loads Dawn's Node binding (npm `webgpu`) and acquires adapters and devices from it. This is the only
// module that touches the binding: it installs the WebGPU globals, keeps every `create()` result
// reachable while a device made from it lives (dropping it segfaults the process at garbage
// collection), and requests the adapter's real limits instead of WebGPU's small defaults.

import type { AdapterDescription, DawnConfig } from './types.js';

export interface AcquiredDevice {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: AdapterDescription;
  readonly features: readonly string[];
  readonly limits: Readonly<Record<string, number>>;
  /** Destroys the device and lets go of the Dawn instance once no device of it is left. */
  release(): void;
}

interface Binding {
  create(options: string[]): GPU;
  globals: object;
}

let binding: Promise<Binding | null> | null = null;
let loadError: unknown = null;
/** Every instance with a live device: Dawn frees native state under a device if its instance is collected. */
const liveInstances = new Map<GPU, number>();

/** The binding, or null where it cannot load on this platform (the reason is in `dawnLoadError()`). */
export function loadDawn(): Promise<Binding | null> {
  binding ??= import('webgpu').then(
    (module: Binding) => {
      // GPUBufferUsage, GPUMapMode and friends are globals in browsers; Dawn ships them as an object.
      Object.assign(globalThis, module.globals);
      return module;
    },
    (error: unknown) => {
      loadError = isMissingPackage(error) ? new Error("the optional package 'webgpu' is not installed (npm install webgpu)", { cause: error }) : error;
      return null;
    },
  );
  return binding;
}

/** `webgpu` is an optional dependency: installs with --omit=optional, or where it failed, have none. */
function isMissingPackage(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes("'webgpu'");
}

export function dawnLoadError(): unknown {
  return loadError;
}

/** Dawn configuration from the environment: GPUFRAME_DAWN_OPTIONS (comma separated) and GPUFRAME_FEATURE_LEVEL. */
export function dawnConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DawnConfig {
  const options = (env['GPUFRAME_DAWN_OPTIONS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const level = env['GPUFRAME_FEATURE_LEVEL'];
  if (level !== undefined && level !== 'core' && level !== 'compatibility')
    throw new RangeError(`GPUFRAME_FEATURE_LEVEL: 'core' or 'compatibility', got '${level}'`);
  return { options, ...(level ? { featureLevel: level } : {}) };
}

export async function requestAdapter(config: DawnConfig = {}): Promise<{ gpu: GPU; adapter: GPUAdapter } | null> {
  const dawn = await loadDawn();
  if (!dawn) return null;
  const gpu = dawn.create([...(config.options ?? [])]);
  const request: GPURequestAdapterOptions & { featureLevel?: string } = {};
  if (config.featureLevel) request.featureLevel = config.featureLevel;
  if (config.powerPreference) request.powerPreference = config.powerPreference;
  const adapter = await gpu.requestAdapter(request);
  return adapter ? { gpu, adapter } : null;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
}

/** Every numeric limit the adapter reports. */
export function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  // The limits object exposes its values as prototype getters, so walk the prototype's keys.
  for (const key of Object.keys(Object.getPrototypeOf(adapter.limits) as object).concat(Object.keys(adapter.limits))) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits;
}

/** The limits gpuframe's kernels depend on, requested at the adapter's maximum. */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** An adapter and a device with the adapter's real limits, or null when no adapter exists. */
export async function acquireDevice(config: DawnConfig = {}): Promise<AcquiredDevice | null> {
  const found = await requestAdapter(config);
  if (!found) return null;
  const { gpu, adapter } = found;
  const available = adapterLimits(adapter);
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) if (available[name] !== undefined) requiredLimits[name] = available[name];
  const device = await adapter.requestDevice({ requiredLimits });
  liveInstances.set(gpu, (liveInstances.get(gpu) ?? 0) + 1);
  let released = false;
  const limits: Record<string, number> = {};
  for (const [name, value] of Object.entries(available)) limits[name] = requiredLimits[name] ?? value;
  return {
    adapter,
    device,
    info: describeAdapter(adapter),
    features: [...adapter.features].map(String).sort(),
    limits,
    release() {
      if (released) return;
      released = true;
      device.destroy();
      const left = (liveInstances.get(gpu) ?? 1) - 1;
      // The instance must outlive the device's native teardown, which finishes after destroy() returns.
      if (left === 0) setTimeout(() => liveInstances.delete(gpu), 1000).unref();
      else liveInstances.set(gpu, left);
    },
  };
}
