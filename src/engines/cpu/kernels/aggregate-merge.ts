// Merging the CPU aggregation kernel's per-morsel partial states (kernels/aggregate.ts) in morsel order
// into one state per group: dense and global slots add up slot by slot; hash partials are matched by
// their key words (partitioned when there are many groups) and renumbered in order of first row, so the
// result is the same whatever ran where. Exact integer sums switch to BigInt only where a float would
// lose the sum.

import { isBig, stateArity, type AccKind, type GroupPartial } from '../../shared/accumulators.js';
import { hashWords, KeyTable } from '../../shared/key-table.js';
import { combineCoMoments, combineMoments } from '../../shared/moments.js';
import type { PreparedGroupBy } from './aggregate.js';

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Merges partials in order into one state indexed by global group id. In hash mode also returns, per
 * partial, the map from its local group ids to global ids (-1 where no row reached a slot), used to relabel
 * per-row group ids; dense and global slots are their own ids, and no maps are returned. A partial is
 * merged one state array at a time, not one group at a time.
 */
export function mergeGroupPartials(
  prepared: PreparedGroupBy,
  partials: readonly GroupPartial[],
): { merged: GroupPartial; exactInt: (bigint | undefined)[][]; localToGlobal: Int32Array[] } {
  const { mode, accs } = prepared;
  let groups = mode.kind === 'dense' ? mode.slots : 1;
  let maps: Int32Array[] = [];
  if (mode.kind === 'hash') {
    let total = 0;
    for (const p of partials) total += p.groups;
    if (total > PARTITIONED_MERGE_GROUPS) ({ maps, groups } = partitionedGroupIds(partials, mode.width, total));
    else {
      // Sized once for all partials' groups together, a bound on the distinct ones: nothing rehashes.
      const table = new KeyTable(mode.width, Math.max(1024, total));
      maps = partials.map((p) => {
        const map = new Int32Array(p.groups);
        const keys = p.keys!;
        for (let l = 0; l < map.length; l++) map[l] = p.firstRow[l]! < 0 ? -1 : table.findOrInsert(keys, l * mode.width);
        return map;
      });
      groups = table.size;
    }
    renumberByFirstRow(maps, groups);
  }
  // Allocated once the group count is known.
  const firstRow = new Int32Array(groups).fill(-1);
  const lastRow = new Int32Array(groups).fill(-1);
  const rows = new Float64Array(groups);
  const states = accs.map((acc) =>
    Array.from({ length: stateArity(acc.kind) }, (_, k): Float64Array | bigint[] =>
      isBig(acc.kind, k) ? new Array<bigint>(groups).fill(0n) : new Float64Array(groups),
    ),
  );
  // Exact integer sums that left the safe-integer range continue as BigInt here.
  const exactInt: (bigint | undefined)[][] = accs.map(() => []);
  // Kernels track last rows and row counts only for the aggregations that read them.
  const tracksLast = accs.some((a) => a.agg.op === 'last');
  const tracksRows = accs.some((a) => a.agg.op === 'countAll');
  partials.forEach((p, m) => {
    // Without a map, slot l is group l, and a slot no row reached holds zero states (first row -1).
    const map = mode.kind === 'hash' ? maps[m]! : null;
    const partFirst = p.firstRow;
    for (let l = 0; l < p.groups; l++) {
      const g = map === null ? l : map[l]!;
      if (g >= 0 && firstRow[g]! < 0) firstRow[g] = partFirst[l]!;
    }
    if (tracksLast) {
      const partLast = p.lastRow;
      for (let l = 0; l < p.groups; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && partFirst[l]! >= 0) lastRow[g] = partLast[l]!;
      }
    }
    if (tracksRows) addMapped(rows, p.rows, map, p.groups);
    accs.forEach((acc, j) => {
      mergeStates(acc.kind, states[j]!, p.states[j]!, map, p.groups, exactInt[j]!);
    });
  });
  return { merged: { groups, firstRow, lastRow, rows, states, keys: null }, exactInt, localToGlobal: maps };
}

/**
 * Renumbers hash groups 0, 1, 2, ... in order of first row, in place in the maps. A morsel's table numbers
 * its groups as its rows first reach them, and morsels hold rows in order, so the first (partial, local id)
 * that maps to a group is its first row. The merged arrays are then already in output order and
 * finalisation reads them front to back instead of at random.
 */
function renumberByFirstRow(maps: readonly Int32Array[], groups: number): void {
  const rank = new Int32Array(groups).fill(-1);
  let next = 0;
  for (const map of maps) {
    for (let l = 0; l < map.length; l++) {
      const g = map[l]!;
      if (g < 0) continue;
      let r = rank[g]!;
      if (r < 0) r = rank[g] = next++;
      map[l] = r;
    }
  }
}

/** Above this many partial groups in all, hash partials merge partition by partition (partitionedGroupIds). */
const PARTITIONED_MERGE_GROUPS = 1 << 18;
/** About this many partial groups per partition: its table (4 words a slot for a 2-word key) stays in cache. */
const PARTITION_GROUPS = 1 << 15;

/**
 * Global group ids for hash partials with many groups, found partition by partition: each partial group
 * goes to a partition by the top bits of its key hash, its key words are copied into that partition's run,
 * and one small table (in cache, where one table for every group would miss memory on nearly every probe)
 * numbers each run's keys in turn. Ids run partition after partition; within a partition, partials and
 * their groups keep their order. They need only be distinct per key: mergeGroupPartials then renumbers
 * them in first-row order.
 */
function partitionedGroupIds(partials: readonly GroupPartial[], width: number, total: number): { maps: Int32Array[]; groups: number } {
  const bits = Math.min(16, Math.max(1, Math.ceil(Math.log2(total / PARTITION_GROUPS))));
  const partitions = 1 << bits;
  const shift = 32 - bits;
  const starts = new Int32Array(partitions + 1);
  // Per partial group: its partition, then (below) its place in the partition-ordered runs.
  const places = partials.map((p) => {
    const place = new Int32Array(p.groups);
    const keys = p.keys!;
    for (let l = 0; l < p.groups; l++) {
      if (p.firstRow[l]! < 0) place[l] = -1;
      else starts[(place[l] = hashWords(keys, l * width, width) >>> shift) + 1]!++;
    }
    return place;
  });
  let largest = 0;
  for (let q = 0; q < partitions; q++) {
    largest = Math.max(largest, starts[q + 1]!);
    starts[q + 1]! += starts[q]!;
  }
  const cursor = starts.slice(0, partitions);
  const runWords = new Uint32Array(starts[partitions]! * width);
  partials.forEach((p, m) => {
    const place = places[m]!;
    const keys = p.keys!;
    for (let l = 0; l < place.length; l++) {
      const q = place[l]!;
      if (q < 0) continue;
      const e = cursor[q]!++;
      place[l] = e;
      for (let k = 0; k < width; k++) runWords[e * width + k] = keys[l * width + k]!;
    }
  });
  const ids = new Int32Array(starts[partitions]!);
  const table = new KeyTable(width, Math.max(16, largest));
  let groups = 0;
  for (let q = 0; q < partitions; q++) {
    for (let e = starts[q]!; e < starts[q + 1]!; e++) ids[e] = groups + table.findOrInsert(runWords, e * width);
    groups += table.size;
    table.clear();
  }
  for (const place of places) for (let l = 0; l < place.length; l++) if (place[l]! >= 0) place[l] = ids[place[l]!]!;
  return { maps: places, groups };
}

/**
 * Merges one accumulator's partial state `from` (n local groups) into `into`: local group l goes to group
 * map[l], skipped when -1; a null map sends l to l (dense slots, where a slot no row reached is all zeros
 * and every merge below leaves its target unchanged).
 */
function mergeStates(
  kind: AccKind,
  into: readonly (Float64Array | bigint[])[],
  from: readonly (Float64Array | bigint[])[],
  map: Int32Array | null,
  n: number,
  exact: (bigint | undefined)[],
): void {
  const f = (k: number): Float64Array => from[k] as Float64Array;
  const t = (k: number): Float64Array => into[k] as Float64Array;
  switch (kind) {
    case 'none':
      return;
    case 'count':
      addMapped(t(0), f(0), map, n);
      return;
    case 'sumFloat':
      addMapped(t(0), f(0), map, n);
      addMapped(t(1), f(1), map, n);
      return;
    case 'sumInt': {
      const [sums, adds] = [t(0), f(0)];
      if (map === null && exact.length === 0 && maxAbs(sums, n) + maxAbs(adds, n) <= SAFE) addMapped(sums, adds, null, n);
      else {
        for (let l = 0; l < n; l++) {
          const g = map === null ? l : map[l]!;
          if (g < 0) continue;
          const add = adds[l]!;
          const sum = sums[g]! + add;
          if (exact.length !== 0 && exact[g] !== undefined) exact[g] = exact[g] + BigInt(add);
          else if (Math.abs(sum) <= SAFE && Math.abs(sums[g]!) + Math.abs(add) <= SAFE) sums[g] = sum;
          else exact[g] = BigInt(sums[g]!) + BigInt(add);
        }
      }
      addMapped(t(1), f(1), map, n);
      return;
    }
    case 'sumBig':
      addBigMapped(into[0] as bigint[], from[0] as bigint[], map, n);
      addMapped(t(1), f(1), map, n);
      return;
    case 'min':
    case 'max': {
      const [values, counts, candidates, seen] = [t(0), t(1), f(0), f(1)];
      const smaller = kind === 'min';
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g < 0 || seen[l] === 0) continue;
        const candidate = candidates[l]!;
        const current = values[g]!;
        // NaN orders after every number, as in the kernels' lessThan.
        const better =
          counts[g] === 0 ||
          (smaller
            ? candidate < current || (current !== current && candidate === candidate)
            : candidate > current || (candidate !== candidate && current === current));
        if (better) values[g] = candidate;
        counts[g] = counts[g]! + seen[l]!;
      }
      return;
    }
    case 'minBig':
    case 'maxBig': {
      const [values, candidates] = [into[0] as bigint[], from[0] as bigint[]];
      const [counts, seen] = [t(1), f(1)];
      const smaller = kind === 'minBig';
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g < 0 || seen[l] === 0) continue;
        const candidate = candidates[l]!;
        if (counts[g] === 0 || (smaller ? candidate < values[g]! : candidate > values[g]!)) values[g] = candidate;
        counts[g] = counts[g]! + seen[l]!;
      }
      return;
    }
    case 'momentsBig':
      addBigMapped(into[0] as bigint[], from[0] as bigint[], map, n);
      addBigMapped(into[1] as bigint[], from[1] as bigint[], map, n);
      addMapped(t(2), f(2), map, n);
      return;
    case 'moments': {
      const [counts, means, m2s] = [f(0), f(1), f(2)];
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && counts[l]! > 0) combineMoments(into as Float64Array[], g, counts[l]!, means[l]!, m2s[l]!);
      }
      return;
    }
    case 'comomentsBig':
      for (let k = 0; k < 5; k++) addBigMapped(into[k] as bigint[], from[k] as bigint[], map, n);
      addMapped(t(5), f(5), map, n);
      return;
    case 'comoments': {
      const counts = f(0);
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && counts[l]! > 0) combineCoMoments(into as Float64Array[], g, from as Float64Array[], l);
      }
      return;
    }
  }
}

function maxAbs(values: Float64Array, n: number): number {
  let max = 0;
  for (let l = 0; l < n; l++) max = Math.max(max, Math.abs(values[l]!));
  return max;
}

/** into[map[l]] += from[l] for the n local groups (map null: into[l] += from[l]). */
function addMapped(into: Float64Array, from: Float64Array, map: Int32Array | null, n: number): void {
  if (map === null) {
    for (let l = 0; l < n; l++) into[l] = into[l]! + from[l]!;
    return;
  }
  for (let l = 0; l < n; l++) {
    const g = map[l]!;
    if (g >= 0) into[g] = into[g]! + from[l]!;
  }
}

function addBigMapped(into: bigint[], from: bigint[], map: Int32Array | null, n: number): void {
  for (let l = 0; l < n; l++) {
    const g = map === null ? l : map[l]!;
    if (g >= 0) into[g] = into[g]! + from[l]!;
  }
}
