// The WGSL expression compiler on its own: random expressions over the GPU's dtypes (int32, float32, bool,
// utf8) compiled by wgsl-expr.ts and run on the device through the filter-project kernel, as outputs and as
// predicates, must give the CPU compiler's values, nulls, kept rows and overflow errors; and the WGSL text
// of a few hand-picked expressions must pass Dawn's shader validation. Skipped without an adapter unless
// GPUFRAME_REQUIRE_GPU=1.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { evaluateAtRows } from '../../../src/engines/cpu/kernels/filter-project.js';
import { gpuFilterProject } from '../../../src/engines/webgpu/kernels/filter-project.js';
import { ResidentColumns } from '../../../src/engines/webgpu/resident.js';
import { compileWgsl, unsupportedReason, WgslBuilder } from '../../../src/engines/webgpu/wgsl-expr.js';
import { bindExpr } from '../../../src/expr/bind.js';
import type { BoundExpr } from '../../../src/expr/types.js';
import { ArithmeticOverflowError, coalesce, col, lit, when, type Expr } from '../../../src/index.js';
import { allocShared, makeColumn } from '../../../src/model/column.js';
import type { Column, ColumnBatch, Field } from '../../../src/model/types.js';
import { cellMismatch, Chooser, dtypeOf, genAnyExpr, randomTable, runs, showNode, type TableSpec } from '../../property/harness.js';
import type { RefValue } from '../../reference.js';
import { buildColumn, cellsOf, dictionaryFor, type Cell } from '../cpu/kernels/kernel-helpers.js';
import { testGpu } from './device.js';

// 8 KiB bindings: 2048 rows a chunk, so the larger tables run in several chunks.
const { ctx, skip } = await testGpu({ maxBindingBytes: 8192 });
const resident = ctx ? new ResidentColumns(ctx, 1 << 28) : null;
after(() => ctx?.destroy());

const GPU_KINDS = ['int32', 'float32', 'bool', 'utf8', 'enum'] as const;

function batchOf(table: TableSpec): ColumnBatch {
  const columns = table.columns.map((c, k) => {
    const cells = table.rows.map((r) => (r[c.name] ?? null) as Cell);
    return buildColumn(dtypeOf(c.kind), cells, dictionaryFor(cells, ['unused'], k));
  });
  const rowIds = allocShared(Int32Array, table.rows.length);
  rowIds.forEach((_, i) => (rowIds[i] = i));
  return {
    length: table.rows.length,
    names: [...table.columns.map((c) => c.name), 'row'],
    columns: [...columns, makeColumn('int32', table.rows.length, rowIds, null)],
  };
}

function bind(expr: Expr, table: TableSpec): BoundExpr {
  const fields: Field[] = table.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind), nullable: c.nullable }));
  return bindExpr(expr.node, { fields, context: 'wgsl test' });
}

/** The column an engine computes for `expr`, or 'overflow'. */
async function outcome(run: () => Column | Promise<Column>): Promise<Cell[] | 'overflow'> {
  try {
    return cellsOf(await run());
  } catch (error) {
    if (error instanceof ArithmeticOverflowError) return 'overflow';
    throw error;
  }
}

/** Runs `expr` on both engines as an output (and, for a boolean, as a predicate) and compares. */
async function check(expr: Expr, table: TableSpec): Promise<void> {
  const bound = bind(expr, table);
  const label = `${showNode(expr.node)} : ${bound.type.dtype} over ${table.rows.length} rows`;
  const batch = batchOf(table);
  const columns = new Map(batch.names.map((name, k) => [name, batch.columns[k]!]));
  const rows = Int32Array.from({ length: batch.length }, (_, i) => i);
  const cpu = await outcome(() => evaluateAtRows(columns, [{ name: 'e', expr: bound }], rows)[0]!);
  const gpu = await outcome(async () => (await gpuFilterProject(ctx!, resident!, batch, null, [{ name: 'e', expr: bound }])).columns[0]!);
  if (cpu === 'overflow' || gpu === 'overflow') {
    assert.equal(gpu, cpu, `${label}: overflow on one engine only`);
    return;
  }
  assert.equal(gpu.length, cpu.length, label);
  cpu.forEach((c, i) => {
    const why = cellMismatch(gpu[i], c, bound.type.dtype);
    if (why !== null) assert.fail(`${label}: row ${i}: ${why}`);
  });
  if (bound.type.dtype !== 'bool') return;
  const kept = await gpuFilterProject(ctx!, resident!, batch, bound, [
    { name: 'row', expr: { kind: 'col', name: 'row', type: { dtype: 'int32', nullable: false } } },
  ]);
  assert.deepEqual(
    cellsOf(kept.columns[0]!),
    cpu.flatMap((c, i) => (c === true ? [i] : [])),
    `${label}: rows kept as a predicate`,
  );
}

function table(columns: Record<string, { kind: (typeof GPU_KINDS)[number]; cells: RefValue[] }>): TableSpec {
  const specs = Object.entries(columns).map(([name, c]) => ({ name, kind: c.kind, nullable: c.cells.includes(null), low: false }));
  const length = Object.values(columns)[0]!.cells.length;
  return { columns: specs, rows: Array.from({ length }, (_, i) => Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, c.cells[i]!]))) };
}

describe('wgsl-expr: compiled WGSL on the device equals the CPU compiler', { skip }, () => {
  it('random expressions over int32, float32, bool and utf8 columns, as outputs and as predicates', async () => {
    let supported = 0;
    let drawn = 0;
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const t = randomTable(ch, 'c', ch.chance(10) ? ch.int(2040, 4200) : ch.int(1, 40), GPU_KINDS);
        const fields = t.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) }));
        const expr = genAnyExpr(ch, fields, 3);
        drawn++;
        if (unsupportedReason(bind(expr, t)) !== null) return; // the planner keeps these on the CPU
        supported++;
        await check(expr, t);
      }),
      runs(250, 60),
    );
    // The property is only worth something if most draws reach the device.
    assert.ok(supported >= drawn / 3, `only ${supported} of ${drawn} expressions ran on the device`);
  });

  it('int32 overflow raises the CPU error; integer modulo by zero is null; Kleene logic with nulls', async () => {
    const t = table({
      a: { kind: 'int32', cells: [2147483647, -2147483648, 5, null, 0, -7] },
      b: { kind: 'int32', cells: [1, 0, null, 3, 0, 2] },
      p: { kind: 'bool', cells: [true, false, null, true, null, false] },
      q: { kind: 'bool', cells: [null, null, null, false, true, true] },
    });
    for (const e of [
      col('a').add(col('b')),
      col('a').sub(1),
      col('a').mul(2),
      col('a').neg(),
      col('a').abs(),
      col('a').mod(col('b')),
      col('p').and(col('q')),
      col('p').or(col('q')),
      col('p').and(null),
      col('p').not().or(col('q').isNull()),
    ]) {
      assert.equal(unsupportedReason(bind(e, t)), null, showNode(e.node));
      await check(e, t);
    }
  });

  it('floorDiv, clip, sign, the NaN tests, fillNull, fillNan and nullIf at the edges; transcendentals stay on the CPU', async () => {
    const t = table({
      a: { kind: 'int32', cells: [7, -7, 2147483647, -2147483648, null, 0, -9, -2147483648] },
      b: { kind: 'int32', cells: [2, 2, -1, 2, 3, 0, -4, null] },
      f: { kind: 'float32', cells: [1.5, Number.NaN, -0, null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -2.5] },
    });
    for (const e of [
      col('a').floorDiv(col('b')),
      col('a').floorDiv(-3),
      col('a').floorDiv(0),
      col('a').clip(-5, col('b')),
      col('a').clip(null, 3),
      col('f').clip(-1, 1),
      col('f').clip(col('f'), null),
      col('a').sign(),
      col('f').sign(),
      col('f').isNan(),
      col('f').isNotNan(),
      col('f').isFinite(),
      col('f').isInfinite(),
      col('a').fillNull(col('b')),
      col('f').fillNan(2),
      col('f').fillNan(null),
      col('a').nullIf(col('b')),
      col('f').nullIf(0),
    ]) {
      assert.equal(unsupportedReason(bind(e, t)), null, showNode(e.node));
      await check(e, t);
    }
    // The minimum by -1 raises on both engines, as the CPU's overflow rule says.
    await check(col('a').floorDiv(-1), t);
    for (const e of [
      col('a').sqrt(),
      col('f').exp(),
      col('f').log(),
      col('f').log(2),
      col('a').pow(2),
      col('f').log10(),
      col('f').log1p(),
      col('f').floorDiv(2),
    ]) {
      assert.match(unsupportedReason(bind(e, t)) ?? '', /not correctly rounded|float floorDiv/, showNode(e.node));
    }
  });

  it('strings, casts, when and coalesce with nulls and dictionaries that do not match', async () => {
    const t = table({
      s: { kind: 'utf8', cells: ['ab', 'ß', null, 'İ', '', 'a😀'] },
      u: { kind: 'utf8', cells: [null, 'B', 'zz', 'ab', 'ab', null] },
      f: { kind: 'float32', cells: [1.5, -2.5, Number.NaN, null, Math.fround(3e38), -0] },
      i: { kind: 'int32', cells: [1, null, -3, 4, 0, 2147483647] },
    });
    for (const e of [
      col('s').upper(),
      col('s').lower().length(),
      col('s').lt(col('u')),
      col('s').eq('ab'),
      col('s').endsWith('b'),
      col('s').isIn(['ß', 'zz']),
      coalesce(col('s'), col('u'), lit('none')),
      when(col('f').gt(0)).then(col('s')).otherwise(col('u').upper()),
      when(col('i').isNull()).then(lit(0)).otherwise(col('i').mul(2)),
      col('f').cast('int32'),
      col('i').cast('float32'),
      col('f').add(col('f')),
      col('f').floor(),
      col('f').abs().ge(1.5),
    ]) {
      assert.equal(unsupportedReason(bind(e, t)), null, showNode(e.node));
      await check(e, t);
    }
  });
});

describe('wgsl-expr: the generated WGSL passes shader validation', { skip }, () => {
  const t = table({
    a: { kind: 'int32', cells: [1, null] },
    f: { kind: 'float32', cells: [Number.NaN, 2] },
    p: { kind: 'bool', cells: [null, true] },
    s: { kind: 'utf8', cells: ['x', null] },
  });
  const columns = new Map(batchOf(t).names.map((name, k) => [name, batchOf(t).columns[k]!]));

  /** Dawn's verdict on the filter-project shader with `body` as the predicate function's body. */
  async function validate(body: (b: WgslBuilder) => string[]): Promise<string | null> {
    const b = new WgslBuilder(columns);
    const lines = body(b);
    const pipeline = ctx!.pipeline(
      'filter-project',
      { DECLS: b.inputDeclarations(5).text, PREDICATE: lines.join('\n'), OUTPUTS: '' },
      { WG: 256 },
      'select_rows',
    );
    return (await ctx!.checks.get(pipeline)) ?? null;
  }

  it('compiles each expression kind into a shader Dawn accepts', async () => {
    for (const e of [
      col('a').add(1).mul(col('a')).neg().abs(),
      col('f').lt(Number.POSITIVE_INFINITY).and(col('p').or(null)),
      col('a').isIn([1, 2, 3]).or(col('s').contains('x')),
      when(col('p')).then(col('s').upper()).otherwise(lit('y')).length(),
      coalesce(col('f'), col('a').cast('float32')),
      col('f').cast('int32').mod(col('a')),
      col('p').ge(col('p').not()).and(col('s').lt('y')),
      col('a').floorDiv(col('a')).clip(-1, col('a')).sign().add(col('f').sign().clip(0, 1).cast('int32')),
      col('f')
        .isNan()
        .or(col('f').isFinite())
        .and(col('f').isInfinite().or(col('f').isNotNan())),
    ]) {
      assert.equal(unsupportedReason(bind(e, t)), null, showNode(e.node));
      const verdict = await validate((b) =>
        b.capture(() => {
          const v = compileWgsl(b, bind(e, t));
          b.line(`_ = ${v.v}; _ = ${v.n};`);
        }),
      );
      assert.equal(verdict, null, showNode(e.node));
    }
  });

  it('the check itself notices a shader that does not compile', async () => {
    const verdict = await validate(() => ['let broken: i32 = true;']);
    assert.match(verdict ?? '', /did not compile/);
  });
});
