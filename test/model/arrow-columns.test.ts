// Property tests of the Arrow buffer-copy path (src/model/arrow-columns.ts): an Arrow column of several record
// batches, sliced at any bit offset, with nulls, differing, overlapping, delta and null-containing
// dictionaries, ingests to exactly the column (codes, dictionary, validity, issues) that the cell-by-cell path
// builds from the cells apache-arrow itself reads out of it with `get`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { z } from 'zod';
import { ValidationError } from '../../src/errors.js';
import { copyBits } from '../../src/model/arrow-columns.js';
import { getBit } from '../../src/model/column.js';
import { ingestArrow, ingestColumns } from '../../src/model/ingest.js';
import { fieldsFromShape } from '../../src/model/schema.js';
import type { Column, TrustedMode } from '../../src/model/types.js';
import { validationError } from './ingest-helpers.js';

const MODES: readonly TrustedMode[] = ['strict', 'shape_only', 'off'];

/** A column laid bare: every value slot (nulls included), the validity bits, the dictionary; or the issues. */
function outcome(ingest: () => { columns: readonly Column[] }): unknown {
  try {
    const column = ingest().columns[0]!;
    const valid = Array.from({ length: column.length }, (_, i) => column.validity === null || getBit(column.validity, i));
    return { dtype: column.dtype, values: Array.from(column.values as ArrayLike<unknown>), valid, nullCount: column.nullCount, dictionary: column.dictionary };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { issues: error.issues, truncated: error.truncatedIssues };
  }
}

/** A chunk of `cells` (null = null row), built inside a larger Data and sliced out at `offset`, so bitmaps start mid-byte. */
function chunkOf(
  type: arrow.DataType,
  cells: readonly unknown[],
  offset: number,
  store: (n: number) => { set(i: number, v: unknown): void; array: unknown },
): arrow.Data {
  const length = offset + cells.length + 3;
  const values = store(length);
  const bits = new Uint8Array(Math.ceil(length / 8));
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    const cell = i >= offset && i < offset + cells.length ? cells[i - offset] : null;
    if (cell === null || cell === undefined) {
      nulls++;
      // What an Arrow writer leaves under a null is arbitrary: make it visible, so a leak would show.
      values.set(i, undefined);
    } else {
      bits[i >> 3]! |= 1 << (i & 7);
      values.set(i, cell);
    }
  }
  // makeData's overloads are keyed by type class; each caller passes the array that matches its type.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- one helper builds chunks of every numeric type
  const data: arrow.Data = arrow.makeData({ type: type as arrow.Int32, length, nullCount: nulls, data: values.array as Int32Array, nullBitmap: bits });
  return data.slice(offset, cells.length);
}

const NUMERIC = {
  int32: { type: () => new arrow.Int32(), cell: fc.integer(), store: typedStore(Int32Array, 7), schema: z.int32() },
  int64: {
    type: () => new arrow.Int64(),
    cell: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    store: typedStore(BigInt64Array, 7n),
    schema: z.int64(),
  },
  float32: { type: () => new arrow.Float32(), cell: fc.float().map(Math.fround), store: typedStore(Float32Array, Number.NaN), schema: z.float32() },
  float64: { type: () => new arrow.Float64(), cell: fc.double(), store: typedStore(Float64Array, Number.NaN), schema: z.float64() },
  int: { type: () => new arrow.Float64(), cell: fc.oneof(fc.maxSafeInteger(), fc.double()), store: typedStore(Float64Array, 1.5), schema: z.int() },
} as const;

function typedStore(ctor: { new (n: number): ArrayLike<unknown> & Record<number, unknown> }, underNull: unknown) {
  return (n: number) => {
    const array = new ctor(n);
    return { array, set: (i: number, v: unknown) => void (array[i] = v ?? underNull) };
  };
}

/** Chunks of cells: 1 to 4 batches of up to 20 rows, about one in five null, each sliced at an offset of 0 to 9. */
function chunksOf<T>(cell: fc.Arbitrary<T>): fc.Arbitrary<{ cells: (T | null)[]; offset: number }[]> {
  return fc.array(fc.record({ cells: fc.array(fc.option(cell, { freq: 5 }), { maxLength: 20 }), offset: fc.nat({ max: 9 }) }), { minLength: 1, maxLength: 4 });
}

describe('Arrow numeric columns copied whole', () => {
  for (const [name, kind] of Object.entries(NUMERIC)) {
    it(`${name}: the same column as the cell path builds from apache-arrow's own reading, in every mode`, () => {
      fc.assert(
        fc.property(chunksOf<unknown>(kind.cell), fc.boolean(), fc.constantFrom(...MODES), (chunks, nullable, mode) => {
          const type = kind.type();
          const vector = new arrow.Vector(chunks.map(({ cells, offset }) => chunkOf(type, cells, offset, kind.store)));
          const fields = fieldsFromShape({ x: nullable ? kind.schema.nullable() : kind.schema });
          const cells = Array.from({ length: vector.length }, (_, i): unknown => vector.get(i));
          const copied = outcome(() => ingestArrow(fields, new arrow.Table({ x: vector }), { trustedMode: mode }));
          const cellByCell = outcome(() => ingestColumns(fields, { x: cells }, { trustedMode: mode }));
          assert.deepEqual(copied, cellByCell);
        }),
        { numRuns: 150 },
      );
    });
  }
});

const ALPHABET = ['a', 'b', 'c', 'd', 'é', ''];

/** Batch dictionaries: strings from a small alphabet (so they overlap and may repeat), some entries null, some deltas of others. */
const dictionariesArb = fc
  .array(fc.array(fc.option(fc.constantFrom(...ALPHABET), { freq: 6 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 })
  .chain((bases) =>
    fc.tuple(
      fc.constant(bases),
      fc.array(fc.tuple(fc.nat({ max: bases.length - 1 }), fc.array(fc.option(fc.constantFrom(...ALPHABET)), { minLength: 1, maxLength: 3 })), {
        maxLength: 2,
      }),
    ),
  );

function dictionaryVectors([bases, deltas]: [(string | null)[][], [number, (string | null)[]][]]): arrow.Vector[] {
  const vectors: arrow.Vector[] = bases.map((entries) => arrow.vectorFromArray(entries, new arrow.Utf8()));
  // A delta dictionary is its base's chunks plus its own, as apache-arrow reads one from IPC.
  for (const [base, extra] of deltas) vectors.push(vectors[base]!.concat(arrow.vectorFromArray(extra, new arrow.Utf8())));
  return vectors;
}

function dictionaryColumn(dictionaries: arrow.Vector[], chunks: { pick: number; rows: (number | null)[]; offset: number }[]): arrow.Vector {
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), 0);
  return new arrow.Vector(
    chunks.map(({ pick, rows, offset }) => {
      const dictionary = dictionaries[pick % dictionaries.length]!;
      const data = chunkOf(
        new arrow.Int32(),
        rows.map((r) => (r === null ? null : r % dictionary.length)),
        offset,
        typedStore(Int32Array, 3),
      );
      return arrow.makeData({
        type,
        offset: data.offset,
        length: data.length,
        nullCount: data.nullCount,
        data: data.values as Int32Array,
        nullBitmap: data.nullBitmap,
        dictionary: dictionary as arrow.Vector<arrow.Utf8>,
      });
    }),
  );
}

const dictionaryChunksArb = fc.array(
  fc.record({ pick: fc.nat(), rows: fc.array(fc.option(fc.nat(), { freq: 5 }), { maxLength: 20 }), offset: fc.nat({ max: 9 }) }),
  { minLength: 1, maxLength: 5 },
);

describe('Arrow dictionaries merged across record batches', () => {
  for (const [name, schema] of [
    ['string', z.string()],
    ['enum', z.enum(['a', 'b', 'c'])],
  ] as const) {
    it(`${name}: codes, first-appearance dictionary and issues equal the cell path's over apache-arrow's own reading`, () => {
      fc.assert(
        fc.property(dictionariesArb, dictionaryChunksArb, fc.boolean(), fc.constantFrom(...MODES), (dictionaries, chunks, nullable, mode) => {
          const vector = dictionaryColumn(dictionaryVectors(dictionaries), chunks);
          const fields = fieldsFromShape({ x: nullable ? schema.nullable() : schema });
          const cells = Array.from({ length: vector.length }, (_, i): unknown => vector.get(i));
          const merged = outcome(() => ingestArrow(fields, new arrow.Table({ x: vector }), { trustedMode: mode }));
          assert.deepEqual(
            merged,
            outcome(() => ingestColumns(fields, { x: cells }, { trustedMode: mode })),
          );
        }),
        { numRuns: 200 },
      );
    });
  }

  it('an index outside its batch dictionary is an issue on a valid row, and nothing on a null one', () => {
    const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), 0);
    const dictionary = arrow.vectorFromArray(['a', 'b'], new arrow.Utf8());
    const column = (valid: number) =>
      new arrow.Vector([
        arrow.makeData({
          type,
          length: 3,
          nullCount: valid === 0xff ? 0 : 1,
          data: new Int32Array([0, 2, 1]),
          nullBitmap: new Uint8Array([valid]),
          dictionary,
        }),
      ]);
    const fields = fieldsFromShape({ x: z.string().nullable() });
    for (const trustedMode of MODES) {
      const error = validationError(() => ingestArrow(fields, new arrow.Table({ x: column(0xff) }), { trustedMode }));
      assert.deepEqual(
        error.issues.map(({ row, code }) => ({ row, code })),
        [{ row: 1, code: 'invalid_arrow' }],
      );
      const batch = ingestArrow(fields, new arrow.Table({ x: column(0b101) }), { trustedMode });
      assert.deepEqual(
        outcome(() => batch),
        {
          dtype: 'utf8',
          values: [0, 0, 1],
          valid: [true, false, true],
          nullCount: 1,
          dictionary: ['a', 'b'],
        },
      );
    }
  });
});

describe('copyBits', () => {
  it('copies any bit range to any offset of a clear bitmap, as bit-by-bit copying does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), fc.nat({ max: 40 }), (source, fromSeed, length, to) => {
        const bitsIn = source.length * 8;
        const from = fromSeed % bitsIn;
        const n = length % (bitsIn - from + 1);
        const target = new Uint8Array(Math.ceil((to + n) / 8) + 1);
        copyBits(source, from, target, to, n);
        const expected = new Uint8Array(target.length);
        for (let i = 0; i < n; i++) if (getBit(source, from + i)) expected[(to + i) >> 3]! |= 1 << ((to + i) & 7);
        assert.deepEqual(target, expected);
      }),
    );
  });
});
