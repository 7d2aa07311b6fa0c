// The run-time checks of src/options.ts one by one, InvalidArgumentError's shape, and the silent wrong
// answers they close: each case here ran and returned something (or hung) before the checks existed.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { describeArgument, GpuframeError, InvalidArgumentError } from '../src/errors.js';
import { col, createExecutor, DataFrameModel } from '../src/index.js';
import { columnarBody, columnarJsonSchema, jsonLogger } from '../src/koa/index.js';
import { arrayOf, boolean, duration, integer, maxArguments, MAX_TIMER_MS, oneOf, options, recordOf, string } from '../src/options.js';

/** Asserts `run` throws InvalidArgumentError whose message matches every pattern. */
function refuses(run: () => unknown, ...patterns: RegExp[]): InvalidArgumentError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- prints whatever was thrown, Error or not
  assert.ok(caught instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${caught === undefined ? 'a result' : String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

describe('InvalidArgumentError', () => {
  it('is a TypeError and a GpuframeError with code invalid_argument, status 400, exposed', () => {
    const error = new InvalidArgumentError('join(options).how', 'full', "one of 'inner', 'left'", ['inner', 'left']);
    assert.ok(error instanceof TypeError);
    assert.ok(error instanceof GpuframeError);
    assert.equal(error.name, 'InvalidArgumentError');
    assert.equal(error.code, 'invalid_argument');
    assert.equal(error.status, 400);
    assert.equal(error.expose, true);
    assert.equal(error.argument, 'join(options).how');
    assert.deepEqual(error.allowed, ['inner', 'left']);
    assert.equal(error.message, `join(options).how: expected one of 'inner', 'left', received "full"`);
  });

  it('describes what it received in bounded, safe text', () => {
    assert.equal(describeArgument('x'.repeat(10_000)), JSON.stringify(`${'x'.repeat(40)}…`));
    assert.equal(describeArgument(-0), '-0');
    assert.equal(describeArgument(Number.NaN), 'NaN');
    assert.equal(describeArgument(10n), '10n');
    assert.equal(describeArgument(Symbol('secret')), 'a symbol');
    assert.equal(
      describeArgument(() => 1),
      'a function',
    );
    assert.equal(describeArgument([1, 2, 3]), 'an array of length 3');
    assert.equal(describeArgument(new Map()), 'a Map');
    assert.equal(describeArgument(Object.create(null)), 'an object');
    // Nothing of the caller's runs: no toString, no getter, no Proxy trap that throws.
    let ran = 0;
    const hostile = {
      toString: () => String(++ran),
      get [Symbol.toStringTag]() {
        return String(++ran);
      },
    };
    assert.equal(describeArgument(Object.create(hostile)), 'an object');
    assert.equal(ran, 0);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.equal(describeArgument(proxy), 'an object');
  });
});

describe('checks', () => {
  it('oneOf: only the listed values, by Object.is; the message lists them', () => {
    const how = oneOf(['inner', 'left'] as const, 'right joins are not implemented');
    assert.equal(how('left', 'how'), 'left');
    refuses(() => how('LEFT', 'how'), /^how: expected one of 'inner', 'left' \(right joins are not implemented\), received "LEFT"$/);
    refuses(() => how(undefined, 'how'));
    const size = oneOf([1, 2]);
    assert.equal(size(2, 'n'), 2);
    refuses(() => size(Number.NaN, 'n'));
    refuses(() => size('1', 'n'));
  });

  it('integer: no NaN, fraction, string, or value out of bounds; Infinity only when allowed', () => {
    const n = integer({ min: 1, max: 256 });
    assert.equal(n(256, 'n'), 256);
    for (const bad of [0, 257, 1.5, Number.NaN, Infinity, -Infinity, '5', 5n, null, true]) refuses(() => n(bad, 'n'), /^n: expected an integer in 1\.\.256/);
    const limit = integer({ min: 0, max: Number.MAX_SAFE_INTEGER, infinite: true });
    assert.equal(limit(Infinity, 'limit'), Infinity);
    refuses(() => limit(-Infinity, 'limit'), /an integer >= 0 or Infinity/);
    refuses(() => limit(2 ** 53, 'limit'));
  });

  it('duration: fractions allowed, nothing above 2^31-1 ms (Node would fire it after 1 ms)', () => {
    const ms = duration({ infinite: false });
    assert.equal(ms(1.5, 'ms'), 1.5);
    assert.equal(ms(MAX_TIMER_MS, 'ms'), MAX_TIMER_MS);
    for (const bad of [MAX_TIMER_MS + 1, Infinity, -1, Number.NaN, '10']) refuses(() => ms(bad, 'ms'));
    assert.equal(duration({ infinite: true })(Infinity, 'ms'), Infinity);
  });

  it('boolean and string', () => {
    assert.equal(boolean(false, 'b'), false);
    for (const bad of [0, 1, 'true', null, undefined]) refuses(() => boolean(bad, 'b'), /true or false/);
    const name = string({ minLength: 1, maxLength: 3 });
    assert.equal(name('abc', 's'), 'abc');
    refuses(() => name('', 's'), /a non-empty string of at most 3 characters/);
    refuses(() => name('abcd', 's'));
    refuses(() => name(1, 's'));
  });

  it('arrayOf: every item checked (a hole too), sizes and repeats', () => {
    const names = arrayOf(string({ minLength: 1 }), { min: 1, distinct: true });
    assert.deepEqual(names(['a', 'b'], 'keys'), ['a', 'b']);
    refuses(() => names([], 'keys'), /at least 1 item/);
    refuses(() => names(['a', 'a'], 'keys'), /^keys\[1\]: expected distinct values/);
    refuses(() => names(['a', 1], 'keys'), /^keys\[1\]: expected a non-empty string, received 1$/);
    // A hole, not an undefined item: arrayOf must check what it reads there too.
    refuses(() => names(['a', , 'b'], 'keys'), /^keys\[1\]: .* received undefined$/);
    refuses(() => names('a', 'keys'), /an array/);
  });

  it('options: absent is empty, unknown keys are refused with the known ones, undefined values are absent', () => {
    const check = options({ how: oneOf(['inner', 'left']), suffix: string({ minLength: 1 }) });
    assert.deepEqual(check(undefined, 'join(options)'), {});
    assert.deepEqual(check({ how: 'left', suffix: undefined }, 'join(options)'), { how: 'left' });
    refuses(() => check({ hwo: 'left' }, 'join(options)'), /^join\(options\): unknown option "hwo"; known options: how, suffix$/);
    refuses(() => check({ how: 'full' }, 'join(options)'), /^join\(options\)\.how: expected one of 'inner', 'left', received "full"$/);
    for (const bad of [null, [], 'left', 1, new Map(), () => ({})]) refuses(() => check(bad, 'join(options)'), /^join\(options\): expected a plain object/);
  });

  it('recordOf: a plain object of checked values, names non-empty', () => {
    const exprs = recordOf(integer({ min: 0, max: 9 }));
    assert.deepEqual(exprs({ a: 1 }, 'agg(aggs)'), [['a', 1]]);
    refuses(() => exprs({ a: 10 }, 'agg(aggs)'), /^agg\(aggs\)\.a: /);
    refuses(() => exprs({ '': 1 }, 'agg(aggs)'), /non-empty names/);
    // A caller's long key is cut in the parameter's name too.
    const error = refuses(() => exprs({ ['k'.repeat(5000)]: 'x' }, 'agg(aggs)'));
    assert.ok(error.message.length < 200, error.message);
  });

  it('maxArguments: an argument past the last is refused, not ignored', () => {
    maxArguments('collectSync()', [], 0);
    refuses(() => {
      maxArguments('collectSync()', [{ executor: null }], 0);
    }, /^collectSync\(\): expected at most 0 arguments, received 1$/);
  });
});

class Orders extends DataFrameModel({ id: z.int32(), amount: z.float64() }) {}
class Users extends DataFrameModel({ id: z.int32(), name: z.string() }) {}
const orders = Orders.fromColumns({ id: [1, 2, 2, 3], amount: [10, 20, 21, 30] });
const users = Users.fromColumns({ id: [2, 3, 4], name: ['b', 'c', 'd'] });

describe('join how', () => {
  it('refuses right, full, outer, cross and typos, naming the allowed values (they ran as an inner join, left columns only)', () => {
    for (const how of ['right', 'full', 'outer', 'cross', 'Inner', 'left_outer', '', 'inner ']) {
      const error = refuses(
        () => orders.join(users, { on: 'id', how } as never),
        /^join\(options\)\.how: expected one of 'inner', 'left', 'semi', 'anti'/,
        /right, full and cross joins are not implemented/,
      );
      assert.deepEqual(error.allowed, ['inner', 'left', 'semi', 'anti']);
    }
    for (const how of [null, 1, true, ['inner'], {}]) refuses(() => orders.join(users, { on: 'id', how } as never), /join\(options\)\.how/);
  });

  it('inner, left, semi and anti still give the right rows', async () => {
    assert.deepEqual(orders.join(users, { on: 'id' }).collectSync(), [
      { id: 2, amount: 20, name: 'b' },
      { id: 2, amount: 21, name: 'b' },
      { id: 3, amount: 30, name: 'c' },
    ]);
    assert.deepEqual(orders.join(users, { on: 'id', how: 'left' }).sort(['id', 'amount']).collectSync(), [
      { id: 1, amount: 10, name: null },
      { id: 2, amount: 20, name: 'b' },
      { id: 2, amount: 21, name: 'b' },
      { id: 3, amount: 30, name: 'c' },
    ]);
    assert.deepEqual(orders.join(users, { on: 'id', how: 'semi' }).collectSync(), [
      { id: 2, amount: 20 },
      { id: 2, amount: 21 },
      { id: 3, amount: 30 },
    ]);
    assert.deepEqual(await orders.join(users, { leftOn: 'id', rightOn: 'id', how: 'anti' }).collect(), [{ id: 1, amount: 10 }]);
  });

  it('refuses an empty suffix (a clashing column was renamed to itself forever: the call hung)', () => {
    refuses(() => orders.join(orders, { on: 'id', suffix: '' }), /^join\(options\)\.suffix: expected a non-empty string, received ""$/);
    assert.deepEqual(orders.join(orders, { on: 'id', suffix: '_2' }).columns, ['id', 'amount', 'amount_2']);
  });

  it('refuses on together with leftOn/rightOn (leftOn was silently ignored), keys of unequal counts, and a missing other frame', () => {
    refuses(() => orders.join(users, { on: 'id', leftOn: 'amount', rightOn: 'id' }), /either on, or leftOn and rightOn, not both/);
    refuses(() => orders.join(users, { leftOn: 'id' } as never), /both leftOn and rightOn/);
    refuses(() => orders.join(users, { leftOn: ['id', 'amount'], rightOn: ['id'] }), /^join\(options\)\.rightOn: expected as many columns as leftOn \(2\)/);
    refuses(() => orders.join(users.collectSync() as never, { on: 'id' }), /^join\(other\): expected a frame/);
    refuses(() => (orders.join as (other: unknown) => unknown)(users), /^join\(options\)/);
  });
});

describe('other verbs that answered wrongly from JavaScript', () => {
  it("sort: a string flag is refused (its characters were read as one flag per key: 'no' sorted two keys descending)", () => {
    refuses(() => orders.sort(['id', 'amount'], { descending: 'no' } as never), /^sort\(options\)\.descending: expected true, false or an array/);
    refuses(() => orders.sort(['id', 'amount'], { descending: [true] }), /one flag per sort key \(2\)/);
    refuses(() => orders.sort(['id'], { descnding: true } as never), /unknown option "descnding"; known options: descending, nullsLast/);
    assert.deepEqual(
      orders
        .sort(['id', 'amount'], { descending: [true, false] })
        .collectSync()
        .map((r) => r.amount),
      [30, 20, 21, 10],
    );
  });

  it('unique: an empty subset is refused (every row was a duplicate of the first: one row came back)', () => {
    refuses(() => orders.unique([]), /^unique\(subset\): expected an array of at least 1 item/);
    refuses(() => orders.unique('id' as never), /^unique\(subset\)/);
    assert.equal(orders.unique(['id']).collectSync().length, 3);
  });

  it("isIn: a string is refused (it was spread into its characters: isIn('abc') matched 'a', 'b' and 'c')", () => {
    refuses(() => col('name').isIn('abc' as never), /^isIn\(values\): expected an array/);
  });

  it('operands that are not literals are refused where they are given, not deep inside binding', () => {
    refuses(() => col('amount').add({} as never), /^add\(other\): expected an expression or a literal/);
    refuses(() => col('amount').eq(undefined as never), /^eq\(other\)/);
    refuses(() => orders.filter('amount > 1' as never), /^filter\(predicate\): expected an expression such as col\('x'\), received "amount > 1"$/);
    refuses(() => orders.withColumns({ total: 'amount' } as never), /^withColumns\(exprs\)\.total: /);
    refuses(
      () => col('amount').cast('float' as never),
      /^cast\(to\): expected one of 'int32', 'int64', 'float32', 'float64', 'bool', 'utf8', 'timestamp', 'date', 'time', 'duration'/,
    );
  });

  it("agg: an output the caller names like a hidden one ('__agg0') is computed, not refused with a plain TypeError", () => {
    const out = orders.groupBy('id').agg({ __agg0: col('amount').sum(), range: col('amount').max().sub(col('amount').min()) });
    assert.deepEqual(out.collectSync(), [
      { id: 1, __agg0: 10, range: 0 },
      { id: 2, __agg0: 41, range: 1 },
      { id: 3, __agg0: 30, range: 0 },
    ]);
    refuses(() => orders.groupBy('id').agg({ id: col('amount').sum() }), /^agg\(aggs\): expected each output column named once, received "id"$/);
  });

  it('an argument past the last is refused (collectSync({ executor }) ran inline, ignoring it)', () => {
    refuses(() => (orders.collectSync as (o: unknown) => unknown)({ executor: null }), /^collectSync\(\): expected at most 0 arguments/);
  });

  it('stream: batchSize is checked at the call, not at the first batch', () => {
    refuses(() => orders.stream({ batchSize: 0 }), /^stream\(options\)\.batchSize: expected an integer in 1\.\.16777216, received 0$/);
  });

  it('DataFrameModel: values that are not zod types are refused (a TypeError from zod internals, before)', () => {
    refuses(() => DataFrameModel({ id: 'int32' } as never), /^DataFrameModel\(shape\)\.id: expected a zod type/);
    refuses(() => DataFrameModel(null as never), /^DataFrameModel\(shape\): expected an object mapping column names to zod types/);
  });

  it('ingest options are checked by every model entry point', () => {
    refuses(() => Orders.fromRows([], { trustedMode: 'lenient' } as never), /^fromRows\(options\)\.trustedMode: expected one of 'off', 'shape_only', 'strict'/);
    refuses(() => Orders.fromColumns(JSON.parse('{}'), { maxIssues: Number.NaN }), /^fromColumns\(options\)\.maxIssues/);
    refuses(() => Orders.fromNdjson('', { ignoreErrors: 'yes' } as never), /^fromNdjson\(options\)\.ignoreErrors: expected true or false/);
  });
});

describe('executor options', () => {
  const executors: { close(): Promise<void> }[] = [];
  after(() => Promise.all(executors.map((e) => e.close())));

  it('morselRows 0 (an endless loop that ran out of memory) and NaN (an empty result) are refused', () => {
    refuses(() => createExecutor({ maxWorkers: 0, morselRows: 0 }), /^createExecutor\(options\)\.morselRows: expected an integer in 1\.\.1048576, received 0$/);
    refuses(() => createExecutor({ maxWorkers: 0, morselRows: Number.NaN }), /received NaN/);
  });

  it('maxWorkers is bounded (2^31 workers exhaust memory), backend is a closed set, unknown options are refused', () => {
    refuses(() => createExecutor({ maxWorkers: 2 ** 31 }), /^createExecutor\(options\)\.maxWorkers: expected an integer in 0\.\.256/);
    refuses(() => createExecutor({ backend: 'gpu' } as never), /^createExecutor\(options\)\.backend: expected one of 'auto', 'cpu', 'webgpu', received "gpu"$/);
    refuses(() => createExecutor({ workers: 2 } as never), /unknown option "workers"/);
    refuses(() => createExecutor({ maxWorkers: 0, gpu: { handoffRows: Number.NaN } }), /^createExecutor\(options\)\.gpu\.handoffRows/);
  });

  it('close({ cancelAfterMs }) above 2^31-1 is refused (Node fired the timer after 1 ms, cancelling jobs at once)', async () => {
    const executor = createExecutor({ maxWorkers: 0 });
    executors.push(executor);
    refuses(
      () => executor.close({ cancelAfterMs: 2 ** 31 }),
      /^close\(options\)\.cancelAfterMs: expected a number of milliseconds from 0 to 2147483647 \(or Infinity\)/,
    );
    const job = executor.submit(() => new Promise((resolve) => setTimeout(resolve, 50, 'done')));
    await executor.close({ cancelAfterMs: 2 ** 31 - 1 });
    assert.equal(await job.result(), 'done');
  });
});

describe('Koa helper options are checked when the helper is made', () => {
  class Tagged extends DataFrameModel({ user_id: z.int32().meta({ alias: 'userId' }) }) {}

  it("columnarJsonSchema: an inputKeyMode typo is refused (it gave the schema of 'both')", () => {
    refuses(
      () => columnarJsonSchema(Tagged, { inputKeyMode: 'alias' } as never),
      /^columnarJsonSchema\(options\)\.inputKeyMode: expected one of 'aliases', 'names', 'both'/,
    );
    assert.deepEqual(Object.keys((columnarJsonSchema(Tagged, { inputKeyMode: 'aliases' }) as { properties: object }).properties), ['userId']);
  });

  it('jsonLogger: a level typo is refused (it logged every level)', () => {
    refuses(() => jsonLogger({ level: 'warning' } as never), /^jsonLogger\(options\)\.level: expected one of 'debug', 'info', 'warn', 'error'/);
  });

  it('columnarBody: ingest options and the limit are refused at once (each request failed with 500 before)', () => {
    refuses(() => columnarBody(Tagged, { trustedMode: 'lenient' } as never), /^columnarBody\(options\)\.trustedMode/);
    refuses(() => columnarBody(Tagged, { limit: 0 }), /^columnarBody\(options\)\.limit: expected an integer in 1\.\./);
    refuses(() => columnarBody({} as never), /^columnarBody\(Model\): expected a model class/);
  });
});
