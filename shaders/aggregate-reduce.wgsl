// Whole-frame aggregation (no keys) as a two-pass tree reduction: each invocation accumulates its
// grid-stride rows in private registers with no atomics, the workgroup combines those states pairwise in
// workgroup memory (log2(WG) steps), and invocation 0 writes the workgroup's partial; the host combines
// the partials in f64 / BigInt. Row and combine code are generated per aggregation layout.

override WG: u32 = 256u;

//@include aggregate-params
@group(0) @binding(3) var<storage, read_write> out_state: array<u32>;
//@splice DECLS
//@include numeric

// State updates on this invocation's own registers.
fn state_add(at: u32, v: u32) { acc[at] += v; }
fn state_min(at: u32, v: u32) { acc[at] = min(acc[at], v); }
fn state_max(at: u32, v: u32) { acc[at] = max(acc[at], v); }

fn add_u64(at: u32, value: i32) {
  let add = bitcast<u32>(value);
  let lo = acc[at] + add;
  let carry = select(0u, 1u, lo < add);
  acc[at] = lo;
  acc[at + 1u] += select(0u, 0xffffffffu, value < 0i) + carry;
}

fn add_u96(at: u32, hi: u32, lo: u32) {
  let w0 = acc[at] + lo;
  let carry0 = select(0u, 1u, w0 < lo);
  let add1 = hi + carry0;
  let wrapped = select(0u, 1u, add1 < hi);
  let w1 = acc[at + 1u] + add1;
  let carry1 = select(0u, 1u, w1 < add1) + wrapped;
  acc[at] = w0;
  acc[at + 1u] = w1;
  acc[at + 2u] += carry1;
}

fn add_f32_plain(at: u32, value: f32) {
  acc[at] = bitcast<u32>(bitcast<f32>(acc[at]) + value);
}

fn add_f32_two_sum(at: u32, value: f32) -> f32 {
  let s = bitcast<f32>(acc[at]);
  let t = opaque(s + value);
  acc[at] = bitcast<u32>(t);
  if (is_finite_f32(t)) {
    let bp = opaque(t - s);
    let av = opaque(t - bp);
    return opaque(s - av) + opaque(value - bp);
  }
  if (is_finite_f32(s) && is_finite_f32(value)) { atomicOr(&flags[0], 0x10000u); }
  return 0.0f;
}

// Compensated sum over three words, as in aggregate.wgsl.
fn add_f32_compensated(at: u32, value: f32) {
  let err = add_f32_two_sum(at, value);
  if (err != 0.0f) {
    let err2 = add_f32_two_sum(at + 1u, err);
    if (err2 != 0.0f) { add_f32_plain(at + 2u, err2); }
  }
}

// Combining two states in workgroup memory (states at word offsets a and b; b into a).
fn merge_add(a: u32, b: u32) { tree[a] += tree[b]; }
fn merge_min(a: u32, b: u32) { tree[a] = min(tree[a], tree[b]); }
fn merge_max(a: u32, b: u32) { tree[a] = max(tree[a], tree[b]); }

fn merge_u64(a: u32, b: u32) {
  let lo = tree[a] + tree[b];
  let carry = select(0u, 1u, lo < tree[b]);
  tree[a] = lo;
  tree[a + 1u] += tree[b + 1u] + carry;
}

fn merge_u96(a: u32, b: u32) {
  let w0 = tree[a] + tree[b];
  let carry0 = select(0u, 1u, w0 < tree[b]);
  let add1 = tree[b + 1u] + carry0;
  let wrapped = select(0u, 1u, add1 < tree[b + 1u]);
  let w1 = tree[a + 1u] + add1;
  let carry1 = select(0u, 1u, w1 < add1) + wrapped;
  tree[a] = w0;
  tree[a + 1u] = w1;
  tree[a + 2u] += tree[b + 2u] + carry1;
}

// Three-word compensated sums: b's words are added into a's in the same way as values are.
fn merge_f32_compensated(a: u32, b: u32) {
  let err = merge_two_sum(a, bitcast<f32>(tree[b]));
  let err2 = merge_two_sum(a + 1u, opaque(err) + opaque_other(bitcast<f32>(tree[b + 1u])));
  tree[a + 2u] = bitcast<u32>(opaque(bitcast<f32>(tree[a + 2u])) + opaque_other(bitcast<f32>(tree[b + 2u])) + err2);
}

fn merge_two_sum(a: u32, v: f32) -> f32 {
  let s = bitcast<f32>(tree[a]);
  let t = opaque(s + v);
  tree[a] = bitcast<u32>(t);
  if (is_finite_f32(t)) {
    let bp = opaque(t - s);
    let av = opaque(t - bp);
    return opaque(s - av) + opaque(v - bp);
  }
  if (is_finite_f32(s) && is_finite_f32(v)) { atomicOr(&flags[0], 0x10000u); }
  return 0.0f;
}

fn merge_states(a: u32, b: u32) {
//@splice MERGE
}

fn aggregate_row(i: u32) {
//@splice ROW
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = flat_workgroup(wid, nwg);
  if (wg >= params.workgroups) { return; }
  for (var w = 0u; w < WORDS; w++) { acc[w] = STATE_INIT[w]; }
  for (var i = wg * WG + lid; i < params.count; i += params.workgroups * WG) {
    aggregate_row(i);
  }
  for (var w = 0u; w < WORDS; w++) { tree[lid * WORDS + w] = acc[w]; }
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) { merge_states(lid * WORDS, (lid + stride) * WORDS); }
  }
  workgroupBarrier();
  if (lid == 0u) {
    for (var w = 0u; w < WORDS; w++) { out_state[wg * WORDS + w] = tree[w]; }
  }
}
