// Temporal dtypes end to end: calendar math against Date, ISO 8601 ingest per type with issues naming rows,
// time zones across daylight-saving changes, JS/JSON/Arrow output, Arrow IPC round trips, and expressions
// (literal comparisons, arithmetic, casts) checked against BigInt arithmetic written here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { z } from 'zod';
import { col, DataFrameModel, SchemaDefinitionError, ValidationError, CastError } from '../../src/index.js';
import { columnarJsonSchema } from '../../src/koa/schema.js';
import { civilFromDays, daysFromCivil, formatIsoDuration, formatIsoTimestamp, parseIsoDuration, parseIsoTimestamp } from '../../src/model/temporal.js';

const DAY = 86_400_000;

describe('calendar math', () => {
  it('days <-> civil dates agree with Date over ±1e6 days', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (days) => {
        const d = new Date(days * DAY);
        const civil = civilFromDays(days);
        assert.deepEqual(civil, { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
        assert.equal(daysFromCivil(civil.year, civil.month, civil.day), days);
      }),
    );
  });

  it('ISO timestamps round-trip exactly in every unit, and match Date for milliseconds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.constantFrom('ms' as const, 'us' as const, 'ns' as const), (v, unit) => {
        const value = unit === 'ms' ? v / 1_000_000n : unit === 'us' ? v / 1000n : v;
        const text = formatIsoTimestamp(value, unit);
        assert.deepEqual(parseIsoTimestamp(text, unit), { ok: true, value });
        if (unit === 'ms')
          assert.equal(
            text,
            new Date(Number(value))
              .toISOString()
              .replace(/^\+0*(\d{4,})/, '$1')
              .replace(/^-0+(\d{6})/, '-$1'),
          );
      }),
    );
  });

  it('durations round-trip through ISO 8601', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        assert.deepEqual(parseIsoDuration(formatIsoDuration(value, 'ns'), 'ns'), { ok: true, value });
      }),
    );
    assert.equal(formatIsoDuration(93_784_500n, 'ms'), 'P1DT2H3M4.5S');
    assert.equal(formatIsoDuration(0n, 'us'), 'PT0S');
    assert.equal(formatIsoDuration(-1500n, 'ms'), '-PT1.5S');
  });
});

const Events = DataFrameModel({
  at: z.iso.datetime({ offset: true }).meta({ unit: 'ns' }),
  local: z.date().meta({ unit: 'us', timeZone: 'Europe/Paris' }),
  day: z.iso.date().nullable(),
  clock: z.iso.time(),
  took: z.bigint().meta({ dtype: 'duration', unit: 'ms' }),
});

describe('temporal columns: declaration and ingest', () => {
  it('declares dtypes and parameters from zod and meta', () => {
    assert.deepEqual(
      Events.schema.map((f) => [f.name, f.dtype, f.unit, f.timeZone]),
      [
        ['at', 'timestamp', 'ns', undefined],
        ['local', 'timestamp', 'us', 'Europe/Paris'],
        ['day', 'date', undefined, undefined],
        ['clock', 'time', 'us', undefined],
        ['took', 'duration', 'ms', undefined],
      ],
    );
  });

  it('refuses bad meta values with SchemaDefinitionError', () => {
    assert.throws(() => DataFrameModel({ t: z.date().meta({ unit: 'days' }) }), SchemaDefinitionError);
    assert.throws(() => DataFrameModel({ t: z.date().meta({ timeZone: 'Mars/Olympus' }) }), SchemaDefinitionError);
    assert.throws(() => DataFrameModel({ t: z.iso.time().meta({ unit: 'ms' }) }), SchemaDefinitionError);
    assert.throws(() => DataFrameModel({ t: z.iso.date().meta({ timeZone: 'UTC' }) }), SchemaDefinitionError);
    assert.throws(() => DataFrameModel({ t: z.boolean().meta({ dtype: 'duration' }) }), SchemaDefinitionError);
  });

  it('reads ISO text exactly (nanoseconds, offsets), integers in the unit and Dates', async () => {
    const frame = Events.fromColumns({
      at: ['2024-03-31T03:30:00.123456789+02:00', '1969-12-31T23:59:59.999999999Z'],
      local: [new Date(Date.UTC(2024, 0, 1)), 1_700_000_000_000_000],
      day: ['2024-02-29', null],
      clock: ['23:59:59.999999', 0],
      took: [1500n, 'PT1.5S' as never],
    });
    const json = await frame.toColumns();
    assert.deepEqual(json['day'], ['2024-02-29', null]);
    assert.deepEqual(json['clock'], ['23:59:59.999999', '00:00:00.000000']);
    assert.deepEqual(json['took'], [1500n, 1500n]);
    assert.deepEqual(
      json['at'].map((d) => d.getTime()),
      [Date.UTC(2024, 2, 31, 1, 30, 0, 123), -1],
    );
    const table = await frame.toArrow();
    assert.equal(String(table.getChild('at')!.type), 'Timestamp<NANOSECOND>');
    assert.equal(String(table.getChild('local')!.type), 'Timestamp<MICROSECOND, Europe/Paris>');
    assert.equal(String(table.getChild('day')!.type), 'Date32<DAY>');
    assert.equal(String(table.getChild('clock')!.type), 'Time64<MICROSECOND>');
    assert.equal(String(table.getChild('took')!.type), 'Duration<MILLISECOND>');
    assert.deepEqual([...(table.getChild('at')!.data[0]!.values as BigInt64Array).subarray(0, 2)], [1_711_848_600_123_456_789n, -1n]);
  });

  it('reports each bad cell with its column and row', () => {
    const error = (() => {
      try {
        Events.fromColumns({
          at: ['2024-01-01T00:00:00', '2024-01-01T00:00:00.0000000001Z'],
          local: ['2024-03-31T02:30:00', 'x'],
          day: ['2024-02-30', 3.5],
          clock: ['24:00:00', 86_400_000_000],
          took: ['P1M' as never, 1.5],
        });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(
      error.issues.map((i) => [i.column, i.row, i.code]),
      [
        ['at', 0, 'invalid_type'],
        ['at', 1, 'precision_loss'],
        ['local', 0, 'invalid_value'],
        ['local', 1, 'invalid_type'],
        ['day', 0, 'invalid_type'],
        ['day', 1, 'invalid_type'],
        ['clock', 0, 'invalid_type'],
        ['clock', 1, 'too_big'],
        ['took', 0, 'invalid_type'],
        ['took', 1, 'invalid_type'],
      ],
    );
  });

  it('reads wall time in the zone across daylight-saving changes and writes the zone offset', async () => {
    const Z = DataFrameModel({ t: z.iso.datetime({ local: true, offset: true }).meta({ unit: 'ms', timeZone: 'America/New_York' }) });
    // 2024-11-03 01:30 happens twice in New York: the earlier instant (EDT, -04:00) is taken.
    const frame = Z.fromColumns({ t: ['2024-03-10T01:59:59', '2024-03-10T03:00:00', '2024-11-03T01:30:00', '2024-11-03T01:30:00-05:00'] });
    const ms = (await frame.toColumns())['t'].map((d) => d.toISOString());
    assert.deepEqual(ms, ['2024-03-10T06:59:59.000Z', '2024-03-10T07:00:00.000Z', '2024-11-03T05:30:00.000Z', '2024-11-03T06:30:00.000Z']);
    const values = (await frame.toArrow()).getChild('t')!.data[0]!.values as BigInt64Array;
    assert.deepEqual(
      [...values.subarray(0, 4)].map((v) => formatIsoTimestamp(v, 'ms', 'America/New_York')),
      ['2024-03-10T01:59:59.000-05:00', '2024-03-10T03:00:00.000-04:00', '2024-11-03T01:30:00.000-04:00', '2024-11-03T01:30:00.000-05:00'],
    );
    assert.throws(() => Z.fromColumns({ t: ['2024-03-10T02:30:00'] }), ValidationError);
    assert.equal(formatIsoTimestamp(1_711_846_800_000n, 'ms', 'Europe/Paris'), '2024-03-31T03:00:00.000+02:00');
    assert.equal(formatIsoTimestamp(1_711_846_799_000n, 'ms', 'Europe/Paris'), '2024-03-31T01:59:59.000+01:00');
  });

  it('round-trips through Arrow IPC, and converts Arrow units exactly', async () => {
    const frame = Events.fromColumns({ at: ['2024-01-01T00:00:00.000000001Z'], local: [0], day: ['1969-12-31'], clock: ['12:00:00'], took: [-5n] });
    const bytes = arrow.tableToIPC(await frame.toArrow());
    const back = Events.fromArrow(bytes, { trustedMode: 'strict' });
    assert.deepEqual(arrow.tableToIPC(await back.toArrow()), bytes);
    const Ms = DataFrameModel({ t: z.date() });
    const micro = arrow.makeVector(
      arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: 2, nullCount: 0, data: new BigInt64Array([1000n, 1500n]) }),
    );
    assert.throws(() => Ms.fromArrow(new arrow.Table({ t: micro })), ValidationError);
    assert.deepEqual(
      (await Ms.fromArrow(new arrow.Table({ t: micro }), { trustedMode: 'shape_only' }).toColumns())['t'].map((d) => d.getTime()),
      [1, 1],
    );
  });

  it('publishes JSON Schema formats', () => {
    const schema = columnarJsonSchema(Events) as { properties: Record<string, { items: { format?: string } }> };
    assert.equal(schema.properties['at']!.items.format, 'date-time');
    assert.equal(schema.properties['clock']!.items.format, 'time');
  });
});

describe('temporal expressions (CPU)', () => {
  const T = DataFrameModel({ t: z.date().meta({ unit: 'us' }), d: z.iso.date(), w: z.bigint().meta({ dtype: 'duration', unit: 'ms' }), s: z.string() });

  it('compare with Date and ISO literals, add durations, subtract timestamps and cast, against BigInt arithmetic', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.bigInt({ min: -(10n ** 16n), max: 10n ** 16n }),
            fc.integer({ min: -100_000, max: 100_000 }),
            fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
          ),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        async (rows) => {
          const frame = T.fromColumns({ t: rows.map((r) => r[0]), d: rows.map((r) => r[1]), w: rows.map((r) => r[2]), s: rows.map(() => 'x') });
          const out = await frame
            .select({
              later: col('t').gt(new Date(0)),
              iso: col('d').ge('1970-01-01'),
              plus: col('t').add(col('w')).cast('int64'),
              diff: col('t')
                .sub(col('t').add(col('w')))
                .cast('int64'),
              day: col('t').cast('date'),
              ts: col('d').cast({ dtype: 'timestamp', unit: 'ms' }).cast('int64'),
              twice: col('w').mul(2).cast('int64'),
            })
            .collect();
          rows.forEach(([t, d, w], i) => {
            const row = out[i]!;
            assert.equal(row.later, t > 0n);
            assert.equal(row.iso, d >= 0);
            assert.equal(row.plus, t + w * 1000n);
            assert.equal(row.diff, -w * 1000n);
            const days = t >= 0n ? t / 86_400_000_000n : -((-t + 86_400_000_000n - 1n) / 86_400_000_000n);
            assert.equal(row.day, new Date(Number(days) * DAY).toISOString().slice(0, 10));
            assert.equal(row.ts, BigInt(d) * 86_400_000n);
            assert.equal(row.twice, w * 2n);
          });
        },
      ),
      { numRuns: 20 },
    );
  });

  it('casts ISO strings strictly (CastError naming value and row) or to null', async () => {
    const frame = T.fromColumns({ t: [0n, 0n], d: [0, 0], w: [0n, 0n], s: ['2024-01-01T00:00:00Z', 'nope'] });
    const loose = await frame.select({ v: col('s').cast({ dtype: 'timestamp', unit: 'ms' }, { strict: false }) }).collect();
    assert.deepEqual(
      loose.map((r) => r.v?.getTime() ?? null),
      [Date.UTC(2024, 0, 1), null],
    );
    await assert.rejects(
      frame.select({ v: col('s').cast({ dtype: 'timestamp', unit: 'ms' }) }).collect(),
      (e: unknown) => e instanceof CastError && /"nope" at row 1/.test(e.message),
    );
  });

  it('sorts, groups and joins on temporal keys', async () => {
    const frame = T.fromColumns({ t: [3n, 1n, 2n, 1n], d: [2, 1, 2, 1], w: [1n, 2n, 3n, 4n], s: ['a', 'b', 'c', 'd'] });
    const sorted = await frame.sort('t').collect();
    assert.deepEqual(
      sorted.map((r) => r.s),
      ['b', 'd', 'c', 'a'],
    );
    const grouped = await frame
      .groupBy('d')
      .agg({ first: col('t').min(), longest: col('w').max() })
      .sort('d')
      .collect();
    assert.deepEqual(
      grouped.map((r) => [r.d, r.longest]),
      [
        ['1970-01-02', 4n],
        ['1970-01-03', 3n],
      ],
    );
    const joined = await frame.join(frame.select({ d: col('d'), other: col('s') }), { on: 'd' }).collect();
    assert.equal(joined.length, 8);
  });
});
