// Hash equi-join. Keys are first encoded as tuples of u32 words (one word per key column, plus a null
// flag word when any key can be null). Build: each right row claims or finds the slot of its key in an
// open-addressing table (32-bit compare-exchange, linear probing; the slot index is the key's id), then
// the (slot, row) pairs are bitonic-sorted, so each key's right rows form one run in ascending row order,
// and each occupied slot is pointed at its run. Probe: each left row finds its key's run and counts its
// output rows for the join type; after an exclusive scan of the counts, each output row finds its left
// row by binary search over the offsets. No invocation ever waits on another workgroup.

override WG: u32 = 256u;
// 0 inner, 1 left, 2 semi, 3 anti.
override JOIN_HOW: u32 = 0u;

const EMPTY: u32 = 0xffffffffu;
// How encode_key turns a column's values into a tuple word.
const KIND_WORDS: u32 = 0u;
const KIND_FLOAT: u32 = 1u;
const KIND_BITS: u32 = 2u;
const KIND_REMAPPED: u32 = 3u;

struct Params {
  // Rows, elements or output rows this dispatch covers.
  count: u32,
  // Words per key tuple.
  width: u32,
  // 1 when a tuple's last word is its null flag.
  masked: u32,
  // encode_key: the tuple word this key column fills, how, and whether the column has a validity bitmap.
  word: u32,
  kind: u32,
  nullable: u32,
  table_mask: u32,
  // Elements of the pair array: a power of two, at least one sort tile.
  extent: u32,
  // Bitonic sort: the stage (size of the sequences being merged) and the compare distance.
  stage: u32,
  step: u32,
  // emit_*: the first output row of this chunk, and the number of left rows (the length of offsets).
  base: u32,
  left_count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> key_values: array<u32>;
@group(0) @binding(2) var<storage, read> key_validity: array<u32>;
@group(0) @binding(3) var<storage, read> key_remap: array<i32>;
@group(0) @binding(4) var<storage, read_write> tuples: array<u32>;
@group(0) @binding(5) var<storage, read> build_tuples: array<u32>;
@group(0) @binding(6) var<storage, read> probe_tuples: array<u32>;
// Per slot: 0 = empty; while building, the representative right row + 1; after mark_runs, run start + 1.
@group(0) @binding(7) var<storage, read_write> table: array<atomic<u32>>;
// Per occupied slot: the end of its run in `pairs`.
@group(0) @binding(8) var<storage, read_write> run_ends: array<u32>;
// (slot, right row); rows with a null key and the padding sort last as (EMPTY, row).
@group(0) @binding(9) var<storage, read_write> pairs: array<vec2<u32>>;
// Per left row: the start of its key's run in `pairs`, or EMPTY.
@group(0) @binding(10) var<storage, read_write> match_start: array<u32>;
@group(0) @binding(11) var<storage, read_write> out_counts: array<u32>;
// The sum of out_counts as (low, high) words: the scan of the counts wraps at 2^32 and cannot tell.
@group(0) @binding(12) var<storage, read_write> total: array<atomic<u32>>;
@group(0) @binding(13) var<storage, read> offsets: array<u32>;
@group(0) @binding(14) var<storage, read_write> out_left: array<i32>;
@group(0) @binding(15) var<storage, read_write> out_right: array<i32>;

var<workgroup> tile: array<vec2<u32>, 2u * WG>;
var<workgroup> workgroup_total: array<atomic<u32>, 2>;

fn index_of(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return flat_workgroup(wid, nwg) * WG + lid;
}

// -0 joins 0 and every NaN joins one canonical NaN, as group-by groups them.
fn canonical_float_word(bits: u32) -> u32 {
  let magnitude = bits & 0x7fffffffu;
  if (magnitude == 0u) { return 0u; }
  if (magnitude > 0x7f800000u) { return 0x7fc00000u; }
  return bits;
}

// Fills word params.word of each row's tuple from one key column. Null rows keep the zero word (the
// tuples start zeroed) and set the null flag: right rows with it stay out of the table, so left rows
// with it find nothing.
@compute @workgroup_size(WG)
fn encode_key(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index_of(wid, nwg, lid);
  if (i >= params.count) { return; }
  let at = i * params.width;
  if (params.nullable == 1u && !bit_at(key_validity[i >> 5u], i)) {
    tuples[at + params.width - 1u] = 1u;
    return;
  }
  var word: u32;
  switch params.kind {
    case KIND_FLOAT: { word = canonical_float_word(key_values[i]); }
    case KIND_BITS: { word = select(0u, 1u, bit_at(key_values[i >> 5u], i)); }
    // A right code whose string the left dictionary lacks becomes -1, which no left code equals.
    case KIND_REMAPPED: { word = bitcast<u32>(key_remap[key_values[i]]); }
    default: { word = key_values[i]; }
  }
  tuples[at + params.word] = word;
}

fn build_is_null(row: u32) -> bool {
  return params.masked == 1u && build_tuples[row * params.width + params.width - 1u] != 0u;
}

fn build_hash(row: u32) -> u32 {
  var h = 0x9747b28cu;
  for (var k = 0u; k < params.width; k++) { h = mix32(h, build_tuples[row * params.width + k]); }
  return finish32(h);
}

fn probe_hash(row: u32) -> u32 {
  var h = 0x9747b28cu;
  for (var k = 0u; k < params.width; k++) { h = mix32(h, probe_tuples[row * params.width + k]); }
  return finish32(h);
}

fn build_rows_equal(a: u32, b: u32) -> bool {
  for (var k = 0u; k < params.width; k++) {
    if (build_tuples[a * params.width + k] != build_tuples[b * params.width + k]) { return false; }
  }
  return true;
}

fn probe_row_equals(left: u32, right: u32) -> bool {
  for (var k = 0u; k < params.width; k++) {
    if (probe_tuples[left * params.width + k] != build_tuples[right * params.width + k]) { return false; }
  }
  return true;
}

// One invocation per element of the pair array: right rows claim or find their key's slot.
@compute @workgroup_size(WG)
fn insert_keys(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = index_of(wid, nwg, lid);
  if (r >= params.extent) { return; }
  if (r >= params.count || build_is_null(r)) {
    pairs[r] = vec2<u32>(EMPTY, r);
    return;
  }
  var slot = build_hash(r) & params.table_mask;
  loop {
    let claim = atomicCompareExchangeWeak(&table[slot], 0u, r + 1u);
    if (claim.exchanged) { break; }
    // A weak exchange may fail spuriously on an empty slot: try the same slot again.
    if (claim.old_value == 0u) { continue; }
    // The representative's tuple was written by encode_key, an earlier dispatch, so it is complete.
    if (build_rows_equal(claim.old_value - 1u, r)) { break; }
    slot = (slot + 1u) & params.table_mask;
  }
  pairs[r] = vec2<u32>(slot, r);
}

fn pair_less(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.x < b.x || (a.x == b.x && a.y < b.y);
}

// Sequences of `stage` elements alternate ascending and descending by their global position, so that
// each stage merges pairs of them into bitonic ones and the last stage leaves everything ascending.
fn compare_in_tile(base: u32, t: u32, stage: u32, step: u32) {
  let i = ((t & ~(step - 1u)) << 1u) | (t & (step - 1u));
  let a = tile[i];
  let b = tile[i + step];
  let ascending = ((base + i) & stage) == 0u;
  if (pair_less(b, a) == ascending) {
    tile[i] = b;
    tile[i + step] = a;
  }
}

fn load_tile(base: u32, lid: u32) {
  tile[lid] = pairs[base + lid];
  tile[lid + WG] = pairs[base + lid + WG];
}

fn store_tile(base: u32, lid: u32) {
  workgroupBarrier();
  pairs[base + lid] = tile[lid];
  pairs[base + lid + WG] = tile[lid + WG];
}

// Every stage that fits one tile of 2 * WG elements, in workgroup memory.
@compute @workgroup_size(WG)
fn sort_tiles(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = flat_workgroup(wid, nwg) * 2u * WG;
  if (base >= params.extent) { return; }
  load_tile(base, lid);
  for (var stage = 2u; stage <= 2u * WG; stage <<= 1u) {
    for (var step = stage >> 1u; step > 0u; step >>= 1u) {
      workgroupBarrier();
      compare_in_tile(base, lid, stage, step);
    }
  }
  store_tile(base, lid);
}

// One compare distance of a stage larger than a tile, across the whole array.
@compute @workgroup_size(WG)
fn sort_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = index_of(wid, nwg, lid);
  if (t >= params.extent / 2u) { return; }
  let step = params.step;
  let i = ((t & ~(step - 1u)) << 1u) | (t & (step - 1u));
  let a = pairs[i];
  let b = pairs[i + step];
  if (pair_less(b, a) == ((i & params.stage) == 0u)) {
    pairs[i] = b;
    pairs[i + step] = a;
  }
}

// The compare distances of a stage that fit one tile, in workgroup memory.
@compute @workgroup_size(WG)
fn sort_merge_tile(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = flat_workgroup(wid, nwg) * 2u * WG;
  if (base >= params.extent) { return; }
  load_tile(base, lid);
  for (var step = WG; step > 0u; step >>= 1u) {
    workgroupBarrier();
    compare_in_tile(base, lid, params.stage, step);
  }
  store_tile(base, lid);
}

// Points each occupied slot at its run of sorted pairs: table[slot] = start + 1, run_ends[slot] = end.
@compute @workgroup_size(WG)
fn mark_runs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = index_of(wid, nwg, lid);
  if (p >= params.count) { return; }
  let slot = pairs[p].x;
  if (slot == EMPTY) { return; }
  if (p == 0u || pairs[p - 1u].x != slot) { atomicStore(&table[slot], p + 1u); }
  if (p + 1u == params.count || pairs[p + 1u].x != slot) { run_ends[slot] = p + 1u; }
}

fn output_rows(matches: u32) -> u32 {
  switch JOIN_HOW {
    case 0u: { return matches; }
    case 1u: { return max(matches, 1u); }
    case 2u: { return min(matches, 1u); }
    default: { return select(0u, 1u, matches == 0u); }
  }
}

// One invocation per left row: finds its key's run of right rows and counts its output rows.
@compute @workgroup_size(WG)
fn probe_keys(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index_of(wid, nwg, lid);
  // No early return: the whole workgroup reaches the barrier that sums its counts.
  let inside = i < params.count;
  var start = EMPTY;
  var matches = 0u;
  // A left row with a null key carries the null flag, which no tuple in the table has.
  if (inside) {
    var slot = probe_hash(i) & params.table_mask;
    loop {
      let stored = atomicLoad(&table[slot]);
      if (stored == 0u) { break; }
      if (probe_row_equals(i, pairs[stored - 1u].y)) {
        start = stored - 1u;
        matches = run_ends[slot] - start;
        break;
      }
      slot = (slot + 1u) & params.table_mask;
    }
  }
  var rows = 0u;
  if (inside) {
    rows = output_rows(matches);
    match_start[i] = start;
    out_counts[i] = rows;
  }
  let before = atomicAdd(&workgroup_total[0], rows);
  if (before + rows < before) { atomicAdd(&workgroup_total[1], 1u); }
  workgroupBarrier();
  if (lid == 0u) {
    let low = atomicLoad(&workgroup_total[0]);
    let old = atomicAdd(&total[0], low);
    let carry = select(0u, 1u, old + low < old);
    atomicAdd(&total[1], atomicLoad(&workgroup_total[1]) + carry);
  }
}

// The left row whose output rows include output row o: the last one whose offset is at most o (rows
// that output nothing share their offset with the next row, which comes later).
fn owner_of(o: u32) -> u32 {
  var low = 0u;
  var high = params.left_count;
  while (high - low > 1u) {
    let middle = (low + high) / 2u;
    if (offsets[middle] <= o) { low = middle; } else { high = middle; }
  }
  return low;
}

// semi and anti: output row o is just its left row.
@compute @workgroup_size(WG)
fn emit_left(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = index_of(wid, nwg, lid);
  if (t >= params.count) { return; }
  out_left[t] = i32(owner_of(params.base + t));
}

// inner and left: output row o pairs its left row with the right row at its place in the key's run.
@compute @workgroup_size(WG)
fn emit_pairs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = index_of(wid, nwg, lid);
  if (t >= params.count) { return; }
  let o = params.base + t;
  let i = owner_of(o);
  out_left[t] = i32(i);
  let start = match_start[i];
  if (start == EMPTY) {
    out_right[t] = -1i;
  } else {
    out_right[t] = i32(pairs[start + o - offsets[i]].y);
  }
}
