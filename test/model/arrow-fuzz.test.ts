// Fuzzing Model.fromArrow with thousands of mutated Arrow IPC bodies: each either ingests, and then holds
// exactly what apache-arrow decodes from the same bytes, or throws a typed 4xx error (400 malformed_arrow or
// unknown_column, 422 validation); nothing else, none that the validator let through and apache-arrow then
// threw on, and none takes longer than a generous time per byte.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import { z } from 'zod';
import { DataFrameModel } from '../../src/index.js';
import { isGpuframeError } from '../../src/errors.js';
import { FuzzEvent, fuzzCorpus, fuzzMutants, referenceRows } from './arrow-fuzz-corpus.js';

/** Generous enough for a loaded CI machine; a declared length that is trusted costs seconds, not this. */
const budgetMs = (bytes: number): number => 100 + bytes / 1024;

/** The best of up to three runs of `run`, in milliseconds, stopping once one is within `budget`: a GC pause or a busy CPU is not blamed on the input. */
function bestMs(run: () => unknown, budget: number): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 3 && best > budget; attempt++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** How long ingesting `bytes` takes (best of up to three tries). */
function ingestMs(bytes: Uint8Array, budget: number): number {
  return bestMs(() => {
    try {
      FuzzEvent.fromArrow(bytes).collectSync();
    } catch {
      // The outcome is judged on the first run; this only times.
    }
  }, budget);
}

const CORPUS = 40;
const MUTANTS = 4800;

describe('Model.fromArrow fuzz', () => {
  it(`${MUTANTS} mutants of ${CORPUS} valid bodies: each ingests what apache-arrow reads, or is a typed 4xx, within its time budget`, (t) => {
    const corpus = fuzzCorpus(CORPUS, 11);
    for (const body of corpus) assert.deepEqual(FuzzEvent.fromArrow(body.bytes).collectSync(), referenceRows(body.bytes), body.name);

    const outcomes = new Map<string, number>();
    const count = (key: string): void => void outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const failures: string[] = [];
    let worst = { ms: 0, bytes: 0, mutator: '' };
    let worstFirstTry = 0;
    for (const [index, { mutator, bytes }] of fuzzMutants(corpus, MUTANTS, 12).entries()) {
      const started = performance.now();
      let outcome: string;
      let rows: unknown[] | null = null;
      let lastMessage = '';
      try {
        rows = FuzzEvent.fromArrow(bytes).collectSync();
        outcome = 'ingested';
      } catch (error) {
        lastMessage = error instanceof Error ? error.message : String(error);
        outcome = isGpuframeError(error) && error.status >= 400 && error.status < 500 ? `${error.status} ${error.code}` : `untyped ${String(error)}`;
      }
      const first = performance.now() - started;
      const ms = first > budgetMs(bytes.length) ? ingestMs(bytes, budgetMs(bytes.length)) : first;
      if (ms > worst.ms) worst = { ms, bytes: bytes.length, mutator };
      worstFirstTry = Math.max(worstFirstTry, first);
      count(`${mutator}: ${outcome.startsWith('untyped') ? 'UNTYPED' : outcome}`);
      if (outcome.startsWith('untyped')) failures.push(`mutant ${index} (${mutator}): ${outcome}`);
      // The typed net under apache-arrow: reaching it means the validator let through something apache-arrow cannot read.
      if (lastMessage.includes('not readable by apache-arrow')) failures.push(`mutant ${index} (${mutator}) passed validation, then: ${lastMessage}`);
      if (ms > budgetMs(bytes.length)) failures.push(`mutant ${index} (${mutator}, ${bytes.length} bytes) took ${ms.toFixed(1)} ms`);
      if (rows !== null) {
        try {
          assert.deepStrictEqual(rows, referenceRows(bytes));
        } catch (error) {
          failures.push(`mutant ${index} (${mutator}) ingested rows that differ from apache-arrow's: ${String(error).slice(0, 300)}`);
        }
      }
    }
    const summary = [...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${key}: ${n}`);
    t.diagnostic(`outcomes: ${summary.join('; ')}`);
    t.diagnostic(
      `worst: ${worst.ms.toFixed(1)} ms for a ${worst.bytes}-byte ${worst.mutator} mutant (slowest first try, pauses included: ${worstFirstTry.toFixed(1)} ms)`,
    );
    assert.deepEqual(failures, []);
    const ingested = [...outcomes].filter(([key]) => key.endsWith('ingested')).reduce((n, [, c]) => n + c, 0);
    const malformed = [...outcomes].filter(([key]) => key.endsWith('400 malformed_arrow')).reduce((n, [, c]) => n + c, 0);
    // The mutants must exercise both sides: some still ingest, many are refused as malformed.
    assert.ok(ingested > MUTANTS / 20 && malformed > MUTANTS / 4, `ingested ${ingested}, malformed ${malformed}`);
  });
});

/**
 * Well-formed bodies whose work is not in their bytes: batches that share one large dictionary (each batch
 * once decoded it whole: 30 s for 704 KB), and chains of delta dictionaries (apache-arrow joins the chunks
 * again at each delta). Shared dictionaries must ingest within the same per-byte budget; delta chains
 * within it too, up to the validator's cap, and past the cap they are refused.
 */
describe('Model.fromArrow: dictionaries that cost more than their bytes', () => {
  class Words extends DataFrameModel({ d: z.string() }) {}
  const type = (): arrow.Dictionary<arrow.Utf8, arrow.Int32> => new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), 0);
  const batchOf = (dtype: arrow.Dictionary<arrow.Utf8, arrow.Int32>, dictionary: arrow.Vector<arrow.Utf8>, index: number): arrow.RecordBatch => {
    const schema = new arrow.Schema([new arrow.Field('d', dtype, false)]);
    const column = arrow.makeData({ type: dtype, length: 1, nullCount: 0, data: new Int32Array([index]), dictionary });
    return new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: 1, nullCount: 0, children: [column] }));
  };
  const ingested = (bytes: Uint8Array): unknown[] =>
    Words.fromArrow(bytes)
      .collectSync()
      .map((row) => row.d);
  const decoded = (bytes: Uint8Array): unknown[] => [...arrow.tableFromIPC(bytes).getChild('d')!].map(String);

  it('a dictionary of 100,000 words shared by 2,000 batches ingests right, within the budget', () => {
    const dtype = type();
    const dictionary = arrow.vectorFromArray(
      Array.from({ length: 100_000 }, (_, i) => `w${i}`),
      new arrow.Utf8(),
    );
    const bytes = arrow.tableToIPC(new arrow.Table(Array.from({ length: 2000 }, (_, b) => batchOf(dtype, dictionary, (b * 7919) % 100_000))), 'stream');
    assert.deepEqual(ingested(bytes), decoded(bytes));
    const ms = bestMs(() => ingested(bytes), budgetMs(bytes.length));
    assert.ok(ms <= budgetMs(bytes.length), `${bytes.length} bytes took ${ms.toFixed(1)} ms, over ${budgetMs(bytes.length).toFixed(1)}`);
  });

  const deltaChain = (deltas: number): Uint8Array => {
    const dtype = type();
    const writer = new arrow.RecordBatchStreamWriter();
    let dictionary = arrow.vectorFromArray(['w0'], new arrow.Utf8());
    for (let b = 0; b <= deltas; b++) {
      if (b > 0) dictionary = dictionary.concat(arrow.vectorFromArray([`w${b}`], new arrow.Utf8()));
      writer.write(batchOf(dtype, dictionary, b));
    }
    writer.finish();
    return writer.toUint8Array(true);
  };

  it('a chain of 300 one-word deltas ingests right, within the budget; 1,000 are refused as malformed_arrow', () => {
    const bytes = deltaChain(300);
    assert.deepEqual(ingested(bytes), decoded(bytes));
    assert.deepEqual(ingested(bytes).slice(0, 3), ['w0', 'w1', 'w2']);
    const ms = bestMs(() => ingested(bytes), budgetMs(bytes.length));
    assert.ok(ms <= budgetMs(bytes.length), `${bytes.length} bytes took ${ms.toFixed(1)} ms, over ${budgetMs(bytes.length).toFixed(1)}`);
    assert.throws(
      () => Words.fromArrow(deltaChain(1000)),
      (e: unknown) => isGpuframeError(e) && e.code === 'malformed_arrow' && /delta batches; joining them costs \d+ chunk copies/.test(e.message),
    );
  });
});
