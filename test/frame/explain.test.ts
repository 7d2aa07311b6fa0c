// explain(): the optimised plan. Filters move below projections and into join sides (both sides of an
// inner join, only the left of a left join), never below a whole-frame aggregation; sources keep only the
// columns something above reads. The rows of rewritten plans are checked against hand-computed ones.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { col, countRows, DataFrameModel, type Frame } from '../../src/index.js';

const Users = DataFrameModel({ user_id: z.int32(), amount: z.float64(), country: z.string().nullable() });
const Scores = DataFrameModel({ user_id: z.int32(), score: z.float64(), note: z.string() });
const users = Users.fromRows([
  { user_id: 1, amount: 2, country: 'NL' },
  { user_id: 2, amount: 0.5, country: null },
  { user_id: 3, amount: 7, country: 'BE' },
]);
const scores = Scores.fromRows([
  { user_id: 1, score: 3, note: 'x' },
  { user_id: 3, score: 9, note: 'y' },
  { user_id: 1, score: 4, note: 'z' },
]);

function lines(frame: Frame): string[] {
  return frame.explain().split('\n');
}

/** The rewritten plan still computes the rows worked out by hand. */
function assertRows(frame: Frame, expected: readonly Record<string, unknown>[]): void {
  assert.deepEqual(frame.collectSync(), expected);
}

describe('explain', () => {
  it('pushes a filter below the projection it was written above', () => {
    const frame = users.withColumns({ double: col('amount').mul(2) }).filter(col('amount').gt(1));
    assert.deepEqual(lines(frame), [
      'Project user_id, amount, country, double=(amount mul 2) [cpu]',
      '  Filter (amount gt 1) [cpu]',
      '    Source Model [user_id, amount, country] rows=3 [cpu]',
    ]);
    assertRows(frame, [
      { user_id: 1, amount: 2, country: 'NL', double: 4 },
      { user_id: 3, amount: 7, country: 'BE', double: 14 },
    ]);
  });

  it('rewrites a filter on a computed column in terms of its definition', () => {
    const frame = users.withColumns({ double: col('amount').mul(2) }).filter(col('double').gt(3));
    assert.deepEqual(lines(frame).slice(1, 2), ['  Filter ((amount mul 2) gt 3) [cpu]']);
  });

  it('splits a conjunction over an inner join into a filter on each side', () => {
    const frame = users.join(scores, { on: 'user_id' }).filter(col('amount').gt(1).and(col('score').lt(5)));
    assert.deepEqual(lines(frame), [
      'Join inner on user_id [cpu]',
      '  Filter (amount gt 1) [cpu]',
      '    Source Model [user_id, amount, country] rows=3 [cpu]',
      '  Filter (score lt 5) [cpu]',
      '    Source Model [user_id, score, note] rows=3 [cpu]',
    ]);
    assertRows(frame, [
      { user_id: 1, amount: 2, country: 'NL', score: 3, note: 'x' },
      { user_id: 1, amount: 2, country: 'NL', score: 4, note: 'z' },
    ]);
  });

  it('keeps a filter on right columns above a left join (its nulls must still be filtered)', () => {
    const frame = users.join(scores, { on: 'user_id', how: 'left' }).filter(col('amount').gt(1).and(col('score').lt(5)));
    assert.deepEqual(lines(frame), [
      'Filter (score lt 5) [cpu]',
      '  Join left on user_id [cpu]',
      '    Filter (amount gt 1) [cpu]',
      '      Source Model [user_id, amount, country] rows=3 [cpu]',
      '    Source Model [user_id, score, note] rows=3 [cpu]',
    ]);
  });

  it('keeps a term that can overflow above an inner join (below it, it would meet rows the join drops)', () => {
    const extreme = Users.fromRows([
      { user_id: 2 ** 31 - 1, amount: 1, country: null },
      { user_id: 1, amount: 2, country: 'NL' },
    ]);
    const frame = extreme.join(scores, { on: 'user_id' }).filter(col('user_id').add(1).gt(0).and(col('amount').gt(1)));
    assert.deepEqual(lines(frame), [
      'Filter ((user_id add 1) gt 0) [cpu]',
      '  Join inner on user_id [cpu]',
      '    Filter (amount gt 1) [cpu]',
      '      Source Model [user_id, amount, country] rows=2 [cpu]',
      '    Source Model [user_id, score, note] rows=3 [cpu]',
    ]);
    assertRows(frame.select('user_id', 'score'), [
      { user_id: 1, score: 3 },
      { user_id: 1, score: 4 },
    ]);
    // A left join keeps every left row, so there the same term goes below.
    assert.deepEqual(lines(extreme.join(scores, { on: 'user_id', how: 'left' }).filter(col('user_id').add(1).gt(0))).slice(1, 2), [
      '  Filter ((user_id add 1) gt 0) [cpu]',
    ]);
  });

  it('pushes a filter on group keys below the aggregation, but nothing below a whole-frame aggregation', () => {
    const keyed = users
      .groupBy('country')
      .agg({ n: countRows() })
      .filter(col('country').eq('NL').and(col('n').gt(0)));
    assert.deepEqual(lines(keyed), [
      'Filter (n gt 0) [cpu]',
      '  Aggregate keys=[country] n=countAll(*) [cpu]',
      '    Filter (country eq "NL") [cpu]',
      '      Source Model [country] rows=3 [cpu]',
    ]);
    const whole = users.agg({ n: countRows() }).filter(col('n').gt(10));
    assert.equal(lines(whole)[0], 'Filter (n gt 10) [cpu]');
    assertRows(whole, []);
    assertRows(users.filter(col('amount').gt(10)).agg({ n: countRows() }), [{ n: 0 }]);
  });

  it('prunes sources to the columns the plan reads', () => {
    assert.deepEqual(lines(users.select('amount')), ['Source Model [amount] rows=3 [cpu]']);
    assert.deepEqual(lines(users.withColumns({ d: col('amount').mul(2) }).select('d')), [
      'Project d=(amount mul 2) [cpu]',
      '  Source Model [amount] rows=3 [cpu]',
    ]);
    assert.deepEqual(lines(users.join(scores, { on: 'user_id' }).select('amount', 'score')), [
      'Project amount, score [cpu]',
      '  Join inner on user_id [cpu]',
      '    Source Model [user_id, amount] rows=3 [cpu]',
      '    Source Model [user_id, score] rows=3 [cpu]',
    ]);
    assertRows(users.join(scores, { on: 'user_id' }).select('amount', 'score'), [
      { amount: 2, score: 3 },
      { amount: 2, score: 4 },
      { amount: 7, score: 9 },
    ]);
  });

  it('explainAnalyze runs the plan and times the operators that ran', async () => {
    const text = await users.filter(col('amount').gt(1)).groupBy('country').agg({ n: countRows() }).explainAnalyze();
    assert.match(text, /^Aggregate keys=\[country\] n=countAll\(\*\) \[cpu \d+\.\d\d ms\]$/m);
  });
});
