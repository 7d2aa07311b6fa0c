// Pairwise merging of variance and correlation moments (Chan et al.): how both engines combine
// partial states, the CPU's morsels and the device's workgroups, into one group's state.

import { CO_VARIES_X, CO_VARIES_Y } from './accumulators.js';

/**
 * Chan et al.'s pairwise combination of a partial (count nb > 0, mean, M2) into the moments state
 * [count, mean, M2] of group g. Both engines merge their partials with it.
 */
export function combineMoments(state: readonly Float64Array[], g: number, nb: number, meanB: number, m2B: number): void {
  const [counts, means, m2s] = state as [Float64Array, Float64Array, Float64Array];
  const na = counts[g]!;
  if (na === 0) {
    counts[g] = nb;
    means[g] = meanB;
    m2s[g] = m2B;
    return;
  }
  const n = na + nb;
  const delta = meanB - means[g]!;
  means[g] = means[g]! + (delta * nb) / n;
  m2s[g] = m2s[g]! + m2B + (delta * delta * na * nb) / n;
  counts[g] = n;
}

/**
 * combineMoments for corr's co-moments: partial l of `from` merged into group g of `state` (layouts in
 * stateArity), x and y exactly as combineMoments merges one variable, the co-moment by the same rule.
 * A side varies when it varied in either partial or the partials' means differ: a side that has held
 * one value has exactly that value as its mean.
 */
export function combineCoMoments(state: readonly Float64Array[], g: number, from: readonly Float64Array[], l: number): void {
  const [counts, meansX, meansY, m2X, m2Y, cXY, flags] = state as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const nb = from[0]![l]!;
  const meanXB = from[1]![l]!;
  const meanYB = from[2]![l]!;
  const na = counts[g]!;
  if (na === 0) {
    for (let k = 0; k < 7; k++) state[k]![g] = from[k]![l]!;
    return;
  }
  flags[g] = flags[g]! | from[6]![l]! | (meanXB !== meansX[g]! ? CO_VARIES_X : 0) | (meanYB !== meansY[g]! ? CO_VARIES_Y : 0);
  const n = na + nb;
  const deltaX = meanXB - meansX[g]!;
  const deltaY = meanYB - meansY[g]!;
  meansX[g] = meansX[g]! + (deltaX * nb) / n;
  meansY[g] = meansY[g]! + (deltaY * nb) / n;
  m2X[g] = m2X[g]! + from[3]![l]! + (deltaX * deltaX * na * nb) / n;
  m2Y[g] = m2Y[g]! + from[4]![l]! + (deltaY * deltaY * na * nb) / n;
  cXY[g] = cXY[g]! + from[5]![l]! + (deltaX * deltaY * na * nb) / n;
  counts[g] = n;
}
