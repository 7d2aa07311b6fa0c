// The support matrix (`npm run ops`, and the generated section of README.md): every physical operator and
// every expression kind, and which engine runs it. It is read from the code, never written by hand: the
// operators from the registry, and each expression by binding it to a column of each type (the CPU engine
// compiles everything that binds) and asking the WebGPU engine whether it can evaluate the result.

import { aggregationUnsupported, expressionUnsupported } from '../engines/webgpu/ops/index.js';
import { bindAgg, bindExpr } from '../expr/bind.js';
import {
  AGG_OPS,
  ARITHMETIC_OPS,
  COMPARE_OPS,
  DT_OPS,
  LOGIC_OPS,
  STRING_MATCH_OPS,
  UNARY_OPS,
  type BinaryOp,
  type DtOp,
  type DtParams,
  type ExprNode,
  type LiteralValue,
} from '../expr/types.js';
import type { DType, Field } from '../model/types.js';
import { OPERATOR_NAMES } from './operators.js';
import { REGISTRY, type ComputeOperator } from './registry.js';

export const SUPPORT_DTYPES: readonly DType[] = ['int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date'];

export interface OperatorSupport {
  readonly name: string;
  readonly from: string;
  /** Why the device does not run it, or null where it does. */
  readonly cpuOnly: string | null;
}

export function operatorSupport(): OperatorSupport[] {
  return OPERATOR_NAMES.filter((name): name is ComputeOperator => name !== 'source').map((name) => {
    const entry = REGISTRY[name];
    return { name, from: entry.from, cpuOnly: entry.webgpu === null ? entry.cpuOnly : null };
  });
}

/** Per column type: not an expression of that type ('n/a'), the CPU only, or both engines. */
export type Cell = 'n/a' | 'cpu' | 'cpu, webgpu';

export interface ExpressionSupport {
  readonly expression: string;
  readonly cells: Readonly<Record<DType, Cell>>;
}

const X: ExprNode = { kind: 'col', name: 'x' };
const BINARY: readonly BinaryOp[] = [...ARITHMETIC_OPS, ...COMPARE_OPS, ...LOGIC_OPS];
/** The public method of binary ops whose IR name is not one. */
const BINARY_NAMES: Partial<Record<BinaryOp, string>> = { logBase: 'log(base)', clipLow: 'clip(low, null)', clipHigh: 'clip(null, high)' };
/** A literal of each type, for isIn. */
const SAMPLE: Readonly<Record<DType, LiteralValue>> = {
  int32: 1,
  int64: 1,
  float32: 1.5,
  float64: 1.5,
  bool: true,
  utf8: 'a',
  date: new Date(0),
};

/** Sample arguments of the dt ops that take some, and the public names of the two parses. */
const DT_PARAMS: Partial<Record<DtOp, DtParams>> = {
  epoch: { epochUnit: 'us' },
  truncate: { every: '1h' },
  offsetBy: { every: '1d' },
  convertTimeZone: { timeZone: 'UTC' },
  replaceTimeZone: { timeZone: 'UTC', ambiguous: 'raise', nonExistent: 'raise' },
  parseDatetime: { format: '%F %T', unit: 'us', strict: true, ambiguous: 'raise' },
  parseDate: { format: '%F', strict: true },
};
const DT_NAMES: Partial<Record<DtOp, string>> = { parseDatetime: 'str.toDatetime', parseDate: 'str.toDate' };

function expressionTemplates(dtype: DType): [string, ExprNode][] {
  return [
    ['col', X],
    ...BINARY.map((op): [string, ExprNode] => [BINARY_NAMES[op] ?? op, { kind: 'binary', op, left: X, right: X }]),
    ...UNARY_OPS.map((op): [string, ExprNode] => [op, { kind: 'unary', op, arg: X }]),
    ['round', { kind: 'round', arg: X, decimals: 2 }],
    ['isIn', { kind: 'isIn', arg: X, values: [SAMPLE[dtype]] }],
    ...STRING_MATCH_OPS.map((op): [string, ExprNode] => [op, { kind: 'match', op, arg: X, pattern: 'a' }]),
    ['when', { kind: 'when', branches: [{ cond: { kind: 'unary', op: 'isNotNull', arg: X }, then: X }], otherwise: X }],
    ['coalesce', { kind: 'coalesce', args: [X, X] }],
    ...DT_OPS.map((op): [string, ExprNode] => [DT_NAMES[op] ?? `dt.${op}`, { kind: 'dt', op, arg: X, params: DT_PARAMS[op] ?? {} }]),
    ...SUPPORT_DTYPES.map((to): [string, ExprNode] => [`cast to ${to}`, { kind: 'cast', arg: X, to: { dtype: to }, strict: true }]),
  ];
}

function cell(run: () => string | null): Cell {
  let reason: string | null;
  try {
    reason = run();
  } catch {
    return 'n/a';
  }
  return reason === null ? 'cpu, webgpu' : 'cpu';
}

export function expressionSupport(): ExpressionSupport[] {
  const rows = new Map<string, Record<DType, Cell>>();
  const put = (expression: string, dtype: DType, value: Cell): void => {
    const row = rows.get(expression) ?? ({} as Record<DType, Cell>);
    row[dtype] = value;
    rows.set(expression, row);
  };
  for (const dtype of SUPPORT_DTYPES) {
    const fields: Field[] = [
      { name: 'x', dtype, nullable: true },
      { name: 'k', dtype: 'int32', nullable: false },
    ];
    const scope = { fields, context: 'support matrix' };
    for (const [name, node] of expressionTemplates(dtype))
      put(
        name,
        dtype,
        cell(() => expressionUnsupported(bindExpr(node, scope))),
      );
    const columns = new Map(fields.map((f) => [f.name, f]));
    for (const op of AGG_OPS) {
      const node: Extract<ExprNode, { kind: 'agg' }> =
        op === 'countAll' ? { kind: 'agg', op, arg: null } : op === 'corr' ? { kind: 'agg', op, arg: X, arg2: X } : { kind: 'agg', op, arg: X };
      put(
        `${op}()`,
        dtype,
        cell(() => aggregationUnsupported(columns, ['k'], [bindAgg('a', node, scope, true)], null)),
      );
    }
  }
  return [...rows].map(([expression, cells]) => ({ expression, cells }));
}

/** The matrix as Markdown: the operators, then the expressions by input column type. */
export function supportMatrixMarkdown(): string {
  const operators = operatorSupport().map((o) => `| \`${o.name}\` | yes | ${o.cpuOnly === null ? 'yes' : `no: ${o.cpuOnly}`} | ${o.from} |`);
  const expressions = expressionSupport().map(
    (e) => `| \`${e.expression}\` | ${SUPPORT_DTYPES.map((d) => (e.cells[d] === 'n/a' ? '' : e.cells[d])).join(' | ')} |`,
  );
  return [
    '| Operator | CPU | WebGPU | Lowered from |',
    '|---|---|---|---|',
    ...operators,
    '',
    `| Expression (over a column of type) | ${SUPPORT_DTYPES.join(' | ')} |`,
    `|---|${SUPPORT_DTYPES.map(() => '---').join('|')}|`,
    ...expressions,
  ].join('\n');
}
