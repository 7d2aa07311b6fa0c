// Hand-written examples of the Frame API's semantics: the README example, build-time errors, exact integer
// sums and overflow, nulls and Kleene logic, ordering, grouping, joins and uniqueness. The property tests
// cover the same ground at random; these pin down the documented cases one by one.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import {
  ArithmeticOverflowError,
  coalesce,
  col,
  countRows,
  createExecutor,
  DataFrameModel,
  ExpressionTypeError,
  lit,
  UnknownColumnError,
  when,
} from '../../src/index.js';

const executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
after(() => executor.close());

class UserRow extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
  country: z.string().nullable(),
}) {}

const users = UserRow.fromColumns({ userId: [1, 2, 2], amount: [9.5, 1, 2], country: ['NL', null, 'NL'] }, { trustedMode: 'strict' });

/** Throws `error` class at build time, naming what is wrong. */
function assertBuildError(build: () => unknown, error: new (...args: never[]) => Error, mentions: string): void {
  assert.throws(build, (e: unknown) => {
    assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`);
    assert.match(e.message, new RegExp(mentions.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return true;
  });
}

describe('the README example', () => {
  const query = users
    .filter(col('amount').gt(lit(1)))
    .groupBy('user_id')
    .agg({ total: UserRow.col('amount').sum(), n: col('amount').count() })
    .sort('user_id');
  // The row type the README states: a float64 column's sum is a number.
  const expected: { user_id: number; total: number | null; n: number }[] = [
    { user_id: 1, total: 9.5, n: 1 },
    { user_id: 2, total: 2, n: 1 },
  ];

  it('collectSync', () => {
    const rows: typeof expected = query.collectSync();
    assert.deepEqual(rows, expected);
  });

  it('collect inline and on a 2-worker executor', async () => {
    assert.deepEqual(await query.collect(), expected);
    assert.deepEqual(await query.collect({ executor }), expected);
  });
});

describe('build-time errors', () => {
  it('an unknown column in an expression is an UnknownColumnError naming it, before anything runs', () => {
    for (const build of [
      () => users.filter(col('amonut').gt(1)),
      () => users.withColumns({ x: col('amonut').mul(2) }),
      () => users.select({ x: col('amonut') }),
      () => users.agg({ s: col('amonut').sum() }),
    ]) {
      assertBuildError(build, UnknownColumnError, "'amonut'");
      assert.throws(build, (e: unknown) => e instanceof UnknownColumnError && e.columns.includes('amonut') && e.code === 'unknown_column' && e.status === 400);
    }
    assertBuildError(() => users.select('nope' as 'amount'), UnknownColumnError, "'nope'");
    assertBuildError(() => users.sort('nope' as 'amount'), UnknownColumnError, "'nope'");
    assertBuildError(() => users.groupBy('nope' as 'amount').agg({ n: countRows() }), UnknownColumnError, "'nope'");
    assertBuildError(() => users.drop('nope' as 'amount'), UnknownColumnError, "'nope'");
  });

  it('a type mismatch is an ExpressionTypeError (a TypeError)', () => {
    assertBuildError(() => users.withColumns({ x: col('amount').add('x') }), ExpressionTypeError, 'add');
    assertBuildError(() => users.filter(col('amount')), ExpressionTypeError, 'boolean');
    assertBuildError(() => users.filter(col('country').gt(1)), ExpressionTypeError, 'compare');
    assertBuildError(() => users.agg({ s: col('country').sum() }), ExpressionTypeError, 'sum');
    assertBuildError(() => users.withColumns({ x: col('amount').and(true) }), ExpressionTypeError, 'and');
    assertBuildError(() => users.withColumns({ x: when(col('amount').gt(1)).then('a').otherwise(1) }), ExpressionTypeError, 'incompatible');
    assertBuildError(() => users.filter(col('amount').sum().gt(1)), ExpressionTypeError, 'aggregation');
    assert.ok(new ExpressionTypeError('x') instanceof TypeError);
  });
});

describe('integers: exact sums and overflow', () => {
  const Ints = DataFrameModel({ i: z.int32(), l: z.int64() });

  it('sums int32 exactly into a bigint beyond 2^53 (inline, and merged across pool morsels)', async () => {
    const n = 2 ** 22 + 5;
    const max = 2 ** 31 - 1;
    const frame = DataFrameModel({ i: z.int32() }).fromColumns({ i: new Array<number>(n).fill(max) }, { trustedMode: 'strict' });
    const expected = [{ s: BigInt(n) * BigInt(max), m: max, c: n }];
    assert.ok(expected[0]!.s > 2n ** 53n);
    const query = frame.agg({ s: col('i').sum(), m: col('i').mean(), c: countRows() });
    assert.deepEqual(query.collectSync(), expected);
    assert.deepEqual(await query.collect({ executor }), expected);
  });

  it('int32 and int64 arithmetic that leaves the type throws ArithmeticOverflowError instead of wrapping', async () => {
    const frame = Ints.fromRows([
      { i: 2 ** 31 - 1, l: 2n ** 62n },
      { i: -(2 ** 31), l: -(2n ** 63n) },
    ]);
    const cases = [
      frame.withColumns({ x: col('i').add(1) }),
      frame.withColumns({ x: col('i').mul(col('i')) }),
      frame.filter(col('i').lt(0)).withColumns({ x: col('i').neg() }),
      frame.filter(col('i').lt(0)).withColumns({ x: col('i').abs() }),
      frame.withColumns({ x: col('l').mul(2) }),
      frame.filter(col('l').lt(0)).withColumns({ x: col('l').sub(1) }),
      frame.filter(col('l').gt(0)).agg({ s: col('l').add(col('l')).sum() }),
      frame
        .filter(col('l').gt(0))
        .withColumns({ l2: col('l') })
        .agg({ s: col('l').sum(), t: col('l2').sum() })
        .withColumns({ u: col('s').add(col('t')) }),
    ];
    for (const query of cases) {
      assert.throws(() => query.collectSync(), ArithmeticOverflowError);
      await assert.rejects(query.collect({ executor }), ArithmeticOverflowError);
    }
    const overflow = new ArithmeticOverflowError('x');
    assert.equal(overflow.code, 'arithmetic_overflow');
    assert.equal(overflow.status, 422);
  });

  it('nothing is evaluated on rows an earlier filter removed, however the optimiser merges and moves filters', async () => {
    const frame = Ints.fromRows([
      { i: 2 ** 31 - 1, l: 1n },
      { i: 1, l: 2n },
      { i: 1, l: 3n },
    ]);
    const queries = [
      // Stacked filters become one conjunction, evaluated term by term.
      [frame.filter(col('i').lt(10)).filter(col('i').add(1).gt(0)).select('l'), [{ l: 2n }, { l: 3n }]],
      // A filter fused into an aggregation, with an argument evaluated outside the main kernel (nUnique).
      [frame.filter(col('i').lt(10)).agg({ u: col('i').add(1).nUnique() }), [{ u: 1 }]],
      // A term on group keys may not overtake a term on aggregates that stays above the aggregation.
      [frame.groupBy('i').agg({ n: countRows() }).filter(col('n').gt(1)).filter(col('i').add(1).gt(0)), [{ i: 1, n: 2 }]],
    ] as const;
    for (const [query, expected] of queries) {
      assert.deepEqual(query.collectSync(), expected);
      assert.deepEqual(await query.collect({ executor }), expected);
    }
  });

  it('int32 results have no -0, as an Int32Array has none (1 / x tells)', () => {
    const frame = Ints.fromRows([{ i: -1, l: 0n }]);
    assert.deepEqual(
      frame.select({ m: lit(1).div(col('i').mul(0)), c: lit(1).div(lit(-0.5).cast('int32')), z: lit(1).div(lit(-0).add(col('i').mul(0))) }).collectSync(),
      [{ m: Infinity, c: Infinity, z: Infinity }],
    );
  });

  it('an int64 sum that leaves int64 overflows; one that comes back into range does not', () => {
    const frame = Ints.fromRows([
      { i: 0, l: 2n ** 62n },
      { i: 0, l: 2n ** 62n },
      { i: 0, l: -(2n ** 62n) },
    ]);
    assert.deepEqual(frame.agg({ s: col('l').sum() }).collectSync(), [{ s: 2n ** 62n }]);
    assert.throws(
      () =>
        frame
          .head(2)
          .agg({ s: col('l').sum() })
          .collectSync(),
      ArithmeticOverflowError,
    );
  });

  it('mod is JS %, null for an integer modulo by zero; div is float64 true division', () => {
    const frame = Ints.fromRows([
      { i: -7, l: 7n },
      { i: 7, l: -7n },
      { i: 5, l: 0n },
    ]);
    assert.deepEqual(
      frame
        .select({
          m: col('i').mod(3),
          z: col('i').mod(0),
          lm: col('l').mod(3),
          lz: col('l').mod(col('l').sub(col('l'))),
          d: col('i').div(2),
          f: col('i').mod(2.5),
        })
        .collectSync(),
      [
        { m: -1, z: null, lm: 1n, lz: null, d: -3.5, f: -2 },
        { m: 1, z: null, lm: -1n, lz: null, d: 3.5, f: 2 },
        { m: 2, z: null, lm: 0n, lz: null, d: 2.5, f: 0 },
      ],
    );
  });
});

describe('nulls, logic and expressions', () => {
  const Flags = DataFrameModel({ a: z.boolean().nullable(), b: z.boolean().nullable(), x: z.float64().nullable(), s: z.string().nullable() });
  const truth = [true, false, null] as const;
  const rows = truth.flatMap((a) => truth.map((b) => ({ a, b, x: a === null ? null : 1.5, s: b === null ? null : b ? 'Straße' : 'ab😀' })));
  const frame = Flags.fromRows(rows);

  it('and/or follow Kleene logic; arithmetic and comparisons with null are null', () => {
    const out = frame
      .select({ and: col('a').and(col('b')), or: col('a').or(col('b')), not: col('a').not(), gt: col('x').gt(1), add: col('x').add(1) })
      .collectSync();
    const kleeneAnd = (a: boolean | null, b: boolean | null): boolean | null => (a === false || b === false ? false : a === null || b === null ? null : true);
    const kleeneOr = (a: boolean | null, b: boolean | null): boolean | null => (a === true || b === true ? true : a === null || b === null ? null : false);
    assert.deepEqual(
      out,
      rows.map((r) => ({
        and: kleeneAnd(r.a, r.b),
        or: kleeneOr(r.a, r.b),
        not: r.a === null ? null : !r.a,
        gt: r.x === null ? null : true,
        add: r.x === null ? null : 2.5,
      })),
    );
  });

  it('filter keeps rows whose predicate is true and drops null', () => {
    assert.deepEqual(
      frame
        .filter(col('a').or(col('b')))
        .collectSync()
        .map((r) => [r.a, r.b]),
      rows.filter((r) => r.a === true || r.b === true).map((r) => [r.a, r.b]),
    );
  });

  it('when takes the first true branch (null is not true) and is null without otherwise; coalesce takes the first non-null', () => {
    const out = frame
      .select({
        w: when(col('a')).then('A').when(col('b')).then('B').otherwise('-'),
        bare: when(col('a')).then(1),
        c: coalesce(col('a'), col('b'), lit(false)),
      })
      .collectSync();
    assert.deepEqual(
      out,
      rows.map((r) => ({ w: r.a === true ? 'A' : r.b === true ? 'B' : '-', bare: r.a === true ? 1 : null, c: r.a ?? r.b ?? false })),
    );
  });

  it('string functions behave as their JS counterparts (UTF-16 lengths, full case mapping)', () => {
    const out = frame
      .filter(col('s').isNotNull())
      .select({
        s: col('s'),
        len: col('s').length(),
        up: col('s').upper(),
        low: col('s').lower(),
        st: col('s').startsWith('St'),
        en: col('s').endsWith('😀'),
        has: col('s').contains('aß'),
      })
      .collectSync();
    for (const r of out) {
      const s = r.s as string;
      assert.deepEqual(r, { s, len: s.length, up: s.toUpperCase(), low: s.toLowerCase(), st: s.startsWith('St'), en: s.endsWith('😀'), has: s.includes('aß') });
    }
    assert.ok(out.some((r) => r.up === 'STRASSE'));
  });

  it('round is half away from zero on the scaled value; float32 rounds every operation', () => {
    const F = DataFrameModel({ x: z.float64(), f: z.float32() });
    const values = [2.5, -2.5, 0.5, -0.5, 1.005, -1.005, 2.675, 1e-7];
    const frame2 = F.fromColumns({ x: values, f: values.map(Math.fround) });
    const out = frame2.select({ r0: col('x').round(), r2: col('x').round(2), f: col('f').mul(col('f')), fd: col('f').div(col('f').add(1)) }).collectSync();
    const round = (x: number, d: number): number => (x < 0 ? -Math.round(-x * 10 ** d) / 10 ** d : Math.round(x * 10 ** d) / 10 ** d);
    assert.deepEqual(
      out,
      values.map((x) => {
        const f = Math.fround(x);
        return { r0: round(x, 0), r2: round(x, 2), f: Math.fround(f * f), fd: Math.fround(f / Math.fround(f + 1)) };
      }),
    );
    assert.deepEqual(
      out.slice(0, 4).map((r) => r.r0),
      [3, -3, 1, -1],
    );
  });

  it('isIn matches numbers across types (NaN included) and strings exactly', () => {
    const N = DataFrameModel({ i: z.int32().nullable(), x: z.float64(), s: z.string() });
    const frame2 = N.fromRows(
      [
        { i: 1, x: Number.NaN, s: 'a' },
        { i: null, x: 2, s: 'A' },
        { i: 3, x: -0, s: '' },
      ],
      { trustedMode: 'shape_only' },
    );
    assert.deepEqual(frame2.select({ i: col('i').isIn([1, 2.5, 7n]), x: col('x').isIn([Number.NaN, 0]), s: col('s').isIn(['a', '']) }).collectSync(), [
      { i: true, x: true, s: true },
      { i: null, x: false, s: false },
      { i: false, x: true, s: true },
    ]);
  });
});

describe('sort', () => {
  const S = DataFrameModel({ k: z.float64().nullable(), s: z.string().nullable(), n: z.int32() });
  const frame = S.fromRows(
    [
      { k: 1, s: 'b', n: 0 },
      { k: null, s: 'ｚ', n: 1 },
      { k: Number.NaN, s: '😀', n: 2 },
      { k: -1, s: null, n: 3 },
      { k: 1, s: 'B', n: 4 },
      { k: Number.NaN, s: 'a', n: 5 },
      { k: null, s: '', n: 6 },
    ],
    { trustedMode: 'shape_only' },
  );
  const order = (f: typeof frame): number[] => f.collectSync().map((r) => r.n);

  it('ascending: nulls first, NaN after every number, ties in input order', () => {
    assert.deepEqual(order(frame.sort('k')), [1, 6, 3, 0, 4, 2, 5]);
  });

  it('descending: nulls still first, NaN first among values, ties still in input order', () => {
    assert.deepEqual(order(frame.sort('k', { descending: true })), [1, 6, 2, 5, 0, 4, 3]);
    assert.deepEqual(order(frame.sort('k', { descending: true, nullsLast: true })), [2, 5, 0, 4, 3, 1, 6]);
  });

  it('strings by UTF-16 code units, so a surrogate pair sorts before U+FF5A', () => {
    assert.deepEqual(order(frame.sort('s', { nullsLast: true })), [6, 4, 5, 0, 2, 1, 3]);
  });

  it('per-key flags for several keys', () => {
    assert.deepEqual(order(frame.sort(['k', 's'], { descending: [false, true], nullsLast: [true, false] })), [3, 0, 4, 2, 5, 1, 6]);
  });
});

describe('groupBy and agg', () => {
  const G = DataFrameModel({ k: z.float64().nullable(), v: z.int32().nullable(), s: z.string().nullable() });
  const frame = G.fromRows(
    [
      { k: Number.NaN, v: 1, s: 'b' },
      { k: 0, v: null, s: null },
      { k: null, v: 3, s: 'a' },
      { k: -0, v: 4, s: 'a' },
      { k: Number.NaN, v: null, s: 'c' },
      { k: null, v: null, s: null },
    ],
    { trustedMode: 'shape_only' },
  );

  it('one row per key in order of first appearance: NaN keys together, -0 with 0, null its own key', async () => {
    const query = frame.groupBy('k').agg({
      n: countRows(),
      count: col('v').count(),
      sum: col('v').sum(),
      mean: col('v').mean(),
      min: col('s').min(),
      max: col('s').max(),
      first: col('v').first(),
      last: col('v').last(),
      distinct: col('s').nUnique(),
      median: col('v').median(),
      std: col('v').std(),
    });
    const expected = [
      { k: Number.NaN, n: 2, count: 1, sum: 1n, mean: 1, min: 'b', max: 'c', first: 1, last: null, distinct: 2, median: 1, std: null },
      { k: 0, n: 2, count: 1, sum: 4n, mean: 4, min: 'a', max: 'a', first: null, last: 4, distinct: 1, median: 4, std: null },
      { k: null, n: 2, count: 1, sum: 3n, mean: 3, min: 'a', max: 'a', first: 3, last: null, distinct: 1, median: 3, std: null },
    ];
    assert.deepEqual(query.collectSync(), expected);
    assert.deepEqual(await query.collect({ executor }), expected);
  });

  it('every null is one key, whatever its computation left in the value slot (0/0, 0/1)', () => {
    const keyed = DataFrameModel({ a: z.float64().nullable(), b: z.float64() })
      .fromRows([
        { a: null, b: 0 },
        { a: null, b: 1 },
        { a: 2, b: 1 },
      ])
      .withColumns({ k: col('a').div(col('b')) });
    assert.deepEqual(keyed.groupBy('k').agg({ n: countRows() }).collectSync(), [
      { k: null, n: 2 },
      { k: 2, n: 1 },
    ]);
    assert.deepEqual(
      keyed
        .unique(['k'])
        .collectSync()
        .map((r) => r.b),
      [0, 1],
    );
  });

  it('a whole-frame agg gives exactly one row, even over no rows', () => {
    const aggs = { n: countRows(), c: col('v').count(), u: col('s').nUnique(), s: col('v').sum(), m: col('v').max(), f: col('v').first(), sd: col('v').var() };
    assert.deepEqual(frame.filter(lit(false)).agg(aggs).collectSync(), [{ n: 0, c: 0, u: 0, s: null, m: null, f: null, sd: null }]);
    assert.deepEqual(frame.agg(aggs).filter(lit(false)).collectSync(), []);
    assert.deepEqual(frame.agg(aggs).collectSync(), [{ n: 6, c: 3, u: 3, s: 8n, m: 4, f: 1, sd: 7 / 3 }]);
  });

  it('min skips NaN unless only NaN is there; max returns NaN when present; median sorts NaN last', () => {
    const X = DataFrameModel({ g: z.int32(), x: z.float64() });
    const frame2 = X.fromRows(
      [
        { g: 1, x: Number.NaN },
        { g: 1, x: 2 },
        { g: 1, x: 1 },
        { g: 2, x: Number.NaN },
      ],
      { trustedMode: 'shape_only' },
    );
    assert.deepEqual(
      frame2
        .groupBy('g')
        .agg({ min: col('x').min(), max: col('x').max(), median: col('x').median() })
        .collectSync(),
      [
        { g: 1, min: 1, max: Number.NaN, median: 2 },
        { g: 2, min: Number.NaN, max: Number.NaN, median: Number.NaN },
      ],
    );
  });

  it('an output may combine aggregations', () => {
    assert.deepEqual(frame.agg({ range: col('v').max().sub(col('v').min()), per: col('v').sum().div(countRows()) }).collectSync(), [{ range: 3, per: 8 / 6 }]);
  });
});

describe('join', () => {
  const L = DataFrameModel({ id: z.int32().nullable(), name: z.string() });
  const R = DataFrameModel({ id: z.int64().nullable(), name: z.string(), score: z.float64() });
  const left = L.fromRows([
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
    { id: null, name: 'c' },
    { id: 1, name: 'd' },
  ]);
  const right = R.fromRows([
    { id: 1n, name: 'x', score: 0.5 },
    { id: null, name: 'y', score: 1 },
    { id: 1n, name: 'z', score: 2 },
    { id: 3n, name: 'w', score: 3 },
  ]);

  it('inner: left rows in order, each with its matches in right order; the same-named right key is dropped, clashes suffixed', () => {
    assert.deepEqual(left.join(right, { on: 'id' }).collectSync(), [
      { id: 1, name: 'a', name_right: 'x', score: 0.5 },
      { id: 1, name: 'a', name_right: 'z', score: 2 },
      { id: 1, name: 'd', name_right: 'x', score: 0.5 },
      { id: 1, name: 'd', name_right: 'z', score: 2 },
    ]);
  });

  it('left: unmatched rows (null keys included) once, with nulls; semi and anti; custom suffix; different key names', () => {
    assert.deepEqual(
      left
        .join(right, { on: 'id', how: 'left', suffix: '_r' })
        .collectSync()
        .map((r: Record<string, unknown>) => [r['name'], r['name_r']]),
      [
        ['a', 'x'],
        ['a', 'z'],
        ['b', null],
        ['c', null],
        ['d', 'x'],
        ['d', 'z'],
      ],
    );
    assert.deepEqual(left.join(right, { on: 'id', how: 'semi' }).collectSync(), [
      { id: 1, name: 'a' },
      { id: 1, name: 'd' },
    ]);
    assert.deepEqual(left.join(right, { on: 'id', how: 'anti' }).collectSync(), [
      { id: 2, name: 'b' },
      { id: null, name: 'c' },
    ]);
    const renamed = right.rename({ id: 'rid' });
    assert.deepEqual(left.join(renamed, { leftOn: 'id', rightOn: 'rid' }).head(1).collectSync(), [{ id: 1, name: 'a', rid: 1n, name_right: 'x', score: 0.5 }]);
  });
});

describe('unique, head, slice, rename, drop', () => {
  const U = DataFrameModel({ a: z.float64().nullable(), b: z.string() });
  const frame = U.fromRows(
    [
      { a: 0, b: 'x' },
      { a: -0, b: 'y' },
      { a: Number.NaN, b: 'x' },
      { a: null, b: 'x' },
      { a: Number.NaN, b: 'z' },
      { a: null, b: 'x' },
    ],
    { trustedMode: 'shape_only' },
  );

  it('unique keeps the first row of each distinct tuple (NaN equal to NaN, -0 to 0)', () => {
    assert.deepEqual(
      frame
        .unique(['a'])
        .collectSync()
        .map((r) => r.b),
      ['x', 'x', 'x'],
    );
    assert.deepEqual(frame.unique().collectSync().length, 5);
    assert.ok(Object.is(frame.unique(['a']).collectSync()[0]!.a, 0));
  });

  it('head and slice', () => {
    assert.deepEqual(
      frame
        .head(2)
        .collectSync()
        .map((r) => r.b),
      ['x', 'y'],
    );
    assert.deepEqual(
      frame
        .slice(4)
        .collectSync()
        .map((r) => r.b),
      ['z', 'x'],
    );
    assert.deepEqual(
      frame
        .slice(1, 2)
        .collectSync()
        .map((r) => r.b),
      ['y', 'x'],
    );
    assert.deepEqual(frame.slice(10, 2).collectSync(), []);
  });

  it('rename and drop keep column order', () => {
    assert.deepEqual(frame.rename({ a: 'c' }).columns, ['c', 'b']);
    assert.deepEqual(frame.drop('a').head(1).collectSync(), [{ b: 'x' }]);
  });
});
