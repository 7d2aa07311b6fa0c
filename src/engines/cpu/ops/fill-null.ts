// fill-null on the CPU: whole-column null fills, one pass each on the main thread. Forward and backward
// fills compute the row each null takes its value from and gather (so every dtype moves the same way);
// min, max and mean fill with one value computed over the column's non-null values.

import { allocShared, isNull, makeColumn, valuesCtor } from '../../../model/column.js';
import type { TypedCtor } from '../../../model/shared-memory.js';
import type { Column } from '../../../model/types.js';
import type { NullFill } from '../../../plan/types.js';
import { gatherColumn } from '../../shared/gather.js';
import type { CpuOperator } from './types.js';

export const fillNull: CpuOperator<'fill-null'> = {
  *run(op, [input]) {
    const batch = input!;
    const filled = op.fills.map((fill) => fillColumn(batch.columns[batch.names.indexOf(fill.column)]!, fill));
    return { length: batch.length, names: [...batch.names, ...op.fills.map((f) => f.as)], columns: [...batch.columns, ...filled] };
  },
};

function fillColumn(column: Column, fill: NullFill): Column {
  switch (fill.strategy) {
    case 'forward':
    case 'backward':
      return column.nullCount === 0 ? column : gatherColumn(column, sourceRows(column, fill.strategy === 'forward', fill.limit ?? Infinity));
    case 'min':
    case 'max':
      return fillExtreme(column, fill.strategy === 'min');
    case 'mean':
      return fillMean(column);
  }
}

/** Per row, the row whose value it takes: itself when non-null, else the nearest non-null row before (forward) or after it within `limit` nulls, else -1 (stays null). */
function sourceRows(column: Column, forward: boolean, limit: number): Int32Array {
  const n = column.length;
  const rows = new Int32Array(n);
  let last = -1;
  let run = 0;
  for (let k = 0; k < n; k++) {
    const i = forward ? k : n - 1 - k;
    if (!isNull(column, i)) {
      last = i;
      run = 0;
      rows[i] = i;
    } else {
      run++;
      rows[i] = last >= 0 && run <= limit ? last : -1;
    }
  }
  return rows;
}

type Numbers = Int32Array | Float32Array | Float64Array | BigInt64Array;

/** Min or max of the non-null values in the order `min` and `max` aggregate (NaN above every number; ties keep the first). */
function fillExtreme(column: Column, min: boolean): Column {
  if (column.nullCount === 0 || column.nullCount === column.length) return column;
  const values = column.values as Numbers;
  let best: number | bigint | undefined;
  for (let i = 0; i < column.length; i++) {
    if (isNull(column, i)) continue;
    const v = values[i]!;
    if (best === undefined) best = v;
    else if (min ? below(v, best) : below(best, v)) best = v;
  }
  return withFill(column, best!);
}

/** `a` orders strictly before `b`: NaN after every number, equal values (0 and -0 too) never. */
function below(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === 'number' && Number.isNaN(a)) return false;
  if (typeof b === 'number' && Number.isNaN(b)) return true;
  return a < b;
}

function withFill(column: Column, value: number | bigint): Column {
  const values = allocShared(valuesCtor(column.dtype) as TypedCtor<Numbers>, column.length);
  values.set(column.values as never);
  for (let i = 0; i < column.length; i++) if (isNull(column, i)) values[i] = value;
  // The copy keeps everything else the column carries: dtype parameters, dictionary.
  return { ...column, values, validity: null, nullCount: 0 };
}

/** The mean of the non-null values (as float64), filling the nulls of the column read as float64; all-null stays null. */
function fillMean(column: Column): Column {
  const n = column.length;
  const out = allocShared(Float64Array, n);
  const values = column.values as Numbers;
  let count = 0;
  if (values instanceof BigInt64Array) {
    // Exact sum first: a float64 running sum of int64 values would round at every step.
    let sum = 0n;
    for (let i = 0; i < n; i++) {
      if (isNull(column, i)) continue;
      sum += values[i]!;
      count++;
      out[i] = Number(values[i]!);
    }
    return meanColumn(column, out, count === 0 ? null : Number(sum) / count);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (isNull(column, i)) continue;
    sum += values[i]!;
    count++;
    out[i] = values[i]!;
  }
  return meanColumn(column, out, count === 0 ? null : sum / count);
}

function meanColumn(column: Column, out: Float64Array, mean: number | null): Column {
  if (mean === null) return makeColumn('float64', column.length, out, column.validity);
  for (let i = 0; i < column.length; i++) if (isNull(column, i)) out[i] = mean;
  return makeColumn('float64', column.length, out, null);
}
