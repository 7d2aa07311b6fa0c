// The uniform and the first bindings shared by the aggregation kernels (aggregate, aggregate-reduce); each declares
// its own out_state binding, atomic or not.

struct Params {
  count: u32,
  workgroups: u32,
  words: u32,
  table_mask: u32,
  // Always 0, but unknown to the shader compiler: see opaque().
  opaque_zero: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> tables: array<i32>;
