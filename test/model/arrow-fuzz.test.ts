// Fuzzing Model.fromArrow with thousands of mutated Arrow IPC bodies: each either ingests, and then holds
// exactly what apache-arrow decodes from the same bytes, or throws a typed 4xx error (400 malformed_arrow or
// unknown_column, 422 validation); nothing else, none that the validator let through and apache-arrow then
// threw on, and none takes longer than a generous time per byte.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGpuframeError } from '../../src/errors.js';
import { FuzzEvent, fuzzCorpus, fuzzMutants, referenceRows } from './arrow-fuzz-corpus.js';

/** Generous enough for a loaded CI machine; a declared length that is trusted costs seconds, not this. */
const budgetMs = (bytes: number): number => 100 + bytes / 1024;

/** How long ingesting `bytes` takes: the best of up to three tries, so a GC pause or a busy CPU is not blamed on the input. */
function ingestMs(bytes: Uint8Array, budget: number): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 3 && best > budget; attempt++) {
    const started = performance.now();
    try {
      FuzzEvent.fromArrow(bytes).collectSync();
    } catch {
      // The outcome is judged on the first run; this only times.
    }
    best = Math.min(best, performance.now() - started);
  }
  return best;
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
    t.diagnostic(`worst: ${worst.ms.toFixed(1)} ms for a ${worst.bytes}-byte ${worst.mutator} mutant (slowest first try, pauses included: ${worstFirstTry.toFixed(1)} ms)`);
    assert.deepEqual(failures, []);
    const ingested = [...outcomes].filter(([key]) => key.endsWith('ingested')).reduce((n, [, c]) => n + c, 0);
    const malformed = [...outcomes].filter(([key]) => key.endsWith('400 malformed_arrow')).reduce((n, [, c]) => n + c, 0);
    // The mutants must exercise both sides: some still ingest, many are refused as malformed.
    assert.ok(ingested > MUTANTS / 20 && malformed > MUTANTS / 4, `ingested ${ingested}, malformed ${malformed}`);
  });
});
