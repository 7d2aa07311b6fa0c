// The accumulator model both engines share: which partial state each aggregation keeps (its kind and
// arrays), derived from the plan without generating any kernel, so that one finalisation reads what
// either engine produced.

import type { BoundAgg } from '../../expr/types.js';
import type { Column, DType } from '../../model/types.js';
import { storageOf } from '../../model/dtype.js';
import { stringRanks, utf8Dictionary } from './dictionaries.js';
import type { GroupMode } from './group-mode.js';

/** Per-aggregation partial state, by kind of accumulator. */
export type AccKind =
  'count' | 'sumFloat' | 'sumInt' | 'sumBig' | 'min' | 'max' | 'minBig' | 'maxBig' | 'moments' | 'momentsBig' | 'comoments' | 'comomentsBig' | 'none';

export interface AccSpec {
  readonly agg: BoundAgg;
  readonly kind: AccKind;
  /** utf8 min/max track ranks; this is the sorted dictionary those ranks index. */
  readonly rankDictionary?: readonly string[];
}

/** Partial state of one morsel (or the merged state): arrays indexed by group id. */
export interface GroupPartial {
  readonly groups: number;
  readonly firstRow: Int32Array;
  readonly lastRow: Int32Array;
  readonly rows: Float64Array;
  /** Per aggregation, its state arrays (see stateArity). */
  readonly states: readonly (readonly (Float64Array | bigint[])[])[];
  /** Hash mode: key words of each group, `width` words per group. */
  readonly keys: Uint32Array | null;
}

/** What shapes a group-by's merged state, whichever engine filled it: how rows find groups, and each aggregation's accumulator. */
export interface GroupByLayout {
  readonly mode: GroupMode;
  readonly accs: readonly AccSpec[];
}

/**
 * Each aggregation's accumulator, derived from the plan alone: its kind and, for a utf8 min or max, the
 * sorted dictionary its ranks index (the one the kernels rank the argument's dictionary by).
 */
export function groupByAccumulators(columns: ReadonlyMap<string, Column>, aggs: readonly BoundAgg[]): AccSpec[] {
  return aggs.map((agg) => {
    const kind = accKind(agg);
    if (agg.arg?.type.dtype !== 'utf8' || (kind !== 'min' && kind !== 'max')) return { agg, kind };
    return { agg, kind, rankDictionary: stringRanks(utf8Dictionary(columns, agg.arg)).sorted };
  });
}

function accKind(agg: BoundAgg): AccKind {
  const d = agg.arg?.type.dtype;
  switch (agg.op) {
    case 'count':
      return 'count';
    case 'sum':
      // Decimals sum their unscaled BigInts exactly, like int64.
      return d === 'int64' || d === 'decimal' ? 'sumBig' : d === 'float32' || d === 'float64' ? 'sumFloat' : 'sumInt';
    case 'mean':
      // Integer means divide an exact sum, so they stay exact near 2^53 and never depend on morsels.
      return d === 'int64' || d === 'decimal' ? 'sumBig' : d === 'float32' || d === 'float64' ? 'sumFloat' : 'sumInt';
    case 'min':
    case 'max':
      return d === 'decimal' || (d !== undefined && storageOf(d) === 'int64') ? (agg.op === 'min' ? 'minBig' : 'maxBig') : agg.op;
    case 'var':
    case 'std':
      // int64 values past 2^53 lose their spread as doubles: their moments are exact BigInt sums instead.
      return d === 'int64' ? 'momentsBig' : 'moments';
    case 'corr': {
      // An int64 side paired with an integer keeps exact BigInt sums, as int64 var does; anything else is
      // Welford in f64 (an int64 paired with a float is converted).
      const d2 = agg.arg2?.type.dtype;
      const integer = (t: DType | undefined): boolean => t === 'int32' || t === 'int64';
      return (d === 'int64' || d2 === 'int64') && integer(d) && integer(d2) ? 'comomentsBig' : 'comoments';
    }
    default:
      return 'none';
  }
}

/**
 * Number of state arrays per accumulator kind: [value..., count]; moments are [count, mean, M2]. The
 * co-moments of corr are [count, mean x, mean y, M2 x, M2 y, C xy, flags] (CO_VARIES_X | CO_VARIES_Y |
 * CO_NON_FINITE), or exactly [Σx, Σy, Σx², Σy², Σxy, count] over integers.
 */
export function stateArity(kind: AccKind): number {
  switch (kind) {
    case 'none':
      return 0;
    case 'count':
      return 1;
    case 'moments':
    case 'momentsBig':
      return 3;
    case 'comoments':
      return 7;
    case 'comomentsBig':
      return 6;
    default:
      return 2;
  }
}

/** Co-moment flags: x took two distinct values, y did, a value was NaN or ±Infinity. */
export const CO_VARIES_X = 1;
export const CO_VARIES_Y = 2;
export const CO_NON_FINITE = 4;

/** momentsBig keeps [Σv, Σv², count] and comomentsBig five sums and a count: those sums are BigInt arrays. */
export const isBig = (kind: AccKind, k: number): boolean =>
  (k === 0 && (kind === 'sumBig' || kind === 'minBig' || kind === 'maxBig')) || (kind === 'momentsBig' && k < 2) || (kind === 'comomentsBig' && k < 5);
