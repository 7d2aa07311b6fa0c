// The db-benchmark questions agree across engines on a small table, through the runner and checker the
// benchmark uses; and the checker rejects answers that are wrong in each way it is meant to catch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checksumAnswer, compareChecksums, numbersFromArrow, type Answer } from '../../bench/check.js';
import { generateGroupByTable } from '../../bench/datagen.js';
import { ENGINE_NAMES } from '../../bench/engines.js';
import { runBenchmark } from '../../bench/groupby.js';
import { GroupByTable, QUERIES, selectQueries, type GroupByQuery } from '../../bench/groupby-queries.js';
import { createExecutor } from '../../src/index.js';

const ROWS = 20_000;
const table = generateGroupByTable(ROWS, 11);
const data = { table, bytes: new Uint8Array(0), path: '', cached: false, ms: 0 };

describe('the ten questions on every engine', () => {
  it('agree with DuckDB on 20,000 rows, both runs, through the benchmark runner', async () => {
    const log: string[] = [];
    // Arquero reads the IPC bytes; the in-memory table is enough for the others.
    const { tableToIPC } = await import('apache-arrow');
    const { engines, failures } = await runBenchmark(
      { rows: ROWS, seed: 11, engines: [...ENGINE_NAMES], queries: QUERIES, out: null, maxQueryMs: Infinity, threads: 2 },
      { ...data, bytes: tableToIPC(table, 'file') },
      (line) => log.push(line),
    );
    assert.equal(failures, 0, log.join('\n'));
    const ran = engines.filter((e) => !e.unavailable);
    assert.deepEqual(
      ran.map((e) => e.name).filter((n) => n !== 'gpuframe-webgpu'),
      ['duckdb', 'gpuframe-cpu', 'arquero'],
    );
    for (const engine of ran) {
      assert.deepEqual(
        engine.queries.map((q) => q.id),
        QUERIES.map((q) => q.id),
      );
      for (const q of engine.queries) {
        assert.equal(q.runs.length, 2);
        for (const run of q.runs)
          assert.ok(run.check === (engine.name === 'duckdb' && run === q.runs[0] ? 'reference' : 'ok'), `${engine.name} ${q.id}: ${JSON.stringify(run)}`);
      }
    }
  });
});

/** gpuframe's answer to a question, as the checker sees it. */
async function gpuframeAnswer(query: GroupByQuery): Promise<Answer> {
  const executor = createExecutor({ backend: 'cpu', maxWorkers: 0 });
  try {
    const result = await query.gpuframe(GroupByTable.fromArrow(table, { trustedMode: 'strict' })).toArrow({ executor });
    return { rows: result.numRows, columns: new Map(result.schema.fields.map((f) => [f.name, numbersFromArrow(result.getChild(f.name)!)])) };
  } finally {
    await executor.close();
  }
}

function edited(answer: Answer, column: string, edit: (values: Float64Array) => void): Answer {
  const columns = new Map(answer.columns);
  const copy = Float64Array.from(columns.get(column)!);
  edit(copy);
  columns.set(column, copy);
  return { rows: answer.rows, columns };
}

describe('the checker', () => {
  const [q3] = selectQueries('q3');
  const query = q3!;

  it('accepts an answer that differs only by rounding well inside the tolerance', async () => {
    const answer = await gpuframeAnswer(query);
    const expected = checksumAnswer(answer, query);
    const noisy = edited(answer, 'v3', (v) => {
      v.forEach((x, i) => (v[i] = x * (1 + (i % 2 ? 1e-13 : -1e-13))));
    });
    const reversed = { rows: answer.rows, columns: new Map([...answer.columns].map(([n, v]) => [n, Float64Array.from(v).reverse()])) };
    assert.deepEqual(compareChecksums(expected, checksumAnswer(noisy, query), query), []);
    assert.deepEqual(compareChecksums(expected, checksumAnswer(reversed, query), query), [], 'row order does not matter');
  });

  it('rejects a perturbed value, swapped groups, a lost row, a null, and a missing column', async () => {
    const answer = await gpuframeAnswer(query);
    const expected = checksumAnswer(answer, query);
    const failures = (wrong: Answer): string[] => compareChecksums(expected, checksumAnswer(wrong, query), query).map((d) => `${d.column}.${d.measure}`);

    assert.deepEqual(failures(edited(answer, 'v1', (v) => (v[3] = v[3]! + 1))), ['v1.sum', 'v1.sumSquares', 'v1.keyed']);
    assert.ok(failures(edited(answer, 'v3', (v) => (v[0] = v[0]! * (1 + 1e-5)))).includes('v3.keyed'), 'a float off by 1e-5 relative');
    assert.deepEqual(failures(edited(answer, 'v3', (v) => ([v[0], v[1]] = [v[1]!, v[0]!]))), ['v3.keyed'], 'same values in the wrong groups');
    assert.deepEqual(failures(edited(answer, 'v3', (v) => (v[5] = NaN))), ['v3.missing', 'v3.sum', 'v3.sumSquares', 'v3.keyed']);
    assert.ok(failures({ rows: answer.rows - 1, columns: answer.columns }).includes('*.rows'));
    const withoutV3 = new Map(answer.columns);
    withoutV3.delete('v3');
    assert.deepEqual(failures({ rows: answer.rows, columns: withoutV3 }), ['*.columns']);
  });
});
