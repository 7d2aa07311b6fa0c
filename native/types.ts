// Public types of Dawn loading: the configuration a user passes and the adapter description gpuframe
// reports. They carry no WebGPU handles, so the published declarations need no @webgpu/types.

export interface DawnConfig {
  /** Dawn toggles passed to `create()`, e.g. `backend=vulkan`, `adapter=llvmpipe`, `backend=opengles`. */
  readonly options?: readonly string[];
  /** `compatibility` for GLES backends; `core` (default) otherwise. */
  readonly featureLevel?: 'core' | 'compatibility';
  readonly powerPreference?: 'low-power' | 'high-performance';
}

export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}
