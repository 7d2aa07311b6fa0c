// The group-head plan node through the optimiser: a sort right below folds into it, filters on its keys
// move below it and others stay above, pruning keeps its keys and folded sort keys. Every rewritten plan's
// rows are checked against hand-computed ones.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { col, DataFrameModel, InvalidArgumentError, lit, UnknownColumnError } from '../../src/index.js';
import { optimize } from '../../src/plan/optimize.js';
import { kinds } from './plan-helpers.js';

const Readings = DataFrameModel({ id: z.int32().nullable(), f: z.float64(), v: z.float64().nullable(), tag: z.string() });
const readings = Readings.fromColumns(
  { id: [3, 1, 3, 2, 1, 3, 2, 1, null, 3], f: [-0, 0, 1, 0, -0, 1, 2, 2, 0, -0], v: [1.5, null, 9, 4, 7, 9, null, 7, 2, 0.5], tag: 'abcdefghij'.split('') },
  { trustedMode: 'shape_only' },
);

const tags = (rows: readonly { tag?: unknown }[]): unknown[] => rows.map((r) => r.tag);

describe('groupHead in the optimiser', () => {
  it('folds the sort right below into a per-group top-n (groupHead* keeps the sort keys as its order)', () => {
    const frame = readings.sort('v', { descending: true }).groupBy('id').head(1);
    const plan = optimize(frame.plan);
    assert.equal(kinds(plan), 'groupHead*(source(id,f,v,tag))');
    assert.deepEqual(plan.kind === 'groupHead' ? plan.order : null, [{ column: 'v', descending: true, nullsLast: false }]);
    // Descending keeps nulls first (nullsLast is off): ids 1 and 2 keep their null v (rows b, g).
    assert.deepEqual(tags(frame.collectSync()), ['b', 'g', 'c', 'i']);
  });

  it('leaves a sort alone when a projection stands between, and never folds a second sort', () => {
    const projected = readings
      .sort('v')
      .withColumns({ w: col('v').mul(2) })
      .groupBy('id')
      .head(1);
    assert.equal(kinds(optimize(projected.plan)), 'groupHead(project(sort(source(id,f,v,tag))))');
    const twice = readings.sort('tag').sort('v', { nullsLast: true }).groupBy('id').head(1);
    assert.equal(kinds(optimize(twice.plan)), 'groupHead*(sort(source(id,f,v,tag)))');
    assert.deepEqual(tags(twice.collectSync()), ['j', 'i', 'd', 'e']);
  });

  it('moves a filter on keys below it and keeps one on other columns above', () => {
    const frame = readings
      .sort('v')
      .groupBy('id')
      .head(1)
      .filter(
        col('id')
          .gt(lit(1))
          .and(col('v').gt(lit(1))),
      );
    assert.equal(kinds(optimize(frame.plan)), 'filter(groupHead*(filter(source(id,f,v,tag))))');
    // Per id > 1 the smallest v (nulls first): id 3 → row j (0.5), id 2 → row g (null); then v > 1 drops both.
    assert.deepEqual(frame.collectSync(), []);
    const keysOnly = readings.groupBy('id').head(2).filter(col('id').isNotNull());
    assert.equal(kinds(optimize(keysOnly.plan)), 'groupHead(filter(source(id,f,v,tag)))');
    assert.deepEqual(tags(keysOnly.collectSync()), ['a', 'b', 'c', 'd', 'e', 'g']);
  });

  it('keeps a filter on a float key above: -0 and 0 share a group, and 1 / f tells them apart', () => {
    const frame = readings
      .groupBy('f')
      .head(1)
      .filter(lit(1).div(col('f')).gt(lit(0)));
    assert.equal(kinds(optimize(frame.plan)), 'filter(groupHead(source(id,f,v,tag)))');
    // Groups by f: {-0, 0} first met at row a (-0, dropped by the filter), 1 at row c, 2 at row g.
    assert.deepEqual(tags(frame.collectSync()), ['c', 'g']);
  });

  it('keeps a filter on a float key above a group-by and a unique too (the same -0 and 0)', () => {
    const aggregated = readings
      .groupBy('f')
      .agg({ n: col('tag').count() })
      .filter(lit(1).div(col('f')).gt(lit(0)));
    assert.equal(kinds(optimize(aggregated.plan)), 'filter(aggregate(source(f,tag)))');
    assert.deepEqual(aggregated.collectSync(), [
      { f: 1, n: 2 },
      { f: 2, n: 2 },
    ]);
    const unique = readings.unique(['f']).filter(lit(1).div(col('f')).gt(lit(0)));
    assert.equal(kinds(optimize(unique.plan)), 'filter(unique(source(id,f,v,tag)))');
    assert.deepEqual(tags(unique.collectSync()), ['c', 'g']);
  });

  it('keeps every filter above a head of zero rows', () => {
    const frame = readings
      .groupBy('id')
      .head(0)
      .filter(col('id').gt(lit(1)));
    assert.equal(kinds(optimize(frame.plan)), 'filter(groupHead(source(id,f,v,tag)))');
    assert.deepEqual(frame.collectSync(), []);
  });

  it('prunes columns nothing reads, but keeps its keys and its folded sort keys', () => {
    const frame = readings.sort('v', { descending: true }).groupBy('id').head(1).select('tag');
    assert.equal(kinds(optimize(frame.plan)), 'project(groupHead*(source(id,v,tag)))');
    assert.deepEqual(frame.collectSync(), [{ tag: 'b' }, { tag: 'g' }, { tag: 'c' }, { tag: 'i' }]);
  });

  it('checks its arguments when the verb is called', () => {
    assert.throws(() => readings.groupBy('nope' as 'id').head(1), UnknownColumnError);
    assert.throws(() => readings.groupBy('id', 'id').head(1), /distinct/);
    assert.throws(() => readings.groupBy('id').head(-1), InvalidArgumentError);
    assert.throws(() => readings.groupBy('id').head(1.5), InvalidArgumentError);
  });
});
