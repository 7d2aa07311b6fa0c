// Frame: an immutable typed frame, a schema plus a lazy plan. Every verb returns a new frame with a
// derived schema (checked when the verb is called); nothing runs until collect, submit or stream.

import type * as arrow from 'apache-arrow';
import type { Expr } from '../expr/expr.js';
import { containsAgg } from '../expr/bind.js';
import type { ExprNode } from '../expr/types.js';
import { executeInline, executeInlineAsync, type Executor } from '../exec/executor.js';
import type { ExecutionHandle } from '../exec/handle.js';
import { streamPlan } from '../exec/stream.js';
import { DEFAULT_INLINE_THRESHOLD } from '../exec/executor.js';
import type { ColumnBatch, Field } from '../model/types.js';
import { aggregateNode } from '../plan/aggregate.js';
import { explainPlan, type OperatorTiming } from '../plan/explain.js';
import { filterNode } from '../plan/filter.js';
import { groupHeadNode } from '../plan/group-head.js';
import { joinNode } from '../plan/join.js';
import { optimize } from '../plan/optimize.js';
import { dropNode, renameNode, requireColumns, selectNode, withColumnsNode } from '../plan/project.js';
import { sliceNode } from '../plan/slice.js';
import { sortNode } from '../plan/sort.js';
import type { PlanNode, SortKey } from '../plan/types.js';
import { uniqueNode } from '../plan/unique.js';
import { batchToArrow, batchToColumns, batchToRows } from './output.js';
import type { ExecuteOptions, ExprValue, JoinOptions, Simplify, SortOptions, StreamOptions } from './types.js';

type AnyExpr = Expr<unknown>;
type AggNode = Extract<ExprNode, { kind: 'agg' }>;

function perKey(flag: boolean | readonly boolean[] | undefined, index: number, count: number, what: string): boolean {
  if (flag === undefined || typeof flag === 'boolean') return flag ?? false;
  if (flag.length !== count) throw new RangeError(`${what}: one flag per sort key (${count}), got ${flag.length}`);
  return flag[index]!;
}

function asList(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
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


  select<K extends keyof Row & string>(...columns: K[]): Frame<Simplify<Pick<Row, K>>>;
  select<E extends Record<string, AnyExpr>>(exprs: E): Frame<Simplify<{ [N in keyof E]: ExprValue<E[N]> }>>;
  select(...items: (string | Record<string, AnyExpr>)[]): Frame<Record<string, unknown>> {
    const flat = items.flatMap((item): (string | { name: string; node: ExprNode })[] =>
      typeof item === 'string' ? [item] : Object.entries(item).map(([name, e]) => ({ name, node: e.node })),
    );
    return derive(selectNode(this.plan, flat));
  }

  withColumns<E extends Record<string, AnyExpr>>(exprs: E): Frame<Simplify<Omit<Row, keyof E> & { [N in keyof E]: ExprValue<E[N]> }>> {
    return derive(withColumnsNode(this.plan, Object.fromEntries(Object.entries(exprs).map(([k, e]) => [k, e.node]))));
  }

  filter(predicate: Expr<boolean | null> | Expr<boolean> | AnyExpr): Frame<Row> {
    return derive(filterNode(this.plan, predicate.node));
  }

  sort(by: (keyof Row & string) | readonly (keyof Row & string)[], options: SortOptions = {}): Frame<Row> {
    const names = asList(by);
    const keys: SortKey[] = names.map((column, i) => ({
      column,
      descending: perKey(options.descending, i, names.length, 'descending'),
      nullsLast: perKey(options.nullsLast, i, names.length, 'nullsLast'),
    }));
    return derive(sortNode(this.plan, keys));
  }

  head(n = 5): Frame<Row> {
    return derive(sliceNode(this.plan, 0, n));
  }

  slice(offset: number, length = Infinity): Frame<Row> {
    return derive(sliceNode(this.plan, offset, length));
  }

  groupBy<K extends keyof Row & string>(...keys: K[]): GroupBy<Row, K> {
    requireColumns(this.plan, keys, 'groupBy');
    return new GroupBy<Row, K>(this.plan, keys);
  }

  /** Whole-frame aggregation: one row. */
  agg<A extends Record<string, AnyExpr>>(aggs: A): Frame<Simplify<{ [N in keyof A]: ExprValue<A[N]> }>> {
    return new GroupBy<Row, never>(this.plan, []).agg(aggs) as Frame<Simplify<{ [N in keyof A]: ExprValue<A[N]> }>>;
  }

  join<R extends object>(other: Frame<R>, options: JoinOptions): Frame<Simplify<Row & Omit<R, keyof Row>>> {
    const leftOn = asList('on' in options ? options.on : options.leftOn);
    const rightOn = asList('on' in options ? options.on : options.rightOn);
    return derive(joinNode(this.plan, other.plan, { leftOn, rightOn, how: options.how ?? 'inner', suffix: options.suffix ?? '_right' }));
  }

  unique(subset?: (keyof Row & string)[]): Frame<Row> {
    return derive(uniqueNode(this.plan, subset));
  }

  rename<M extends Partial<Record<keyof Row & string, string>>>(mapping: M): Frame<Record<string, unknown>> {
    return derive(renameNode(this.plan, mapping as Record<string, string>));
  }

  drop<K extends keyof Row & string>(...columns: K[]): Frame<Simplify<Omit<Row, K>>> {
    return derive(dropNode(this.plan, columns));
  }

  /** The optimised plan, one operator per line, each tagged with the engine that runs it. */
  explain(): string {
    return explainPlan(optimize(this.plan), () => ' [cpu]');
  }

  /** Runs the plan and returns the optimised plan annotated with where each operator ran and its time. */
  async explainAnalyze(options: ExecuteOptions = {}): Promise<string> {
    const timings = new Map<PlanNode, OperatorTiming>();
    const plan = optimize(this.plan);
    await execute(plan, options, timings);
    return explainPlan(plan, (node) => {
      const t = timings.get(node);
      return t ? ` [${t.engine} ${t.ms.toFixed(2)} ms]` : node.kind === 'source' ? '' : ' [fused into parent]';
    });
  }


  /** Runs the plan on the calling thread and returns its rows (for scripts and small frames). */
  collectSync(): Row[] {
    return batchToRows(executeInline(optimize(this.plan))) as Row[];
  }

  /** Runs the plan (on the executor's engines when given) and returns its rows. */
  async collect(options: ExecuteOptions = {}): Promise<Row[]> {
    return batchToRows(await execute(optimize(this.plan), options)) as Row[];
  }

  async toColumns(options: ExecuteOptions = {}): Promise<{ [K in keyof Row]: Row[K][] }> {
    return batchToColumns(await execute(optimize(this.plan), options)) as { [K in keyof Row]: Row[K][] };
  }

  /** An Arrow table over the result's column buffers (no copy). */
  async toArrow(options: ExecuteOptions = {}): Promise<arrow.Table> {
    return batchToArrow(await execute(optimize(this.plan), options), this.plan.schema);
  }

  /** Starts the plan on the executor and returns a handle at once. */
  submit(options: ExecuteOptions & { readonly executor: Executor }): ExecutionHandle<Row[]> {
    const plan = optimize(this.plan);
    return options.executor.submit(async (signal) => batchToRows(await options.executor.execute(plan, { signal })) as Row[], options.signal ? { signal: options.signal } : {});
  }

  /** Record batches of at most `batchSize` rows; incremental for plans without a blocking operator. */
  stream(options: StreamOptions = {}): AsyncIterable<arrow.RecordBatch> {
    const plan = optimize(this.plan);
    const nullable = this.plan.schema.map((f) => f.nullable);
    const run = options.executor ? options.executor.engineOptions({ ...(options.signal ? { signal: options.signal } : {}) }) : { pool: null, inlineThreshold: DEFAULT_INLINE_THRESHOLD, ...(options.signal ? { signal: options.signal } : {}) };
    return streamPlan(plan, options.batchSize ?? 65_536, run, nullable);
  }
}

export class GroupBy<Row extends object, K extends keyof Row & string> {
  constructor(
    private readonly plan: PlanNode,
    private readonly keys: readonly K[],
  ) {}

  /**
   * One row per distinct key, in order of first appearance. Each output is an aggregation
   * (`col('x').sum()`) or an expression over aggregations (`col('a').max().sub(col('b').min())`).
   */
  agg<A extends Record<string, AnyExpr>>(aggs: A): Frame<Simplify<Pick<Row, K> & { [N in keyof A]: ExprValue<A[N]> }>> {
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
          name = `__agg${hidden++}`;
          lifted.set(key, name);
          direct.push({ name, node });
        }
        return { kind: 'col', name };
      }
      return mapNode(node, lift);
    };
    for (const [name, e] of Object.entries(aggs)) {
      if (e.node.kind === 'agg') direct.push({ name, node: e.node });
      else if (containsAgg(e.node)) composite.push({ name, node: lift(e.node) });
      else throw new TypeError(`agg(${name}): expected an aggregation such as col('x').sum()`);
    }
    const aggregated = aggregateNode(this.plan, this.keys, direct);
    if (composite.length === 0) return new Frame(aggregated);
    const byName = new Map(composite.map((c) => [c.name, c.node]));
    const items = [...this.keys, ...Object.keys(aggs)].map((name) => (byName.has(name) ? { name, node: byName.get(name)! } : name));
    return new Frame(selectNode(aggregated, items));
  }

  /**
   * The first `n` rows of each group, every column kept, in the frame's row order. After a sort this is
   * a per-group top-n (`sort('v', { descending: true }).groupBy('id').head(2)`), run without sorting
   * every row.
   */
  head(n = 5): Frame<Row> {
    return new Frame<Row>(groupHeadNode(this.plan, this.keys, n));
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
      return { ...node, arg: f(node.arg) } as ExprNode;
    case 'when':
      return { ...node, branches: node.branches.map((b) => ({ cond: f(b.cond), then: f(b.then) })), otherwise: f(node.otherwise) };
    case 'coalesce':
      return { ...node, args: node.args.map(f) };
  }
}

