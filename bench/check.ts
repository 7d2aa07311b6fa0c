// The answer checker of the group-by benchmark: every engine's answer is reduced to order-free checksums
// (row count; per column the missing count, sum, sum of squares and a key-weighted sum) and compared with
// the reference engine's (DuckDB's) under a tolerance chosen per column by how the value is computed.

import * as arrow from 'apache-arrow';

/**
 * How a column's values are computed, which bounds how far two correct engines can drift apart:
 * - `exact`: integers (keys, integer sums, counts, max − min). Every engine computes them exactly; the
 *   checksums are summed with Neumaier compensation, so only the rounding of the final checksum differs.
 * - `float`: sums, means, medians and standard deviations of v3 (doubles in [0, 100]). Different summation
 *   orders give each group's value a relative error of at most m·2^-53 (m the group's rows; v3 ≥ 0 so
 *   nothing cancels), about 1.1e-11 for m = 1e5 at N = 1e7; a variance cancels (mean² + var)/var ≈ 4×
 *   more. 1e-8 covers N up to 1e9 with room, and still catches a population-vs-sample deviation
 *   (≥ 5e-7 relative for groups of 1e6 rows) or any wrong formula.
 * - `cancelling`: r² from corr(v1, v2) of independent columns: the covariance is ~1/√m of E[xy], so
 *   rounding is amplified by ~9·√m (≈ 300 at m = 1000 rows per group). Worst case with streaming
 *   (Welford) updates ~1e-10 relative; 1e-6 keeps a wide margin and still rejects a wrong estimator.
 */
export type Tolerance = 'exact' | 'float' | 'cancelling';

export const RELATIVE_TOLERANCE: Readonly<Record<Tolerance, number>> = { exact: 1e-9, float: 1e-8, cancelling: 1e-6 };

/** One engine's answer: its row count and every column as float64 (null and NaN both read as NaN). */
export interface Answer {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, Float64Array>;
}

export interface ColumnChecksum {
  /** Null or NaN cells; engines differ in which of the two they use, so they count alike. */
  readonly missing: number;
  readonly sum: number;
  readonly sumSquares: number;
  /** Σ w(keys of the row)·value: catches values that landed in the wrong group. */
  readonly keyed: number;
}

export interface AnswerChecksum {
  readonly rows: number;
  readonly columns: Readonly<Record<string, ColumnChecksum>>;
}

export interface ExpectedShape {
  readonly keys: readonly string[];
  readonly values: Readonly<Record<string, Tolerance>>;
}

export interface Disagreement {
  readonly column: string;
  readonly measure: 'rows' | 'columns' | keyof ColumnChecksum;
  readonly expected: number | string;
  readonly actual: number | string;
  readonly relative: number;
  readonly tolerance: number;
}

/** A string id as a number: its trailing digits (`id0000004711` → 4711), else a 32-bit FNV-1a hash. */
export function stringAsNumber(text: string): number {
  const digits = /(\d+)$/.exec(text);
  if (digits && digits[1]!.length <= 15) return Number(digits[1]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function cellAsNumber(value: unknown, strings: Map<string, number>): number {
  switch (typeof value) {
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
    case 'boolean':
      return value ? 1 : 0;
    case 'string': {
      let n = strings.get(value);
      if (n === undefined) strings.set(value, (n = stringAsNumber(value)));
      return n;
    }
    default:
      return NaN;
  }
}

/** Any array of numbers, bigints, strings or nulls as a new float64 array (missing → NaN). */
export function numbersFrom(values: ArrayLike<unknown>): Float64Array {
  const out = new Float64Array(values.length);
  if (ArrayBuffer.isView(values) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array)) {
    out.set(values as unknown as ArrayLike<number>);
    return out;
  }
  const strings = new Map<string, number>();
  for (let i = 0; i < values.length; i++) out[i] = cellAsNumber(values[i], strings);
  return out;
}

/** An Arrow column as float64, reading dictionary columns through their dictionary once. */
export function numbersFromArrow(vector: arrow.Vector): Float64Array {
  const out = new Float64Array(vector.length);
  let base = 0;
  for (const data of vector.data) {
    if (arrow.DataType.isDictionary(data.type) && data.dictionary) {
      const decoded = numbersFrom(data.dictionary.toArray() as ArrayLike<unknown>);
      const indices = data.values as ArrayLike<number>;
      for (let i = 0; i < data.length; i++) out[base + i] = decoded[indices[i]!] ?? NaN;
    } else if (arrow.DataType.isInt(data.type) || arrow.DataType.isFloat(data.type)) {
      const values = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < data.length; i++) out[base + i] = Number(values[i]!);
    } else {
      const strings = new Map<string, number>();
      for (let i = 0; i < data.length; i++) out[base + i] = cellAsNumber(vector.get(base + i), strings);
    }
    if (data.nullCount > 0) for (let i = 0; i < data.length; i++) if (!data.getValid(i)) out[base + i] = NaN;
    base += data.length;
  }
  return out;
}

/** Neumaier's compensated sum: the checker's own rounding does not depend on row order. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;
  add(x: number): void {
    const t = this.sum + x;
    this.compensation += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum;
    this.sum = t;
  }
  get value(): number {
    return this.sum + this.compensation;
  }
}

/** Per row a weight in [1, 2) hashed from its key values with 32-bit integer steps, the same on every engine. */
function keyWeights(answer: Answer, keys: readonly string[]): Float64Array {
  const hashes = new Uint32Array(answer.rows).fill(0x811c9dc5);
  for (const key of keys) {
    const values = answer.columns.get(key);
    if (!values) continue;
    for (let i = 0; i < answer.rows; i++) {
      const v = values[i]!;
      const part = Number.isFinite(v) ? Math.abs(Math.trunc(v)) % 2 ** 32 : 0xffffffff;
      let h = Math.imul(hashes[i]! ^ part, 0x01000193);
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
      hashes[i] = h ^ (h >>> 12);
    }
  }
  const weights = new Float64Array(answer.rows);
  for (let i = 0; i < answer.rows; i++) weights[i] = 1 + hashes[i]! / 2 ** 32;
  return weights;
}

export function checksumAnswer(answer: Answer, shape: ExpectedShape): AnswerChecksum {
  const weights = keyWeights(answer, shape.keys);
  const columns: Record<string, ColumnChecksum> = {};
  for (const [name, values] of answer.columns) {
    const sum = new CompensatedSum();
    const squares = new CompensatedSum();
    const keyed = new CompensatedSum();
    let missing = 0;
    for (let i = 0; i < answer.rows; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) {
        missing++;
        continue;
      }
      sum.add(v);
      squares.add(v * v);
      keyed.add(weights[i]! * v);
    }
    columns[name] = { missing, sum: sum.value, sumSquares: squares.value, keyed: keyed.value };
  }
  return { rows: answer.rows, columns };
}

function relativeDifference(expected: number, actual: number): number {
  if (expected === actual) return 0;
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return Infinity;
  return Math.abs(expected - actual) / Math.max(Math.abs(expected), Math.abs(actual));
}

/** Every way `actual` differs from `expected` beyond the column's tolerance; empty when they agree. */
export function compareChecksums(expected: AnswerChecksum, actual: AnswerChecksum, shape: ExpectedShape): Disagreement[] {
  const out: Disagreement[] = [];
  if (expected.rows !== actual.rows) out.push({ column: '*', measure: 'rows', expected: expected.rows, actual: actual.rows, relative: Infinity, tolerance: 0 });
  const wanted = [...shape.keys, ...Object.keys(shape.values)];
  const names = (c: AnswerChecksum): string => Object.keys(c.columns).sort().join(',');
  if (names(actual) !== [...wanted].sort().join(','))
    out.push({ column: '*', measure: 'columns', expected: wanted.join(','), actual: Object.keys(actual.columns).join(','), relative: Infinity, tolerance: 0 });
  for (const name of wanted) {
    const e = expected.columns[name];
    const a = actual.columns[name];
    if (!e || !a) continue;
    const tolerance = RELATIVE_TOLERANCE[shape.values[name] ?? 'exact'];
    if (e.missing !== a.missing) out.push({ column: name, measure: 'missing', expected: e.missing, actual: a.missing, relative: Infinity, tolerance: 0 });
    for (const measure of ['sum', 'sumSquares', 'keyed'] as const) {
      const relative = relativeDifference(e[measure], a[measure]);
      if (!(relative <= tolerance)) out.push({ column: name, measure, expected: e[measure], actual: a[measure], relative, tolerance });
    }
  }
  return out;
}

export function describeDisagreement(d: Disagreement): string {
  const show = (v: number | string): string => (typeof v === 'number' ? v.toPrecision(17) : v);
  const rel = Number.isFinite(d.relative) ? `, relative ${d.relative.toExponential(2)} > ${d.tolerance.toExponential(0)}` : '';
  return `${d.column}.${d.measure}: expected ${show(d.expected)}, got ${show(d.actual)}${rel}`;
}
