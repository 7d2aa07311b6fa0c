// groupBy(...).head(n) densely: random keys of every dtype (null, NaN, -0 and ties common), with and
// without a sort below, in every mode against the reference; and the fused path (the sort folded into a
// per-group top-n) against the unfused plan (the sort run, then the head), which must give the same rows
// in the same order, bit for bit.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ArithmeticOverflowError, createExecutor, type Frame } from '../../src/index.js';
import type { ColumnBatch } from '../../src/model/types.js';
import { executeInline } from '../../src/exec/executor.js';
import { batchToRows } from '../../src/frame/output.js';
import { optimize } from '../../src/plan/optimize.js';
import type { PlanNode } from '../../src/plan/types.js';
import {
  buildBoth,
  checkPlan,
  Chooser,
  columnSpec,
  createModes,
  fieldsOf,
  genExpr,
  genGroupHead,
  prng,
  randomTable,
  runs,
  showNode,
  tableRows,
  type ColumnSpec,
  type Kind,
  type Step,
  type TableSpec,
} from './harness.js';

const modes = createModes();
const pool = createExecutor({ backend: 'cpu', maxWorkers: 2, inlineThreshold: 0 });
after(async () => {
  await modes.close();
  await pool.close();
});

/** Key columns k0.. drawn from small pools (so groups are few and the per-group heaps decide), values v0.. of any kind. */
function keyedTable(ch: Chooser, length: number): TableSpec {
  const keys: ColumnSpec[] = Array.from({ length: ch.int(1, 2) }, (_, k) => ({ ...columnSpec(ch, `k${k}`), low: ch.chance(85) }));
  const values = Array.from({ length: ch.int(1, 3) }, (_, k) => columnSpec(ch, `v${k}`));
  const columns = [...keys, ...values];
  return { columns, rows: tableRows(columns, length, prng(ch.int(0, 2 ** 31 - 1))) };
}

interface TopCase {
  readonly table: TableSpec;
  readonly keys: string[];
  readonly by: string[];
  readonly options: { descending: boolean[]; nullsLast: boolean[] };
  readonly n: number;
}

function topCase(ch: Chooser, length: number): TopCase {
  const table = keyedTable(ch, length);
  const names = table.columns.map((c) => c.name);
  const keys = ch.some(names.filter((n) => n.startsWith('k')));
  const by = ch.some(names, 3);
  return {
    table,
    keys,
    by,
    options: { descending: by.map(() => ch.chance(50)), nullsLast: by.map(() => ch.chance(50)) },
    n: ch.chance(85) ? ch.int(1, 3) : ch.int(0, 12),
  };
}

/** The optimised plan of sort + head, which must have folded the sort, and the same plan with the sort run apart. */
function fusedAndUnfused(frame: Frame): { fused: PlanNode; unfused: PlanNode } {
  const fused = optimize(frame.plan);
  assert.ok(fused.kind === 'groupHead' && fused.order.length > 0, `the sort was not folded:\n${frame.explain()}`);
  const sort: PlanNode = { kind: 'sort', schema: fused.input.schema, input: fused.input, keys: fused.order };
  return { fused, unfused: { ...fused, order: [], input: sort } };
}

const describeCase = (c: TopCase): string =>
  `${c.table.columns.map((s) => `${s.name}:${s.kind}${s.nullable ? '?' : ''}${s.low ? '(low)' : ''}`).join(', ')}; ${c.table.rows.length} rows; sort(${JSON.stringify(c.by)}, ${JSON.stringify(c.options)}).groupBy(${c.keys.join(', ')}).head(${c.n})`;

describe('groupBy(...).head(n) against the reference', () => {
  it('keeps the first n rows per group, after a sort or not, with key filters above, in every mode', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = ch.chance(50) ? randomTable(ch, 'c', ch.int(0, 60)) : keyedTable(ch, ch.int(0, 80));
        const names = table.columns.map((c) => c.name);
        const head = genGroupHead(ch, names)!;
        const steps: Step[] = [head];
        if (ch.chance(30)) {
          // A filter above: terms on the keys move below the head, the rest stay above.
          const p = genExpr(ch, fieldsOf(table), 'bool', 2);
          steps.push({ text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) });
        }
        await checkPlan(table, steps, modes.all);
      }),
      runs(400),
    );
  });

  it('agrees over 20k–40k rows, inline and on the pool (dense codes, key-table ids and per-group heaps)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const c = topCase(ch, ch.int(20_000, 40_000));
        const step: Step = {
          text: describeCase(c),
          frame: (f) =>
            f
              .sort(c.by, c.options)
              .groupBy(...c.keys)
              .head(c.n),
          ref: (r) =>
            r
              .sort(c.by, c.options)
              .groupBy(...c.keys)
              .head(c.n),
        };
        await checkPlan(c.table, [step], [modes.sync, modes.pool]);
      }),
      runs(10, 30),
    );
  });
});

describe('the fused per-group top-n', () => {
  it('gives exactly the rows, in the order, of the sort followed by the head (a filter below or not)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const c = topCase(ch, ch.chance(10) ? ch.int(0, 8) : ch.int(10, 400));
        const { frame } = buildBoth(c.table);
        // A filter under the sort becomes the group head's row selection.
        const p = ch.chance(40) ? genExpr(ch, fieldsOf(c.table), 'bool', 2) : null;
        const filtered = p ? frame.filter(p) : frame;
        const { fused, unfused } = fusedAndUnfused(
          filtered
            .sort(c.by, c.options)
            .groupBy(...c.keys)
            .head(c.n),
        );
        const label = `${p ? `filter(${showNode(p.node)}).` : ''}${describeCase(c)}`;
        const outcome = async (run: () => ColumnBatch | Promise<ColumnBatch>): Promise<Record<string, unknown>[] | 'overflow'> => {
          try {
            return batchToRows(await run());
          } catch (error) {
            // The selection evaluates the filter on the rows the filter does: both overflow, or neither.
            if (error instanceof ArithmeticOverflowError) return 'overflow';
            throw error;
          }
        };
        const expected = await outcome(() => executeInline(unfused));
        assert.deepStrictEqual(await outcome(() => executeInline(fused)), expected, label);
        assert.deepStrictEqual(await outcome(() => pool.execute(fused)), expected, label);
      }),
      runs(300),
    );
  });

  it('does so over 20k–60k rows in thousands of groups (dense int32 codes, key-table ids otherwise)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const length = ch.int(20_000, 60_000);
        const groups = Math.ceil(length / ch.pick([8, 20, 100]));
        const kind = ch.pick<Kind>(['int32', 'int64', 'float64', 'utf8', 'timestamp']);
        const key: ColumnSpec = { name: 'k0', kind, nullable: ch.chance(50), low: false };
        const values = Array.from({ length: ch.int(1, 2) }, (_, k) => columnSpec(ch, `v${k}`));
        const rand = prng(ch.int(0, 2 ** 31 - 1));
        const rows = tableRows(values, length, rand).map((row) => {
          const v = Math.floor(rand() * groups);
          const cell =
            key.nullable && rand() < 0.02
              ? null
              : kind === 'int32'
                ? v
                : kind === 'int64'
                  ? BigInt(v)
                  : kind === 'float64'
                    ? v / 4
                    : kind === 'utf8'
                      ? `id${v}`
                      : new Date(v * 1000);
          return { k0: cell, ...row };
        });
        const table: TableSpec = { columns: [key, ...values], rows };
        const by = ch.some(
          values.map((c) => c.name),
          2,
        );
        const c: TopCase = {
          table,
          keys: ['k0'],
          by,
          options: { descending: by.map(() => ch.chance(50)), nullsLast: by.map(() => ch.chance(50)) },
          n: ch.int(1, 3),
        };
        const { frame } = buildBoth(table);
        const { fused, unfused } = fusedAndUnfused(frame.sort(c.by, c.options).groupBy('k0').head(c.n));
        assert.deepStrictEqual(batchToRows(executeInline(fused)), batchToRows(executeInline(unfused)), describeCase(c));
      }),
      runs(12, 40),
    );
  });
});
