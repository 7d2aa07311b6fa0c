// Type checking at build time: loosely generated expressions (often ill-typed, sometimes naming columns
// that do not exist) must be accepted or refused exactly as the reference's typing rules say, with the same
// error class, the same unknown column names and, when accepted, the same result dtype.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { coalesce, col, lit, UnknownColumnError, when, type Expr, type Frame } from '../../src/index.js';
import type { DType, LiteralValue } from '../../src/index.js';
import { RefFrame, type RefField } from '../reference.js';
import { buildBoth, Chooser, fieldsOf, randomTable, runs, showNode } from './harness.js';

const DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'timestamp'];

function looseLiteral(ch: Chooser): LiteralValue {
  return ch.pick<LiteralValue>([null, 0, 1, -7, 2.5, 3_000_000_000, 9n, 'a', '', true, false, new Date(0), 0.1, 2 ** 53]);
}

/** Any shape of expression over any operands: the typing rules decide whether it is valid. */
function looseExpr(ch: Chooser, fields: readonly RefField[], depth: number): Expr {
  const leaf = (): Expr => (ch.chance(70) && fields.length > 0 ? col(ch.chance(5) ? 'nope' : ch.pick(fields).name) : lit(looseLiteral(ch)));
  if (depth <= 0 || ch.chance(25)) return leaf();
  const sub = (): Expr => looseExpr(ch, fields, depth - 1);
  const operand = (): Expr | LiteralValue => (ch.chance(30) ? looseLiteral(ch) : sub());
  switch (ch.int(0, 9)) {
    case 0:
    case 1:
      return sub()[ch.pick(['add', 'sub', 'mul', 'div', 'mod', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or'] as const)](operand());
    case 2:
      return sub()[ch.pick(['neg', 'not', 'abs', 'floor', 'ceil', 'isNull', 'isNotNull', 'lower', 'upper', 'length'] as const)]();
    case 3:
      return sub().round(ch.int(0, 2));
    case 4:
      return sub().isIn(Array.from({ length: ch.int(0, 3) }, () => looseLiteral(ch)));
    case 5:
      return sub()[ch.pick(['startsWith', 'endsWith', 'contains'] as const)]('a');
    case 6: {
      const w = when(sub()).then(operand());
      return ch.chance(50) ? w.otherwise(operand()) : w;
    }
    case 7:
      return coalesce(sub(), ...(ch.chance(50) ? [sub()] : []));
    case 8:
      return sub().cast(ch.pick(DTYPES));
    default:
      return sub().between(operand(), operand());
  }
}

type Outcome = { readonly ok: true; readonly dtypes: string } | { readonly ok: false; readonly error: string; readonly columns?: readonly string[] };

function outcome(build: () => { schema: readonly { name: string; dtype: DType }[] } | RefFrame): Outcome {
  try {
    const built = build();
    const fields = built instanceof RefFrame ? built.fields : built.schema;
    return { ok: true, dtypes: fields.map((f) => `${f.name}:${f.dtype}`).join(', ') };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    // RangeError and plain Errors would be bugs in the generator or the library, not verdicts.
    assert.ok(error instanceof TypeError || error instanceof UnknownColumnError, `unexpected ${error.stack ?? String(error)}`);
    return { ok: false, error: error.constructor.name, ...(error instanceof UnknownColumnError ? { columns: error.columns } : {}) };
  }
}

describe('build-time type checking', () => {
  it('accepts and refuses loose expressions exactly as the reference does (withColumns, filter, agg)', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', 0);
        const fields = fieldsOf(table);
        const { frame } = buildBoth(table);
        const ref = new RefFrame(fields, []);
        const e = looseExpr(ch, fields, 3);
        const verb = ch.pick(['withColumns', 'filter', 'agg'] as const);
        const op = ch.pick(['sum', 'mean', 'min', 'max', 'median', 'std', 'var', 'count', 'first', 'nUnique', 'corr'] as const);
        const other = op === 'corr' ? looseExpr(ch, fields, 2) : null;
        const aggregated = (): Expr => (other !== null ? e.corr(other) : e[op as Exclude<typeof op, 'corr'>]());
        const onFrame = (): Frame => (verb === 'withColumns' ? frame.withColumns({ e }) : verb === 'filter' ? frame.filter(e) : frame.agg({ a: aggregated() }));
        const onRef = (): RefFrame => (verb === 'withColumns' ? ref.withColumns({ e }) : verb === 'filter' ? ref.filter(e) : ref.agg({ a: aggregated() }));
        const label = `${verb}(${showNode(e.node)}${verb === 'agg' ? `.${op}(${other ? showNode(other.node) : ''})` : ''}) over ${fields.map((f) => `${f.name}:${f.dtype}`).join(', ')}`;
        assert.deepEqual(outcome(onFrame), outcome(onRef), label);
      }),
      runs(2000),
    );
  });
});
