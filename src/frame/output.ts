// Conversions of engine output to what users receive: row objects, plain column arrays, Arrow tables.

import type * as arrow from 'apache-arrow';
import { batchToArrowTable, cellValue, getBit } from '../model/column.js';
import { formatDecimal, readDecimal } from '../model/decimal.js';
import type { Column, ColumnBatch, Field } from '../model/types.js';

/** Column values as a plain JS array: numbers, bigints, booleans, strings (decimals as their exact text), Dates, or null (temporal values as cellValue gives them). */
export function columnToArray(column: Column): unknown[] {
  const n = column.length;
  const out = new Array<unknown>(n);
  const { values, validity, dictionary } = column;
  for (let i = 0; i < n; i++) {
    if (validity !== null && !getBit(validity, i)) {
      out[i] = null;
      continue;
    }
    switch (column.dtype) {
      case 'bool':
        out[i] = getBit(values as Uint8Array, i);
        break;
      case 'utf8':
        out[i] = dictionary![(values as Int32Array)[i]!];
        break;
      case 'timestamp':
      case 'date':
      case 'time':
        out[i] = cellValue(column, i);
        break;
      case 'decimal':
        out[i] = formatDecimal(readDecimal(values as BigInt64Array, i), column.scale ?? 0);
        break;
      default:
        out[i] = values[i];
    }
  }
  return out;
}

export function batchToColumns(batch: ColumnBatch): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  batch.names.forEach((name, k) => (out[name] = columnToArray(batch.columns[k]!)));
  return out;
}

export function batchToRows(batch: ColumnBatch): Record<string, unknown>[] {
  const arrays = batch.columns.map(columnToArray);
  const rows = new Array<Record<string, unknown>>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const row: Record<string, unknown> = {};
    for (let k = 0; k < arrays.length; k++) row[batch.names[k]!] = arrays[k]![i];
    rows[i] = row;
  }
  return rows;
}

export function batchToArrow(batch: ColumnBatch, schema: readonly Field[]): arrow.Table {
  return batchToArrowTable(
    batch,
    schema.map((f) => f.nullable),
  );
}
