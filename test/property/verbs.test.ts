// One verb at a time, densely: random expressions, sorts, group-bys, joins and uniques over random
// tables, each run in every execution mode and compared with the reference. The random plans of
// plan.test.ts combine verbs; these make each verb's edge cases (NaN, -0, nulls, ties) common.

import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ArithmeticOverflowError, type Expr } from '../../src/index.js';
import { RefFrame, type RefField } from '../reference.js';
import {
  checkPlan,
  Chooser,
  createModes,
  fieldsOf,
  genAgg,
  genAnyExpr,
  genExpr,
  genJoin,
  KINDS,
  randomTable,
  runs,
  showNode,
  type Kind,
  type Step,
} from './harness.js';

const modes = createModes();
after(() => modes.close());

/** The join's output fields, or its left fields when its right side's own filter overflows. */
function joinedFields(join: Step, left: readonly RefField[]): readonly RefField[] {
  try {
    return join.ref(new RefFrame(left, [])).fields;
  } catch (error) {
    if (error instanceof ArithmeticOverflowError) return left;
    throw error;
  }
}

const record = (exprs: Record<string, Expr>): string =>
  `{ ${Object.entries(exprs)
    .map(([k, e]) => `${k}: ${showNode(e.node)}`)
    .join(', ')} }`;

describe('expressions', () => {
  it('withColumns of random expressions of every category evaluates as the reference does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 30));
        const exprs: Record<string, Expr> = {};
        for (let k = ch.int(1, 4); k > 0; k--) exprs[`e${k}`] = genAnyExpr(ch, fieldsOf(table), 4);
        const step: Step = { text: `withColumns(${record(exprs)})`, frame: (f) => f.withColumns(exprs), ref: (r) => r.withColumns(exprs) };
        await checkPlan(table, [step], modes.all);
      }),
      runs(600),
    );
  });

  it('filter keeps exactly the rows whose predicate is true', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 40));
        const p = genExpr(ch, fieldsOf(table), 'bool', 4);
        const step: Step = { text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) };
        await checkPlan(table, [step], modes.all);
      }),
      runs(400),
    );
  });

  it('integer overflow throws exactly when the reference overflows (projections and sums see every row)', async () => {
    const ints: readonly Kind[] = ['int32', 'int64', 'bool'];
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(1, 20), ints);
        const fields = fieldsOf(table);
        const e = genExpr(ch, fields, 'num', 3);
        const step: Step = ch.chance(50)
          ? { text: `withColumns({ e: ${showNode(e.node)} })`, frame: (f) => f.withColumns({ e }), ref: (r) => r.withColumns({ e }) }
          : { text: `agg({ s: ${showNode(e.node)}.sum() })`, frame: (f) => f.agg({ s: e.sum() }), ref: (r) => r.agg({ s: e.sum() }) };
        await checkPlan(table, [step], modes.all, { strictOverflow: true });
      }),
      runs(400),
    );
  });
});

describe('sort', () => {
  it('is stable, per-key descending and nullsLast, NaN above every number, strings by UTF-16 units', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 60));
        const names = table.columns.map((c) => c.name);
        const by = ch.some(names, 3);
        const flags = (): boolean | boolean[] => (ch.chance(50) ? ch.chance(50) : by.map(() => ch.chance(50)));
        const options = { descending: flags(), nullsLast: flags() };
        const steps: Step[] = [
          { text: `sort(${JSON.stringify(by)}, ${JSON.stringify(options)})`, frame: (f) => f.sort(by, options), ref: (r) => r.sort(by, options) },
        ];
        if (ch.chance(30)) {
          const n = ch.int(0, 10);
          steps.push({ text: `head(${n})`, frame: (f) => f.head(n), ref: (r) => r.head(n) });
        }
        await checkPlan(table, steps, modes.all);
      }),
      runs(400),
    );
  });
});

describe('groupBy and agg', () => {
  it('groups by first appearance (null, NaN and ±0 keys included) and aggregates every op', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.chance(10) ? 0 : ch.int(1, 60));
        const fields = fieldsOf(table);
        const keys = ch.chance(85)
          ? ch.some(
              fields.map((f) => f.name),
              3,
            )
          : [];
        const aggs: Record<string, Expr> = {};
        for (let k = ch.int(keys.length > 0 ? 0 : 1, 5); k > 0; k--) aggs[`a${k}`] = genAgg(ch, fields);
        const steps: Step[] = [];
        if (ch.chance(30)) {
          // A filter right under the aggregation is fused into the aggregation kernel.
          const p = genExpr(ch, fields, 'bool', 2);
          steps.push({ text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) });
        }
        steps.push(
          keys.length === 0
            ? { text: `agg(${record(aggs)})`, frame: (f) => f.agg(aggs), ref: (r) => r.agg(aggs) }
            : {
                text: `groupBy(${keys.join(', ')}).agg(${record(aggs)})`,
                frame: (f) => f.groupBy(...keys).agg(aggs),
                ref: (r) => r.groupBy(...keys).agg(aggs),
              },
        );
        await checkPlan(table, steps, modes.all);
      }),
      runs(600),
    );
  });

  it('high-cardinality keys over 20k–40k rows (hash tables merged across morsels), holistic aggs included', async () => {
    const keyKinds: readonly Kind[] = ['int64', 'float64', 'utf8', 'timestamp', 'int32', 'float32'];
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(20_000, 40_000), ch.chance(50) ? keyKinds : KINDS);
        const fields = fieldsOf(table);
        const keys = ch.some(
          fields.map((f) => f.name),
          2,
        );
        const aggs: Record<string, Expr> = {};
        for (let k = ch.int(1, 5); k > 0; k--) aggs[`a${k}`] = genAgg(ch, fields);
        const step: Step = {
          text: `groupBy(${keys.join(', ')}).agg(${record(aggs)})`,
          frame: (f) => f.groupBy(...keys).agg(aggs),
          ref: (r) => r.groupBy(...keys).agg(aggs),
        };
        await checkPlan(table, [step], [modes.sync, modes.pool]);
      }),
      runs(10, 30),
    );
  });
});

describe('join', () => {
  it('inner, left, semi and anti joins on one or two keys, same or different names, with suffixes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 30));
        let counter = 0;
        const join = genJoin(ch, fieldsOf(table), { fresh: () => `x${counter++}`, rightRows: 15 });
        if (!join) return;
        const steps: Step[] = [join];
        if (ch.chance(40)) {
          // A filter over the join's output is pushed into one side or both.
          const fields = joinedFields(join, fieldsOf(table));
          const p = genExpr(
            ch,
            fields.filter((f) => !f.inexact),
            'bool',
            2,
          );
          steps.push({ text: `filter(${showNode(p.node)})`, frame: (f) => f.filter(p), ref: (r) => r.filter(p) });
        }
        await checkPlan(table, steps, modes.all);
      }),
      runs(500),
    );
  });
});

describe('unique', () => {
  it('keeps the first row of each distinct tuple, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(0, 60));
        const names = table.columns.map((c) => c.name);
        const subset = ch.chance(50) ? ch.some(names, 3) : undefined;
        const step: Step = { text: `unique(${subset ? JSON.stringify(subset) : ''})`, frame: (f) => f.unique(subset), ref: (r) => r.unique(subset) };
        await checkPlan(table, [step], modes.all);
      }),
      runs(300),
    );
  });
});
