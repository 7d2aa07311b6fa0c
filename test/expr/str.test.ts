// The `str` namespace, concatStr and casts between text and numbers: every operation over random Unicode
// strings against test/reference.ts (plain JS string functions, no dictionaries), inline, on a worker
// pool with tiny morsels and on the WebGPU engine; text made per row across many morsels and then
// sorted, grouped and joined; strict casts naming the text and row; patterns checked where they enter.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import {
  CastError,
  col,
  concatStr,
  createExecutor,
  DataFrameModel,
  ExpressionTypeError,
  InvalidArgumentError,
  lit,
  type Expr,
  type Frame,
} from '../../src/index.js';
import { gpuSkip } from '../engines/webgpu/device.js';
import { compileExpr, type RefValue } from '../reference.js';

const pool = createExecutor({ maxWorkers: 2, inlineThreshold: 0, morselRows: 4 });
const noGpu = await gpuSkip();
const gpu = noGpu === false ? createExecutor({ backend: 'webgpu', maxWorkers: 0 }) : null;
after(async () => {
  await pool.close();
  await gpu?.close();
});

const Texts = DataFrameModel({ s: z.string().nullable(), t: z.string().nullable(), n: z.int32().nullable(), f: z.float64().nullable() });

/** Strings that exercise code points: astral characters, combining marks, case mappings that change length, whitespace. */
const piece = fc.constantFrom('a', 'A', 'b', 'ß', 'İ', 'é', 'e\u0301', '😀', ' ', '\t', '\u00a0', '1', '2', '.', '-', 'x', 'ab', 'nan', 'inf', '+');
const text = fc.oneof(
  { weight: 3, arbitrary: fc.array(piece, { maxLength: 6 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 5 }) },
);
const cell = fc.option(text, { freq: 6 });

const PATTERNS = ['a', 'a+', '^a', 'b$', '[aß]', '\\p{Lu}', '.', '😀', '', 'A|b', '\\d+', '\\s', '(a)(b)?', '(\\p{L})(.)'];

/** Every str operation, with random constant arguments. */
const operation: fc.Arbitrary<{ name: string; build: (e: Expr) => Expr }> = fc.oneof(
  fc.constantFrom('lenChars', 'lenBytes', 'toLowerCase', 'toUpperCase').map((op) => ({ name: op, build: (e: Expr) => e.str[op]() })),
  fc
    .tuple(fc.constantFrom('strip', 'stripStart', 'stripEnd'), fc.option(fc.constantFrom(' ', 'a', 'ab😀', 'ß ')))
    .map(([op, chars]) => ({ name: `${op}(${String(chars)})`, build: (e: Expr) => e.str[op](chars ?? undefined) })),
  fc
    .tuple(fc.integer({ min: -8, max: 8 }), fc.option(fc.integer({ min: 0, max: 8 })))
    .map(([offset, length]) => ({ name: `slice(${offset}, ${String(length)})`, build: (e: Expr) => e.str.slice(offset, length ?? undefined) })),
  fc
    .tuple(fc.constantFrom('padStart', 'padEnd'), fc.integer({ min: 0, max: 7 }), fc.constantFrom(' ', '*', '😀'))
    .map(([op, length, fill]) => ({ name: `${op}(${length}, ${fill})`, build: (e: Expr) => e.str[op](length, fill) })),
  fc
    .tuple(fc.constantFrom('contains', 'countMatches'), fc.constantFrom(...PATTERNS), fc.boolean())
    .map(([op, pattern, literal]) => ({ name: `${op}(${pattern}, ${literal})`, build: (e: Expr) => e.str[op](pattern, { literal }) })),
  fc
    .tuple(fc.constantFrom('startsWith', 'endsWith'), fc.constantFrom('a', '', 'ab', '😀', 'e\u0301'))
    .map(([op, prefix]) => ({ name: `${op}(${prefix})`, build: (e: Expr) => e.str[op](prefix) })),
  fc
    .tuple(fc.constantFrom('replace', 'replaceAll'), fc.constantFrom(...PATTERNS), fc.constantFrom('', 'x', '$&', '$1', '$$', '😀'), fc.boolean())
    .map(([op, pattern, value, literal]) => ({
      name: `${op}(${pattern}, ${value}, ${literal})`,
      build: (e: Expr) => e.str[op](pattern, value, { literal }),
    })),
  fc
    .tuple(fc.constantFrom<[string, number]>(['(a)', 1], ['(a)(b)?', 2], ['(\\p{L})(.)', 2], ['(\\d+)', 1], ['😀', 0]), fc.nat())
    .map(([[pattern, groups], g]) => ({ name: `extract(${pattern}, ${g % (groups + 1)})`, build: (e: Expr) => e.str.extract(pattern, g % (groups + 1)) })),
  fc
    .constantFrom('int32', 'int64', 'float32', 'float64', 'bool')
    .map((to) => ({ name: `cast(${to}, non-strict)`, build: (e: Expr) => e.cast(to, { strict: false }) })),
);

const FIELDS = [
  { name: 's', dtype: 'utf8' as const },
  { name: 't', dtype: 'utf8' as const },
  { name: 'n', dtype: 'int32' as const },
  { name: 'f', dtype: 'float64' as const },
];

/** The reference's values of `expr` over rows. */
function reference(expr: Expr, rows: readonly Record<string, RefValue>[]): RefValue[] {
  const compiled = compileExpr(expr.node, FIELDS);
  return rows.map((row) => compiled.at(row));
}

function frameOf(ss: readonly (string | null)[]): Frame {
  return Texts.fromColumns({
    s: ss,
    t: ss.map((x, k) => ss[(k + 1) % ss.length] ?? x),
    n: ss.map((_, k) => (k % 3 === 0 ? null : k * 7 - 20)),
    f: ss.map((_, k) => k / 4 - 1),
  });
}

describe('str namespace', () => {
  it('every operation agrees with the reference, over a column and over text made per row, inline, on a pool and on the GPU', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cell, { minLength: 1, maxLength: 30 }), operation, async (ss, op) => {
        const frame = frameOf(ss);
        const rows = frame.collectSync() as Record<string, RefValue>[];
        // Over the column (a dictionary: one table per entry), and over concatStr (a JS string per row).
        for (const input of [col('s'), concatStr([col('s'), col('t')], { separator: ' ' }), lit('ab').str.toUpperCase()]) {
          const expr = op.build(input);
          const expected = reference(expr, rows);
          const q = frame.select({ x: expr });
          const inline = q.collectSync().map((r) => r.x);
          assert.deepEqual(inline, expected, `${op.name} inline`);
          assert.deepEqual(
            (await q.collect({ executor: pool })).map((r) => r.x),
            expected,
            `${op.name} on the pool`,
          );
          if (gpu)
            assert.deepEqual(
              (await q.collect({ executor: gpu })).map((r) => r.x),
              expected,
              `${op.name} on the GPU`,
            );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('lengths count code points and UTF-8 bytes; slice follows Polars at the edges; extract is null without a match', () => {
    const frame = frameOf(['a😀e\u0301', 'abc', '', null]);
    const out = frame
      .select({
        chars: col('s').str.lenChars(),
        bytes: col('s').str.lenBytes(),
        units: col('s').length(),
        tail: col('s').str.slice(-2),
        clipped: col('s').str.slice(-5, 3),
        digits: col('s').str.extract('(\\d)'),
        padded: col('s').str.padStart(4, '😀'),
      })
      .collectSync();
    assert.deepEqual(out, [
      { chars: 4, bytes: 8, units: 5, tail: 'e\u0301', clipped: 'a😀', digits: null, padded: 'a😀e\u0301' },
      { chars: 3, bytes: 3, units: 3, tail: 'bc', clipped: 'a', digits: null, padded: '😀abc' },
      { chars: 0, bytes: 0, units: 0, tail: '', clipped: '', digits: null, padded: '😀😀😀😀' },
      { chars: null, bytes: null, units: null, tail: null, clipped: null, digits: null, padded: null },
    ]);
  });

  it('concatStr is null where any part is, unless ignoreNulls; numbers and booleans are written as String() writes them', () => {
    const frame = frameOf(['a', null, 'c']);
    const out = frame
      .select({
        all: concatStr([col('s'), col('n'), col('f'), lit(true)], { separator: '|' }),
        skip: concatStr([col('s'), col('n')], { separator: '-', ignoreNulls: true }),
      })
      .collectSync();
    assert.deepEqual(out, [
      { all: null, skip: 'a' },
      { all: null, skip: '-13' },
      { all: 'c|-6|-0.5|true', skip: 'c--6' },
    ]);
  });

  it('text made per row is interned per morsel and merged: sorted, grouped, joined and filtered like any column', async () => {
    const n = 500;
    const frame = Texts.fromColumns({
      s: Array.from({ length: n }, (_, k) => `k${k % 37}`),
      t: Array.from({ length: n }, (_, k) => (k % 11 === 0 ? null : String(k % 5))),
      n: Array.from({ length: n }, (_, k) => k % 13),
      f: Array.from({ length: n }, (_, k) => k),
    });
    const q = frame
      .withColumns({ key: concatStr([col('s'), col('n')], { separator: '/' }), label: col('n').cast('utf8') })
      .filter(col('key').ne('k1/1'))
      .groupBy('key', 'label')
      .agg({ rows: col('f').count(), top: col('key').max() })
      .sort(['key', 'label']);
    const expected = new Map<string, number>();
    for (let k = 0; k < n; k++) {
      const key = `k${k % 37}/${k % 13}`;
      if (key !== 'k1/1') expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const want = [...expected].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, rows]) => ({ key, label: key.split('/')[1]!, rows, top: key }));
    assert.deepEqual(q.collectSync(), want);
    assert.deepEqual(await q.collect({ executor: pool }), want);
    // A join on text made per row, on both sides, with dictionaries built independently per morsel.
    const left = frame.select({ key: concatStr([col('s'), lit('!')]), f: col('f') });
    const right = frame.head(40).select({
      key: concatStr([col('s'), lit('!')])
        .str.toUpperCase()
        .str.toLowerCase(),
      g: col('n'),
    });
    const joined = await left.join(right, { on: 'key', how: 'semi' }).collect({ executor: pool });
    assert.equal(joined.length, n);
    const inner = await left.join(right.filter(col('g').eq(3)), { on: 'key', how: 'inner' }).collect({ executor: pool });
    // Right rows k in 0..39 with k % 13 = 3 (k = 3, 16, 29) carry keys k3!, k16!, k29!: each matches n/37 or so left rows.
    const expectedInner = Array.from({ length: n }, (_, k) => `k${k % 37}!`).filter((key) => ['k3!', 'k16!', 'k29!'].includes(key)).length;
    assert.equal(inner.length, expectedInner);
  });

  it('aggregating text made per row is refused at build time, naming the way out', () => {
    const frame = frameOf(['a']);
    assert.throws(
      () => frame.groupBy('n').agg({ m: concatStr([col('s'), col('t')]).max() }),
      (e: unknown) => e instanceof ExpressionTypeError && /withColumns\(\) first/.test(e.message),
    );
    assert.throws(() => frame.select({ m: col('n').cast('utf8').first() }), ExpressionTypeError);
  });

  it('patterns are checked where they enter: an invalid regular expression is an InvalidArgumentError, a literal one is text', () => {
    assert.throws(
      () => col('s').str.contains('('),
      (e: unknown) => e instanceof InvalidArgumentError && /str\.contains\(pattern\)/.test(e.message),
    );
    assert.throws(() => col('s').str.replaceAll('\\-', 'x'), InvalidArgumentError);
    assert.throws(() => col('s').str.extract('(a)', 2), InvalidArgumentError);
    assert.throws(() => col('s').str.padStart(3, 'ab'), InvalidArgumentError);
    const out = frameOf(['a(b(', 'x'])
      .select({ c: col('s').str.countMatches('(', { literal: true }), r: col('s').str.replaceAll('(', '$&', { literal: true }) })
      .collectSync();
    assert.deepEqual(out, [
      { c: 2, r: 'a$&b$&' },
      { c: 0, r: 'x' },
    ]);
  });
});

describe('casts between text and values', () => {
  const numbers = frameOf(['12', '-3', '+4', ' 5', '1.5', '1e3', 'nan', '-inf', '99999999999', 'true', null]);

  it('parses integers (sign and digits), floats (fraction, exponent, inf, nan) and booleans; non-strict gives null', () => {
    const out = numbers
      .select({
        i: col('s').cast('int32', { strict: false }),
        l: col('s').cast('int64', { strict: false }),
        d: col('s').str.toNumber({ strict: false }),
        b: col('s').cast('bool', { strict: false }),
      })
      .collectSync();
    assert.deepEqual(
      out.map((r) => r.i),
      [12, -3, 4, null, null, null, null, null, null, null, null],
    );
    assert.deepEqual(
      out.map((r) => r.l),
      [12n, -3n, 4n, null, null, null, null, null, 99999999999n, null, null],
    );
    assert.deepEqual(
      out.map((r) => r.d),
      [12, -3, 4, null, 1.5, 1000, Number.NaN, -Infinity, 99999999999, null, null],
    );
    assert.deepEqual(
      out.map((r) => r.b),
      [null, null, null, null, null, null, null, null, null, true, null],
    );
  });

  it('a strict cast raises CastError naming the text and its row, inline and on a pool', async () => {
    const q = numbers.select({ i: col('s').cast('int32') });
    assert.throws(
      () => q.collectSync(),
      (e: unknown) => e instanceof CastError && /" 5" at row 3 to int32/.test(e.message),
    );
    await assert.rejects(q.collect({ executor: pool }), CastError);
    const dynamic = numbers.select({ d: concatStr([col('s'), lit('x')]).str.toNumber() });
    assert.throws(
      () => dynamic.collectSync(),
      (e: unknown) => e instanceof CastError && /"12x" at row 0 to float64/.test(e.message),
    );
  });

  it('numbers and booleans to text, and back', () => {
    const frame = frameOf(['a', 'b', 'c']);
    const out = frame
      .select({ n: col('n').cast('utf8'), f: col('f').cast('utf8'), b: col('n').isNull().cast('utf8'), back: col('f').cast('utf8').cast('float64') })
      .collectSync();
    assert.deepEqual(out, [
      { n: null, f: '-1', b: 'true', back: -1 },
      { n: '-13', f: '-0.75', b: 'false', back: -0.75 },
      { n: '-6', f: '-0.5', b: 'false', back: -0.5 },
    ]);
  });

  it('the WebGPU engine runs table lookups and says why text made per row and casts from text stay on the CPU', { skip: noGpu }, async () => {
    const q = frameOf(['ab', 'b', null]).select({ a: col('s').str.lenChars(), b: col('s').str.replace('b', 'x'), c: col('s').str.contains('^a') });
    assert.doesNotMatch(q.explain({ executor: gpu! }), /CPU/);
    assert.deepEqual(await q.collect({ executor: gpu! }), q.collectSync());
    const cpuOnly = frameOf(['1', 'x']).select({ c: concatStr([col('s'), col('t')]), d: col('s').cast('int32', { strict: false }) });
    assert.match(cpuOnly.explain({ executor: gpu! }), /concatStr/);
    assert.deepEqual(await cpuOnly.collect({ executor: gpu! }), [
      { c: '1x', d: 1 },
      { c: 'x1', d: null },
    ]);
  });
});
