// Shared generators for the CPU kernel tests: random columns of every dtype built from plain JS cells, with
// nulls over junk values, NaNs with odd bit patterns, -0, duplicates and shuffled dictionaries, plus the
// value comparisons the reference implementations use.

import fc from 'fast-check';
import { allocBitmap, allocShared, makeColumn, valuesCtor } from '../../../../src/model/column.js';
import type { Column, ColumnBatch, DType, TypeSpec } from '../../../../src/model/types.js';
import type { SortKey } from '../../../../src/plan/types.js';

/** A cell as the references see it: int64 and date as bigint (epoch ms), others as their JS value. */
export type Cell = number | bigint | boolean | string | null;

export interface TestColumn {
  readonly dtype: DType;
  readonly cells: readonly Cell[];
  readonly column: Column;
}

export const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'timestamp', 'date', 'duration', 'decimal'];

/** Test decimal columns are decimal(38, 2); their cells are the unscaled bigints. */
export const TEST_DECIMAL = { precision: 38, scale: 2 } as const;

/** The units test columns of the 64-bit temporal types carry. */
const UNITS: Partial<Record<DType, TypeSpec>> = {
  timestamp: { dtype: 'timestamp', unit: 'ms' },
  time: { dtype: 'time', unit: 'us' },
  duration: { dtype: 'duration', unit: 'us' },
};

/** Strings whose UTF-16 order differs from code point order ('\u{1F600}' < '\uFFFF'), and look-alikes. */
const STRINGS = ['', 'a', 'b', 'B', 'ab', 'a\u0000', 'é', 'e\u0301', '\u{1F600}', '\uFFFF', 'zz'];

/** Cells of one dtype, drawn mostly from a small domain so that keys repeat. */
export function cellArbitrary(dtype: DType, wide = false): fc.Arbitrary<Cell> {
  switch (dtype) {
    case 'int32':
      return wide ? fc.integer() : fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1), fc.integer());
    case 'int64':
      return wide
        ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        : fc.oneof(
            fc.bigInt({ min: -3n, max: 3n }),
            fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 32n, -(2n ** 32n)),
            fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          );
    case 'decimal':
      // Values past 2^64 and 2^96 in magnitude use every word, and negatives the two's complement.
      return wide
        ? fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n })
        : fc.oneof(
            fc.bigInt({ min: -3n, max: 3n }),
            fc.constantFrom(2n ** 64n, -(2n ** 64n), 10n ** 38n - 1n, -(10n ** 38n) + 1n, 2n ** 96n),
            fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }),
          );
    case 'date':
      return wide ? fc.integer() : fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 19_000), fc.integer());
    case 'duration':
    case 'time':
      return fc.oneof(fc.bigInt({ min: -3n, max: 3n }), fc.bigInt({ min: 0n, max: 86_400_000_000n }), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n));
    case 'timestamp':
      return wide
        ? fc.bigInt({ min: -(8n * 10n ** 15n), max: 8n * 10n ** 15n })
        : fc.oneof(fc.constantFrom(0n, -1n, 86_400_000n, 1_700_000_000_000n), fc.bigInt({ min: -(8n * 10n ** 15n), max: 8n * 10n ** 15n }));
    case 'float64':
      return wide ? fc.double() : fc.oneof(fc.constantFrom(0, -0, NaN, 1.5, -1.5, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE), fc.double());
    case 'float32':
      return (wide ? fc.float() : fc.oneof(fc.constantFrom(0, -0, NaN, 1.5, -1.5, Infinity, -Infinity), fc.float())).map(Math.fround);
    case 'bool':
      return fc.boolean();
    case 'utf8':
      return wide ? fc.string() : fc.oneof(fc.constantFrom(...STRINGS), fc.string({ maxLength: 3 }));
  }
}

export function nullableCells(dtype: DType, length: number, nullable: boolean, wide = false): fc.Arbitrary<Cell[]> {
  const cell = cellArbitrary(dtype, wide);
  return fc.array(nullable ? fc.option(cell, { nil: null, freq: 4 }) : cell, { minLength: length, maxLength: length });
}

/** A column of `dtype` with `length` rows; nullable columns may still come out without nulls. */
export function columnArbitrary(dtype: DType, length: number, wide = false): fc.Arbitrary<TestColumn> {
  return fc.tuple(fc.boolean(), fc.array(cellArbitrary('utf8'), { maxLength: 3 }), fc.integer()).chain(([nullable, extraStrings, seed]) =>
    nullableCells(dtype, length, nullable, wide).map((cells) => ({
      dtype,
      cells,
      column: buildColumn(dtype, cells, dictionaryFor(cells, extraStrings, seed)),
    })),
  );
}

/** The distinct strings of `cells` plus unused extras, in an order scrambled by `seed`. */
export function dictionaryFor(cells: readonly Cell[], extras: readonly Cell[], seed: number): string[] {
  const distinct = [...new Set([...cells, ...extras].filter((c): c is string => typeof c === 'string'))];
  const rotate = distinct.length === 0 ? 0 : Math.abs(seed) % distinct.length;
  const rotated = [...distinct.slice(rotate), ...distinct.slice(0, rotate)];
  return seed % 2 === 0 ? rotated : rotated.reverse();
}

/**
 * Builds a column from cells. Null rows hold junk values (never 0) so that a kernel reading a null slot's
 * value shows up; NaNs alternate between the canonical pattern and negative NaNs with a payload.
 */
export function buildColumn(dtype: DType, cells: readonly Cell[], dictionary: readonly string[] = []): Column {
  const n = cells.length;
  const validity = allocBitmap(n);
  cells.forEach((c, i) => {
    if (c !== null) validity[i >> 3] = validity[i >> 3]! | (1 << (i & 7));
  });
  if (dtype === 'bool') {
    const bits = allocBitmap(n);
    cells.forEach((c, i) => {
      if (c === true || (c === null && i % 2 === 0)) bits[i >> 3] = bits[i >> 3]! | (1 << (i & 7));
    });
    return makeColumn('bool', n, bits, validity);
  }
  if (dtype === 'decimal') {
    const words64 = allocShared(BigInt64Array, 2 * n);
    cells.forEach((c, i) => {
      const value = c === null ? BigInt(i * 7 + 3) << 70n : (c as bigint);
      words64[2 * i] = BigInt.asIntN(64, value);
      words64[2 * i + 1] = value >> 64n;
    });
    return makeColumn('decimal', n, words64, validity, null, TEST_DECIMAL);
  }
  const values = allocShared(valuesCtor(dtype), n);
  const words = new Uint32Array(values.buffer, values.byteOffset, (n * values.BYTES_PER_ELEMENT) >> 2);
  cells.forEach((c, i) => {
    const junk = i * 7 + 3;
    switch (dtype) {
      case 'int32':
      case 'date':
        (values as Int32Array)[i] = c === null ? junk : (c as number);
        break;
      case 'int64':
      case 'timestamp':
      case 'time':
      case 'duration':
        (values as BigInt64Array)[i] = c === null ? BigInt(junk) << 20n : (c as bigint);
        break;
      case 'float32':
        (values as Float32Array)[i] = c === null ? junk + 0.5 : (c as number);
        if (Number.isNaN(c) && i % 2 === 1) words[i] = 0xffc00001;
        break;
      case 'float64':
        (values as Float64Array)[i] = c === null ? junk + 0.5 : (c as number);
        if (Number.isNaN(c) && i % 2 === 1) {
          words[2 * i] = 1;
          words[2 * i + 1] = 0xfff80000;
        }
        break;
      case 'utf8': {
        const code = c === null ? (dictionary.length === 0 ? junk : junk % dictionary.length) : dictionary.indexOf(c as string);
        if (code < 0) throw new Error(`test dictionary lacks '${String(c)}'`);
        (values as Int32Array)[i] = code;
        break;
      }
    }
  });
  return makeColumn(UNITS[dtype] ?? dtype, n, values, validity, dtype === 'utf8' ? dictionary : null);
}

/** Reads every cell back in the same representation as `Cell`. */
export function cellsOf(column: Column): Cell[] {
  return Array.from({ length: column.length }, (_, i): Cell => {
    if (column.validity !== null && ((column.validity[i >> 3]! >> (i & 7)) & 1) === 0) return null;
    switch (column.dtype) {
      case 'bool':
        return (((column.values as Uint8Array)[i >> 3]! >> (i & 7)) & 1) === 1;
      case 'utf8':
        return column.dictionary![(column.values as Int32Array)[i]!]!;
      case 'int64':
      case 'timestamp':
      case 'time':
      case 'duration':
        return (column.values as BigInt64Array)[i]!;
      case 'decimal': {
        const words = column.values as BigInt64Array;
        return (words[2 * i + 1]! << 64n) + BigInt.asUintN(64, words[2 * i]!);
      }
      default:
        return (column.values as Int32Array | Float32Array | Float64Array)[i]!;
    }
  });
}

/** Total order on non-null cells of one dtype: NaN above every number, -0 equal to 0. */
export function compareCells(a: Cell, b: Cell): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return (a as bigint | string) < (b as bigint | string) ? -1 : (a as bigint | string) > (b as bigint | string) ? 1 : 0;
}

/** Key equality as group-by and join see it: by value, NaN equal to NaN, -0 to 0, int32 to int64. */
export function sameKey(a: Cell, b: Cell): boolean {
  if (a === null || b === null) return false;
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a) === BigInt(b);
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Identity of a cell for Map-based references; the same string exactly when `sameKey` (or both null). */
export function cellIdentity(c: Cell): string {
  if (c === null) return 'null';
  if (typeof c === 'number') return Number.isNaN(c) ? 'NaN' : `n${c === 0 ? 0 : c}`;
  if (typeof c === 'bigint') return `n${c}`;
  return `${typeof c}:${String(c)}`;
}

/** Stable sort of `rows` by `keys` over JS cells (nulls first unless nullsLast, NaN above numbers). */
export function referenceOrder(columns: readonly TestColumn[], keys: readonly SortKey[], rows: readonly number[]): number[] {
  const position = new Map(rows.map((row, p) => [row, p]));
  return [...rows].sort((a, b) => {
    for (const key of keys) {
      const cells = columns[Number(key.column.slice(1))]!.cells;
      const x = cells[a] as Cell;
      const y = cells[b] as Cell;
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === key.nullsLast ? 1 : -1;
      }
      const order = compareCells(x, y);
      if (order !== 0) return key.descending ? -order : order;
    }
    return position.get(a)! - position.get(b)!;
  });
}

/** A sort key over one of `columns` test columns named c0, c1, ... */
export const sortKey = (columns: number): fc.Arbitrary<SortKey> =>
  fc.record({ column: fc.nat({ max: columns - 1 }).map((c) => `c${c}`), descending: fc.boolean(), nullsLast: fc.boolean() });

/** A batch of the test columns, named c0, c1, ...; `length` defaults to the first column's. */
export function testBatch(columns: readonly TestColumn[], length = columns[0]?.cells.length ?? 0): ColumnBatch {
  return { length, names: columns.map((_, c) => `c${c}`), columns: columns.map((c) => c.column) };
}
