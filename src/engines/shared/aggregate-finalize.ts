// Turns merged group-by state into output columns: groups ordered by first appearance, keys and
// first/last gathered at each group's first/last row, and the holistic aggregations (median, nUnique)
// computed from per-row group ids. Shared by both engines: each fills the merged state its own way and
// passes the evaluator that computes expressions at chosen rows (keys, first/last, holistic arguments).

import type { BoundAgg, BoundExpr, ExprType } from '../../expr/types.js';
import { MAX_DECIMAL_PRECISION, POW10, writeDecimal } from '../../model/decimal.js';
import { allocShared, makeColumn, packBits } from '../../model/column.js';
import { paramsOf, storageOf } from '../../model/dtype.js';
import type { Column, ColumnBatch } from '../../model/types.js';
import { ArithmeticOverflowError } from '../../errors.js';
import { CO_NON_FINITE, CO_VARIES_X, CO_VARIES_Y, type AccSpec, type GroupByLayout, type GroupPartial } from './accumulators.js';
import { KeyTable } from './key-table.js';
import { outputArray } from './output-values.js';

/** Evaluates expressions at the given rows (one per group, or the rows that reached a group), one column each. */
export type RowEvaluator = (columns: ReadonlyMap<string, Column>, exprs: readonly { name: string; expr: BoundExpr }[], rows: Int32Array) => Column[];

function nullColumn(type: ExprType, length: number, dictionary: readonly string[] | null): Column {
  const dtype = type.dtype;
  const values = dtype === 'bool' ? allocShared(Uint8Array, Math.ceil(length / 8)) : outputArray(dtype, length);
  return makeColumn(
    dtype,
    length,
    values,
    length === 0 ? null : allocShared(Uint8Array, Math.ceil(length / 8)),
    dtype === 'utf8' ? (dictionary ?? []) : null,
    type,
  );
}

export function finalizeGroupBy(
  layout: GroupByLayout,
  columns: ReadonlyMap<string, Column>,
  keys: readonly string[],
  merged: GroupPartial,
  exactInt: readonly (readonly (bigint | undefined)[])[],
  rowGroups: Int32Array | null,
  length: number,
  evaluateAtRows: RowEvaluator,
): ColumnBatch {
  const global = layout.mode.kind === 'global';
  const order = global ? Int32Array.of(0) : groupsByFirstRow(merged.firstRow, merged.groups, length);
  const n = order.length;
  const firstRows = new Int32Array(n);
  for (let r = 0; r < n; r++) firstRows[r] = merged.firstRow[order[r]!]!;
  const lastRows = new Int32Array(layout.accs.some((a) => a.agg.op === 'last') ? n : 0);
  for (let r = 0; r < lastRows.length; r++) lastRows[r] = merged.lastRow[order[r]!]!;
  const empty = global && merged.firstRow[0]! < 0;

  const keyColumns =
    keys.length === 0
      ? []
      : evaluateAtRows(
          columns,
          keys.map((k) => ({
            name: k,
            expr: { kind: 'col', name: k, type: { dtype: columns.get(k)!.dtype, ...paramsOf(columns.get(k)!), nullable: columns.get(k)!.validity !== null } },
          })),
          firstRows,
        );
  const names: string[] = [...keys];
  const out: Column[] = [...keyColumns];

  layout.accs.forEach((acc, j) => {
    names.push(acc.agg.name);
    out.push(aggColumn(acc, j, merged, exactInt[j]!, order, n, empty, columns, firstRows, lastRows, rowGroups, length, evaluateAtRows));
  });
  return { length: n, names, columns: out };
}

/**
 * The ids of the groups among [0, groups) that some row reached (firstRow ≥ 0), ordered by that first row.
 * Hash group-bys come already in that order (mergeGroupPartials). Otherwise first rows are distinct rows
 * below `length`: many groups are placed by one pass over a row-indexed table, fewer by a radix sort.
 */
export function groupsByFirstRow(firstRow: Int32Array, groups: number, length: number): Int32Array {
  let ordered = true;
  for (let g = 0, before = -1; g < groups && ordered; g++) {
    ordered = firstRow[g]! > before;
    before = firstRow[g]!;
  }
  if (ordered) {
    const order = new Int32Array(groups);
    for (let g = 0; g < groups; g++) order[g] = g;
    return order;
  }
  if (groups * 8 < length) return radixOrder(nonNegativeEntries(firstRow, groups), length);
  const atRow = new Int32Array(length).fill(-1);
  let count = 0;
  for (let g = 0; g < groups; g++) {
    const row = firstRow[g]!;
    if (row < 0) continue;
    atRow[row] = g;
    count++;
  }
  const order = new Int32Array(count);
  for (let i = 0, k = 0; k < count; i++) if (atRow[i]! >= 0) order[k++] = atRow[i]!;
  return order;
}

const RADIX_BITS = 12;
const RADIX = 1 << RADIX_BITS;

/** `entries.at` ordered by `entries.values` (non-negative, below `limit`): least-significant digit first, RADIX_BITS a pass. */
function radixOrder(entries: { at: Int32Array; values: Int32Array }, limit: number): Int32Array {
  let ids = entries.at;
  let keys = entries.values;
  const count = ids.length;
  let nextIds: Int32Array = new Int32Array(count);
  let nextKeys: Int32Array = new Int32Array(count);
  const buckets = new Int32Array(RADIX + 1);
  for (let shift = 0; shift < 31 && limit - 1 >= 2 ** shift; shift += RADIX_BITS) {
    buckets.fill(0);
    for (let k = 0; k < count; k++) buckets[((keys[k]! >>> shift) & (RADIX - 1)) + 1]!++;
    for (let b = 0; b < RADIX; b++) buckets[b + 1]! += buckets[b]!;
    for (let k = 0; k < count; k++) {
      const at = buckets[(keys[k]! >>> shift) & (RADIX - 1)]!++;
      nextIds[at] = ids[k]!;
      nextKeys[at] = keys[k]!;
    }
    [ids, nextIds] = [nextIds, ids];
    [keys, nextKeys] = [nextKeys, keys];
  }
  return ids;
}

/** The positions below `length` where `values` is non-negative, and the values there, in order. */
function nonNegativeEntries(values: Int32Array, length: number): { at: Int32Array; values: Int32Array } {
  let count = 0;
  for (let i = 0; i < length; i++) if (values[i]! >= 0) count++;
  const at = new Int32Array(count);
  const kept = new Int32Array(count);
  for (let i = 0, k = 0; i < length; i++) {
    if (values[i]! < 0) continue;
    at[k] = i;
    kept[k++] = values[i]!;
  }
  return { at, values: kept };
}

/** Writes a safe integer into a BigInt64Array's slot r without making a BigInt (two's-complement words). */
function setSafeInt64(words: Int32Array, r: number, value: number): void {
  words[2 * r] = (value % 4294967296) | 0;
  words[2 * r + 1] = Math.floor(value / 4294967296);
}

function aggColumn(
  acc: AccSpec,
  j: number,
  merged: GroupPartial,
  exact: readonly (bigint | undefined)[],
  order: Int32Array,
  n: number,
  empty: boolean,
  columns: ReadonlyMap<string, Column>,
  firstRows: Int32Array,
  lastRows: Int32Array,
  rowGroups: Int32Array | null,
  length: number,
  evaluateAtRows: RowEvaluator,
): Column {
  const { agg } = acc;
  const dtype = agg.type.dtype;
  const states = merged.states[j]!;
  const f = (k: number): Float64Array => states[k] as Float64Array;
  const valid = new Uint8Array(n);
  switch (agg.op) {
    case 'countAll':
    case 'count': {
      const values = allocShared(Int32Array, n);
      const source = agg.op === 'countAll' ? merged.rows : f(0);
      for (let r = 0; r < n; r++) values[r] = source[order[r]!]!;
      return makeColumn('int32', n, values, null);
    }
    case 'sum':
    case 'mean': {
      const counts = f(1);
      if (acc.kind === 'sumFloat') {
        const values = allocShared(Float64Array, n);
        const sums = f(0);
        const mean = agg.op === 'mean';
        for (let r = 0; r < n; r++) {
          const g = order[r]!;
          const c = counts[g]!;
          valid[r] = c > 0 ? 1 : 0;
          values[r] = c > 0 ? (mean ? sums[g]! / c : sums[g]!) : 0;
        }
        return makeColumn('float64', n, values, packBits(valid, n));
      }
      if (agg.op === 'mean' && agg.arg?.type.dtype === 'decimal') {
        // The exact quotient of the unscaled sum by count × 10^scale, rounded once to float64.
        const values = allocShared(Float64Array, n);
        const unit = POW10[agg.arg.type.scale ?? 0]!;
        order.forEach((g, r) => {
          const c = counts[g]!;
          valid[r] = c > 0 ? 1 : 0;
          values[r] = c > 0 ? ratioToNumber((states[0] as bigint[])[g]!, BigInt(c) * unit) : 0;
        });
        return makeColumn('float64', n, values, packBits(valid, n));
      }
      if (dtype === 'decimal') {
        const values = allocShared(BigInt64Array, 2 * n);
        const bound = POW10[agg.type.precision ?? MAX_DECIMAL_PRECISION]!;
        order.forEach((g, r) => {
          valid[r] = counts[g]! > 0 ? 1 : 0;
          const total = (states[0] as bigint[])[g] ?? 0n;
          if (total >= bound || total <= -bound)
            throw new ArithmeticOverflowError(`sum '${agg.name}' overflowed decimal(${agg.type.precision ?? MAX_DECIMAL_PRECISION}, ${agg.type.scale ?? 0})`);
          writeDecimal(values, r, total);
        });
        return makeColumn('decimal', n, values, packBits(valid, n), null, agg.type);
      }
      if (agg.op === 'mean') {
        const values = allocShared(Float64Array, n);
        order.forEach((g, r) => {
          const c = counts[g]!;
          valid[r] = c > 0 ? 1 : 0;
          const total = acc.kind === 'sumBig' ? (states[0] as bigint[])[g]! : (exact[g] ?? BigInt(f(0)[g]!));
          // Quotient and remainder apart, so a mean that is a whole number comes out exactly.
          values[r] = c > 0 ? Number(total / BigInt(c)) + Number(total % BigInt(c)) / c : 0;
        });
        return makeColumn('float64', n, values, packBits(valid, n));
      }
      const values = allocShared(BigInt64Array, n);
      if (acc.kind === 'sumInt' && exact.length === 0) {
        // Every sum is a safe integer: no BigInt per group.
        const sums = f(0);
        const words = new Int32Array(values.buffer, values.byteOffset, 2 * n);
        for (let r = 0; r < n; r++) {
          const g = order[r]!;
          valid[r] = counts[g]! > 0 ? 1 : 0;
          setSafeInt64(words, r, sums[g]!);
        }
        return makeColumn('int64', n, values, packBits(valid, n));
      }
      order.forEach((g, r) => {
        valid[r] = counts[g]! > 0 ? 1 : 0;
        const total = acc.kind === 'sumBig' ? (states[0] as bigint[])[g]! : (exact[g] ?? BigInt(f(0)[g]!));
        if (BigInt.asIntN(64, total) !== total) throw new ArithmeticOverflowError(`sum '${agg.name}' overflowed int64`);
        values[r] = total;
      });
      return makeColumn('int64', n, values, packBits(valid, n));
    }
    case 'min':
    case 'max': {
      const counts = f(1);
      order.forEach((g, r) => (valid[r] = counts[g]! > 0 ? 1 : 0));
      const source = states[0]!;
      if (dtype === 'utf8') {
        const values = allocShared(Int32Array, n);
        order.forEach((g, r) => (values[r] = valid[r] ? (source as Float64Array)[g]! : 0));
        return makeColumn('utf8', n, values, packBits(valid, n), acc.rankDictionary ?? []);
      }
      const values = outputArray(dtype, n);
      order.forEach((g, r) => {
        const v = source[g]!;
        if (dtype === 'decimal') writeDecimal(values as BigInt64Array, r, valid[r] ? (v as bigint) : 0n);
        else if (storageOf(dtype) === 'int64') (values as BigInt64Array)[r] = valid[r] ? (v as bigint) : 0n;
        else (values as Float64Array)[r] = valid[r] ? (v as number) : 0;
      });
      return makeColumn(agg.type, n, values, packBits(valid, n));
    }
    case 'var':
    case 'std': {
      const values = allocShared(Float64Array, n);
      if (acc.kind === 'momentsBig') {
        const [sums, squares] = states as [bigint[], bigint[]];
        order.forEach((g, r) => {
          const c = f(2)[g]!;
          valid[r] = c >= 2 ? 1 : 0;
          if (c >= 2) {
            const k = BigInt(c);
            const variance = ratioToNumber(k * squares[g]! - sums[g]! * sums[g]!, k * (k - 1n));
            values[r] = agg.op === 'std' ? Math.sqrt(variance) : variance;
          }
        });
        return makeColumn('float64', n, values, packBits(valid, n));
      }
      order.forEach((g, r) => {
        const c = f(0)[g]!;
        valid[r] = c >= 2 ? 1 : 0;
        if (c >= 2) {
          const variance = Math.max(0, f(2)[g]! / (c - 1));
          values[r] = agg.op === 'std' ? Math.sqrt(variance) : variance;
        }
      });
      return makeColumn('float64', n, values, packBits(valid, n));
    }
    case 'corr': {
      const values = allocShared(Float64Array, n);
      order.forEach((g, r) => {
        const value = acc.kind === 'comomentsBig' ? exactCorrelation(states, g) : correlation(states as readonly Float64Array[], g);
        valid[r] = value === null ? 0 : 1;
        values[r] = value ?? 0;
      });
      return makeColumn('float64', n, values, packBits(valid, n));
    }
    case 'first':
    case 'last': {
      if (empty) return nullColumn(agg.type, n, null);
      return evaluateAtRows(columns, [{ name: agg.name, expr: agg.arg! }], agg.op === 'first' ? firstRows : lastRows)[0]!;
    }
    case 'median':
    case 'nUnique': {
      const { arg, groups } = argumentAtGroupedRows(columns, agg, rowGroups!, length, evaluateAtRows);
      const groupOf = new Int32Array(merged.groups).fill(-1);
      order.forEach((g, r) => (groupOf[g] = r));
      return agg.op === 'median' ? medianColumn(arg, groups, groupOf, n) : nUniqueColumn(arg, groups, groupOf, n);
    }
  }
}

/**
 * Pearson's r from Welford co-moments: null below two pairs or when a side never varied, NaN after a NaN or
 * ±Infinity, and NaN when the squared deviations overflowed or underflowed f64 (its M2 is then not finite,
 * or 0 although the side varied), as no answer could be trusted there. Rounding cannot push |r| past 1.
 */
function correlation(states: readonly Float64Array[], g: number): number | null {
  const [counts, , , m2X, m2Y, cXY, flags] = states as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  if (counts[g]! < 2) return null;
  const f = flags[g]!;
  if (f & CO_NON_FINITE) return Number.NaN;
  if ((f & (CO_VARIES_X | CO_VARIES_Y)) !== (CO_VARIES_X | CO_VARIES_Y)) return null;
  const sx = m2X[g]!;
  const sy = m2Y[g]!;
  const sxy = cXY[g]!;
  if (!(sx > 0 && sy > 0 && Number.isFinite(sx) && Number.isFinite(sy) && Number.isFinite(sxy))) return Number.NaN;
  // One square root rounds less than two, where the product stays a normal number.
  const product = sx * sy;
  const scale = product >= 2 ** -1022 && product < Number.POSITIVE_INFINITY ? Math.sqrt(product) : Math.sqrt(sx) * Math.sqrt(sy);
  return Math.max(-1, Math.min(1, sxy / scale));
}

/** Pearson's r from exact integer sums: r² = (nΣxy − ΣxΣy)² / ((nΣx² − (Σx)²)(nΣy² − (Σy)²)) rounded once. */
function exactCorrelation(states: readonly (Float64Array | bigint[])[], g: number): number | null {
  const [sx, sy, sxx, syy, sxy] = states as [bigint[], bigint[], bigint[], bigint[], bigint[]];
  const count = (states[5] as Float64Array)[g]!;
  if (count < 2) return null;
  const n = BigInt(count);
  const cxx = n * sxx[g]! - sx[g]! * sx[g]!;
  const cyy = n * syy[g]! - sy[g]! * sy[g]!;
  if (cxx === 0n || cyy === 0n) return null;
  const cxy = n * sxy[g]! - sx[g]! * sy[g]!;
  const r = Math.sqrt(ratioToNumber(cxy * cxy, cxx * cyy));
  return cxy < 0n ? -r : r;
}

/** p / q for exact integers p ≥ 0 and q > 0, rounded to a double once (to within an ulp). */
function ratioToNumber(p: bigint, q: bigint): number {
  if (p === 0n) return 0;
  // A quotient of about 64 significant bits, then an exact power-of-two scale.
  const shift = q.toString(2).length - p.toString(2).length + 64;
  const quotient = shift >= 0 ? (p << BigInt(shift)) / q : p / (q << BigInt(-shift));
  return Number(quotient) * 2 ** -shift;
}

/**
 * The aggregation's argument at the rows that reached a group, with those rows' group ids: the column itself
 * when it is one, else evaluated only there, so a row a fused filter dropped cannot raise an overflow.
 */
function argumentAtGroupedRows(
  columns: ReadonlyMap<string, Column>,
  agg: BoundAgg,
  rowGroups: Int32Array,
  length: number,
  evaluateAtRows: RowEvaluator,
): { arg: Column; groups: Int32Array } {
  const arg = agg.arg!;
  if (arg.kind === 'col') return { arg: columns.get(arg.name)!, groups: rowGroups };
  const { at: rows, values: groups } = nonNegativeEntries(rowGroups, length);
  return { arg: evaluateAtRows(columns, [{ name: agg.name, expr: arg }], rows)[0]!, groups };
}

/** Row i is valid under a validity bitmap (null: every row is). Takes the bitmap, not the column, so that row loops read it once. */
function isValid(validity: Uint8Array | null, i: number): boolean {
  return validity === null || ((validity[i >> 3]! >> (i & 7)) & 1) === 1;
}

function numericAt(column: Column): (i: number) => number {
  const values = column.values;
  if (column.dtype === 'bool') return (i) => ((values as Uint8Array)[i >> 3]! >> (i & 7)) & 1;
  if (values instanceof BigInt64Array) return (i) => Number(values[i]!);
  return (i) => (values as Float64Array)[i]!;
}

function medianColumn(arg: Column, rowGroups: Int32Array, groupOf: Int32Array, n: number): Column {
  const counts = new Int32Array(n + 1);
  // Values gathered group after group: a counting pass, then a placing pass. Plain numeric values are read
  // inline; only bool and int64 values go through numericAt.
  const validity = arg.validity;
  const source = arg.values instanceof Float64Array || arg.values instanceof Float32Array || arg.values instanceof Int32Array ? arg.values : null;
  const read = numericAt(arg);
  for (let i = 0; i < rowGroups.length; i++) {
    const g = rowGroups[i]!;
    if (g >= 0 && isValid(validity, i)) counts[groupOf[g]! + 1]!++;
  }
  for (let r = 0; r < n; r++) counts[r + 1]! += counts[r]!;
  const cursor = counts.slice(0, n);
  const sorted = new Float64Array(counts[n]!);
  for (let i = 0; i < rowGroups.length; i++) {
    const g = rowGroups[i]!;
    if (g >= 0 && isValid(validity, i)) sorted[cursor[groupOf[g]!]!++] = source !== null ? source[i]! : read(i);
  }
  const values = allocShared(Float64Array, n);
  const valid = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const from = counts[r]!;
    const to = counts[r + 1]!;
    if (to === from) continue;
    values[r] = groupMedian(sorted, from, to);
    valid[r] = 1;
  }
  return makeColumn('float64', n, values, packBits(valid, n));
}

/**
 * The median of a[from, to) in the order typed-array sort uses (numeric, -0 before 0, NaN last), found by
 * selection rather than a full sort: NaNs are moved to the end, the middle order statistic is selected in
 * place, and the one below it (even counts) is the largest value left of it. Reorders a[from, to).
 */
export function groupMedian(a: Float64Array, from: number, to: number): number {
  let end = to;
  for (let i = from; i < end;) {
    const v = a[i]!;
    if (v !== v) {
      end--;
      a[i] = a[end]!;
      a[end] = v;
    } else i++;
  }
  const count = to - from;
  const mid = from + (count >> 1);
  if (mid >= end) return NaN;
  selectInPlace(a, from, end, mid);
  const upper = a[mid]!;
  if (count % 2 === 1) return signedZero(a, from, end, mid, upper);
  let lower = -Infinity;
  for (let i = from; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  return (signedZero(a, from, end, mid - 1, lower) + signedZero(a, from, end, mid, upper)) / 2;
}

/** Puts a[k] where a full sort of a[lo, hi) would (no NaN inside), smaller values before, larger after. */
function selectInPlace(a: Float64Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi - 1;
  while (right > left) {
    // Median of three as the pivot keeps sorted and reversed runs linear.
    const m = (left + right) >>> 1;
    const x = a[left]!,
      y = a[m]!,
      z = a[right]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * `value` at sorted position k, with the sign a typed sort gives a zero there: -0s sort before 0s, so a
 * zero at a position within the first `negative zeros` of the zero run is -0.
 */
function signedZero(a: Float64Array, from: number, end: number, k: number, value: number): number {
  if (value !== 0) return value;
  let below = 0;
  let negativeZeros = 0;
  for (let i = from; i < end; i++) {
    const v = a[i]!;
    if (v < 0) below++;
    else if (v === 0 && 1 / v < 0) negativeZeros++;
  }
  return k - from - below < negativeZeros ? -0 : 0;
}

function nUniqueColumn(arg: Column, rowGroups: Int32Array, groupOf: Int32Array, n: number): Column {
  const storage = storageOf(arg.dtype);
  const valueWords = storage === 'decimal' ? 4 : storage === 'int64' || storage === 'float64' ? 2 : 1;
  const table = new KeyTable(1 + valueWords, 1024);
  const words = new Uint32Array(1 + valueWords);
  const scratch = new ArrayBuffer(8);
  const f64 = new Float64Array(scratch);
  const f32 = new Float32Array(scratch);
  const u32 = new Uint32Array(scratch);
  const i64 = new BigInt64Array(scratch);
  const counts = allocShared(Int32Array, n);
  const values = arg.values;
  const validity = arg.validity;
  for (let i = 0; i < rowGroups.length; i++) {
    const g = rowGroups[i]!;
    if (g < 0 || !isValid(validity, i)) continue;
    const r = groupOf[g]!;
    words[0] = r;
    switch (storage) {
      case 'bool':
        words[1] = ((values as Uint8Array)[i >> 3]! >> (i & 7)) & 1;
        break;
      case 'int32':
      case 'utf8':
        words[1] = (values as Int32Array)[i]!;
        break;
      case 'float32': {
        const v = (values as Float32Array)[i]!;
        f32[0] = v === 0 ? 0 : v;
        words[1] = v !== v ? 0x7fc00000 : u32[0]!;
        break;
      }
      case 'float64': {
        const v = (values as Float64Array)[i]!;
        f64[0] = v === 0 ? 0 : v !== v ? NaN : v;
        words[1] = u32[0]!;
        words[2] = v !== v ? 0x7ff80000 : u32[1]!;
        if (v !== v) words[1] = 0;
        break;
      }
      case 'int64':
        i64[0] = (values as BigInt64Array)[i]!;
        words[1] = u32[0]!;
        words[2] = u32[1]!;
        break;
      case 'decimal':
        // Equal decimals of one column have equal words.
        words.set(new Uint32Array(values.buffer, values.byteOffset + 16 * i, 4), 1);
        break;
    }
    const before = table.size;
    table.findOrInsert(words, 0);
    if (table.size > before) counts[r]!++;
  }
  return makeColumn('int32', n, counts, null);
}
