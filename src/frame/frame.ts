// Frame: an immutable typed frame, a schema plus a lazy plan. Every verb returns a new frame with a
// derived schema (checked when the verb is called); nothing runs until collect, submit or stream.

import type * as arrow from 'apache-arrow';
import { col as column, Expr, type AnyExpr } from '../expr/expr.js';
import type { DTypeOf } from '../expr/infer.js';
import { containsAgg } from '../expr/bind.js';
import type { ExprNode } from '../expr/types.js';
import { executeInline, executeInlineAsync, Executor } from '../exec/executor.js';
import type { ExecutionHandle } from '../exec/handle.js';
import { CPU_ONLY, explainPhysical, planPhysical } from '../exec/physical.js';
import { streamPlan } from '../exec/stream.js';
import { DEFAULT_INLINE_THRESHOLD } from '../exec/executor.js';
import type { ColumnBatch, Field } from '../model/types.js';
import { aggregateNode } from '../plan/aggregate.js';
import { explainPlan, type OperatorTiming } from '../plan/explain.js';
import { filterNode } from '../plan/filter.js';
import { groupHeadNode } from '../plan/group-head.js';
import { JOIN_HOWS, joinNode } from '../plan/join.js';
import { optimize } from '../plan/optimize.js';
import { dropNode, renameNode, requireColumns, selectNode, withColumnsNode } from '../plan/project.js';
import { sliceNode } from '../plan/slice.js';
import { sortNode } from '../plan/sort.js';
import type { PlanNode, SortKey } from '../plan/types.js';
import { uniqueNode } from '../plan/unique.js';
import { batchToArrow, batchToColumns, batchToRows } from './output.js';
import { ExecutorClosedError, ExpressionTypeError, InvalidArgumentError } from '../errors.js';
import {
  abortSignal,
  arrayOf,
  boolean,
  columnNames,
  either,
  fail,
  instanceOf,
  integer,
  isPlainObject,
  keyName,
  maxArguments,
  nonEmptyString,
  nonNegativeInteger,
  oneOf,
  options as optionsOf,
  recordOf,
  restColumnNames,
  type Check,
} from '../options.js';
import type { ExecuteOptions, ExprValue, JoinOptions, JoinRow, Simplify, SortOptions, StreamOptions } from './types.js';

type AggNode = Extract<ExprNode, { kind: 'agg' }>;

/** Rows per streamed batch at most: 2^24 keeps a batch of one int64 column at 128 MiB. */
export const MAX_BATCH_SIZE = 2 ** 24;

const expression: Check<AnyExpr> = instanceOf(Expr, "an expression such as col('x')");
const explainOptions = optionsOf({ executor: instanceOf(Executor, 'an Executor from createExecutor()') });
const executeOptions = optionsOf({ executor: instanceOf(Executor, 'an Executor from createExecutor()'), signal: abortSignal });
const streamOptions = optionsOf({
  executor: instanceOf(Executor, 'an Executor from createExecutor()'),
  signal: abortSignal,
  batchSize: integer({ min: 1, max: MAX_BATCH_SIZE }),
});
const sortFlag = either(boolean, arrayOf(boolean, { min: 1 }), 'true, false or an array with one of them per sort key');
const sortOptions = optionsOf({ descending: sortFlag, nullsLast: sortFlag });
const joinOptions = optionsOf({
  on: columnNames,
  leftOn: columnNames,
  rightOn: columnNames,
  how: oneOf(JOIN_HOWS, 'right, full and cross joins are not implemented'),
  suffix: nonEmptyString,
});

function perKey(flag: boolean | readonly boolean[] | undefined, index: number, count: number, name: string): boolean {
  if (flag === undefined || typeof flag === 'boolean') return flag ?? false;
  if (flag.length !== count) fail(name, flag, `one flag per sort key (${count})`);
  return flag[index]!;
}

/** Two outputs under one name would make one of them unreachable: refused where the names are given. */
function noDuplicateNames(names: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new InvalidArgumentError(where, name, 'each output column named once');
    seen.add(name);
  }
}

function derive<R extends object>(plan: PlanNode): Frame<R> {
  return new Frame<R>(plan);
}

function execute(plan: PlanNode, options: ExecuteOptions, timings?: Map<PlanNode, OperatorTiming>): Promise<ColumnBatch> {
  const run = { ...(options.signal ? { signal: options.signal } : {}), ...(timings ? { timings } : {}) };
  return options.executor ? options.executor.execute(plan, run) : executeInlineAsync(plan, run);
}

export class Frame<Row extends object = Record<string, unknown>> {
  /** The logical plan, before optimisation. */
  readonly plan: PlanNode;

  constructor(plan: PlanNode) {
    if (!isPlanNode(plan)) fail('new Frame(plan)', plan, 'a logical plan (frames come from a model: Model.fromColumns(...) and friends)');
    this.plan = plan;
  }

  /** Column names and types of the rows this frame produces. */
  get schema(): readonly Field[] {
    return this.plan.schema;
  }

  get columns(): string[] {
    return this.plan.schema.map((f) => f.name);
  }

  /** [rows, columns]. A source frame knows its rows; a derived frame runs its plan inline to count them. */
  get shape(): [number, number] {
    const rows = this.plan.kind === 'source' ? this.plan.batch.length : executeInline(optimize(this.plan)).length;
    return [rows, this.plan.schema.length];
  }

  /**
   * `col(name)` typed from this frame's rows: its value type is the row's (a `number` column may be int32,
   * float32 or float64; `Model.col` knows which). Refuses a name the frame does not have.
   */
  col<K extends keyof Row & string, V extends Row[K] = Row[K]>(name: K): Expr<V, DTypeOf<V>> {
    maxArguments('col(name)', arguments, 1);
    requireColumns(this.plan, [nonEmptyString(name, 'col(name)')], 'col');
    return column<V, DTypeOf<V>>(name);
  }

  select<K extends keyof Row & string>(...columns: K[]): Frame<Simplify<Pick<Row, K>>>;
  select<E extends Record<string, AnyExpr>>(exprs: E): Frame<Simplify<{ [N in keyof E]: ExprValue<E[N]> }>>;
  select(...items: (string | Record<string, AnyExpr>)[]): Frame {
    const flat = items.flatMap((item, i): (string | { name: string; node: ExprNode })[] => {
      if (typeof item === 'string') return [nonEmptyString(item, `select(...columns)[${i}]`)];
      if (!isPlainObject(item))
        return fail(`select(...columns)[${i}]`, item, "a column name or an object of named expressions such as { total: col('x').sum() }");
      return recordOf(expression)(item, `select(...columns)[${i}]`).map(([name, e]) => ({ name, node: e.node }));
    });
    noDuplicateNames(
      flat.map((item) => (typeof item === 'string' ? item : item.name)),
      'select(...columns)',
    );
    return derive(selectNode(this.plan, flat));
  }

  withColumns<E extends Record<string, AnyExpr>>(exprs: E): Frame<Simplify<Omit<Row, keyof E> & { [N in keyof E]: ExprValue<E[N]> }>> {
    maxArguments('withColumns(exprs)', arguments, 1);
    const entries = recordOf(expression)(exprs, 'withColumns(exprs)');
    return derive(withColumnsNode(this.plan, Object.fromEntries(entries.map(([k, e]) => [k, e.node]))));
  }

  filter(predicate: Expr<boolean | null> | Expr<boolean> | AnyExpr): Frame<Row> {
    maxArguments('filter(predicate)', arguments, 1);
    return derive(filterNode(this.plan, expression(predicate, 'filter(predicate)').node));
  }

  sort(by: (keyof Row & string) | readonly (keyof Row & string)[], options: SortOptions = {}): Frame<Row> {
    maxArguments('sort(by, options)', arguments, 2);
    const names = columnNames(by, 'sort(by)');
    const checked = sortOptions(options, 'sort(options)');
    const keys: SortKey[] = names.map((column, i) => ({
      column,
      descending: perKey(checked.descending, i, names.length, 'sort(options).descending'),
      nullsLast: perKey(checked.nullsLast, i, names.length, 'sort(options).nullsLast'),
    }));
    return derive(sortNode(this.plan, keys));
  }

  head(n = 5): Frame<Row> {
    maxArguments('head(n)', arguments, 1);
    return derive(sliceNode(this.plan, 0, nonNegativeInteger(n, 'head(n)')));
  }

  slice(offset: number, length = Infinity): Frame<Row> {
    maxArguments('slice(offset, length)', arguments, 2);
    const start = nonNegativeInteger(offset, 'slice(offset)');
    return derive(sliceNode(this.plan, start, integer({ min: 0, max: Number.MAX_SAFE_INTEGER, infinite: true })(length, 'slice(length)')));
  }

  groupBy<K extends keyof Row & string>(...keys: K[]): GroupBy<Row, K> {
    const names = restColumnNames(keys, 'groupBy(...keys)') as K[];
    requireColumns(this.plan, names, 'groupBy');
    return new GroupBy<Row, K>(this.plan, names);
  }

  /** Whole-frame aggregation: one row. */
  agg<A extends Record<string, AnyExpr>>(aggs: A): Frame<Simplify<{ [N in keyof A]: ExprValue<A[N]> }>> {
    maxArguments('agg(aggs)', arguments, 1);
    return new GroupBy<Row, never>(this.plan, []).agg(aggs) as Frame<Simplify<{ [N in keyof A]: ExprValue<A[N]> }>>;
  }

  /**
   * Hash equi-join. `how` is 'inner' (default), 'left', 'semi' or 'anti'; any other value, right, full and
   * cross joins included, is refused rather than approximated.
   */
  join<R extends object, const O extends JoinOptions>(other: Frame<R>, options: O): Frame<JoinRow<Row, R, O>> {
    maxArguments('join(other, options)', arguments, 2);
    if (!(other instanceof Frame)) fail('join(other)', other, 'a frame');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers can pass anything: checked at runtime
    if (options === undefined) fail('join(options)', options, "an object with the key columns: { on: 'id' } or { leftOn, rightOn }");
    const checked = joinOptions(options, 'join(options)');
    if (checked.on !== undefined && (checked.leftOn !== undefined || checked.rightOn !== undefined)) {
      fail('join(options)', options, 'either on, or leftOn and rightOn, not both');
    }
    if (checked.on === undefined && (checked.leftOn === undefined || checked.rightOn === undefined)) {
      fail('join(options)', options, "the key columns: { on: 'id' } or both leftOn and rightOn");
    }
    const leftOn = checked.on ?? checked.leftOn!;
    const rightOn = checked.on ?? checked.rightOn!;
    if (leftOn.length !== rightOn.length) fail('join(options).rightOn', checked.rightOn, `as many columns as leftOn (${leftOn.length})`);
    return derive(joinNode(this.plan, other.plan, { leftOn, rightOn, how: checked.how ?? 'inner', suffix: checked.suffix ?? '_right' }));
  }

  /** The first row of each distinct tuple of `subset` (all columns by default). */
  unique(subset?: (keyof Row & string)[]): Frame<Row> {
    maxArguments('unique(subset)', arguments, 1);
    const columns = subset === undefined ? undefined : arrayOf(nonEmptyString, { min: 1, distinct: true })(subset, 'unique(subset)');
    return derive(uniqueNode(this.plan, columns));
  }

  rename(mapping: Partial<Record<keyof Row & string, string>>): Frame {
    maxArguments('rename(mapping)', arguments, 1);
    const entries = recordOf(nonEmptyString)(mapping, 'rename(mapping)');
    const renamed = Object.fromEntries(entries);
    noDuplicateNames(
      this.plan.schema.map((f) => renamed[f.name] ?? f.name),
      'rename(mapping)',
    );
    return derive(renameNode(this.plan, renamed));
  }

  drop<K extends keyof Row & string>(...columns: K[]): Frame<Simplify<Omit<Row, K>>> {
    return derive(dropNode(this.plan, restColumnNames(columns, 'drop(...columns)')));
  }

  /**
   * The optimised plan, one operator per line, each tagged with the engine the physical planner puts it
   * on: the executor's (as its device stands now), or the calling thread's CPU without one, as collect runs.
   */
  explain(options: { readonly executor?: Executor } = {}): string {
    maxArguments('explain(options)', arguments, 1);
    const { executor } = explainOptions(options, 'explain(options)');
    const plan = optimize(this.plan);
    return executor ? executor.explain(plan) : explainPhysical(plan, planPhysical(plan, CPU_ONLY));
  }

  /** Runs the plan and returns the optimised plan annotated with where each operator ran and its time. */
  async explainAnalyze(options: ExecuteOptions = {}): Promise<string> {
    maxArguments('explainAnalyze(options)', arguments, 1);
    const checked = executeOptions(options, 'explainAnalyze(options)');
    const timings = new Map<PlanNode, OperatorTiming>();
    const plan = optimize(this.plan);
    await execute(plan, checked, timings);
    return explainPlan(plan, (node) => {
      const t = timings.get(node);
      if (!t) return node.kind === 'source' ? '' : ' [fused into parent]';
      return `${t.fallback === undefined ? '' : ` (planned on webgpu; ran on the CPU: ${t.fallback})`} [${t.engine} ${t.ms.toFixed(2)} ms]`;
    });
  }

  /** Runs the plan on the calling thread and returns its rows (for scripts and small frames). */
  collectSync(): Row[] {
    maxArguments('collectSync()', arguments, 0);
    return batchToRows(executeInline(optimize(this.plan))) as Row[];
  }

  /** Runs the plan (on the executor's engines when given) and returns its rows. */
  async collect(options: ExecuteOptions = {}): Promise<Row[]> {
    maxArguments('collect(options)', arguments, 1);
    const checked = executeOptions(options, 'collect(options)');
    return batchToRows(await execute(optimize(this.plan), checked)) as Row[];
  }

  async toColumns(options: ExecuteOptions = {}): Promise<{ [K in keyof Row]: Row[K][] }> {
    maxArguments('toColumns(options)', arguments, 1);
    const checked = executeOptions(options, 'toColumns(options)');
    return batchToColumns(await execute(optimize(this.plan), checked)) as { [K in keyof Row]: Row[K][] };
  }

  /** An Arrow table over the result's column buffers (no copy). */
  async toArrow(options: ExecuteOptions = {}): Promise<arrow.Table> {
    maxArguments('toArrow(options)', arguments, 1);
    const checked = executeOptions(options, 'toArrow(options)');
    return batchToArrow(await execute(optimize(this.plan), checked), this.plan.schema);
  }

  /** Starts the plan on the executor and returns a handle at once. */
  submit(options: ExecuteOptions & { readonly executor: Executor }): ExecutionHandle<Row[]> {
    maxArguments('submit(options)', arguments, 1);
    const { executor, signal } = executeOptions(options, 'submit(options)');
    if (executor === undefined) fail('submit(options).executor', undefined, 'an Executor from createExecutor()');
    const plan = optimize(this.plan);
    return executor.submit(async (jobSignal) => batchToRows(await executor.execute(plan, { signal: jobSignal })) as Row[], signal ? { signal } : {});
  }

  /** Record batches of at most `batchSize` rows (default 65536); incremental for plans without a blocking operator. */
  stream(options: StreamOptions = {}): AsyncIterable<arrow.RecordBatch> {
    maxArguments('stream(options)', arguments, 1);
    options = streamOptions(options, 'stream(options)');
    const plan = optimize(this.plan);
    const nullable = this.plan.schema.map((f) => f.nullable);
    const { executor, signal, batchSize } = options;
    if (executor) {
      // A closed executor refuses the stream now, not at its first batch.
      if (executor.closed) throw new ExecutorClosedError();
      return (async function* () {
        const { physical, run, window } = await executor.prepareStream(plan, signal ? { signal } : {});
        yield* streamPlan(physical, batchSize ?? 65_536, run, nullable, window);
      })();
    }
    const cpu = { pool: null, inlineThreshold: DEFAULT_INLINE_THRESHOLD, ...(signal ? { signal } : {}) };
    return streamPlan(planPhysical(plan, CPU_ONLY), batchSize ?? 65_536, { cpu, gpu: null }, nullable);
  }
}

export class GroupBy<Row extends object, K extends keyof Row & string> {
  private readonly plan: PlanNode;
  private readonly keys: readonly K[];

  /** Made by `frame.groupBy(...keys)`. */
  constructor(plan: PlanNode, keys: readonly K[]) {
    if (!isPlanNode(plan)) fail('new GroupBy(plan)', plan, 'a logical plan (use frame.groupBy(...keys))');
    this.plan = plan;
    this.keys = restColumnNames(arrayOf(nonEmptyString)(keys, 'new GroupBy(keys)'), 'new GroupBy(keys)') as K[];
  }

  /**
   * One row per distinct key, in order of first appearance. Each output is an aggregation
   * (`col('x').sum()`) or an expression over aggregations (`col('a').max().sub(col('b').min())`).
   */
  agg<A extends Record<string, AnyExpr>>(aggs: A): Frame<Simplify<Pick<Row, K> & { [N in keyof A]: ExprValue<A[N]> }>> {
    maxArguments('agg(aggs)', arguments, 1);
    const entries = recordOf(expression)(aggs, 'agg(aggs)');
    const direct: { name: string; node: AggNode }[] = [];
    const composite: { name: string; node: ExprNode }[] = [];
    let hidden = 0;
    // The same aggregation written twice (corr(a, b) * corr(a, b)) is computed once.
    const lifted = new Map<string, string>();
    const lift = (node: ExprNode): ExprNode => {
      if (node.kind === 'agg') {
        const key = JSON.stringify(node, (_k, v: unknown) => (typeof v === 'bigint' ? { bigint: v.toString() } : v));
        let name = lifted.get(key);
        if (name === undefined) {
          // Not a name the caller gave an output.
          do name = `__agg${hidden++}`;
          while (Object.hasOwn(aggs, name) || (this.keys as readonly string[]).includes(name));
          lifted.set(key, name);
          direct.push({ name, node });
        }
        return { kind: 'col', name };
      }
      return mapNode(node, lift);
    };
    noDuplicateNames([...this.keys, ...entries.map(([name]) => name)], 'agg(aggs)');
    for (const [name, e] of entries) {
      if (e.node.kind === 'agg') direct.push({ name, node: e.node });
      else if (containsAgg(e.node)) composite.push({ name, node: lift(e.node) });
      else throw new ExpressionTypeError(`agg(aggs).${keyName(name)}: expected an aggregation such as col('x').sum(), or an expression over aggregations`);
    }
    const aggregated = aggregateNode(this.plan, this.keys, direct);
    if (composite.length === 0) return new Frame(aggregated);
    const byName = new Map(composite.map((c) => [c.name, c.node]));
    const items = [...this.keys, ...entries.map(([name]) => name)].map((name) => (byName.has(name) ? { name, node: byName.get(name)! } : name));
    return new Frame(selectNode(aggregated, items));
  }

  /**
   * The first `n` rows of each group, every column kept, in the frame's row order. After a sort this is
   * a per-group top-n (`sort('v', { descending: true }).groupBy('id').head(2)`), run without sorting
   * every row.
   */
  head(n = 5): Frame<Row> {
    maxArguments('groupBy(...).head(n)', arguments, 1);
    return new Frame<Row>(groupHeadNode(this.plan, this.keys, nonNegativeInteger(n, 'groupBy(...).head(n)')));
  }
}

function mapNode(node: ExprNode, f: (child: ExprNode) => ExprNode): ExprNode {
  switch (node.kind) {
    case 'col':
    case 'lit':
    case 'agg':
      return node;
    case 'binary':
      return { ...node, left: f(node.left), right: f(node.right) };
    case 'unary':
    case 'round':
    case 'isIn':
    case 'match':
    case 'cast':
    case 'dt':
      return { ...node, arg: f(node.arg) };
    case 'when':
      return { ...node, branches: node.branches.map((b) => ({ cond: f(b.cond), then: f(b.then) })), otherwise: f(node.otherwise) };
    case 'coalesce':
      return { ...node, args: node.args.map(f) };
  }
}

const PLAN_KINDS: ReadonlySet<string> = new Set(['source', 'project', 'filter', 'sort', 'slice', 'aggregate', 'join', 'unique', 'groupHead']);

/** A shallow check: a plan is built by this library's verbs; this only refuses what plainly is not one. */
function isPlanNode(value: unknown): value is PlanNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    PLAN_KINDS.has((value as { kind?: unknown }).kind as string) &&
    Array.isArray((value as { schema?: unknown }).schema)
  );
}
