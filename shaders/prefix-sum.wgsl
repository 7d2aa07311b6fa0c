// Exclusive prefix sum of u32 by reduce-then-scan: (1) each workgroup reduces its block of
// WG * ITEMS values, (2) the block sums are scanned (recursively, by the host), (3) each workgroup scans
// its block and adds its block's offset. No workgroup waits on another within a dispatch, so it needs no
// forward-progress guarantee between workgroups.

override WG: u32 = 256u;
const ITEMS: u32 = 4u;

struct Params {
  count: u32,
  blocks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<u32>;
@group(0) @binding(3) var<storage, read_write> block_sums: array<u32>;

var<workgroup> partial: array<u32, 1024>;

// Inclusive scan of partial[0..WG) in place (Hillis-Steele; WG <= 1024).
fn scan_partials(lid: u32) {
  for (var offset = 1u; offset < WG; offset = offset << 1u) {
    workgroupBarrier();
    var add = 0u;
    if (lid >= offset) { add = partial[lid - offset]; }
    workgroupBarrier();
    partial[lid] = partial[lid] + add;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn reduce_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let block = flat_workgroup(wid, nwg);
  let start = block * WG * ITEMS + lid * ITEMS;
  var sum = 0u;
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k;
    if (i < params.count) { sum += input[i]; }
  }
  partial[lid] = sum;
  scan_partials(lid);
  if (lid == WG - 1u && block < params.blocks) { block_sums[block] = partial[lid]; }
}

// block_sums holds each block's exclusive offset here.
@compute @workgroup_size(WG)
fn scan_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let block = flat_workgroup(wid, nwg);
  if (block >= params.blocks) { return; }
  let start = block * WG * ITEMS + lid * ITEMS;
  var values: array<u32, ITEMS>;
  var sum = 0u;
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k;
    values[k] = select(0u, input[i], i < params.count);
    sum += values[k];
  }
  partial[lid] = sum;
  scan_partials(lid);
  var running = block_sums[block] + partial[lid] - sum;
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k;
    if (i < params.count) { output[i] = running; }
    running += values[k];
  }
}
