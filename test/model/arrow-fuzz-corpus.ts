// The seeded corpus of the Arrow fuzz tests: valid IPC streams and files that apache-arrow writes (ints,
// floats, int64, utf8, bool, dictionary, Null columns, nulls, one to three batches), and mutants of them:
// bit flips, byte overwrites, truncations, rewrites of the real length, count and offset fields,
// concatenations, duplicated and deleted ranges. The same seed gives the same bodies on every host.

import * as arrow from 'apache-arrow';
import { z } from 'zod';
import { rng } from '../../bench/data.js';
import { DataFrameModel } from '../../src/index.js';
import { concat, EOS, ipcFieldPositions } from './arrow-ipc-craft.js';

/** Every column the corpus can hold, all nullable so that most value mutations still ingest. */
export class FuzzEvent extends DataFrameModel({
  i: z.int32().nullable(),
  f: z.float64().nullable(),
  big: z.int64().nullable(),
  s: z.string().nullable(),
  b: z.boolean().nullable(),
  d: z.string().nullable(),
  n: z.string().nullable(),
}) {}

type Random = () => number;

const int = (random: Random, below: number): number => Math.floor(random() * below);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

function column(random: Random, name: string, rows: number): arrow.Vector {
  const isNull = (): boolean => random() < 0.15;
  const values = <T>(make: (i: number) => T): (T | null)[] => Array.from({ length: rows }, (_, i) => (isNull() ? null : make(i)));
  switch (name) {
    case 'i':
      return arrow.vectorFromArray(
        values(() => int(random, 2000) - 1000),
        new arrow.Int32(),
      );
    case 'f':
      return arrow.vectorFromArray(
        values(() => (random() - 0.5) * 1e6),
        new arrow.Float64(),
      );
    case 'big':
      return arrow.vectorFromArray(
        values(() => BigInt(int(random, 1e9)) * 1000n),
        new arrow.Int64(),
      );
    case 's':
      return arrow.vectorFromArray(
        values((i) => `s${i}-${'x'.repeat(int(random, 20))}`),
        new arrow.Utf8(),
      );
    case 'b':
      return arrow.vectorFromArray(
        values(() => random() < 0.5),
        new arrow.Bool(),
      );
    case 'd':
      return arrow.vectorFromArray(
        values(() => pick(random, ['red', 'green', 'blue', 'a longer category'])),
        new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
      );
    default:
      return arrow.vectorFromArray(
        Array.from({ length: rows }, () => null),
        new arrow.Null(),
      );
  }
}

export interface CorpusBody {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** `count` valid bodies: a random set of columns and rows, split into one to three batches, as a stream or a file. */
export function fuzzCorpus(count: number, seed: number): CorpusBody[] {
  const random = rng(seed);
  const names = ['i', 'f', 'big', 's', 'b', 'd', 'n'];
  return Array.from({ length: count }, (_, k) => {
    const chosen = names.filter(() => random() < 0.6);
    if (chosen.length === 0) chosen.push(pick(random, names));
    const rows = 1 + int(random, 60);
    const table = new arrow.Table(Object.fromEntries(chosen.map((name) => [name, column(random, name, rows)])));
    // Slices of one table share its dictionary, so a file (which allows no replacement) can hold them all.
    const cut = 1 + int(random, rows);
    const batches = random() < 0.5 || rows < 2 ? table : table.slice(0, cut).concat(table.slice(cut));
    const format = k % 2 === 0 ? 'stream' : 'file';
    return { name: `${format} ${chosen.join('+')} ${rows} rows ${batches.batches.length} batches`, bytes: arrow.tableToIPC(batches, format) };
  });
}

export interface Mutant {
  readonly mutator: string;
  readonly bytes: Uint8Array;
}

const INTERESTING = [0, 1, -1, 7, 8, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1e9, 2 ** 48 + 4, 2 ** 53, -(2 ** 31)];

/** Rewrites `times` of the source's real length, count and offset fields with values that break assumptions. */
function rewriteFields(random: Random, source: Uint8Array, times: number): Uint8Array {
  const fields = ipcFieldPositions(source);
  const out = source.slice();
  const view = new DataView(out.buffer);
  for (let n = 0; n < times && fields.length > 0; n++) {
    const field = pick(random, fields);
    const old =
      field.size === 8
        ? Number(view.getBigInt64(field.position, true))
        : field.size === 4
          ? view.getInt32(field.position, true)
          : field.size === 2
            ? view.getInt16(field.position, true)
            : view.getUint8(field.position);
    const value = pick(random, [...INTERESTING, old + 1, old - 1, old + 8, old - 8, old * 2, old * 1000, int(random, 1 << 16)]);
    if (field.size === 8) view.setBigInt64(field.position, BigInt.asIntN(64, BigInt(Math.trunc(value))), true);
    else if (field.size === 4) view.setInt32(field.position, value | 0, true);
    else if (field.size === 2) view.setInt16(field.position, value & 0xffff, true);
    else view.setUint8(field.position, value & 0xff);
  }
  return out;
}

const MUTATORS: Readonly<Record<string, (random: Random, source: Uint8Array, other: Uint8Array) => Uint8Array>> = {
  'bit flip': (random, source) => {
    const out = source.slice();
    for (let flips = 1 + int(random, 4); flips > 0; flips--) out[int(random, out.length)]! ^= 1 << int(random, 8);
    return out;
  },
  'byte overwrite': (random, source) => {
    const out = source.slice();
    for (let n = 1 + int(random, 3); n > 0; n--) out[int(random, out.length)] = pick(random, [0, 0xff, 0x7f, 0x80, 1, int(random, 256)]);
    return out;
  },
  truncation: (random, source) => source.slice(0, int(random, source.length)),
  'field rewrite': (random, source) => rewriteFields(random, source, 1),
  'double field rewrite': (random, source) => rewriteFields(random, source, 2),
  concatenation: (random, source, other) => concat(source, pick(random, [other, source, EOS, new Uint8Array(1 + int(random, 64)).map(() => int(random, 256))])),
  duplication: (random, source) => {
    const start = int(random, source.length);
    const end = start + int(random, source.length - start + 1);
    return concat(source.subarray(0, end), source.subarray(start, end), source.subarray(end));
  },
  deletion: (random, source) => {
    const start = int(random, source.length);
    return concat(source.subarray(0, start), source.subarray(Math.min(source.length, start + 1 + int(random, 64))));
  },
};

/** `count` mutants of the corpus, spread evenly over the mutators. */
export function fuzzMutants(corpus: readonly CorpusBody[], count: number, seed: number): Mutant[] {
  const random = rng(seed);
  const mutators = Object.entries(MUTATORS);
  return Array.from({ length: count }, (_, k) => {
    const [mutator, mutate] = mutators[k % mutators.length]!;
    return { mutator, bytes: mutate(random, pick(random, corpus).bytes, pick(random, corpus).bytes) };
  });
}

/**
 * The rows apache-arrow itself decodes from `bytes`, converted as the model's dtypes hold them, after
 * checking that every column it read has the table's row count.
 */
export function referenceRows(bytes: Uint8Array): Record<string, unknown>[] {
  const table = arrow.tableFromIPC(bytes);
  const convert: Record<string, (v: unknown) => unknown> = {
    // An int32 column cannot hold -0; a float64 column keeps it.
    i: (v) => (v === 0 ? 0 : Number(v)),
    f: (v) => Number(v),
    big: (v) => BigInt(v as bigint | number),
    s: (v) => v,
    b: (v) => v,
    d: (v) => v,
    n: (v) => v,
  };
  const columns = FuzzEvent.fields.map((field) => {
    const vector = table.getChild(field.name);
    if (vector !== null && vector.length !== table.numRows) throw new Error(`column ${field.name} has ${vector.length} rows, the table ${table.numRows}`);
    return [field.name, vector] as const;
  });
  return Array.from({ length: table.numRows }, (_, row) =>
    Object.fromEntries(
      columns.map(([name, vector]) => {
        const value: unknown = vector === null ? null : vector.get(row);
        return [name, value === null || value === undefined ? null : convert[name]!(value)];
      }),
    ),
  );
}
