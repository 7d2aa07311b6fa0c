// Decimals end to end: random decimal columns through the engines (inline, on the worker pool, and on the
// WebGPU executor, which hands decimals to the CPU) against the digit-string reference of test/reference.ts;
// exact ingest and its validation issues; the Arrow Decimal128 round trip; casts, strict and not.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ArithmeticOverflowError,
  CastError,
  col,
  createExecutor,
  DataFrameModel,
  decimal,
  ExpressionTypeError,
  ValidationError,
  type Executor,
} from '../../src/index.js';
import {
  refDecimal,
  refDecimalAdd,
  refDecimalCompare,
  refDecimalMul,
  refDecimalRound,
  refDecimalSub,
  refDecimalText,
  refDecimalTrunc,
  type RefDecimal,
} from '../reference.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
const gpu = createExecutor({ backend: 'webgpu' });
after(async () => {
  await pool.close();
  await gpu.close();
});

class Pair extends DataFrameModel({ k: z.int32(), a: decimal(18, 2), b: decimal(16, 4).nullable() }) {}

/** Decimal text with at most `scale` fraction digits and `precision` digits in all. */
const decimalText = (precision: number, scale: number): fc.Arbitrary<string> =>
  fc
    .oneof(fc.bigInt({ min: -(10n ** BigInt(precision)) + 1n, max: 10n ** BigInt(precision) - 1n }), fc.bigInt({ min: -300n, max: 300n }))
    .map((digits) => refDecimalText({ digits, scale }, scale)!);

const rowsArbitrary = fc.array(
  // b keeps a digit of room below its precision 16, so that round(1) cannot carry past it (overflow is tested apart).
  fc.record({ k: fc.integer({ min: 0, max: 3 }), a: decimalText(17, 2), b: fc.option(decimalText(15, 4), { nil: null, freq: 5 }) }),
  { maxLength: 60 },
);

/** The frame's rows on every engine; all must agree (then the one answer is returned). */
async function onEveryEngine<R>(run: (executor: Executor | undefined) => Promise<R>): Promise<R> {
  const inline = await run(undefined);
  assert.deepEqual(await run(pool), inline, 'the worker pool agrees with inline');
  assert.deepEqual(await run(gpu), inline, 'the webgpu executor (decimals on the CPU) agrees');
  return inline;
}

const text = (value: RefDecimal | null, scale: number): string | null => (value === null ? null : refDecimalText(value, scale)!);

describe('decimal arithmetic against the digit reference', () => {
  it('add, sub, mul, neg, abs and round(1) are exact, with the documented result scales', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, async (rows) => {
        const frame = Pair.fromRows(rows).withColumns({
          sum: col('a').add(col('b')),
          diff: col('a').sub(col('b')),
          prod: col('a').mul(col('b')),
          neg: col('a').neg(),
          abs: col('b').abs(),
          r1: col('b').round(1),
          plusInt: col('a').add(col('k')),
        });
        const got = await onEveryEngine((executor) => frame.collect(executor ? { executor } : {}));
        rows.forEach((row, i) => {
          const a = refDecimal(row.a);
          const b = row.b === null ? null : refDecimal(row.b);
          const out = got[i]!;
          assert.equal(out.sum, b && text(refDecimalAdd(a, b), 4));
          assert.equal(out.diff, b && text(refDecimalSub(a, b), 4));
          assert.equal(out.prod, b && text(refDecimalMul(a, b), 6));
          assert.equal(out.neg, text({ digits: -a.digits, scale: a.scale }, 2));
          assert.equal(out.abs, b && text({ digits: b.digits < 0n ? -b.digits : b.digits, scale: b.scale }, 4));
          assert.equal(out.r1, b && text(refDecimalRound(b, 1), 4));
          assert.equal(out.plusInt, text(refDecimalAdd(a, refDecimal(String(row.k))), 2));
        });
      }),
      { numRuns: 40 },
    );
  });

  it('comparisons across scales, and with integer and decimal-text literals, are exact', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, decimalText(6, 3), async (rows, literal) => {
        const frame = Pair.fromRows(rows).withColumns({
          lt: col('a').lt(col('b')),
          eq: col('a').eq(col('b')),
          geLiteral: col('a').ge(literal),
          gtInt: col('b').gt(1),
        });
        const got = await onEveryEngine((executor) => frame.collect(executor ? { executor } : {}));
        rows.forEach((row, i) => {
          const a = refDecimal(row.a);
          const b = row.b === null ? null : refDecimal(row.b);
          assert.equal(got[i]!.lt, b && refDecimalCompare(a, b) < 0);
          assert.equal(got[i]!.eq, b && refDecimalCompare(a, b) === 0);
          assert.equal(got[i]!.geLiteral, refDecimalCompare(a, refDecimal(literal)) >= 0);
          assert.equal(got[i]!.gtInt, b && refDecimalCompare(b, refDecimal('1')) > 0);
        });
      }),
      { numRuns: 40 },
    );
  });

  it('sum per group is exact at precision 38; min, max and sort order by value', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, async (rows) => {
        const frame = Pair.fromRows(rows)
          .groupBy('k')
          .agg({ total: col('a').sum(), bTotal: col('b').sum(), lo: col('b').min(), hi: col('a').max(), n: col('a').nUnique() })
          .sort('k');
        const got = await onEveryEngine((executor) => frame.collect(executor ? { executor } : {}));
        const keys = [...new Set(rows.map((r) => r.k))].sort((x, y) => x - y);
        assert.deepEqual(
          got.map((g) => g.k),
          keys,
        );
        keys.forEach((k, g) => {
          const group = rows.filter((r) => r.k === k);
          const as = group.map((r) => refDecimal(r.a));
          const bs = group.flatMap((r) => (r.b === null ? [] : [refDecimal(r.b)]));
          assert.equal(got[g]!.total, text(as.reduce(refDecimalAdd), 2));
          assert.equal(got[g]!.bTotal, bs.length === 0 ? null : text(bs.reduce(refDecimalAdd), 4));
          assert.equal(
            got[g]!.lo,
            bs.length === 0
              ? null
              : text(
                  bs.reduce((x, y) => (refDecimalCompare(x, y) <= 0 ? x : y)),
                  4,
                ),
          );
          assert.equal(
            got[g]!.hi,
            text(
              as.reduce((x, y) => (refDecimalCompare(x, y) >= 0 ? x : y)),
              2,
            ),
          );
          assert.equal(got[g]!.n, new Set(group.map((r) => refDecimalText(refDecimal(r.a), 2))).size);
        });
        const sorted = Pair.fromRows(rows).sort('a', { descending: true }).collectSync();
        for (let i = 1; i < sorted.length; i++) assert.ok(refDecimalCompare(refDecimal(sorted[i - 1]!.a), refDecimal(sorted[i]!.a)) >= 0);
      }),
      { numRuns: 30 },
    );
  });

  it('casts: rescale up exactly, down only when exact (else CastError, or null when not strict), to int64 truncating, to float64 nearest', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, async (rows) => {
        const base = Pair.fromRows(rows);
        const got = await onEveryEngine((executor) =>
          base
            .withColumns({
              wide: col('a').cast({ dtype: 'decimal', precision: 30, scale: 6 }),
              cents: col('b').cast({ dtype: 'decimal', precision: 20, scale: 2 }, { strict: false }),
              whole: col('a').cast('int64'),
              float: col('b').cast('float64'),
            })
            .collect(executor ? { executor } : {}),
        );
        rows.forEach((row, i) => {
          const a = refDecimal(row.a);
          const b = row.b === null ? null : refDecimal(row.b);
          assert.equal(got[i]!.wide, refDecimalText(a, 6));
          assert.equal(got[i]!.cents, b && (refDecimalText(b, 2) ?? null));
          assert.equal(got[i]!.whole, refDecimalTrunc(a));
          assert.equal(got[i]!.float, b && Number(row.b));
        });
        const lossy = rows.findIndex((r) => r.b !== null && refDecimalText(refDecimal(r.b), 2) === undefined);
        const strict = base.withColumns({ cents: col('b').cast({ dtype: 'decimal', precision: 20, scale: 2 }) });
        if (lossy < 0) assert.equal(strict.collectSync().length, rows.length);
        else
          assert.throws(
            () => strict.collectSync(),
            (e: unknown) => e instanceof CastError && e.message.includes(`at row ${lossy} to decimal(20, 2)`),
          );
      }),
      { numRuns: 30 },
    );
  });
});

describe('decimal casts from other types', () => {
  class Mixed extends DataFrameModel({ s: z.string(), f: z.float64(), i: z.int32() }) {}
  const mixed = Mixed.fromRows([
    { s: '12.345', f: 0.1, i: 2147483647 },
    { s: 'x', f: 1.005, i: -5 },
    { s: '-7', f: 1e300, i: 0 },
  ]);

  it('strings parse exactly, floats by their shortest text, integers scale; what does not fit is null or a CastError', () => {
    const spec = { dtype: 'decimal', precision: 13, scale: 3 } as const;
    const rows = mixed
      .withColumns({
        fromS: col('s').cast(spec, { strict: false }),
        fromF: col('f').cast(spec, { strict: false }),
        fromI: col('i').cast(spec, { strict: false }),
      })
      .collectSync();
    assert.deepEqual(
      rows.map((r) => [r.fromS, r.fromF, r.fromI]),
      [
        ['12.345', '0.100', '2147483647.000'],
        [null, '1.005', '-5.000'],
        ['-7.000', null, '0.000'],
      ],
    );
    assert.throws(
      () => mixed.withColumns({ d: col('s').cast(spec) }).collectSync(),
      (e: unknown) => e instanceof CastError && /"x" at row 1 to decimal\(13, 3\)/.test(e.message),
    );
    assert.throws(
      () => mixed.withColumns({ d: col('i').cast({ dtype: 'decimal', precision: 9, scale: 0 }) }).collectSync(),
      (e: unknown) => e instanceof CastError && /2147483647 at row 0/.test(e.message),
    );
  });

  it('refuses what is not defined on decimals when binding, naming the expression', () => {
    const frame = Pair.fromRows([{ k: 1, a: '1.00', b: null }]);
    assert.throws(() => frame.withColumns({ m: col('a').mod(col('b')) }), ExpressionTypeError);
    assert.throws(() => frame.withColumns({ s: col('a').cast('utf8') }), ExpressionTypeError);
    assert.throws(() => frame.withColumns({ f: col('a').floor() }), ExpressionTypeError);
    assert.throws(() => col('a').cast({ dtype: 'decimal', precision: 39, scale: 0 }), /precision/);
    assert.throws(() => col('a').cast({ dtype: 'decimal', precision: 4, scale: 5 }), /scale/);
    assert.throws(() => col('a').cast('decimal'), /precision/);
  });

  it('raises ArithmeticOverflowError past 38 digits', () => {
    class Huge extends DataFrameModel({ x: decimal(38, 0) }) {}
    const frame = Huge.fromRows([{ x: 10n ** 37n * 9n }]);
    assert.throws(() => frame.withColumns({ y: col('x').add(col('x')) }).collectSync(), ArithmeticOverflowError);
    assert.throws(
      () =>
        Huge.fromRows([{ x: 10n ** 37n * 9n }, { x: 10n ** 37n * 9n }])
          .agg({ s: col('x').sum() })
          .collectSync(),
      ArithmeticOverflowError,
    );
    class Edge extends DataFrameModel({ x: decimal(3, 2) }) {}
    assert.throws(
      () =>
        Edge.fromRows([{ x: '9.99' }])
          .withColumns({ r: col('x').round(1) })
          .collectSync(),
      ArithmeticOverflowError,
    );
  });
});

describe('decimal ingest and output', () => {
  class Money extends DataFrameModel({ id: z.int32(), amount: decimal(6, 2) }) {}

  it('takes strings, numbers (by their shortest text) and bigints exactly, and reads back as exact text', async () => {
    const frame = Money.fromColumns({ id: [0, 1, 2, 3, 4, 5], amount: ['12.3', -0.05, 5n, '1e3', '0.10', 0.3] });
    assert.deepEqual((await frame.toColumns())['amount'], ['12.30', '-0.05', '5.00', '1000.00', '0.10', '0.30']);
  });

  it('names the row of every value it cannot hold exactly, never rounding', () => {
    const cells: unknown[] = ['1.234', '10000', 0.1 + 0.2, 'abc', Number.NaN, true, null];
    try {
      const input: unknown = { id: cells.map((_, i) => i), amount: cells };
      Money.fromColumns(input, { maxIssues: 100 });
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(
        error.issues.map((i) => [i.row, i.code]),
        [
          [0, 'precision_loss'],
          [1, 'too_big'],
          [2, 'precision_loss'],
          [3, 'invalid_type'],
          [4, 'invalid_type'],
          [5, 'invalid_type'],
          [6, 'null_value'],
        ],
      );
    }
  });

  it('round-trips through Arrow Decimal128, and rescales an Arrow decimal of another scale exactly or reports the row', async () => {
    const frame = Money.fromColumns({ id: [1, 2, 3], amount: ['-1234.56', '0.01', '9999.99'] });
    const table = await frame.toArrow();
    const type = table.schema.fields[1]!.type as arrow.Decimal;
    assert.deepEqual([arrow.DataType.isDecimal(type), type.precision, type.scale, type.bitWidth], [true, 6, 2, 128]);
    assert.deepEqual(await Money.fromArrow(table, { trustedMode: 'strict' }).toColumns(), await frame.toColumns());
    class Fine extends DataFrameModel({ id: z.int32(), amount: decimal(10, 4) }) {}
    assert.deepEqual((await Fine.fromArrow(table).toColumns())['amount'], ['-1234.5600', '0.0100', '9999.9900']);
    class Coarse extends DataFrameModel({ id: z.int32(), amount: decimal(10, 1) }) {}
    assert.throws(
      () => Coarse.fromArrow(table),
      (e: unknown) => e instanceof ValidationError && e.issues.map((i) => i.row).join() === '0,1,2' && e.issues.every((i) => i.code === 'precision_loss'),
    );
    assert.throws(
      () => Fine.fromArrow(table, { trustedMode: 'strict' }),
      (e: unknown) => e instanceof ValidationError && /Decimal128/.test(e.message),
    );
  });
});
