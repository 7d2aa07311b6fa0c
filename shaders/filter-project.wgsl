// Fused filter and projection. `select_rows` evaluates the predicate (Kleene logic, conjunct by conjunct
// as on the CPU) and writes 1 per kept row; the host scans those flags into output positions (prefix-sum
// kernel); `project_rows` evaluates the output expressions for kept rows only and writes them compacted
// at their positions, with validity and booleans as bits set by atomics.

override WG: u32 = 256u;

struct Params {
  count: u32,
  filtered: u32,
  // Always 0, but unknown to the shader compiler: see opaque().
  opaque_zero: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read> tables: array<i32>;
@group(0) @binding(3) var<storage, read_write> keep: array<u32>;
@group(0) @binding(4) var<storage, read_write> positions: array<u32>;
//@splice DECLS
//@include numeric

fn select_row(i: u32) -> u32 {
//@splice PREDICATE
  return 1u;
}

fn project_row(i: u32, at: u32) {
//@splice OUTPUTS
}

@compute @workgroup_size(WG)
fn select_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i < params.count) { keep[i] = select_row(i); }
}

@compute @workgroup_size(WG)
fn project_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WG + lid;
  if (i >= params.count) { return; }
  if (params.filtered == 1u) {
    if (keep[i] == 0u) { return; }
    project_row(i, positions[i]);
  } else {
    project_row(i, i);
  }
}
