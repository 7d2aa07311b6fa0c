import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { DataFrameModel, UnknownColumnError, col, lit } from '../../src/index.js';
import { optimize } from '../../src/plan/optimize.js';
import { kinds } from './plan-helpers.js';

class Orders extends DataFrameModel({ id: z.int32(), user: z.int32(), amount: z.float64(), note: z.string().nullable() }) {}
class Users extends DataFrameModel({ user: z.int32(), country: z.string(), age: z.int32() }) {}

const orders = Orders.fromColumns({ id: [1, 2, 3, 4], user: [1, 2, 1, 3], amount: [5, 7, 9, 1], note: ['a', null, 'b', 'c'] });
const users = Users.fromColumns({ user: [1, 2, 3], country: ['NL', 'DE', 'NL'], age: [30, 40, 50] });

test('a filter moves below a projection, rewritten over its inputs', () => {
  const frame = orders.withColumns({ doubled: col('amount').mul(2) }).filter(col('doubled').gt(lit(10)));
  const plan = optimize(frame.plan);
  assert.equal(kinds(plan), 'project(filter(source(id,user,amount,note)))');
  assert.match(frame.explain(), /Filter \(\(amount mul 2\) gt 10\)/);
  assert.deepEqual(
    frame.collectSync().map((r) => r.id),
    [2, 3],
  );
});

test('consecutive projections fuse and unused columns are pruned at the source', () => {
  const frame = orders
    .select('id', 'amount')
    .withColumns({ a2: col('amount').add(1) })
    .select('a2');
  assert.equal(kinds(optimize(frame.plan)), 'project(source(amount))');
  assert.deepEqual(frame.collectSync(), [{ a2: 6 }, { a2: 8 }, { a2: 10 }, { a2: 2 }]);
});

test('filters are pushed into the matching side of an inner join', () => {
  const frame = orders.join(users, { on: 'user' }).filter(
    col('country')
      .eq(lit('NL'))
      .and(col('amount').gt(lit(2))),
  );
  const plan = optimize(frame.plan);
  assert.equal(plan.kind, 'join');
  assert.equal(kinds(plan), 'join(filter(source(id,user,amount,note)), filter(source(user,country,age)))');
  assert.deepEqual(
    frame.collectSync().map((r) => r.id),
    [1, 3],
  );
});

test('a right-side filter stays above a left join, where it removes null-extended rows', () => {
  const frame = orders.join(users.filter(col('age').gt(lit(35))), { on: 'user', how: 'left' }).filter(col('amount').gt(lit(2)));
  const plan = optimize(frame.plan);
  assert.equal(kinds(plan), 'join(filter(source(id,user,amount,note)), filter(source(user,country,age)))');
  const rows = frame.collectSync();
  assert.deepEqual(
    rows.map((r) => [r.id, r.country]),
    [
      [1, null],
      [2, 'DE'],
      [3, null],
    ],
  );
});

test('a filter on group keys moves below the group-by; one on aggregates stays above', () => {
  const frame = orders
    .groupBy('user')
    .agg({ total: col('amount').sum() })
    .filter(
      col('user')
        .ne(lit(2))
        .and(col('total').gt(lit(5))),
    );
  assert.equal(kinds(optimize(frame.plan)), 'filter(aggregate(filter(source(user,amount))))');
  assert.deepEqual(frame.collectSync(), [{ user: 1, total: 14 }]);
});

test('a filter passes below a sort but not below a slice', () => {
  assert.equal(kinds(optimize(orders.sort('amount').filter(col('id').gt(lit(1))).plan)), 'sort(filter(source(id,user,amount,note)))');
  const sliced = orders.head(2).filter(col('id').gt(lit(1)));
  assert.equal(kinds(optimize(sliced.plan)), 'filter(slice(source(id,user,amount,note)))');
  assert.deepEqual(
    sliced.collectSync().map((r) => r.id),
    [2],
  );
});

test('groupBy names an unknown key at once, before any aggregation is given', () => {
  assert.throws(
    () => orders.groupBy('nope' as 'id'),
    (e: unknown) => e instanceof UnknownColumnError && /'nope'/.test(e.message),
  );
});
