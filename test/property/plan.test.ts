// Random plans of every verb over random tables of every dtype, run by collectSync, collect inline and
// collect on 2-worker executors (one with 8-row morsels, so small frames merge many partials), each
// compared with the row-at-a-time reference in test/reference.ts.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { col, countRows } from '../../src/index.js';
import { RefFrame, slackOf } from '../reference.js';
import { assertRowsMatch, checkPlan, Chooser, createModes, fieldsOf, genPlan, randomTable, replacer, runs } from './harness.js';

const modes = createModes();
after(() => modes.close());

describe('random plans against the reference', () => {
  it('small frames (0–40 rows), up to 4 verbs, in all four modes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.chance(10) ? 0 : ch.int(1, 40));
        await checkPlan(table, genPlan(ch, fieldsOf(table), 4, 12), modes.all);
      }),
      runs(500),
    );
  });

  it('frames of 20k–40k rows: several default-size morsels merged, inline and on the pool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(20_000, 40_000));
        await checkPlan(table, genPlan(ch, fieldsOf(table), 3, 6), [modes.sync, modes.pool]);
      }),
      runs(12),
    );
  });
});

describe('the comparison itself', () => {
  it('notices a wrong cell, a wrong JS type, a missing row and a float outside tolerance', () => {
    const ref = new RefFrame([{ name: 'a', dtype: 'int64' }], [{ a: 1n }]);
    assert.throws(() => {
      assertRowsMatch([{ a: 1 }], ref, 'bigint vs number');
    });
    assert.throws(() => {
      assertRowsMatch([{ a: 2n }], ref, 'wrong value');
    });
    assert.throws(() => {
      assertRowsMatch([], ref, 'missing row');
    });
    assert.throws(() => {
      assertRowsMatch([{ a: 1n, b: 1 }], ref, 'extra column');
    });
    assertRowsMatch([{ a: 1n }], ref, 'equal');
    const floats = new RefFrame([{ name: 'f', dtype: 'float64' }], [{ f: 0.1 + 0.2 }, { f: Number.NaN }]);
    assertRowsMatch([{ f: 0.3 }, { f: Number.NaN }], floats, 'within tolerance');
    assert.throws(() => {
      assertRowsMatch([{ f: 0.31 }, { f: Number.NaN }], floats, 'outside tolerance');
    });
    assert.throws(() => {
      assertRowsMatch([{ f: 0.3 }, { f: 0 }], floats, 'NaN vs a number');
    });
    assert.equal(JSON.stringify({ x: 1n }, replacer), '{"x":"1n"}');
  });

  it('widens the tolerance only for cells whose value depends on summation order', () => {
    // Σ|x| ≈ 2^54 with an exact sum of 3: the order-dependent error can reach units.
    const near = [2 ** 53, 3, -(2 ** 53)];
    const sum = new RefFrame(
      [{ name: 'x', dtype: 'float64' }],
      near.map((x) => ({ x })),
    ).agg({ s: col('x').sum(), n: countRows() });
    assert.ok(slackOf(sum.rows[0]!, 's') >= 1);
    assert.equal(slackOf(sum.rows[0]!, 'n'), 0);
    assertRowsMatch([{ s: 4, n: 3 }], sum, 'within the order bound');
    assert.throws(() => {
      assertRowsMatch([{ s: 40, n: 3 }], sum, 'outside the order bound');
    });
    const tame = new RefFrame([{ name: 'x', dtype: 'float64' }], [{ x: 0.5 }, { x: 0.25 }]).agg({ s: col('x').sum() });
    assert.equal(slackOf(tame.rows[0]!, 's'), 0);
  });
});
