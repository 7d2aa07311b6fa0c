// Pure numeric helpers shared by the kernels that evaluate expressions and aggregate (filter-project,
// aggregate, aggregate-reduce), included by the loader. Each declares `params.opaque_zero`.

// Error-free transformations (TwoSum, Dekker's product) are algebraically zero, and shader compilers
// that treat float math as reassociable fold them away. Passing every intermediate through a bit
// pattern XORed with a runtime zero hides their structure, so each operation is evaluated as written.
fn opaque(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) ^ params.opaque_zero);
}

// The same, by another operation: opaque(x) - opaque_other(x) cannot be folded to x - x, which common
// subexpression elimination would make of two opaque(x).
fn opaque_other(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) + params.opaque_zero);
}

fn is_finite_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// x * x as an unevaluated sum hi + lo (Dekker's product with Veltkamp's split), exact without FMA.
fn square_f32_exact(x: f32) -> vec2<f32> {
  let p = opaque(x * x);
  let c = opaque(4097.0f * x);
  let xh = opaque(c - opaque(c - x));
  let xl = opaque(x - xh);
  let e = opaque(opaque(opaque(xh * xh) - p) + opaque(2.0f * opaque(xh * xl))) + opaque(xl * xl);
  return vec2<f32>(p, e);
}

fn canonical_f32_key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7fc00000u; }
  if ((b & 0x7fffffffu) == 0u) { return 0u; }
  return b;
}

fn order_i32(x: i32) -> u32 {
  return bitcast<u32>(x) ^ 0x80000000u;
}

// NaN (any payload) orders above +Inf, as on the CPU.
fn order_f32(x: f32) -> u32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0xffc00000u; }
  return f32_order_key(x);
}

