// Every public function and method, fed random values in each of its argument and option slots from
// plain JavaScript. A value outside what the slot accepts must throw InvalidArgumentError (never return a
// result, never a plain TypeError from deep inside); a value it accepts must not be refused as an invalid
// argument, and may fail only with the library's typed errors (an unknown column, say). What a slot
// accepts is restated here independently, as predicates. A coverage check fails when an export or a
// public method is missing from the table.

import assert from 'node:assert/strict';
import http from 'node:http';
import { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import Koa from 'koa';
import { z } from 'zod';
import * as gpuframe from '../../src/index.js';
import {
  col,
  createExecutor,
  DataFrameModel,
  DtNamespace,
  ExecutionHandle,
  Executor,
  Expr,
  Frame,
  GroupBy,
  InvalidArgumentError,
  isGpuframeError,
  lit,
  when,
} from '../../src/index.js';
import * as gpuframeKoa from '../../src/koa/index.js';
import { ExecutorLifecycle } from '../../src/koa/index.js';

// --- What a slot accepts, stated independently of src/options.ts --------------------------------------

type Accepts = (value: unknown) => boolean;

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.prototype.toString.call(v) === '[object Object]';
const int =
  (min: number, max: number, infinite = false): Accepts =>
  (v) =>
    typeof v === 'number' && ((infinite && v === Infinity) || (Number.isInteger(v) && v >= min && v <= max));
const ms =
  (infinite: boolean): Accepts =>
  (v) =>
    typeof v === 'number' && ((infinite && v === Infinity) || (v >= 0 && v <= 2 ** 31 - 1));
const among =
  (...values: readonly unknown[]): Accepts =>
  (v) =>
    values.some((a) => Object.is(a, v));
const bool: Accepts = (v) => typeof v === 'boolean';
const str: Accepts = (v) => typeof v === 'string';
const nonEmpty: Accepts = (v) => typeof v === 'string' && v.length > 0;
const fn: Accepts = (v) => typeof v === 'function';
const none: Accepts = () => false;
const isExpr: Accepts = (v) => v instanceof Expr;
const isLiteral: Accepts = (v) =>
  v === null || ['number', 'bigint', 'string', 'boolean'].includes(typeof v) || (v instanceof Date && !Number.isNaN(v.getTime()));
// Array.from reads a sparse array's holes as undefined, where every() would skip them.
const arrayOf =
  (item: Accepts, min = 0, distinct = false): Accepts =>
  (v) =>
    Array.isArray(v) && v.length >= min && Array.from(v).every(item) && (!distinct || new Set(v).size === v.length);
const nameList: Accepts = (v) => nonEmpty(v) || arrayOf(nonEmpty, 1, true)(v);
const orUndefined =
  (a: Accepts): Accepts =>
  (v) =>
    v === undefined || a(v);
const record =
  (item: Accepts): Accepts =>
  (v) =>
    isPlain(v) && Object.entries(v).every(([k, x]) => k.length > 0 && item(x));
/** An options object: absent, or a plain object of known keys whose values (undefined meaning absent) pass their checks. */
const optionsOf =
  (fields: Readonly<Record<string, Accepts>>): Accepts =>
  (v) =>
    v === undefined || (isPlain(v) && Object.keys(v).every((k) => Object.hasOwn(fields, k) && (v[k] === undefined || fields[k]!(v[k]))));
const instance =
  (cls: abstract new (...args: never[]) => unknown): Accepts =>
  (v) =>
    v instanceof cls;
const signal = instance(AbortSignal);

/** A Polars duration string: count-unit parts after an optional '-'; every count a safe integer (months, weeks, days) or any size that fits the exact part. */
const DURATION_PART = /(\d+)(ns|us|µs|ms|mo|s|m|h|d|w|q|y)/g;
const isDuration: Accepts = (v) => {
  if (typeof v !== 'string' || !/^-?(\d+(ns|us|µs|ms|mo|s|m|h|d|w|q|y))+$/.test(v)) return false;
  let months = 0;
  let weeks = 0;
  let days = 0;
  for (const [, n, unit] of v.matchAll(DURATION_PART)) {
    if (!Number.isSafeInteger(Number(n))) return false;
    if (unit === 'mo' || unit === 'q' || unit === 'y') months += Number(n) * (unit === 'mo' ? 1 : unit === 'q' ? 3 : 12);
    else if (unit === 'w') weeks += Number(n);
    else if (unit === 'd') days += Number(n);
  }
  return [months, weeks, days].every(Number.isSafeInteger);
};
/** A truncation period: a positive duration of one kind (a fixed length, days, weeks or months). */
const isTruncation: Accepts = (v) => {
  if (!isDuration(v) || (v as string).startsWith('-')) return false;
  const kinds = new Set<string>();
  for (const [, n, unit] of (v as string).matchAll(DURATION_PART)) {
    if (Number(n) === 0) continue;
    kinds.add(unit === 'mo' || unit === 'q' || unit === 'y' ? 'months' : unit === 'w' ? 'weeks' : unit === 'd' ? 'days' : 'fixed');
  }
  return kinds.size === 1;
};
const durations = fc.constantFrom(
  '1h',
  '15m',
  '2h30m',
  '1d',
  '1w',
  '1mo',
  '3mo',
  '1q',
  '1y',
  '1mo1d',
  '1d1h',
  '-1h',
  '-2h30m',
  '0h',
  '1x',
  '',
  '1.5h',
  'h',
  '1µs',
);
/** A time zone name Intl accepts. */
const isZone: Accepts = (v) => {
  if (typeof v !== 'string' || v === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return true;
  } catch {
    return false;
  }
};
const zones = fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'utc', 'Mars/Olympus', '', 'Europe/', '+01:00');

const INGEST: Record<string, Accepts> = {
  trustedMode: among('off', 'shape_only', 'strict'),
  inputKeyMode: among('aliases', 'names', 'both'),
  fillMissingOptional: bool,
  ignoreErrors: bool,
  onValidationErrors: fn,
  extraColumns: among('error', 'ignore'),
  maxIssues: int(0, 100_000),
};
const GPU: Record<string, Accepts> = {
  dawn: optionsOf({ options: arrayOf(nonEmpty), featureLevel: among('core', 'compatibility'), powerPreference: among('low-power', 'high-performance') }),
  memoryBudget: int(0, Number.MAX_SAFE_INTEGER),
  handoffRows: int(0, Number.MAX_SAFE_INTEGER, true),
  maxBindingBytes: int(256, Number.MAX_SAFE_INTEGER),
  reacquireDelayMs: ms(false),
};
const EXECUTOR: Record<string, Accepts> = {
  backend: among('auto', 'cpu', 'webgpu'),
  gpu: optionsOf(GPU),
  maxWorkers: int(0, 256),
  threadNamePrefix: (v) => str(v) && (v as string).length <= 64,
  inlineThreshold: int(0, Number.MAX_SAFE_INTEGER, true),
  morselRows: int(1, 2 ** 20),
};
const CATCHABLE = new Set(Object.keys((await import('node:os')).constants.signals).filter((s) => s !== 'SIGKILL' && s !== 'SIGSTOP'));
const LIFECYCLE: Record<string, Accepts> = {
  ...Object.fromEntries(['backend', 'maxWorkers', 'threadNamePrefix', 'gpu', 'inlineThreshold', 'morselRows'].map((k) => [k, EXECUTOR[k]!])),
  drainTimeoutMs: ms(true),
  abandonGraceMs: ms(false),
  uploadGraceMs: ms(false),
  // Alone, each of the pair is accepted: the other's default gives way to it.
  headersTimeoutMs: int(0, 2 ** 31 - 1),
  requestTimeoutMs: int(0, 2 ** 31 - 1),
  keepAliveTimeoutMs: int(0, 2 ** 31 - 1),
  idleTimeoutMs: int(0, 2 ** 31 - 1),
  maxPendingTasks: int(1, Number.MAX_SAFE_INTEGER, true),
  signals: (v) => v === false || arrayOf((s) => CATCHABLE.has(s as string), 0, true)(v),
  exitOnSignal: bool,
  warmUp: bool,
  logger: (v) =>
    typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((l) => typeof (v as Record<string, unknown>)[l] === 'function'),
};
const FORMATS = among('json', 'ndjson', 'arrow');
const SEND: Record<string, Accepts> = {
  executor: instance(Executor),
  format: FORMATS,
  formats: arrayOf(FORMATS, 1, true),
  batchSize: int(1, 2 ** 24),
  status: (v) => int(200, 599)(v) && !among(204, 205, 304)(v),
};

// --- The things the calls need: frames, an executor, a Koa app and context ---------------------------

class Left extends DataFrameModel({ id: z.int32(), v: z.float64(), s: z.string().nullable() }) {}
class Right extends DataFrameModel({ id: z.int32(), w: z.float64() }) {}
const left = Left.fromColumns({ id: [1, 2, 3], v: [1.5, 2.5, 3.5], s: ['a', null, 'c'] });
const leftIpc = arrow.tableToIPC(await left.toArrow());
const LEFT_COLUMNS = ['id', 'v', 's'];
const right = Right.fromColumns({ id: [2, 3, 4], w: [20, 30, 40] });
const executor = createExecutor({ maxWorkers: 0 });
after(() => executor.close());

function koaContext(app = new Koa()): Koa.Context {
  const req = new http.IncomingMessage(new Socket());
  req.headers['content-type'] = 'application/json';
  return app.createContext(req, new http.ServerResponse(req));
}
const logger = { debug() {}, info() {}, warn() {}, error() {} };

// --- The table: every public function and method, with its slots -------------------------------------

interface Slot {
  /** The parameter, as InvalidArgumentError names it. */
  readonly name: string;
  readonly accepts: Accepts;
  /** Calls the API with `value` in this slot and valid values everywhere else. */
  readonly call: (value: unknown) => unknown;
  /** Values this slot accepts, so both sides of its check are exercised. */
  readonly valid?: fc.Arbitrary<unknown>;
  /** Accepted values are not called (they would start worker threads). */
  readonly onlyRejected?: boolean;
}

/** Slots for each field of an options object, plus the object itself. */
function optionSlots(
  name: string,
  fields: Readonly<Record<string, Accepts>>,
  call: (options: unknown) => unknown,
  valid: Readonly<Record<string, fc.Arbitrary<unknown>>> = {},
): Slot[] {
  return [
    { name, accepts: optionsOf(fields), call },
    ...Object.entries(fields).map(([key, accepts]): Slot => ({
      name: `${name}.${key}`,
      accepts: orUndefined(accepts),
      call: (v) => call({ [key]: v }),
      ...(valid[key] ? { valid: valid[key] } : {}),
    })),
  ];
}

/** A slot that is one argument too many: whatever it holds is refused. */
const extra = (name: string, call: (value: unknown) => unknown): Slot => ({ name: `${name} (extra argument)`, accepts: none, call });

const someNames = fc.constantFrom('id', 'v', 's', 'nope');
const ingestValid = {
  trustedMode: fc.constantFrom('off', 'shape_only', 'strict'),
  inputKeyMode: fc.constantFrom('aliases', 'names', 'both'),
  maxIssues: fc.integer({ min: 0, max: 100_000 }),
};

const TABLE: Readonly<Record<string, readonly Slot[]>> = {
  // The model factory and the statics of the class it makes.
  DataFrameModel: [
    {
      name: 'DataFrameModel(shape)',
      accepts: (v) => isPlain(v) && Object.values(v).every((t) => typeof (t as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def?.type === 'string'),
      call: (v) => DataFrameModel(v as never),
      valid: fc.constant({ a: z.int32() }),
    },
    extra('DataFrameModel', (v) => (DataFrameModel as (...a: unknown[]) => unknown)({ a: z.int32() }, v)),
  ],
  'Model.fromColumns': optionSlots('fromColumns(options)', INGEST, (o) => Left.fromColumns({ id: [1], v: [1], s: ['x'] }, o as never), ingestValid),
  'Model.fromRows': optionSlots('fromRows(options)', INGEST, (o) => Left.fromRows([{ id: 1, v: 1, s: null }], o as never), ingestValid),
  'Model.fromNdjson': optionSlots('fromNdjson(options)', INGEST, (o) => Left.fromNdjson('{"id":1,"v":1,"s":null}\n', o as never), ingestValid),
  'Model.col': [
    { name: 'col(name)', accepts: nonEmpty, call: (v) => Left.col(v as never), valid: someNames },
    extra('col', (v) => (Left.col as (...a: unknown[]) => unknown)('id', v)),
  ],
  'Model.fromArrow': optionSlots('fromArrow(options)', INGEST, (o) => Left.fromArrow(leftIpc, o as never), ingestValid),

  // Frame verbs.
  'Frame.constructor': [{ name: 'new Frame(plan)', accepts: none, call: (v) => new Frame(v as never) }],
  'Frame.col': [
    { name: 'col(name)', accepts: nonEmpty, call: (v) => left.col(v as never), valid: someNames },
    extra('col', (v) => (left.col as (...a: unknown[]) => unknown)('id', v)),
  ],
  'Frame.select': [
    {
      name: 'select(...columns)[0]',
      accepts: (v) => nonEmpty(v) || record(isExpr)(v),
      call: (v) => left.select(v as never),
      valid: fc.constantFrom('id', { x: col('v') }),
    },
  ],
  'Frame.withColumns': [
    { name: 'withColumns(exprs)', accepts: record(isExpr), call: (v) => left.withColumns(v as never), valid: fc.constant({ x: col('v').add(1) }) },
    { name: 'withColumns(exprs).x', accepts: isExpr, call: (v) => left.withColumns({ x: v } as never), valid: fc.constant(col('id')) },
    extra('withColumns', (v) => (left.withColumns as (...a: unknown[]) => unknown)({}, v)),
  ],
  'Frame.filter': [
    { name: 'filter(predicate)', accepts: isExpr, call: (v) => left.filter(v as never), valid: fc.constant(col('v').gt(2)) },
    extra('filter', (v) => (left.filter as (...a: unknown[]) => unknown)(col('v').gt(1), v)),
  ],
  'Frame.sort': [
    { name: 'sort(by)', accepts: nameList, call: (v) => left.sort(v as never), valid: fc.constantFrom('id', ['v', 'id']) },
    // One sort key: a list of flags must have one flag.
    ...optionSlots(
      'sort(options)',
      {
        descending: (v) => bool(v) || (arrayOf(bool, 1)(v) && (v as unknown[]).length === 1),
        nullsLast: (v) => bool(v) || (arrayOf(bool, 1)(v) && (v as unknown[]).length === 1),
      },
      (o) => left.sort(['id'], o as never),
      {
        descending: fc.constantFrom(true, [true], [true, false], 'yes', 1),
      },
    ),
    extra('sort', (v) => (left.sort as (...a: unknown[]) => unknown)('id', {}, v)),
  ],
  'Frame.head': [
    { name: 'head(n)', accepts: orUndefined(int(0, Number.MAX_SAFE_INTEGER)), call: (v) => left.head(v as never), valid: fc.nat() },
    extra('head', (v) => (left.head as (...a: unknown[]) => unknown)(1, v)),
  ],
  'Frame.slice': [
    { name: 'slice(offset)', accepts: int(0, Number.MAX_SAFE_INTEGER), call: (v) => left.slice(v as never), valid: fc.nat() },
    { name: 'slice(length)', accepts: orUndefined(int(0, Number.MAX_SAFE_INTEGER, true)), call: (v) => left.slice(0, v as never), valid: fc.nat() },
    extra('slice', (v) => (left.slice as (...a: unknown[]) => unknown)(0, 1, v)),
  ],
  'Frame.groupBy': [{ name: 'groupBy(...keys)[0]', accepts: nonEmpty, call: (v) => left.groupBy(v as never), valid: someNames }],
  'Frame.agg': [
    { name: 'agg(aggs)', accepts: record(isExpr), call: (v) => left.agg(v as never), valid: fc.constant({ n: col('v').sum() }) },
    extra('agg', (v) => (left.agg as (...a: unknown[]) => unknown)({ n: col('v').sum() }, v)),
  ],
  'Frame.join': [
    { name: 'join(other)', accepts: instance(Frame), call: (v) => left.join(v as never, { on: 'id' }), valid: fc.constant(right) },
    {
      name: 'join(options)',
      accepts: (v) =>
        isPlain(v) &&
        optionsOf({ on: nameList, leftOn: nameList, rightOn: nameList, how: among('inner', 'left', 'semi', 'anti'), suffix: nonEmpty })(v) &&
        (v['on'] !== undefined
          ? v['leftOn'] === undefined && v['rightOn'] === undefined
          : v['leftOn'] !== undefined && v['rightOn'] !== undefined && [v['leftOn']].flat().length === [v['rightOn']].flat().length),
      call: (v) => left.join(right, v as never),
      valid: fc.constantFrom({ on: 'id' }, { leftOn: 'id', rightOn: 'id', how: 'left' }),
    },
    { name: 'join(options).on', accepts: nameList, call: (v) => left.join(right, { on: v } as never), valid: fc.constantFrom('id', ['id']) },
    {
      name: 'join(options).leftOn',
      accepts: (v) => nameList(v) && [v].flat().length === 1,
      call: (v) => left.join(right, { leftOn: v, rightOn: 'id' } as never),
      valid: fc.constant('id'),
    },
    {
      name: 'join(options).rightOn',
      accepts: (v) => nameList(v) && [v].flat().length === 1,
      call: (v) => left.join(right, { leftOn: 'id', rightOn: v } as never),
      valid: fc.constant('id'),
    },
    {
      name: 'join(options).how',
      accepts: orUndefined(among('inner', 'left', 'semi', 'anti')),
      call: (v) => left.join(right, { on: 'id', how: v } as never),
      valid: fc.constantFrom('inner', 'left', 'semi', 'anti', 'full', 'right', 'cross', 'outer'),
    },
    {
      name: 'join(options).suffix',
      accepts: orUndefined(nonEmpty),
      call: (v) => left.join(left, { on: 'id', suffix: v } as never),
      valid: fc.constantFrom('_r', ''),
    },
    extra('join', (v) => (left.join as (...a: unknown[]) => unknown)(right, { on: 'id' }, v)),
  ],
  'Frame.unique': [
    {
      name: 'unique(subset)',
      accepts: orUndefined(arrayOf(nonEmpty, 1, true)),
      call: (v) => left.unique(v as never),
      valid: fc.constantFrom(['id'], [], ['id', 'id']),
    },
    extra('unique', (v) => (left.unique as (...a: unknown[]) => unknown)(['id'], v)),
  ],
  'Frame.rename': [
    {
      name: 'rename(mapping)',
      accepts: (v) =>
        record(nonEmpty)(v) &&
        new Set(LEFT_COLUMNS.map((c) => (Object.hasOwn(v as object, c) ? (v as Record<string, unknown>)[c] : c))).size === LEFT_COLUMNS.length,
      call: (v) => left.rename(v as never),
      valid: fc.constantFrom({ id: 'key' }, { id: 'v' }),
    },
    extra('rename', (v) => (left.rename as (...a: unknown[]) => unknown)({}, v)),
  ],
  'Frame.drop': [{ name: 'drop(...columns)[0]', accepts: nonEmpty, call: (v) => left.drop(v as never), valid: someNames }],
  'Frame.explain': [
    ...optionSlots('explain(options)', { executor: instance(Executor) }, (o) => left.explain(o as never), { executor: fc.constant(executor) }),
    extra('explain', (v) => (left.explain as (...a: unknown[]) => unknown)({}, v)),
  ],
  'Frame.collectSync': [extra('collectSync', (v) => (left.collectSync as (...a: unknown[]) => unknown)(v))],
  ...Object.fromEntries(
    (['collect', 'toColumns', 'toArrow', 'explainAnalyze'] as const).map((verb) => [
      `Frame.${verb}`,
      [
        ...optionSlots(`${verb}(options)`, { executor: instance(Executor), signal }, (o) => left[verb](o as never), {
          executor: fc.constant(executor),
          signal: fc.constant(new AbortController().signal),
        }),
        extra(verb, (v) => (left[verb] as (...a: unknown[]) => unknown)({}, v)),
      ],
    ]),
  ),
  'Frame.submit': [
    {
      name: 'submit(options)',
      accepts: (v) => isPlain(v) && optionsOf({ executor: instance(Executor), signal })(v) && v['executor'] !== undefined,
      call: (v) => left.submit(v as never).result(),
      valid: fc.constant({ executor }),
    },
    {
      name: 'submit(options).executor',
      accepts: instance(Executor),
      call: (v) => left.submit({ executor: v } as never).result(),
      valid: fc.constant(executor),
    },
    { name: 'submit(options).signal', accepts: orUndefined(signal), call: (v) => left.submit({ executor, signal: v } as never).result() },
  ],
  'Frame.stream': optionSlots('stream(options)', { executor: instance(Executor), signal, batchSize: int(1, 2 ** 24) }, (o) => left.stream(o as never), {
    batchSize: fc.integer({ min: -2, max: 2 ** 24 + 2 }),
  }),

  'GroupBy.constructor': [{ name: 'new GroupBy(plan)', accepts: none, call: (v) => new GroupBy(v as never, []) }],
  'GroupBy.agg': [
    // An output may not take the key's name.
    {
      name: 'agg(aggs)',
      accepts: (v) => record(isExpr)(v) && !Object.hasOwn(v as object, 'id'),
      call: (v) => left.groupBy('id').agg(v as never),
      valid: fc.constantFrom({ n: col('v').sum() }, { id: col('v').sum() }),
    },
    { name: 'agg(aggs).n', accepts: isExpr, call: (v) => left.groupBy('id').agg({ n: v } as never), valid: fc.constantFrom(col('v').sum(), col('v')) },
  ],
  'GroupBy.head': [
    { name: 'groupBy(...).head(n)', accepts: orUndefined(int(0, Number.MAX_SAFE_INTEGER)), call: (v) => left.groupBy('id').head(v as never), valid: fc.nat() },
  ],

  // Expressions.
  col: [{ name: 'col(name)', accepts: nonEmpty, call: (v) => col(v as never) }],
  lit: [{ name: 'lit(value)', accepts: isLiteral, call: (v) => lit(v as never) }],
  when: [{ name: 'when(condition)', accepts: isExpr, call: (v) => when(v as never), valid: fc.constant(col('v').gt(1)) }],
  coalesce: [{ name: 'coalesce(...exprs)[0]', accepts: isExpr, call: (v) => gpuframe.coalesce(v as never), valid: fc.constant(col('v')) }],
  'Expr.constructor': [
    {
      name: 'new Expr(node)',
      accepts: (v) => isPlain(v) && among('col', 'lit', 'binary', 'unary', 'round', 'isIn', 'match', 'when', 'cast', 'coalesce', 'dt', 'agg')(v['kind']),
      call: (v) => new Expr(v as never),
      valid: fc.constant({ kind: 'col', name: 'v' }),
    },
  ],
  ...Object.fromEntries(
    (['add', 'sub', 'mul', 'div', 'mod', 'floorDiv', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or'] as const).map((op) => [
      `Expr.${op}`,
      [{ name: `${op}(other)`, accepts: (v: unknown) => isExpr(v) || isLiteral(v), call: (v: unknown) => col('v')[op](v as never) }],
    ]),
  ),
  // The dt namespace: durations are Polars duration strings, zones the IANA names Intl knows.
  'DtNamespace.epoch': [{ name: 'dt.epoch(unit)', accepts: orUndefined(among('s', 'ms', 'us', 'ns', 'd')), call: (v) => col('t').dt.epoch(v as never) }],
  'DtNamespace.truncate': [{ name: 'dt.truncate(every)', accepts: isTruncation, call: (v) => col('t').dt.truncate(v as never), valid: durations }],
  'DtNamespace.offsetBy': [{ name: 'dt.offsetBy(by)', accepts: isDuration, call: (v) => col('t').dt.offsetBy(v as never), valid: durations }],
  'DtNamespace.convertTimeZone': [
    { name: 'dt.convertTimeZone(timeZone)', accepts: isZone, call: (v) => col('t').dt.convertTimeZone(v as never), valid: zones },
  ],
  'DtNamespace.replaceTimeZone': [
    { name: 'dt.replaceTimeZone(timeZone)', accepts: (v) => v === null || isZone(v), call: (v) => col('t').dt.replaceTimeZone(v as never), valid: zones },
    {
      name: 'dt.replaceTimeZone(options)',
      accepts: optionsOf({ ambiguous: among('raise', 'earliest', 'latest', 'null'), nonExistent: among('raise', 'null') }),
      call: (v) => col('t').dt.replaceTimeZone('UTC', v as never),
    },
    {
      name: 'dt.replaceTimeZone(options).ambiguous',
      accepts: orUndefined(among('raise', 'earliest', 'latest', 'null')),
      call: (v) => col('t').dt.replaceTimeZone('UTC', { ambiguous: v as never }),
      valid: fc.constantFrom('raise', 'earliest', 'latest', 'null', 'shiftForward', 'Earliest'),
    },
    {
      name: 'dt.replaceTimeZone(options).nonExistent',
      accepts: orUndefined(among('raise', 'null')),
      call: (v) => col('t').dt.replaceTimeZone('UTC', { nonExistent: v as never }),
      valid: fc.constantFrom('raise', 'null', 'shiftForward', 'earliest'),
    },
  ],
  'Expr.pow': [{ name: 'pow(exponent)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => col('v').pow(v as never) }],
  'Expr.log': [{ name: 'log(base)', accepts: (v) => v === undefined || isExpr(v) || isLiteral(v), call: (v) => col('v').log(v as never) }],
  'Expr.clip': [
    { name: 'clip(low)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => col('v').clip(v as never, 1) },
    { name: 'clip(high)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => col('v').clip(1, v as never) },
  ],
  ...Object.fromEntries(
    (['fillNull', 'fillNan', 'nullIf'] as const).map((m) => [
      `Expr.${m}`,
      [{ name: `${m}(value)`, accepts: (v: unknown) => isExpr(v) || isLiteral(v), call: (v: unknown) => col('v')[m](v as never) }],
    ]),
  ),
  'Expr.isIn': [{ name: 'isIn(values)', accepts: arrayOf(isLiteral), call: (v) => col('v').isIn(v as never), valid: fc.constant([1, 2]) }],
  'Expr.between': [
    { name: 'between(low)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => col('v').between(v as never, 1) },
    { name: 'between(high)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => col('v').between(1, v as never) },
  ],
  'Expr.cast': [
    {
      name: 'cast(to)',
      accepts: (v) =>
        among('int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date')(v) ||
        (isPlain(v) && Object.keys(v).length === 1 && among('int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'date')(v['dtype'])),
      call: (v) => col('v').cast(v as never),
      valid: fc.constantFrom('int32', 'float64', 'float', 'string', { dtype: 'int64' }, { dtype: 'int32', precision: 3 }),
    },
    { name: 'cast(options)', accepts: optionsOf({ strict: bool }), call: (v) => col('v').cast('int32', v as never), valid: fc.constant({ strict: false }) },
  ],
  'Expr.round': [
    { name: 'round(decimals)', accepts: orUndefined(int(0, 15)), call: (v) => col('v').round(v as never), valid: fc.integer({ min: -1, max: 16 }) },
  ],
  ...Object.fromEntries(
    (['startsWith', 'endsWith', 'contains'] as const).map((op) => [
      `Expr.${op}`,
      [{ name: `${op}(pattern)`, accepts: str, call: (v: unknown) => col('s')[op](v as never) }],
    ]),
  ),
  'Expr.corr': [{ name: 'corr(other)', accepts: isExpr, call: (v) => col('v').corr(v as never), valid: fc.constant(col('id')) }],
  'WhenBuilder.then': [{ name: 'when(...).then(value)', accepts: (v) => isExpr(v) || isLiteral(v), call: (v) => when(col('v').gt(1)).then(v as never) }],
  'ChainedWhen.when': [
    {
      name: 'when(...).when(condition)',
      accepts: isExpr,
      call: (v) =>
        when(col('v').gt(1))
          .then(1)
          .when(v as never),
    },
  ],
  'ChainedWhen.otherwise': [
    {
      name: 'when(...).otherwise(value)',
      accepts: (v) => isExpr(v) || isLiteral(v),
      call: (v) =>
        when(col('v').gt(1))
          .then(1)
          .otherwise(v as never),
    },
  ],

  // Executors.
  createExecutor: [
    // Every field but maxWorkers, on an executor without a pool (maxWorkers 0); the object itself and
    // maxWorkers are checked only with values that are refused, since accepted ones start threads.
    ...optionSlots(
      'createExecutor(options)',
      Object.fromEntries(Object.entries(EXECUTOR).filter(([k]) => k !== 'maxWorkers')),
      (o) => createExecutor({ maxWorkers: 0, ...(o as object) }).close(),
      {
        morselRows: fc.integer({ min: -1, max: 2 ** 20 + 1 }),
        backend: fc.constantFrom('cpu', 'gpu', 'CPU'),
      },
    ).slice(1),
    {
      name: 'createExecutor(options)',
      accepts: (v) => v === undefined || (isPlain(v) && Object.keys(v).length === 0),
      call: (v) => createExecutor(v as never).close(),
      onlyRejected: true,
    },
    {
      name: 'createExecutor(options).maxWorkers',
      accepts: orUndefined(EXECUTOR['maxWorkers']!),
      call: (v) => createExecutor({ maxWorkers: v } as never).close(),
      onlyRejected: true,
    },
  ],
  'Executor.constructor': [
    {
      name: 'createExecutor(options).backend',
      accepts: orUndefined(EXECUTOR['backend']!),
      call: (v) => new Executor({ backend: v, maxWorkers: 0 } as never).close(),
    },
  ],
  'Executor.prepareStream': optionSlots('prepareStream(options)', { signal }, (o) => executor.prepareStream(left.plan, o as never)),
  'Executor.explain': [
    { name: 'explain(plan)', accepts: (v) => isPlain(v) && Array.isArray(v['schema']), call: (v) => executor.explain(v as never), onlyRejected: true },
    extra('explain', (v) => (executor.explain as (...a: unknown[]) => unknown).call(executor, left.plan, v)),
  ],
  'Executor.execute': [
    { name: 'execute(plan)', accepts: (v) => isPlain(v) && Array.isArray(v['schema']), call: (v) => executor.execute(v as never), onlyRejected: true },
    ...optionSlots('execute(options)', { signal, timings: instance(Map) }, (o) => executor.execute(left.plan, o as never)),
  ],
  'Executor.submit': [
    {
      name: 'submit(job)',
      accepts: fn,
      call: (v) =>
        executor
          .submit(v as never)
          .result()
          .catch(() => undefined),
      valid: fc.constant(async () => 1),
    },
    ...optionSlots('submit(options)', { signal }, (o) => executor.submit(async () => 1, o as never).result()),
  ],
  'Executor.close': optionSlots('close(options)', { cancelAfterMs: ms(true) }, (o) => createExecutor({ maxWorkers: 0 }).close(o as never), {
    cancelAfterMs: fc.constantFrom(0, 1.5, 2 ** 31 - 1, 2 ** 31, Infinity, -1, Number.NaN),
  }),
  'Executor.stats': [extra('stats', (v) => (executor.stats as (...a: unknown[]) => unknown).call(executor, v))],
  'Executor.warmUp': [extra('warmUp', (v) => (executor.warmUp as (...a: unknown[]) => unknown).call(executor, v))],
  'Executor.gpuDevice': [extra('gpuDevice', (v) => (executor.gpuDevice as (...a: unknown[]) => unknown).call(executor, v))],
  'ExecutionHandle.constructor': [
    { name: 'new ExecutionHandle(id)', accepts: str, call: (v) => new ExecutionHandle(v as never, async () => 1) },
    {
      name: 'new ExecutionHandle(start)',
      accepts: fn,
      call: (v) => new ExecutionHandle('job', v as never).result().catch(() => undefined),
      valid: fc.constant(async () => 1),
    },
    { name: 'new ExecutionHandle(signal)', accepts: orUndefined(signal), call: (v) => new ExecutionHandle('job', async () => 1, v as never) },
  ],

  // gpuframe/koa.
  executorLifecycle: [
    { name: 'executorLifecycle(app)', accepts: none, call: (v) => gpuframeKoa.executorLifecycle(v as never) },
    ...optionSlots('executorLifecycle(options)', LIFECYCLE, (o) => gpuframeKoa.executorLifecycle(new Koa(), o as never), {
      signals: fc.constantFrom(false, ['SIGTERM'], ['SIGKILL'], ['SIGTERM', 'SIGTERM'], 'SIGTERM'),
      logger: fc.constant(logger),
      drainTimeoutMs: fc.constantFrom(0, 30_000.5, 2 ** 31 - 1, 2 ** 31, Infinity, -1),
    }),
  ],
  'ExecutorLifecycle.constructor': [{ name: 'executorLifecycle(app)', accepts: none, call: (v) => new ExecutorLifecycle(v as never, {}) }],
  'ExecutorLifecycle.attach': [
    {
      name: 'attach(server)',
      accepts: none,
      call: (v) => {
        new ExecutorLifecycle(new Koa(), {}).attach(v as never);
      },
    },
  ],
  'ExecutorLifecycle.onShutdown': [
    {
      name: 'onShutdown(name)',
      accepts: nonEmpty,
      call: (v) => {
        new ExecutorLifecycle(new Koa(), {}).onShutdown(v as never, () => undefined);
      },
    },
    {
      name: 'onShutdown(hook)',
      accepts: fn,
      call: (v) => {
        new ExecutorLifecycle(new Koa(), {}).onShutdown('hook', v as never);
      },
    },
  ],
  'ExecutorLifecycle.idle': [{ name: 'idle(timeoutMs)', accepts: orUndefined(ms(true)), call: (v) => new ExecutorLifecycle(new Koa(), {}).idle(v as never) }],
  'ExecutorLifecycle.shutdown': [
    {
      name: 'shutdown(reason)',
      accepts: orUndefined((v) => str(v) && (v as string).length <= 1000),
      call: (v) => new ExecutorLifecycle(new Koa(), { signals: false, logger }).shutdown(v as never),
    },
  ],
  'ExecutorLifecycle.reserveTask': [
    extra('reserveTask', (v) => (ExecutorLifecycle.prototype.reserveTask as (...a: unknown[]) => unknown).call(new ExecutorLifecycle(new Koa(), {}), v)),
  ],
  'ExecutorLifecycle.hurry': [
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it: the call passes an argument hurry() does not declare, on purpose
    extra('hurry', (v) => (ExecutorLifecycle.prototype.hurry as (...a: unknown[]) => unknown).call(new ExecutorLifecycle(new Koa(), {}), v)),
  ],
  'ExecutorLifecycle.start': [
    extra('start', (v) => (ExecutorLifecycle.prototype.start as (...a: unknown[]) => unknown).call(new ExecutorLifecycle(new Koa(), {}), v)),
  ],
  getExecutor: [{ name: 'getExecutor(ctx)', accepts: none, call: (v) => gpuframeKoa.getExecutor(v as never) }],
  lifecycleOf: [{ name: 'lifecycleOf(app)', accepts: none, call: (v) => gpuframeKoa.lifecycleOf(v as never) }],
  columnarBody: [
    { name: 'columnarBody(Model)', accepts: none, call: (v) => gpuframeKoa.columnarBody(v as never) },
    ...optionSlots(
      'columnarBody(options)',
      { limit: int(1, (await import('node:buffer')).constants.MAX_LENGTH), ...INGEST },
      (o) => gpuframeKoa.columnarBody(Left, o as never),
      ingestValid,
    ),
  ],
  rowsBody: [
    { name: 'rowsBody(Model)', accepts: none, call: (v) => gpuframeKoa.rowsBody(v as never) },
    ...optionSlots(
      'rowsBody(options)',
      { limit: int(1, (await import('node:buffer')).constants.MAX_LENGTH), ...INGEST },
      (o) => gpuframeKoa.rowsBody(Left, o as never),
      { limit: fc.constantFrom(0, 1, 2 ** 53, 2 ** 40, 1.5) },
    ),
  ],
  readBody: [
    { name: 'readBody(ctx)', accepts: none, call: (v) => gpuframeKoa.readBody(v as never) },
    // Accepted limits would wait for a body that never comes: only refused ones are called.
    {
      name: 'readBody(options).limit',
      accepts: orUndefined(int(1, (await import('node:buffer')).constants.MAX_LENGTH)),
      call: (v) => gpuframeKoa.readBody(koaContext(), { limit: v } as never),
      onlyRejected: true,
    },
  ],
  parseJson: [
    { name: 'parseJson(bytes)', accepts: instance(Uint8Array), call: (v) => gpuframeKoa.parseJson(v as never), valid: fc.constant(Buffer.from('[1]')) },
  ],
  requireMediaType: [
    { name: 'requireMediaType(ctx)', accepts: none, call: (v) => gpuframeKoa.requireMediaType(v as never, ['application/json']) },
    {
      name: 'requireMediaType(accepted)',
      accepts: arrayOf(nonEmpty, 1),
      call: (v) => gpuframeKoa.requireMediaType(koaContext(), v as never),
      valid: fc.constant(['application/json']),
    },
  ],
  arrowFrame: [
    { name: 'arrowFrame(Model)', accepts: none, call: (v) => gpuframeKoa.arrowFrame(v as never, new Uint8Array(0), {}) },
    { name: 'arrowFrame(bytes)', accepts: instance(Uint8Array), call: (v) => gpuframeKoa.arrowFrame(Left, v as never, {}) },
    ...optionSlots('arrowFrame(options)', INGEST, (o) => gpuframeKoa.arrowFrame(Left, leftIpc, o as never)),
  ],
  codeForStatus: [{ name: 'codeForStatus(status)', accepts: int(100, 599), call: (v) => gpuframeKoa.codeForStatus(v as never) }],
  errorHandler: [extra('errorHandler', (v) => (gpuframeKoa.errorHandler as (...a: unknown[]) => unknown)(v))],
  registerErrorHandlers: [
    {
      name: 'registerErrorHandlers(app)',
      accepts: none,
      call: (v) => {
        gpuframeKoa.registerErrorHandlers(v as never);
      },
    },
  ],
  respondWithError: [
    {
      name: 'respondWithError(ctx)',
      accepts: none,
      call: (v) => {
        gpuframeKoa.respondWithError(v as never, new Error('x'));
      },
    },
  ],
  afterResponse: [
    {
      name: 'afterResponse(ctx)',
      accepts: none,
      call: (v) => {
        gpuframeKoa.afterResponse(v as never, () => undefined);
      },
    },
    {
      name: 'afterResponse(task)',
      accepts: fn,
      call: (v) => {
        gpuframeKoa.afterResponse(koaContext(), v as never);
      },
    },
    // A string is the task's name.
    {
      name: 'afterResponse(options)',
      accepts: (v) => str(v) || optionsOf({ name: str, onAbandon: fn })(v),
      call: (v) => {
        gpuframeKoa.afterResponse(koaContext(), () => undefined, v as never);
      },
    },
    ...optionSlots('afterResponse(options)', { name: str, onAbandon: fn }, (o) => {
      gpuframeKoa.afterResponse(koaContext(), () => undefined, o as never);
    }).slice(1),
  ],
  pendingTasks: [{ name: 'pendingTasks(app)', accepts: none, call: (v) => gpuframeKoa.pendingTasks(v as never) }],
  requestId: optionSlots(
    'requestId(options)',
    { header: (v) => typeof v === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(v), generate: fn },
    (o) => gpuframeKoa.requestId(o as never),
    { header: fc.constantFrom('X-Request-ID', 'X Request', '', 'x'.repeat(101)) },
  ),
  requestLog: [extra('requestLog', (v) => (gpuframeKoa.requestLog as (...a: unknown[]) => unknown)(v))],
  jsonLogger: optionSlots(
    'jsonLogger(options)',
    { level: among('debug', 'info', 'warn', 'error'), write: fn, base: isPlain },
    (o) => gpuframeKoa.jsonLogger(o as never),
    { level: fc.constantFrom('info', 'warning', 'INFO') },
  ),
  setLogger: [
    {
      name: 'setLogger(app)',
      accepts: none,
      call: (v) => {
        gpuframeKoa.setLogger(v as never, logger);
      },
    },
    {
      name: 'setLogger(logger)',
      accepts: LIFECYCLE['logger']!,
      call: (v) => {
        gpuframeKoa.setLogger(new Koa(), v as never);
      },
      valid: fc.constant(logger),
    },
  ],
  sendFrame: [
    { name: 'sendFrame(ctx)', accepts: none, call: (v) => gpuframeKoa.sendFrame(v as never, left) },
    {
      name: 'sendFrame(source)',
      accepts: (v) =>
        v instanceof Frame || arrow.util.isArrowTable(v) || (typeof v === 'object' && v !== null && (Symbol.asyncIterator in v || Symbol.iterator in v)),
      call: (v) => gpuframeKoa.sendFrame(koaContext(), v as never).catch((e: unknown) => (e instanceof InvalidArgumentError ? Promise.reject(e) : undefined)),
      onlyRejected: true,
    },
    ...optionSlots('sendFrame(options)', SEND, (o) => gpuframeKoa.sendFrame(koaContext(), left, o as never), {
      batchSize: fc.integer({ min: -1, max: 3 }),
      status: fc.integer({ min: 100, max: 700 }),
      format: fc.constantFrom('json', 'csv'),
    }),
  ],
  negotiateFormat: [
    { name: 'negotiateFormat(ctx)', accepts: none, call: (v) => gpuframeKoa.negotiateFormat(v as never) },
    {
      name: 'negotiateFormat(available)',
      accepts: orUndefined(arrayOf(FORMATS, 1, true)),
      call: (v) => gpuframeKoa.negotiateFormat(koaContext(), v as never),
      valid: fc.constantFrom(['json'], [], ['csv'], ['json', 'json']),
    },
  ],
  columnarJsonSchema: [
    { name: 'columnarJsonSchema(Model)', accepts: none, call: (v) => gpuframeKoa.columnarJsonSchema(v as never) },
    ...optionSlots('columnarJsonSchema(options)', { inputKeyMode: INGEST['inputKeyMode']! }, (o) => gpuframeKoa.columnarJsonSchema(Left, o as never), {
      inputKeyMode: fc.constantFrom('alias', 'names', 'both'),
    }),
  ],
};

/**
 * Public functions and methods with no argument or option slot to check, each with why. Anything
 * exported or public that is in neither this list nor the table fails the coverage check.
 */
const NO_OPTIONS: Readonly<Record<string, string>> = {
  countRows: 'takes no arguments',
  isGpuframeError: 'takes any value: it is a type guard',
  // Expression methods without arguments: a fluent chain (col('x').sum()); their arity is not checked.
  ...Object.fromEntries(
    [
      'neg',
      'not',
      'isNull',
      'isNotNull',
      'abs',
      'floor',
      'ceil',
      'sign',
      'sqrt',
      'exp',
      'log10',
      'log1p',
      'isNan',
      'isNotNan',
      'isFinite',
      'isInfinite',
      'lower',
      'upper',
      'length',
      'count',
      'countAll',
      'sum',
      'mean',
      'min',
      'max',
      'median',
      'std',
      'var',
      'first',
      'last',
      'nUnique',
    ].map((m) => [`Expr.${m}`, 'takes no arguments']),
  ),
  ...Object.fromEntries(
    [
      'year',
      'quarter',
      'month',
      'week',
      'weekday',
      'day',
      'ordinalDay',
      'hour',
      'minute',
      'second',
      'millisecond',
      'microsecond',
      'nanosecond',
      'date',
      'time',
    ].map((m) => [`DtNamespace.${m}`, 'takes no arguments']),
  ),
  'DtNamespace.node': 'private helper',
  'DtNamespace.constructor': "made by an expression's `dt` getter",
  // TypeScript-private helpers: every public method that reaches them checks its arguments first.
  ...Object.fromEntries(['Expr.binary', 'Expr.unary', 'Expr.aggregate', 'Expr.match'].map((m) => [m, 'private helper'])),
  ...Object.fromEntries(
    [
      'Executor.run',
      'Executor.cpuOptions',
      'Executor.prepare',
      'Executor.policy',
      'Executor.mayUseDevice',
      'Executor.handoffRows',
      'Executor.deviceFor',
      'Executor.noDevice',
      'Executor.acquire',
      'Executor.deviceLost',
      'Executor.withStop',
      'Executor.track',
    ].map((m) => [m, 'private helper']),
  ),
  ...Object.fromEntries(
    [
      'ExecutorLifecycle.begin',
      'ExecutorLifecycle.create',
      'ExecutorLifecycle.drainAndClose',
      'ExecutorLifecycle.installSignals',
      'ExecutorLifecycle.removeSignals',
      'ExecutorLifecycle.applyTimeouts',
      'ExecutorLifecycle.createServer',
      'ExecutorLifecycle.endUploads',
      'ExecutorLifecycle.until',
      'ExecutorLifecycle.refuseWhenFull',
    ].map((m) => [m, 'private helper']),
  ),
  'ExecutorLifecycle.middleware': 'takes no arguments; returns the middleware',
  'ExecutorLifecycle.stats': 'takes no arguments',
  'ExecutionHandle.done': 'takes no arguments',
  'ExecutionHandle.result': 'takes no arguments',
  'ExecutionHandle.cancel': 'takes any reason, as AbortController.abort does',
  'WhenBuilder.constructor': 'made by when(); not exported',
  'ChainedWhen.constructor': 'made by when(...).then(); not exported',
};

/** Error classes: the library constructs them; their arguments are messages and details, not options. */
const isErrorClass = (value: unknown): boolean => typeof value === 'function' && (value.prototype instanceof Error || value === gpuframe.GpuframeError);

// --- Wrong values ----------------------------------------------------------------------------------

const awkward = fc.constantFrom<unknown>(
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  5,
  15,
  16,
  255,
  256,
  257,
  2 ** 20 + 1,
  2 ** 24 + 1,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  1e308,
  -1e308,
  Number.NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  10n,
  -1n,
  '',
  ' ',
  'id',
  'v',
  'nope',
  'inner',
  'left',
  'semi',
  'anti',
  'full',
  'right',
  'cross',
  'outer',
  'INNER',
  'inner ',
  'cpu',
  'auto',
  'off',
  'strict',
  'json',
  'SIGTERM',
  '5',
  'NaN',
  'x'.repeat(5000),
  Symbol('s'),
  () => 1,
  async () => 1,
  [],
  [''],
  ['id'],
  ['id', 'id'],
  [1],
  [true],
  [null],
  [undefined],
  {},
  { bogus: 1 },
  { on: 'id', bogus: 1 },
  Object.create(null),
  new Date(0),
  new Date(Number.NaN),
  new Map(),
  new Set(),
  new Uint8Array(2),
  new ArrayBuffer(2),
  /x/,
  new Error('e'),
  Promise.resolve(1),
  new AbortController().signal,
  col('v'),
  col('v').sum(),
  lit(1),
);
const junk = fc.oneof(
  { weight: 4, arbitrary: awkward },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withSparseArray: true,
    }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -300, max: 300 }) },
);

/** Values tried per slot (GPUFRAME_PROPERTY_SCALE multiplies it, as for the other property tests). */
const RUNS_PER_SLOT = 60 * Number(process.env['GPUFRAME_PROPERTY_SCALE'] ?? 1);

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result instanceof Promise) await result;
    return null;
  } catch (error) {
    return error;
  }
}

describe('options: wrong values from plain JavaScript', () => {
  it('every slot refuses what it does not accept with InvalidArgumentError, and refuses nothing it accepts', async () => {
    for (const slot of Object.values(TABLE).flat()) {
      const values = slot.valid ? fc.oneof(junk, slot.valid) : junk;
      await fc.assert(
        fc.asyncProperty(values, async (value) => {
          const accepted = slot.accepts(value);
          if (accepted && slot.onlyRejected) return;
          const error = await outcome(() => slot.call(value));
          if (!accepted) {
            assert.ok(
              error instanceof InvalidArgumentError,
              // eslint-disable-next-line @typescript-eslint/no-base-to-string -- prints whatever was thrown, Error or not
              `${slot.name}: ${fc.stringify(value)} should be refused with InvalidArgumentError, got ${error === null ? 'a result' : ((error as Error).stack ?? String(error))}`,
            );
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the test checks the runtime code, not the declared one
            assert.ok(error instanceof TypeError && isGpuframeError(error) && error.status === 400 && error.code === 'invalid_argument');
            assert.ok(error.message.length < 600, `${slot.name}: the message is not bounded (${error.message.length} characters)`);
          } else if (error !== null) {
            assert.ok(
              !(error instanceof InvalidArgumentError),
              `${slot.name}: ${fc.stringify(value)} is accepted but was refused: ${(error as Error).message}`,
            );
            assert.ok(
              isGpuframeError(error),
              // eslint-disable-next-line @typescript-eslint/no-base-to-string -- prints whatever was thrown, Error or not
              `${slot.name}: ${fc.stringify(value)} is accepted but failed with an untyped ${(error as Error).stack ?? String(error)}`,
            );
          }
        }),
        { numRuns: RUNS_PER_SLOT, includeErrorInReport: true },
      );
    }
  });

  it('names the slot in the error', async () => {
    for (const [entry, slots] of Object.entries(TABLE)) {
      for (const slot of slots) {
        if (slot.accepts(Symbol('never'))) continue;
        const error = await outcome(() => slot.call(Symbol('never')));
        assert.ok(error instanceof InvalidArgumentError, `${entry}: ${slot.name}`);
        assert.ok(error.message.startsWith(slot.name.replace(/ \(extra argument\)$/, '')), `${entry}: '${error.message}' should start with '${slot.name}'`);
      }
    }
  });
});

describe('options: coverage', () => {
  /** Own methods of a class's prototype (getters excluded: they take nothing). */
  function methods(cls: { prototype: object }, label: string): string[] {
    const proto = cls.prototype;
    return Reflect.ownKeys(proto).flatMap((key) => {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
      // Symbol.asyncDispose calls close() with no options.
      if (typeof descriptor.value !== 'function' || key === Symbol.asyncDispose) return [];
      return [`${label}.${String(key)}`];
    });
  }

  it('every export of gpuframe and gpuframe/koa, and every public method, is in the table or in the no-options list', () => {
    const missing: string[] = [];
    const need = (name: string): void => {
      if (!(name in TABLE) && !(name in NO_OPTIONS)) missing.push(name);
    };
    const classes = new Map<unknown, string>([
      [Frame, 'Frame'],
      [GroupBy, 'GroupBy'],
      [Expr, 'Expr'],
      [DtNamespace, 'DtNamespace'],
      [Executor, 'Executor'],
      [ExecutionHandle, 'ExecutionHandle'],
      [ExecutorLifecycle, 'ExecutorLifecycle'],
    ]);
    for (const module of [gpuframe, gpuframeKoa] as Record<string, unknown>[]) {
      for (const [name, value] of Object.entries(module)) {
        if (typeof value !== 'function') continue; // constants: DEFAULT_BODY_LIMIT, JSON_TYPE, FORMAT_TYPES, silentLogger
        if (isErrorClass(value)) continue;
        const label = classes.get(value);
        if (label === undefined) {
          need(name);
          continue;
        }
        for (const method of methods(value, label)) {
          need(method);
        }
      }
    }
    // Reached through what the exports return: a model's statics and the when() builders.
    for (const name of ['fromColumns', 'fromRows', 'fromNdjson', 'fromArrow', 'col']) need(`Model.${name}`);
    const builder = when(col('v').gt(1));
    for (const method of methods(builder.constructor, 'WhenBuilder')) need(method);
    const chained = builder.then(1);
    for (const method of methods(chained.constructor, 'ChainedWhen')) need(method);
    assert.deepEqual(missing, [], 'add these to TABLE, or to NO_OPTIONS with the reason they take no options');
  });
});
