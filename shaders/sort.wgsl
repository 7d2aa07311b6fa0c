// Stable LSD radix sort of row indices by u32 key words. encode_field ORs one field of the composite key
// (a null flag or an order-preserving value) into each row's word, gathered through the current order.
// Per pass of DIGIT_BITS bits: count_digits writes each tile's digit counts digit-major, the host scans
// them into global offsets, and scatter_tile moves every row to its offset plus its rank among the rows
// of its tile with the same digit. Ranks come from per-digit bitmasks of the workgroup's invocations, so
// they follow row order (the pass is stable) and no workgroup ever waits on another.
//
// Top-k selection (start_selection, count_bucket_digits, narrow_bucket) finds, digit by digit from the
// most significant, the threshold bucket that holds the k-th row of the order: each row's class says
// whether its key is below the threshold, in it, or above it. gather_candidates lists the rows not above
// it in any order (the selection's key ends in the row index, so no two rows tie), and only those are
// sorted.

override WG: u32 = 256u;
// Rows one invocation handles per pass; a tile is WG * ITEMS consecutive rows.
override ITEMS: u32 = 4u;
override DIGIT_BITS: u32 = 8u;
// Derived from the knobs above (the host sets only those): workgroup arrays are sized by overrides.
override RADIX: u32 = 1u << DIGIT_BITS;
// u32 mask words per digit: one bit per invocation of a round (WG is a multiple of 32).
override MASK_WORDS: u32 = WG / 32u;
// Rows one invocation counts in count_bucket_digits: large tiles flush their counters to the global
// totals less often.
override SELECT_ITEMS: u32 = 16u;
override WORD_DIGITS: u32 = (32u + DIGIT_BITS - 1u) / DIGIT_BITS;

// How encode_field derives a field from a row.
const FIELD_NULL_FLAG: u32 = 0u;
const FIELD_INT32: u32 = 1u;
const FIELD_FLOAT32: u32 = 2u;
const FIELD_BOOL: u32 = 3u;
const FIELD_RANK: u32 = 4u;
const FIELD_ROW_INDEX: u32 = 5u;

// A row's class in the selection.
const CLASS_BELOW: u32 = 0u;
const CLASS_IN_BUCKET: u32 = 1u;
const CLASS_ABOVE: u32 = 2u;

struct Params {
  count: u32,
  // encode_field: what the field is, where it goes in the word, and the mask that descending XORs in.
  kind: u32,
  field_shift: u32,
  flip: u32,
  nulls_last: u32,
  nullable: u32,
  // count_digits / scatter_tile: the digit's position in the word, the tiles, and the digits counted
  // (fewer than RADIX when the word has no bits above this digit).
  digit_shift: u32,
  tiles: u32,
  buckets: u32,
  // narrow_bucket: the threshold's value of the digit at digit_shift. count_bucket_digits: the word's digits.
  bucket: u32,
  word_digits: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> order_in: array<u32>;
// The column as the resident buffers hold it: i32 / f32 bits per row, or bit words for bool.
@group(0) @binding(2) var<storage, read> column_values: array<u32>;
@group(0) @binding(3) var<storage, read> column_validity: array<u32>;
// utf8: the string-order rank of each dictionary code.
@group(0) @binding(4) var<storage, read> rank_table: array<u32>;
@group(0) @binding(5) var<storage, read> keys_in: array<u32>;
@group(0) @binding(6) var<storage, read_write> keys_out: array<u32>;
@group(0) @binding(7) var<storage, read_write> order_out: array<u32>;
// digit-major: the count (then, after the host's scan, the global offset) of digit d in tile t at d * tiles + t.
@group(0) @binding(8) var<storage, read_write> digit_counts: array<u32>;
@group(0) @binding(9) var<storage, read> digit_offsets: array<u32>;
// Selection: per digit of the word, the count of each digit value over the bucket's rows (digit-major),
// and each row's class (CLASS_*).
@group(0) @binding(10) var<storage, read_write> digit_totals: array<atomic<u32>>;
@group(0) @binding(11) var<storage, read_write> row_class: array<u32>;
@group(0) @binding(12) var<storage, read_write> candidate_count: atomic<u32>;

var<workgroup> tile_counts: array<atomic<u32>, RADIX>;
var<workgroup> round_masks: array<atomic<u32>, RADIX * MASK_WORDS>;
// Where the next row with each digit goes in the output.
var<workgroup> digit_next: array<u32, RADIX>;
var<workgroup> word_digit_counts: array<atomic<u32>, WORD_DIGITS * RADIX>;
var<workgroup> group_candidates: atomic<u32>;
var<workgroup> group_base: u32;

// Same map as the CPU sort: negatives flip all bits, positives the sign bit; -0 ties with 0 and every NaN
// sorts above +Inf. Works on bits: float comparisons may be compiled as if NaN did not exist.
fn ordered_f32_bits(bits: u32) -> u32 {
  let magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) { return 0xffffffffu; }
  if (magnitude == 0u) { return 0x80000000u; }
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn field_of(row: u32) -> u32 {
  if (params.kind == FIELD_ROW_INDEX) { return row; }
  let valid = params.nullable == 0u || bit_at(column_validity[row >> 5u], row);
  if (params.kind == FIELD_NULL_FLAG) {
    return select(1u - params.nulls_last, params.nulls_last, !valid);
  }
  // Null rows tie among themselves; the more significant null flag already placed them.
  if (!valid) { return 0u; }
  switch params.kind {
    case FIELD_INT32: { return (column_values[row] ^ 0x80000000u) ^ params.flip; }
    case FIELD_FLOAT32: { return ordered_f32_bits(column_values[row]) ^ params.flip; }
    case FIELD_BOOL: { return select(0u, 1u, bit_at(column_values[row >> 5u], row)) ^ params.flip; }
    default: { return rank_table[column_values[row]] ^ params.flip; }
  }
}

@compute @workgroup_size(WG)
fn fill_identity(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = flat_workgroup(wid, nwg) * WG + lid;
  if (j < params.count) { order_out[j] = j; }
}

// keys_out must start at 0 for the word's first field.
@compute @workgroup_size(WG)
fn encode_field(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = flat_workgroup(wid, nwg) * WG + lid;
  if (j >= params.count) { return; }
  keys_out[j] = keys_out[j] | (field_of(order_in[j]) << params.field_shift);
}

fn digit_of(key: u32) -> u32 {
  return (key >> params.digit_shift) & (RADIX - 1u);
}

@compute @workgroup_size(WG)
fn count_digits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = flat_workgroup(wid, nwg);
  for (var d = lid; d < RADIX; d += WG) { atomicStore(&tile_counts[d], 0u); }
  workgroupBarrier();
  let start = tile * WG * ITEMS;
  for (var r = 0u; r < ITEMS; r++) {
    let j = start + r * WG + lid;
    if (j < params.count) { atomicAdd(&tile_counts[digit_of(keys_in[j])], 1u); }
  }
  workgroupBarrier();
  if (tile >= params.tiles) { return; }
  for (var d = lid; d < params.buckets; d += WG) { digit_counts[d * params.tiles + tile] = atomicLoad(&tile_counts[d]); }
}

// Rows of invocations before `lid` in this round whose digit is `digit`.
fn rank_in_round(digit: u32, lid: u32) -> u32 {
  let base = digit * MASK_WORDS;
  let word = lid >> 5u;
  var rank = countOneBits(atomicLoad(&round_masks[base + word]) & ((1u << (lid & 31u)) - 1u));
  for (var k = 0u; k < word; k++) { rank += countOneBits(atomicLoad(&round_masks[base + k])); }
  return rank;
}

// A tile is processed in ITEMS rounds of WG consecutive rows, each row's output position being the next
// free slot of its digit plus its rank within the round; then each digit's slot advances by its count.
@compute @workgroup_size(WG)
fn scatter_tile(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = flat_workgroup(wid, nwg);
  let in_grid = tile < params.tiles;
  for (var d = lid; d < RADIX; d += WG) {
    if (in_grid && d < params.buckets) { digit_next[d] = digit_offsets[d * params.tiles + tile]; }
    for (var k = 0u; k < MASK_WORDS; k++) { atomicStore(&round_masks[d * MASK_WORDS + k], 0u); }
  }
  workgroupBarrier();
  let start = tile * WG * ITEMS;
  for (var r = 0u; r < ITEMS; r++) {
    let j = start + r * WG + lid;
    let live = in_grid && j < params.count;
    var key = 0u;
    var digit = 0u;
    if (live) {
      key = keys_in[j];
      digit = digit_of(key);
      atomicOr(&round_masks[digit * MASK_WORDS + (lid >> 5u)], 1u << (lid & 31u));
    }
    workgroupBarrier();
    if (live) {
      let to = digit_next[digit] + rank_in_round(digit, lid);
      keys_out[to] = key;
      order_out[to] = order_in[j];
    }
    workgroupBarrier();
    for (var d = lid; d < RADIX; d += WG) {
      var moved = 0u;
      for (var k = 0u; k < MASK_WORDS; k++) { moved += countOneBits(atomicExchange(&round_masks[d * MASK_WORDS + k], 0u)); }
      digit_next[d] += moved;
    }
    workgroupBarrier();
  }
}

// Every row starts in the threshold bucket; order_out gets 0, 1, …, the order that reads rows as they are.
@compute @workgroup_size(WG)
fn start_selection(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = flat_workgroup(wid, nwg) * WG + lid;
  if (j >= params.count) { return; }
  order_out[j] = j;
  row_class[j] = CLASS_IN_BUCKET;
}

// Counts every digit of the word over the bucket's rows, not just the next one: while a digit keeps all
// those rows in one bucket, the counts of the digit after it still hold, so leading digits that every row
// shares cost no further pass.
@compute @workgroup_size(WG)
fn count_bucket_digits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var slot = lid; slot < WORD_DIGITS * RADIX; slot += WG) { atomicStore(&word_digit_counts[slot], 0u); }
  workgroupBarrier();
  let start = flat_workgroup(wid, nwg) * WG * SELECT_ITEMS;
  for (var r = 0u; r < SELECT_ITEMS; r++) {
    let j = start + r * WG + lid;
    if (j < params.count && row_class[j] == CLASS_IN_BUCKET) {
      let key = keys_in[j];
      for (var d = 0u; d < params.word_digits; d++) {
        atomicAdd(&word_digit_counts[d * RADIX + ((key >> (d * DIGIT_BITS)) & (RADIX - 1u))], 1u);
      }
    }
  }
  workgroupBarrier();
  for (var slot = lid; slot < params.word_digits * RADIX; slot += WG) {
    let count = atomicLoad(&word_digit_counts[slot]);
    if (count != 0u) { atomicAdd(&digit_totals[slot], count); }
  }
}

// A row in the bucket whose digit is not the threshold's leaves it, below or above.
@compute @workgroup_size(WG)
fn narrow_bucket(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = flat_workgroup(wid, nwg) * WG + lid;
  if (j >= params.count || row_class[j] != CLASS_IN_BUCKET) { return; }
  let digit = digit_of(keys_in[j]);
  if (digit != params.bucket) { row_class[j] = select(CLASS_ABOVE, CLASS_BELOW, digit < params.bucket); }
}

// Appends the rows not above the threshold to order_out: slots within a workgroup by a workgroup atomic,
// then one global atomic per workgroup for where its slots start.
@compute @workgroup_size(WG)
fn gather_candidates(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { atomicStore(&group_candidates, 0u); }
  workgroupBarrier();
  let j = flat_workgroup(wid, nwg) * WG + lid;
  let kept = j < params.count && row_class[j] != CLASS_ABOVE;
  var slot = 0u;
  if (kept) { slot = atomicAdd(&group_candidates, 1u); }
  workgroupBarrier();
  if (lid == 0u) { group_base = atomicAdd(&candidate_count, atomicLoad(&group_candidates)); }
  workgroupBarrier();
  if (kept) { order_out[group_base + slot] = j; }
}
