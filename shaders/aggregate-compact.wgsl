// Compacts a hash group-by's table: only occupied slots (first row set) are kept, in slot order, so
// the host reads groups × words instead of the whole table. `mark_groups` flags the occupied slots, the
// prefix-sum kernel turns flags into positions, and `gather_groups` copies each occupied slot's words.

override WG: u32 = 256u;

struct Params {
  slots: u32,
  words: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> keep: array<u32>;
@group(0) @binding(3) var<storage, read> positions: array<u32>;
@group(0) @binding(4) var<storage, read_write> compacted: array<u32>;

const EMPTY: u32 = 0xffffffffu;

@compute @workgroup_size(WG)
fn mark_groups(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = flat_workgroup(wid, nwg) * WG + lid;
  if (slot < params.slots) { keep[slot] = select(0u, 1u, state[slot * params.words] != EMPTY); }
}

@compute @workgroup_size(WG)
fn gather_groups(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = flat_workgroup(wid, nwg) * WG + lid;
  if (slot >= params.slots || keep[slot] == 0u) { return; }
  let to_word = positions[slot] * params.words;
  let from_word = slot * params.words;
  for (var w = 0u; w < params.words; w++) { compacted[to_word + w] = state[from_word + w]; }
}
