// The other ways out of a plan agree with collect(): stream({ batchSize }) batches concatenated, toColumns
// and toArrow. Streaming plans (filters and projections over a source) big enough for several windows are
// also checked against the reference directly.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ArithmeticOverflowError, createExecutor, type Executor, type Frame } from '../../src/index.js';
import { RefFrame, type RefField, type RefRow } from '../reference.js';
import { arrowRows, assertRowsMatch, buildBoth, Chooser, describePlan, fieldsOf, genExpr, genPlan, randomTable, runs, showNode, type Step } from './harness.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
after(() => pool.close());

function schemaOf(frame: Frame): RefField[] {
  return frame.schema.map((f) => ({ name: f.name, dtype: f.dtype }));
}

async function streamed(frame: Frame, batchSize: number, executor: Executor | undefined, label: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  try {
    for await (const batch of frame.stream({ batchSize, ...(executor ? { executor } : {}) })) {
      assert.ok(batch.numRows <= batchSize, `${label}: a batch of ${batch.numRows} rows exceeds batchSize ${batchSize}`);
      rows.push(...arrowRows(batch, schemaOf(frame)));
    }
  } catch (error) {
    assert.fail(`stream threw ${String((error as Error).stack ?? error)}\n${label}`);
  }
  return rows;
}

describe('stream, toColumns and toArrow', () => {
  it('agree with collect() for random plans, inline and on the pool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 50));
        const steps = genPlan(ch, fieldsOf(table), 3, 8);
        const frame = steps.reduce((f, s) => s.frame(f), buildBoth(table).frame);
        const executor = ch.chance(50) ? pool : undefined;
        const batchSize = ch.int(1, 12);
        const label = `${executor ? 'pool' : 'inline'}, batchSize ${batchSize}\n${describePlan(table, steps)}\n`;
        const options = executor ? { executor } : {};
        let collected: RefFrame;
        try {
          collected = new RefFrame(schemaOf(frame), (await frame.collect(options)) as RefRow[]);
        } catch (error) {
          if (error instanceof ArithmeticOverflowError) return; // plan.test.ts checks overflows against the reference
          throw error;
        }

        assertRowsMatch(await streamed(frame, batchSize, executor, label), collected, `stream: ${label}`);

        const columns = await frame.toColumns(options);
        assert.deepEqual(Object.keys(columns), frame.columns, `toColumns names: ${label}`);
        const fromColumns = collected.rows.map((_, i) =>
          Object.fromEntries(frame.columns.map((name) => [name, (columns as Record<string, unknown[]>)[name]![i]])),
        );
        for (const name of frame.columns)
          assert.equal((columns as Record<string, unknown[]>)[name]!.length, collected.rows.length, `toColumns length of ${name}: ${label}`);
        assertRowsMatch(fromColumns, collected, `toColumns: ${label}`);

        const table2 = await frame.toArrow(options);
        assert.deepEqual(
          table2.schema.fields.map((f) => f.name),
          frame.columns,
          `toArrow names: ${label}`,
        );
        assert.equal(table2.numRows, collected.rows.length, `toArrow rows: ${label}`);
        assertRowsMatch(arrowRows(table2, schemaOf(frame)), collected, `toArrow: ${label}`);
      }),
      runs(250),
    );
  });

  it('streams filter/project/slice plans over several windows exactly as the reference computes them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(70_000, 140_000));
        const fields = fieldsOf(table);
        const steps: Step[] = [];
        if (ch.chance(80)) {
          const p = genExpr(ch, fields, 'bool', 2);
          steps.push({ text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) });
        }
        if (ch.chance(60)) {
          const e = genExpr(ch, fields, 'num', 2);
          steps.push({ text: `withColumns({ e: ${showNode(e.node)} })`, frame: (f) => f.withColumns({ e }), ref: (r) => r.withColumns({ e }) });
        }
        if (ch.chance(50)) {
          const offset = ch.int(0, 70_000);
          const length = ch.chance(50) ? Infinity : ch.int(0, 70_000);
          steps.push({ text: `slice(${offset}, ${length})`, frame: (f) => f.slice(offset, length), ref: (r) => r.slice(offset, length) });
        }
        const { frame: source, ref } = buildBoth(table);
        const frame = steps.reduce((f, s) => s.frame(f), source);
        let expected: RefFrame;
        try {
          expected = steps.reduce((r, s) => s.ref(r), ref);
        } catch {
          return; // an overflow; the projection properties cover that
        }
        const executor = ch.chance(50) ? pool : undefined;
        const batchSize = ch.pick([1000, 4096, 65_536, 100_000]);
        const label = `${executor ? 'pool' : 'inline'}, batchSize ${batchSize}\n${describePlan(table, steps)}\n`;
        assertRowsMatch(await streamed(frame, batchSize, executor, label), expected, `stream: ${label}`);
      }),
      runs(6, 40),
    );
  });
});
