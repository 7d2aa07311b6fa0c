// `npm run bench:ingest`: Model.fromArrow on the db-benchmark G1 table (bench/datagen.ts), per column kind and
// trusted mode, against a bare copy of the same Arrow buffers into shared memory measured in the same run.
// Speed is reported as ns a value and as ratios, never asserted. Options: --rows N (1e6 style), --reps N.

import * as arrow from 'apache-arrow';
import { z } from 'zod';
import { DataFrameModel, type IngestOptions } from '../src/index.js';
import { allocShared } from '../src/model/shared-memory.js';
import { loadGroupByTable, parseCount } from './datagen.js';
import { median } from './timing.js';

/** What one column kind of the G1 table costs to ingest: the bare copy, then each trusted mode. */
export interface IngestTiming {
  readonly kind: string;
  readonly values: number;
  readonly copyMs: number;
  readonly modes: Readonly<Record<string, number>>;
}

const INT_COLUMNS = ['id4', 'id5', 'id6', 'v1', 'v2'] as const;

class Ints extends DataFrameModel({ id4: z.int32(), id5: z.int32(), id6: z.int32(), v1: z.int32(), v2: z.int32() }) {}
class Floats extends DataFrameModel({ v3: z.float64() }) {}
class Dict extends DataFrameModel({ id3: z.string() }) {}
class G1 extends DataFrameModel({
  id1: z.string(),
  id2: z.string(),
  id3: z.string(),
  id4: z.int32(),
  id5: z.int32(),
  id6: z.int32(),
  v1: z.int32(),
  v2: z.int32(),
  v3: z.float64(),
}) {}

/** The baseline: each chunk's value buffer copied with one `set` into a fresh SharedArrayBuffer, per column. */
function bareCopy(table: arrow.Table, names: readonly string[]): number {
  let total = 0;
  for (const name of names) {
    const vector = table.getChild(name)!;
    const first = vector.data[0]!.values as Int32Array | Float64Array;
    const out = first instanceof Float64Array ? allocShared(Float64Array, vector.length) : allocShared(Int32Array, vector.length);
    let base = 0;
    for (const chunk of vector.data) {
      out.set((chunk.values as Int32Array | Float64Array).subarray(0, chunk.length), base);
      base += chunk.length;
    }
    total += out.length;
  }
  return total;
}

/** Times every column kind of the G1 table in both trusted modes that skip zod; prints a table of ratios. */
export async function benchIngest(rows: number, reps: number, batches = 10): Promise<IngestTiming[]> {
  const loaded = loadGroupByTable(rows);
  // The cached file holds one record batch; the file has ten, read back here through IPC as it was.
  const split = new arrow.Table(loaded.table.batches.flatMap((batch) => splitBatch(batch, batches)));
  const table = arrow.tableFromIPC(arrow.tableToIPC(split, 'file'));
  console.log(`fromArrow on the G1 table: ${rows.toLocaleString()} rows in ${table.batches.length} record batches, ${reps} timed reps`);
  const kinds: { kind: string; names: readonly string[]; model: { fromArrow(input: arrow.Table, options: IngestOptions): unknown } }[] = [
    { kind: 'int32 x5', names: INT_COLUMNS, model: Ints },
    { kind: 'float64 (v3)', names: ['v3'], model: Floats },
    { kind: 'dictionary utf8 (id3)', names: ['id3'], model: Dict },
    { kind: 'whole table (9 columns)', names: ['id1', 'id2', 'id3', ...INT_COLUMNS, 'v3'], model: G1 },
  ];
  const results: IngestTiming[] = [];
  for (const { kind, names, model } of kinds) {
    const input = table.select([...names]);
    const copyMs = await median(`${kind}: bare copy of the buffers`, reps, () => bareCopy(input, names));
    const modes: Record<string, number> = {};
    for (const trustedMode of ['shape_only', 'strict'] as const) {
      modes[trustedMode] = await median(`${kind}: fromArrow ${trustedMode}`, reps, () => model.fromArrow(input, { trustedMode }));
    }
    results.push({ kind, values: rows * names.length, copyMs, modes });
  }
  console.log('\nns a value, and the ratio to the bare copy (target: shape_only <= 2x, strict <= 3x)');
  for (const { kind, values, copyMs, modes } of results) {
    const cells = Object.entries(modes).map(([mode, ms]) => `${mode} ${((ms * 1e6) / values).toFixed(2)} ns (${(ms / copyMs).toFixed(1)}x)`);
    console.log(`  ${kind.padEnd(26)} copy ${((copyMs * 1e6) / values).toFixed(2)} ns   ${cells.join('   ')}`);
  }
  return results;
}

/** One record batch cut into `parts` slices that keep the batch's dictionaries, as an IPC file of `parts` batches reads. */
function splitBatch(batch: arrow.RecordBatch, parts: number): arrow.RecordBatch[] {
  const size = Math.ceil(batch.numRows / parts);
  const out: arrow.RecordBatch[] = [];
  for (let start = 0; start < batch.numRows; start += size) out.push(batch.slice(start, Math.min(batch.numRows, start + size)));
  return out;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1]?.endsWith('/bench/ingest.js') === true) {
  await benchIngest(parseCount(option('rows') ?? '1e6', 'rows'), parseCount(option('reps') ?? '5', 'reps'));
}
