// The group-by table of the db-benchmark (h2oai/db-benchmark `_data/groupby-datagen.R`, K = 100, no NAs,
// unsorted), generated from a seed as an Arrow table and cached as an Arrow IPC file, so every engine of
// bench/groupby.ts loads identical data. `node dist/bench/datagen.js --rows 1e7 [--seed 108] [--write t.arrow]`.

import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import { rng } from './data.js';

/** K of groupby-datagen.R: id1, id2, id4, id5 take K values; id3 and id6 take N/K. */
export const K = 100;
/** The seed groupby-datagen.R sets (`set.seed(108)`); the stream differs (R uses a Mersenne Twister). */
export const DEFAULT_SEED = 108;
/** Bumped whenever the generated values change, so stale cache files are never read. */
const GENERATOR_VERSION = 1;
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../bench/data/', import.meta.url));

export const GROUP_BY_COLUMNS = ['id1', 'id2', 'id3', 'id4', 'id5', 'id6', 'v1', 'v2', 'v3'] as const;

/** `sprintf("id%0<width>d", 1:count)`. */
export function idLabels(count: number, width: number): string[] {
  return Array.from({ length: count }, (_, i) => `id${String(i + 1).padStart(width, '0')}`);
}

/** Distinct values of id3 and id6: N/K (R's `1:(N/K)` truncates a fractional bound). */
export function smallGroupCount(rows: number): number {
  return Math.max(1, Math.floor(rows / K));
}

/**
 * The table of `groupby-datagen.R N 1e2 0 0`. Like R's `sample(x, N, TRUE)` each column is drawn
 * independently, uniformly with replacement, one column after the other from one stream:
 * id1, id2 from id001..id100; id3 from id0000000001..(N/K); id4, id5 from 1..K; id6 from 1..N/K;
 * v1, v2 from 1..5; v3 = round(runif(0, 100), 4), so 100 itself is possible after rounding, as in R.
 * String ids are dictionary-encoded (Int32 indices over every label, present or not).
 */
export function generateGroupByTable(rows: number, seed = DEFAULT_SEED): arrow.Table {
  if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`rows: a positive integer, got ${rows}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: an integer, got ${seed}`);
  const random = rng(seed);
  const small = smallGroupCount(rows);
  // 1-based draws from 1..n; the 32-bit uniform's bias is at most n / 2^32 relative.
  const draw = (n: number, base: number): Int32Array => {
    const out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) out[i] = base + Math.floor(random() * n);
    return out;
  };
  const dictionary = (codes: Int32Array, labels: string[]): arrow.Vector => {
    const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
    return arrow.makeVector(arrow.makeData({ type, length: rows, nullCount: 0, data: codes, dictionary: arrow.vectorFromArray(labels, new arrow.Utf8()) }));
  };
  const large = idLabels(K, 3);
  const id1 = dictionary(draw(K, 0), large);
  const id2 = dictionary(draw(K, 0), large);
  const id3 = dictionary(draw(small, 0), idLabels(small, 10));
  const id4 = arrow.makeVector(draw(K, 1));
  const id5 = arrow.makeVector(draw(K, 1));
  const id6 = arrow.makeVector(draw(small, 1));
  const v1 = arrow.makeVector(draw(5, 1));
  const v2 = arrow.makeVector(draw(5, 1));
  const v3Values = new Float64Array(rows);
  // k / 1e4 is the double nearest the 4-decimal value, the same one a CSV reader would parse.
  for (let i = 0; i < rows; i++) v3Values[i] = Math.round(random() * 1e6) / 1e4;
  const v3 = arrow.makeVector(v3Values);
  return new arrow.Table({ id1, id2, id3, id4, id5, id6, v1, v2, v3 });
}

export function cachePath(rows: number, seed: number, dir = DEFAULT_CACHE_DIR): string {
  return join(dir, `groupby-N${rows}-K${K}-seed${seed}-v${GENERATOR_VERSION}.arrow`);
}

/** Writes the table as an Arrow IPC file, via a temporary file so a reader never sees half of one. */
export function writeArrowFile(path: string, table: arrow.Table): Uint8Array {
  const bytes = arrow.tableToIPC(table, 'file');
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, path);
  return bytes;
}

export interface LoadedTable {
  readonly table: arrow.Table;
  /** The Arrow IPC file bytes the table was read from (or written to). */
  readonly bytes: Uint8Array;
  readonly path: string;
  readonly cached: boolean;
  readonly ms: number;
}

/** The table for (rows, seed) from the cache, generating and caching it first when it is not there. */
export function loadGroupByTable(rows: number, seed = DEFAULT_SEED, dir = DEFAULT_CACHE_DIR): LoadedTable {
  const t0 = performance.now();
  const path = cachePath(rows, seed, dir);
  if (existsSync(path)) {
    const bytes = new Uint8Array(readFileSync(path));
    const table = arrow.tableFromIPC(bytes);
    if (table.numRows === rows) return { table, bytes, path, cached: true, ms: performance.now() - t0 };
  }
  const table = generateGroupByTable(rows, seed);
  const bytes = writeArrowFile(path, table);
  return { table, bytes, path, cached: false, ms: performance.now() - t0 };
}

/** `--rows 1e7` style numbers: scientific notation allowed, the result must be an integer. */
export function parseCount(text: string | undefined, name: string): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value)) throw new RangeError(`--${name}: an integer (1e7 style allowed), got ${String(text)}`);
  return value;
}

function main(argv: readonly string[]): void {
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const rows = parseCount(option('rows') ?? '1e6', 'rows');
  const seed = parseCount(option('seed') ?? String(DEFAULT_SEED), 'seed');
  const write = option('write');
  const loaded = loadGroupByTable(rows, seed);
  console.log(`${rows.toLocaleString()} rows, seed ${seed}: ${loaded.cached ? 'read from' : 'generated into'} ${loaded.path} in ${loaded.ms.toFixed(0)} ms`);
  if (write !== undefined) {
    mkdirSync(dirname(write), { recursive: true });
    writeFileSync(write, loaded.bytes);
    console.log(`written to ${write}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
