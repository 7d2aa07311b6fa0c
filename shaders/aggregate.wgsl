// Group-by aggregation. Each row finds its group slot (dense: arithmetic on dictionary codes and small
// integer ranges; hash: an open-addressing table claimed with 32-bit atomics) and updates that slot's
// state words with atomics. Dense slots that fit in workgroup memory aggregate into a private table per
// workgroup, flushed as one partial per workgroup and merged on the host; otherwise the state lives in
// one global table. Integer sums carry across two u32 words, so they are exact; float sums add with
// TwoSum compensation, so each partial is accurate to about n * 2^-48 of the sum of magnitudes.

override WG: u32 = 256u;

//@include aggregate-params
@group(0) @binding(3) var<storage, read_write> out_state: array<atomic<u32>>;
//@splice DECLS
//@include numeric

// State updates, atomic because every invocation of the workgroup (or grid) shares the table.
fn state_add(at: u32, v: u32) { atomicAdd(&$STATE[at], v); }
fn state_min(at: u32, v: u32) { atomicMin(&$STATE[at], v); }
fn state_max(at: u32, v: u32) { atomicMax(&$STATE[at], v); }


fn add_u64(lo: u32, value: i32) {
  let add = bitcast<u32>(value);
  let old = atomicAdd(&$STATE[lo], add);
  let carry = select(0u, 1u, old + add < old);
  let high = select(0u, 0xffffffffu, value < 0i) + carry;
  if (high != 0u) { atomicAdd(&$STATE[lo + 1u], high); }
}

// Adds an unsigned 64-bit value (hi, lo) into three words.
fn add_u96(at: u32, hi: u32, lo: u32) {
  let old0 = atomicAdd(&$STATE[at], lo);
  let carry0 = select(0u, 1u, old0 + lo < old0);
  let add1 = hi + carry0;
  // hi + carry0 wraps only when hi is 0xffffffff and carry0 is 1: that is a carry straight into word 2.
  let wrapped = select(0u, 1u, add1 < hi);
  let old1 = atomicAdd(&$STATE[at + 1u], add1);
  let carry1 = select(0u, 1u, old1 + add1 < old1) + wrapped;
  if (carry1 != 0u) { atomicAdd(&$STATE[at + 2u], carry1); }
}

fn add_f32_plain(at: u32, value: f32) {
  var old = atomicLoad(&$STATE[at]);
  loop {
    let r = atomicCompareExchangeWeak(&$STATE[at], old, bitcast<u32>(bitcast<f32>(old) + value));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

// Adds value to the f32 word at `at` and returns the exact rounding error of that addition (TwoSum);
// a sum that overflows f32 from finite operands raises the flag that reruns the step on the CPU.
fn add_f32_two_sum(at: u32, value: f32) -> f32 {
  var old = atomicLoad(&$STATE[at]);
  loop {
    let s = bitcast<f32>(old);
    let t = opaque(s + value);
    let r = atomicCompareExchangeWeak(&$STATE[at], old, bitcast<u32>(t));
    if (r.exchanged) {
      if (is_finite_f32(t)) {
        let bp = opaque(t - s);
        let av = opaque(t - bp);
        return opaque(s - av) + opaque(value - bp);
      }
      if (is_finite_f32(s) && is_finite_f32(value)) { atomicOr(&flags[0], 0x10000u); }
      return 0.0f;
    }
    old = r.old_value;
  }
}

// Compensated sum over three words: the sum, its errors (added with TwoSum too), and their errors.
fn add_f32_compensated(at: u32, value: f32) {
  let err = add_f32_two_sum(at, value);
  if (err != 0.0f) {
    let err2 = add_f32_two_sum(at + 1u, err);
    if (err2 != 0.0f) { add_f32_plain(at + 2u, err2); }
  }
}

fn aggregate_row(i: u32) {
//@splice ROW
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wg = flat_workgroup(wid, nwg);
  if (wg >= params.workgroups) { return; }
//@splice INIT
  for (var i = wg * WG + lid; i < params.count; i += params.workgroups * WG) {
    aggregate_row(i);
  }
//@splice FLUSH
}
