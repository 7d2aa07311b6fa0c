// The small query language of POST /query: conjunctive filters, group-by keys and named aggregations,
// with an optional sort and limit. Validated with zod; column names are the model's field names.

import { z } from 'zod';
import { col, countRows, lit, type Expr, type Frame } from '../index.js';
import { truncateForMessage } from '../echo.js';
import { ValidationError, type ValidationIssue } from '../errors.js';

const COLUMNS = ['user_id', 'amount', 'country'] as const;
const column = z.enum(COLUMNS);
const scalar = z.union([z.number(), z.string().max(1000), z.boolean()]);

const filter = z.discriminatedUnion('op', [
  z.object({ column, op: z.enum(['eq', 'ne', 'lt', 'le', 'gt', 'ge']), value: scalar }).strict(),
  z.object({ column, op: z.literal('in'), values: z.array(scalar).min(1).max(10_000) }).strict(),
  z.object({ column, op: z.enum(['is_null', 'not_null']) }).strict(),
]);

const AGG_OPS = ['sum', 'mean', 'min', 'max', 'count', 'std', 'var', 'median', 'n_unique', 'first', 'last'] as const;
const aggregation = z.union([z.object({ op: z.enum(AGG_OPS), column }).strict(), z.object({ op: z.literal('count_rows') }).strict()]);

const outputName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a name of letters, digits and underscores');

export const queryPlanSchema = z
  .object({
    filter: z.array(filter).max(32).default([]),
    group_by: z.array(column).max(COLUMNS.length).default([]),
    aggregations: z.record(outputName, aggregation).refine((a) => Object.keys(a).length >= 1 && Object.keys(a).length <= 32, '1 to 32 aggregations'),
    sort: z
      .array(z.object({ column: z.string().min(1), descending: z.boolean().default(false) }).strict())
      .max(8)
      .default([]),
    limit: z.number().int().min(0).max(10_000_000).optional(),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const keys = new Set(plan.group_by);
    if (keys.size !== plan.group_by.length) ctx.addIssue({ code: 'custom', path: ['group_by'], message: 'group_by lists a column twice' });
    for (const name of Object.keys(plan.aggregations)) {
      if (keys.has(name as (typeof COLUMNS)[number]))
        ctx.addIssue({ code: 'custom', path: ['aggregations', name], message: `'${truncateForMessage(name)}' is also a group-by key` });
    }
    const outputs = new Set([...plan.group_by, ...Object.keys(plan.aggregations)]);
    plan.sort.forEach((s, i) => {
      if (!outputs.has(s.column))
        ctx.addIssue({
          code: 'custom',
          path: ['sort', i, 'column'],
          message: `'${truncateForMessage(s.column)}' is not an output column (${[...outputs].map((o) => truncateForMessage(o)).join(', ')})`,
        });
    });
  });

export type QueryPlan = z.output<typeof queryPlanSchema>;

/** Most plan issues a 422 lists; the rest are counted in `truncated_issues`. */
const MAX_PLAN_ISSUES = 20;
/** A plan issue's message repeats keys and values of the plan (zod's "Unrecognized key" does): capped. */
const MAX_PLAN_MESSAGE_CHARS = 1000;

/** Parses a plan; problems become a 422 ValidationError whose issues name the path in the plan. */
export function parseQueryPlan(input: unknown): QueryPlan {
  const parsed = queryPlanSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const all = parsed.error.issues;
  const issues: ValidationIssue[] = all.slice(0, MAX_PLAN_ISSUES).map((i) => ({
    column: null,
    row: null,
    code: `plan_${i.code}`,
    message: truncateForMessage(
      `plan${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${truncateForMessage(String(p))}`)).join('')}: ${i.message}`,
      MAX_PLAN_MESSAGE_CHARS,
    ),
  }));
  throw new ValidationError(issues, all.length - issues.length);
}

type AnyExpr = Expr;

function predicate(f: QueryPlan['filter'][number]): AnyExpr {
  const c = col(f.column);
  switch (f.op) {
    case 'is_null':
      return c.isNull();
    case 'not_null':
      return c.isNotNull();
    case 'in':
      return c.isIn(f.values);
    default:
      return c[f.op](lit(f.value));
  }
}

function aggregate(a: QueryPlan['aggregations'][string]): AnyExpr {
  if (a.op === 'count_rows') return countRows();
  const c = col(a.column);
  return a.op === 'n_unique' ? c.nUnique() : c[a.op]();
}

/** The frame that answers `plan` over `source`. Type errors (comparing a number with a string) are 400s from binding. */
export function planFrame(source: Frame<object>, plan: QueryPlan): Frame {
  let frame = source as Frame;
  for (const f of plan.filter) frame = frame.filter(predicate(f));
  const aggs = Object.fromEntries(Object.entries(plan.aggregations).map(([name, a]) => [name, aggregate(a)]));
  let out = (plan.group_by.length > 0 ? frame.groupBy(...plan.group_by).agg(aggs) : frame.agg(aggs)) as Frame;
  if (plan.sort.length > 0)
    out = out.sort(
      plan.sort.map((s) => s.column),
      { descending: plan.sort.map((s) => s.descending) },
    );
  if (plan.limit !== undefined) out = out.head(plan.limit);
  return out;
}
