// The CPU expression compiler on its own: random well-typed expressions (arithmetic with the int32/int64
// overflow rules, comparisons, Kleene logic, casts, string functions, when/coalesce) compiled by codegen.ts
// and run row by row over random typed columns, against the row-at-a-time evaluator of test/reference.ts.
// No plan, optimiser or engine sits between the two: a difference here is the compiler's.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileExpr, KernelBuilder } from '../../../src/engines/cpu/codegen.js';
import { kernelLib } from '../../../src/engines/cpu/kernels/runtime.js';
import { bindExpr } from '../../../src/expr/bind.js';
import type { BoundExpr } from '../../../src/expr/types.js';
import { ArithmeticOverflowError, coalesce, col, lit, when, type Expr } from '../../../src/index.js';
import type { Column, Field } from '../../../src/model/types.js';
import { Chooser, cellMismatch, dtypeOf, genAnyExpr, randomTable, replacer, runs, showNode, type TableSpec } from '../../property/harness.js';
import { compileExpr as referenceExpr, type RefRow, type RefValue } from '../../reference.js';
import { buildColumn, dictionaryFor, type Cell } from './kernels/kernel-helpers.js';

type Outcome = { value: RefValue } | 'overflow';

/** A table's columns as engine columns: nulls over junk values, shuffled dictionaries with unused entries. */
function columnsOf(table: TableSpec): Map<string, Column> {
  return new Map(
    table.columns.map((c, k) => {
      const dtype = dtypeOf(c.kind);
      const cells = table.rows.map((r): Cell => {
        const v = r[c.name] ?? null;
        return v instanceof Date ? BigInt(v.getTime()) : v;
      });
      return [c.name, buildColumn(dtype, cells, dictionaryFor(cells, ['unused'], k))];
    }),
  );
}

function fieldsOfTable(table: TableSpec): Field[] {
  // Timestamps are milliseconds here, as z.date() declares them (and kernel-helpers builds them).
  return table.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind), ...(c.kind === 'timestamp' ? { unit: 'ms' as const } : {}), nullable: c.nullable }));
}

/** Compiles `expr` into a kernel that evaluates rows start..end; returns one outcome per row. */
function compiled(expr: BoundExpr, columns: ReadonlyMap<string, Column>, length: number): Outcome[] {
  const b = new KernelBuilder(columns);
  b.line('for (let i = start; i < end; i++) {');
  const c = compileExpr(b, expr);
  b.line(`out.v[i] = ${c.v}; out.n[i] = ${c.n};`);
  b.line('}');
  const source = `${b.headerText()}\n${b.takeBody()}`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the kernel source is what codegen.ts wrote, as the engine's own compile step runs it
  const kernel = new Function('cols', 'params', 'start', 'end', 'out', 'lib', `'use strict';\n${source}`) as (...args: unknown[]) => void;
  const cols = b.slotColumns.map((col) => ({ values: col.values, validity: col.validity }));
  const out = { v: [] as unknown[], n: [] as boolean[] };
  const outcomes: Outcome[] = [];
  for (let i = 0; i < length; i++) {
    try {
      kernel(cols, b.params, i, i + 1, out, kernelLib);
    } catch (error) {
      if (!(error instanceof ArithmeticOverflowError)) throw error;
      outcomes.push('overflow');
      continue;
    }
    const v = out.v[i];
    if (out.n[i]) outcomes.push({ value: null });
    // Text made per row (concatStr, numbers cast to utf8) is the string itself, not a dictionary code.
    else if (c.dtype === 'utf8') outcomes.push({ value: c.dynamic === true ? (v as string) : c.dictionary![v as number]! });
    else if (c.dtype === 'timestamp') outcomes.push({ value: new Date(Number(v)) });
    else outcomes.push({ value: v as RefValue });
  }
  return outcomes;
}

function expected(expr: Expr, table: TableSpec): Outcome[] {
  const ref = referenceExpr(
    expr.node,
    table.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) })),
  );
  return table.rows.map((row: RefRow): Outcome => {
    try {
      return { value: ref.at(row) };
    } catch (error) {
      if (error instanceof ArithmeticOverflowError) return 'overflow';
      throw error;
    }
  });
}

/** Compiles and runs `expr` over `table` and asserts every row equals the reference's, overflow included. */
function check(expr: Expr, table: TableSpec): void {
  const bound = bindExpr(expr.node, { fields: fieldsOfTable(table), context: 'codegen test' });
  const want = expected(expr, table);
  const got = compiled(bound, columnsOf(table), table.rows.length);
  const dtype = bound.type.dtype;
  const label = `${showNode(expr.node)} : ${dtype}`;
  assert.equal(dtype, referenceExpr(expr.node, fieldsOfTable(table)).dtype, `${label}: bound type differs from the reference's`);
  want.forEach((w, i) => {
    const g = got[i]!;
    const row = JSON.stringify(table.rows[i], replacer);
    if (w === 'overflow' || g === 'overflow') {
      assert.equal(g === 'overflow' ? 'overflow' : 'a value', w === 'overflow' ? 'overflow' : 'a value', `${label}: row ${i} ${row}`);
      return;
    }
    const why = cellMismatch(g.value, w.value, dtype);
    if (why !== null) assert.fail(`${label}: row ${i} ${row}: ${why}`);
  });
}

/** A one-column-per-entry table from explicit cells. */
function table(columns: Record<string, { kind: TableSpec['columns'][number]['kind']; cells: RefValue[] }>): TableSpec {
  const specs = Object.entries(columns).map(([name, c]) => ({ name, kind: c.kind, nullable: c.cells.includes(null), low: false }));
  const length = Object.values(columns)[0]!.cells.length;
  const rows = Array.from({ length }, (_, i) => Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, c.cells[i]!])));
  return { columns: specs, rows };
}

describe('codegen: compiled expressions against the reference evaluator', () => {
  it('random expressions of every kind over random typed columns, row by row', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const ch = new Chooser(g);
        const t = randomTable(ch, 'c', ch.int(1, 30));
        const fields = t.columns.map((c) => ({ name: c.name, dtype: dtypeOf(c.kind) }));
        check(genAnyExpr(ch, fields, 4), t);
      }),
      runs(400),
    );
  });

  it('int32 and int64 overflow raise exactly on the rows that overflow, never on null rows', () => {
    const t = table({
      a: { kind: 'int32', cells: [2147483647, -2147483648, 5, null, 0] },
      b: { kind: 'int64', cells: [2n ** 62n, -(2n ** 63n), 3n, null, 9223372036854775807n] },
    });
    for (const e of [
      col('a').add(1),
      col('a').sub(1),
      col('a').mul(2),
      col('a').neg(),
      col('a').abs(),
      col('b').mul(2n),
      col('b').add(col('b')),
      col('b').neg(),
      col('b').abs(),
      col('b').cast('int32'),
      col('a').mod(0),
      col('b').mod(col('a')),
    ]) {
      check(e, t);
    }
    // The checks must see overflow where there is some: int32 max + 1 is not silently wrapped.
    const bound = bindExpr(col('a').add(1).node, { fields: fieldsOfTable(t), context: 'codegen test' });
    assert.deepEqual(compiled(bound, columnsOf(t), 5)[0], 'overflow');
    assert.deepEqual(compiled(bound, columnsOf(t), 5)[3], { value: null });
  });

  it('Kleene logic: a definite false decides AND, a definite true decides OR, otherwise null wins', () => {
    const cells: (boolean | null)[] = [true, false, null];
    const t = table({
      p: { kind: 'bool', cells: cells.flatMap((x) => cells.map(() => x)) },
      q: { kind: 'bool', cells: cells.flatMap(() => cells) },
    });
    for (const e of [col('p').and(col('q')), col('p').or(col('q')), col('p').not(), col('p').and(null), col('p').or(null), col('p').isNull()]) check(e, t);
  });

  it('casts, string functions, when and coalesce with nulls and unshared dictionaries', () => {
    const t = table({
      s: { kind: 'utf8', cells: ['ab', 'ß', null, 'İ', '', 'a😀'] },
      u: { kind: 'utf8', cells: [null, 'B', 'zz', 'ab', 'ab', null] },
      f: { kind: 'float64', cells: [1.5, -2.5, Number.NaN, null, 1e300, -0] },
      d: { kind: 'timestamp', cells: [new Date(0), null, new Date(-86_400_000), new Date(1.7e12), new Date(1), new Date(-1)] },
    });
    for (const e of [
      col('s').upper(),
      col('s').lower().length(),
      col('s').lt(col('u')),
      col('s').eq('ab'),
      col('s').startsWith('a'),
      col('s').isIn(['ß', 'zz']),
      coalesce(col('s'), col('u'), lit('none')),
      when(col('f').gt(0)).then(col('s')).otherwise(col('u').upper()),
      when(col('f').isNull()).then(lit(0)).otherwise(col('f').round(1)),
      col('f').cast('int64'),
      col('f').cast('int32'),
      col('d').cast('int64'),
      col('f').floor().cast('float32'),
    ]) {
      check(e, t);
    }
  });
});
