// The dt namespace from expression to CPU kernel, on hand-made temporal columns (a us timestamp in
// Europe/Paris, a naive ms one, a utf8 one to parse): binder rules, and generated code checked against Intl
// wall-clock fields and known DST instants.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileExpr, KernelBuilder } from '../../src/engines/cpu/codegen.js';
import { kernelLib } from '../../src/engines/cpu/kernels/runtime.js';
import { bindExpr } from '../../src/expr/bind.js';
import { strToDatetime } from '../../src/expr/dt.js';
import { CastError, col, ExpressionTypeError, InvalidArgumentError, LocalTimeError, type AnyExpr } from '../../src/index.js';
import type { Column, DType, Field } from '../../src/model/types.js';

// The temporal dtype names, typed as DType whether or not this build's union lists them yet.
const TIMESTAMP = 'timestamp' as string as DType;
const fields: Field[] = [
  { name: 'paris', dtype: TIMESTAMP, unit: 'us', timeZone: 'Europe/Paris', nullable: true },
  { name: 'naive', dtype: TIMESTAMP, unit: 'ms', nullable: false },
  { name: 's', dtype: 'utf8', nullable: false },
];

function run(expr: AnyExpr, columns: Record<string, Column>): unknown[] {
  const bound = bindExpr(expr.node, { fields, context: 'test' });
  const b = new KernelBuilder(new Map(Object.entries(columns)));
  b.line('for (let i = start; i < end; i++) {');
  const c = compileExpr(b, bound);
  b.line(`out[i] = ${c.n} ? null : ${c.v};`);
  b.line('}');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the kernel source is what codegen.ts wrote, as the engine's own compile step runs it
  const kernel = new Function('cols', 'params', 'start', 'end', 'out', 'lib', `'use strict';\n${b.headerText()}\n${b.takeBody()}`) as (
    ...args: unknown[]
  ) => void;
  const out: unknown[] = [];
  const length = Object.values(columns)[0]!.length;
  kernel(b.slotColumns, b.params, 0, length, out, kernelLib);
  return out;
}

function timestamps(values: readonly bigint[], unit: 'ms' | 'us', timeZone?: string): Column {
  return {
    dtype: TIMESTAMP,
    unit,
    ...(timeZone ? { timeZone } : {}),
    length: values.length,
    values: BigInt64Array.from(values),
    validity: null,
    nullCount: 0,
    dictionary: null,
  };
}
function texts(values: readonly string[]): Column {
  return { dtype: 'utf8', length: values.length, values: Int32Array.from(values.keys()), validity: null, nullCount: 0, dictionary: values };
}

const parisHour = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Paris', hour: 'numeric', hourCycle: 'h23' });

describe('dt expressions on the CPU', () => {
  it("reads each field on the zone's wall clock, as Intl does", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2e12, max: 4e12 }), { minLength: 1, maxLength: 20 }), (ms) => {
        const column = timestamps(
          ms.map((m) => BigInt(m) * 1000n + 7n),
          'us',
          'Europe/Paris',
        );
        assert.deepEqual(
          run(col('paris').dt.hour(), { paris: column }),
          ms.map((m) => Number(parisHour.format(m))),
        );
        assert.deepEqual(
          run(col('paris').dt.microsecond(), { paris: column }),
          ms.map((m) => (((m % 1000) + 1000) % 1000) * 1000 + 7),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('truncates, offsets and replaces zones across the 2024 DST changes', () => {
    const us = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;
    const paris = timestamps([us('2024-03-31T12:00:00+02:00'), us('2024-03-30T12:00:00+01:00')], 'us', 'Europe/Paris');
    assert.deepEqual(run(col('paris').dt.truncate('1d'), { paris }), [us('2024-03-30T23:00:00Z'), us('2024-03-29T23:00:00Z')]);
    assert.deepEqual(run(col('paris').dt.offsetBy('1d'), { paris }), [us('2024-04-01T12:00:00+02:00'), us('2024-03-31T12:00:00+02:00')]);
    assert.deepEqual(run(col('paris').dt.epoch('s'), { paris }), [
      BigInt(Date.parse('2024-03-31T10:00:00Z') / 1000),
      BigInt(Date.parse('2024-03-30T11:00:00Z') / 1000),
    ]);
    const naive = timestamps([BigInt(Date.parse('2024-03-31T02:30:00Z')), BigInt(Date.parse('2024-10-27T02:30:00Z'))], 'ms');
    assert.throws(() => run(col('naive').dt.replaceTimeZone('Europe/Paris'), { naive }), LocalTimeError);
    assert.deepEqual(run(col('naive').dt.replaceTimeZone('Europe/Paris', { ambiguous: 'latest', nonExistent: 'null' }), { naive }), [
      null,
      BigInt(Date.parse('2024-10-27T01:30:00Z')),
    ]);
  });

  it('parses text per dictionary entry: offsets give instants, a strict parse names the failing value', () => {
    const s = texts(['2024-03-31 03:00:00+0200', '2024-03-31 01:00:00+0000']);
    assert.deepEqual(run(strToDatetime(col('s'), '%F %T%z', { unit: 'ms' }), { s }), [1711846800000n, 1711846800000n]);
    assert.throws(() => run(strToDatetime(col('s'), '%F %T'), { s }), CastError);
    assert.deepEqual(run(strToDatetime(col('s'), '%F %T', { strict: false }), { s }), [null, null]);
  });

  it('rejects what does not apply at bind time, and bad arguments where they enter', () => {
    const bind = (e: AnyExpr) => bindExpr(e.node, { fields, context: 'test' });
    assert.throws(() => bind(col('s').dt.year()), ExpressionTypeError);
    assert.throws(() => bind(col('naive').dt.convertTimeZone('UTC')), /no time zone/);
    assert.equal(bind(col('paris').dt.convertTimeZone('Asia/Tokyo')).type.timeZone, 'Asia/Tokyo');
    assert.equal(bind(col('paris').dt.replaceTimeZone(null)).type.timeZone, undefined);
    assert.equal(bind(col('paris').dt.replaceTimeZone('UTC', { ambiguous: 'null' })).type.nullable, true);
    assert.throws(() => col('paris').dt.truncate('1mo1d'), InvalidArgumentError);
    assert.throws(() => col('paris').dt.offsetBy('1x'), InvalidArgumentError);
    assert.throws(() => col('paris').dt.convertTimeZone('Mars/Olympus'), InvalidArgumentError);
    assert.throws(() => strToDatetime(col('s'), '%Q'), InvalidArgumentError);
  });
});
