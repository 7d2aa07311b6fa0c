// Public types of the WebGPU engine: what its stats report. No WebGPU handles here, so the published
// declarations need no @webgpu/types.

/** Device memory held by resident columns and how the cache has been used. */
export interface ResidentStats {
  readonly bytes: number;
  readonly budget: number;
  readonly columns: number;
  readonly uploads: number;
  readonly hits: number;
  readonly evictions: number;
}
