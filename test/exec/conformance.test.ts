// The support matrix, executed: every cell of README's expression table that says the engines run an
// expression (or an aggregation) over a column type is run over random columns of that type in every mode
// (inline, worker pools, the WebGPU engine) and compared with the reference interpreter (test/reference.ts);
// where the cell says webgpu, explainAnalyze must show that the device ran it. A new dtype or expression
// that reaches the matrix is covered here without a line of test.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { expressionSupport, expressionTemplates, SUPPORT_DTYPES } from '../../src/exec/support.js';
import { Expr } from '../../src/expr/expr.js';
import { ArithmeticOverflowError } from '../../src/errors.js';
import { bindExpr } from '../../src/expr/bind.js';
import { AGG_OPS, type ExprNode } from '../../src/expr/types.js';
import { isTemporal } from '../../src/model/dtype.js';
import type { DType, Field } from '../../src/model/types.js';
import {
  buildBoth,
  CHECKED_ELSEWHERE,
  checkPlan,
  createModes,
  dtypeOf,
  KINDS,
  prng,
  tableRows,
  type ColumnSpec,
  type Kind,
  type Step,
  type TableSpec,
} from '../property/harness.js';

const modes = createModes();
after(() => modes.close());

const support = new Map(expressionSupport().map((row) => [row.expression, row.cells]));

const ROWS = 300;

function table(kind: Kind, low: boolean, seed: number): TableSpec {
  const columns: ColumnSpec[] = [
    { name: 'x', kind, nullable: true, low },
    { name: 'k', kind: 'int32', nullable: false, low: true },
  ];
  return { columns, rows: tableRows(columns, ROWS, prng(seed)) };
}

/** `t` with its non-finite floats nulled: a narrowing cast of it cannot overflow, so the device run is seen. */
function tame(t: TableSpec): TableSpec {
  return { columns: t.columns, rows: t.rows.map((r) => ({ ...r, x: typeof r['x'] === 'number' && !Number.isFinite(r['x']) ? null : (r['x'] ?? null) })) };
}

function selectStep(name: string, node: ExprNode): Step {
  const expr = new Expr(node);
  return { text: `select({ y: ${name} })`, frame: (f) => f.select({ y: expr }), ref: (r) => r.select({ y: expr }) };
}

function aggStep(op: string, node: ExprNode): Step {
  const expr = new Expr(node);
  return { text: `groupBy('k').agg({ a: ${op} })`, frame: (f) => f.groupBy('k').agg({ a: expr }), ref: (r) => r.groupBy('k').agg({ a: expr }) };
}

function aggNode(op: (typeof AGG_OPS)[number]): ExprNode {
  const x: ExprNode = { kind: 'col', name: 'x' };
  return op === 'countAll' ? { kind: 'agg', op, arg: null } : op === 'corr' ? { kind: 'agg', op, arg: x, arg2: x } : { kind: 'agg', op, arg: x };
}

/** explainAnalyze of the step under the WebGPU engine; null where the values overflow (checkPlan has checked that outcome). */
async function analysed(step: Step, t: TableSpec): Promise<string | null> {
  const frame = step.frame(buildBoth(t).frame);
  try {
    return await frame.explainAnalyze({ executor: modes.gpuExecutor! });
  } catch (error) {
    if (error instanceof ArithmeticOverflowError) return null;
    throw error;
  }
}

/** Asserts that the device ran the operator over every table that did not overflow, and that one did not. */
function ranOnDevice(texts: readonly (string | null)[], line: RegExp, what: string): void {
  const ran = texts.filter((t): t is string => t !== null);
  assert.ok(ran.length > 0, `${what}: some table ran without overflow`);
  for (const text of ran) assert.match(text, line, `${what} ran on the device:\n${text}`);
}

/**
 * Where a matrix cell over `dtype` is checked instead of here (harness.ts CHECKED_ELSEWHERE): its result is
 * a dtype the reference does not model, or it casts into a temporal type; undefined when it is checked here.
 */
function checkedElsewhere(node: ExprNode, dtype: DType): string | undefined {
  const fields: Field[] = [
    { name: 'x', dtype, ...(dtype === 'timestamp' ? { unit: 'ms' as const } : {}), nullable: true },
    { name: 'k', dtype: 'int32', nullable: false },
  ];
  const result = bindExpr(node, { fields, context: 'conformance' }).type.dtype;
  if (node.kind === 'cast' && isTemporal(node.to.dtype) && node.to.dtype !== dtype) return 'test/model/temporal.test.ts';
  return CHECKED_ELSEWHERE[result];
}

describe('the support matrix, executed', () => {
  it('has random columns for every dtype of the matrix, or names the test that checks it', () => {
    for (const dtype of SUPPORT_DTYPES)
      assert.ok(
        KINDS.some((kind) => dtypeOf(kind) === dtype) || CHECKED_ELSEWHERE[dtype] !== undefined,
        `test/property/harness.ts draws ${dtype} columns, or names the test that checks them in CHECKED_ELSEWHERE`,
      );
  });

  for (const kind of KINDS) {
    const dtype: DType = dtypeOf(kind);
    it(`every expression the matrix lists over ${kind} agrees with the reference in every mode`, async () => {
      let seed = 1;
      for (const [name, node] of expressionTemplates(dtype)) {
        const cell = support.get(name)?.[dtype];
        assert.ok(cell !== undefined, `the matrix has a cell for ${name} over ${dtype}`);
        if (cell === 'n/a' || checkedElsewhere(node, dtype) !== undefined) continue;
        const step = selectStep(name, node);
        const texts: (string | null)[] = [];
        for (const t of [table(kind, true, seed++), table(kind, false, seed++), tame(table(kind, true, seed++))]) {
          await checkPlan(t, [step], modes.all, { strictOverflow: true });
          if (cell === 'cpu, webgpu' && modes.gpu) texts.push(await analysed(step, t));
        }
        if (texts.length > 0) ranOnDevice(texts, /^Project .*\[webgpu [\d.]+ ms\]$/m, `${name} over ${kind}`);
      }
    });

    it(`every aggregation the matrix lists over ${kind} agrees with the reference in every mode`, async () => {
      let seed = 1000;
      for (const op of AGG_OPS) {
        const cell = support.get(`${op}()`)?.[dtype];
        assert.ok(cell !== undefined, `the matrix has a cell for ${op}() over ${dtype}`);
        if (cell === 'n/a') continue;
        const step = aggStep(`${op}()`, aggNode(op));
        const texts: (string | null)[] = [];
        for (const t of [table(kind, true, seed++), table(kind, false, seed++), tame(table(kind, true, seed++))]) {
          await checkPlan(t, [step], modes.all, { strictOverflow: true });
          if (cell === 'cpu, webgpu' && modes.gpu) texts.push(await analysed(step, t));
        }
        if (texts.length > 0) ranOnDevice(texts, /^Aggregate .*\[webgpu [\d.]+ ms\]$/m, `${op}() over ${kind}`);
      }
    });
  }
});
