// utf8Dictionary reads a utf8 expression's dictionary from the plan without compiling it: it must give
// the dictionary both expression compilers build while compiling (the GPU group-by's rank dictionaries
// come from it, the ranks its kernel uses from the WGSL compiler, the CPU kernel's from the JS one).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpr, KernelBuilder } from '../../../src/engines/cpu/codegen.js';
import { utf8Dictionary } from '../../../src/engines/shared/dictionaries.js';
import { compileWgsl, unsupportedReason, WgslBuilder } from '../../../src/engines/webgpu/wgsl-expr.js';
import { bindExpr } from '../../../src/expr/bind.js';
import { coalesce, col, lit, when, type Expr } from '../../../src/expr/expr.js';
import type { Column, Field } from '../../../src/model/types.js';
import { buildColumn } from '../cpu/kernels/kernel-helpers.js';

const fields: Field[] = [
  { name: 's', dtype: 'utf8', nullable: true },
  { name: 't', dtype: 'utf8', nullable: false },
  { name: 'i', dtype: 'int32', nullable: false },
];
const columns = new Map<string, Column>([
  ['s', buildColumn('utf8', ['b', null, 'B', 'a', 'c'], ['b', 'B', 'a', 'c'])],
  ['t', buildColumn('utf8', ['x', 'a', 'A', 'x', 'a'], ['x', 'a', 'A'])],
  ['i', buildColumn('int32', [1, -1, 0, 2, 3])],
]);
const bind = (e: Expr) => bindExpr(e.node, { fields, context: 'test' });

const expressions: Record<string, Expr> = {
  column: col('s'),
  literal: lit('z'),
  lower: col('s').lower(),
  upper: col('t').upper(),
  'lower of upper': col('s').upper().lower(),
  cast: col('t').cast('utf8'),
  'when over two columns': when(col('i').gt(lit(0)))
    .then(col('s'))
    .otherwise(col('t')),
  'when with a literal and no otherwise': when(col('i').gt(lit(0))).then(lit('q')),
  'when over one column twice': when(col('i').gt(lit(0)))
    .then(col('s'))
    .otherwise(col('s')),
  'when with a mapped branch': when(col('i').gt(lit(1)))
    .then(col('t').lower())
    .when(col('i').lt(lit(0)))
    .then(lit('a'))
    .otherwise(col('s')),
  coalesce: coalesce(col('s'), col('t'), lit('zz')),
  'coalesce with a literal': coalesce(col('s'), lit('a')),
};

describe('utf8Dictionary', () => {
  for (const [name, e] of Object.entries(expressions)) {
    it(`matches both compilers' dictionary: ${name}`, () => {
      const expr = bind(e);
      assert.equal(expr.type.dtype, 'utf8');
      const derived = utf8Dictionary(columns, expr);
      assert.deepEqual(derived, compileExpr(new KernelBuilder(columns), expr).dictionary ?? []);
      if (unsupportedReason(expr) === null) assert.deepEqual(derived, compileWgsl(new WgslBuilder(columns), expr).dictionary ?? []);
    });
  }
});
