// Shared by every kernel family (prepended by the loader).
// Workgroups are laid out in a 2D grid when one dimension is not enough: this is the flat index.
fn flat_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Arrow validity and boolean values are bitmaps, least-significant bit first, read as u32 words.
fn bit_at(words_value: u32, i: u32) -> bool {
  return ((words_value >> (i & 31u)) & 1u) == 1u;
}

// Order-preserving map of f32 bits to u32 (for min/max atomics and radix sort keys).
fn f32_order_key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn f32_from_order_key(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

// NaN by its bits: drivers may compile float comparisons assuming no NaN, so NaN-sensitive code asks here.
fn is_nan_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// Murmur3-style hashing of key words (group-by and join hash tables).
fn mix32(h: u32, w: u32) -> u32 {
  var k = w * 0xcc9e2d51u;
  k = (k << 15u) | (k >> 17u);
  k = k * 0x1b873593u;
  let x = h ^ k;
  return ((x << 13u) | (x >> 19u)) * 5u + 0xe6546b64u;
}

fn finish32(h: u32) -> u32 {
  var x = h ^ (h >> 16u);
  x = x * 0x85ebca6bu;
  x = x ^ (x >> 13u);
  x = x * 0xc2b2ae35u;
  return x ^ (x >> 16u);
}
