// The calendar library of the dt namespace against references written without it: JS Date's UTC fields for
// millisecond instants (and the sub-millisecond digits by hand for us and ns), a Date-based ISO week, known
// calendars, and Date arithmetic for truncation and month offsets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  civilFromDays,
  daysFromCivil,
  isoWeek,
  offsetBy,
  parseDuration,
  timestampField,
  TEMPORAL_FIELDS,
  truncate,
  truncationPeriod,
  type TemporalField,
} from '../../../src/engines/shared/calendar.js';
import { InvalidArgumentError } from '../../../src/errors.js';

const MS_PER_DAY = 86_400_000;
// Date's range (less the first year, whose January 1 it cannot hold), and the part a nanosecond int64 reaches.
const dateMs = fc.integer({ min: -8.6e15, max: 8.64e15 });
const nsRangeMs = fc.integer({ min: -9_223_372_036_853, max: 9_223_372_036_853 });

function utc(year: number, month: number, day: number): number {
  // setUTCFullYear, because Date.UTC reads years 0..99 as 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

/** The ISO week by the usual Date recipe: the week of the Thursday of the date's week. */
function referenceIsoWeek(ms: number): { year: number; week: number } {
  const date = new Date(ms - (((new Date(ms).getUTCDay() + 6) % 7) - 3) * MS_PER_DAY);
  const year = date.getUTCFullYear();
  return { year, week: Math.floor((date.getTime() - utc(year, 1, 1)) / (7 * MS_PER_DAY)) + 1 };
}

function referenceField(field: TemporalField, ms: number): number {
  const date = new Date(ms);
  const dayStart = ms - (((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY);
  switch (field) {
    case 'year':
      return date.getUTCFullYear();
    case 'quarter':
      return Math.floor(date.getUTCMonth() / 3) + 1;
    case 'month':
      return date.getUTCMonth() + 1;
    case 'week':
      return referenceIsoWeek(dayStart).week;
    case 'weekday':
      return ((date.getUTCDay() + 6) % 7) + 1;
    case 'day':
      return date.getUTCDate();
    case 'ordinalDay':
      return Math.round((dayStart - utc(date.getUTCFullYear(), 1, 1)) / MS_PER_DAY) + 1;
    case 'hour':
      return date.getUTCHours();
    case 'minute':
      return date.getUTCMinutes();
    case 'second':
      return date.getUTCSeconds();
    case 'millisecond':
      return date.getUTCMilliseconds();
    case 'microsecond':
      return date.getUTCMilliseconds() * 1000;
    case 'nanosecond':
      return date.getUTCMilliseconds() * 1_000_000;
  }
}

describe('civil dates', () => {
  it('civilFromDays and daysFromCivil agree with Date over its whole range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e8, max: 1e8 }), (days) => {
        const date = new Date(days * MS_PER_DAY);
        const civil = civilFromDays(days);
        assert.deepEqual(civil, { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() });
        assert.equal(daysFromCivil(civil.year, civil.month, civil.day), days);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the ISO weeks of known calendars', () => {
    const cases: [number, number, number, number, number][] = [
      [2021, 1, 3, 2020, 53],
      [2021, 1, 4, 2021, 1],
      [2024, 12, 30, 2025, 1],
      [2008, 12, 29, 2009, 1],
      [2010, 1, 3, 2009, 53],
      [2005, 1, 1, 2004, 53],
      [2026, 12, 31, 2026, 53],
      [1970, 1, 1, 1970, 1],
      [1969, 12, 28, 1969, 52],
    ];
    for (const [y, m, d, weekYear, week] of cases) assert.deepEqual(isoWeek(daysFromCivil(y, m, d)), { year: weekYear, week }, `${y}-${m}-${d}`);
  });
});

describe('timestampField', () => {
  it('reads every field of a millisecond instant as Date does, before and after 1970', () => {
    fc.assert(
      fc.property(dateMs, fc.constantFrom(...TEMPORAL_FIELDS), (ms, field) => {
        assert.equal(timestampField(field, BigInt(ms), 'ms'), referenceField(field, ms), `${field} of ${new Date(ms).toISOString()}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('is exact for microsecond and nanosecond instants, whose sub-millisecond digits Date does not hold', () => {
    fc.assert(
      fc.property(nsRangeMs, fc.integer({ min: 0, max: 999_999 }), fc.constantFrom(...TEMPORAL_FIELDS), (ms, sub, field) => {
        const micros = BigInt(ms) * 1000n + BigInt(sub % 1000);
        const nanos = BigInt(ms) * 1_000_000n + BigInt(sub);
        const usExpected = referenceField(field, ms) + (field === 'microsecond' ? sub % 1000 : field === 'nanosecond' ? (sub % 1000) * 1000 : 0);
        const nsExpected = referenceField(field, ms) + (field === 'microsecond' ? Math.floor(sub / 1000) : field === 'nanosecond' ? sub : 0);
        assert.equal(timestampField(field, micros, 'us'), usExpected);
        assert.equal(timestampField(field, nanos, 'ns'), nsExpected);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the nanosecond before the epoch as 1969-12-31 23:59:59.999999999', () => {
    const expected: Record<TemporalField, number> = {
      year: 1969,
      quarter: 4,
      month: 12,
      week: 1,
      weekday: 3,
      day: 31,
      ordinalDay: 365,
      hour: 23,
      minute: 59,
      second: 59,
      millisecond: 999,
      microsecond: 999_999,
      nanosecond: 999_999_999,
    };
    for (const field of TEMPORAL_FIELDS) assert.equal(timestampField(field, -1n, 'ns'), expected[field], field);
    assert.equal(timestampField('nanosecond', -(2n ** 63n), 'ns'), 145_224_192, 'int64 min is 1677-09-21 00:12:43.145224192');
    assert.equal(timestampField('year', -(2n ** 63n), 'ns'), 1677);
  });
});

describe('durations', () => {
  it('parses Polars duration strings', () => {
    assert.deepEqual(parseDuration('1d', 'x'), { months: 0, weeks: 0, days: 1, nanos: 0n });
    assert.deepEqual(parseDuration('-2h30m', 'x'), { months: -0, weeks: -0, days: -0, nanos: -9_000_000_000_000n });
    assert.deepEqual(parseDuration('1y2q3mo', 'x'), { months: 21, weeks: 0, days: 0, nanos: 0n });
    assert.deepEqual(parseDuration('2w1d1ns1us1ms1s', 'x'), { months: 0, weeks: 2, days: 1, nanos: 1_001_001_001n });
    for (const bad of ['', '-', 'd', '1', '1x', '1.5h', '+1h', '1h ', ' 1h', '1H', '--1h']) {
      assert.throws(() => parseDuration(bad, 'dt.offsetBy(by)'), InvalidArgumentError, bad);
    }
  });

  it('takes one positive kind of period to truncate to', () => {
    for (const good of ['1ns', '1us', '1ms', '1s', '15m', '1h', '2h', '1h30m', '1d', '1w', '1mo', '3mo', '1q', '1y']) truncationPeriod(good);
    for (const bad of ['-1h', '0h', '1mo1d', '1w1d', '1d1h', '0mo']) assert.throws(() => truncationPeriod(bad), InvalidArgumentError, bad);
  });
});

/** Truncation as Date arithmetic in UTC. */
function referenceTruncate(ms: number, every: string): number {
  const date = new Date(ms);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const floorTo = (length: number): number => ms - (((ms % length) + length) % length);
  switch (every) {
    case '1y':
      return utc(y, 1, 1);
    case '1q':
    case '3mo':
      return utc(y, m - (m % 3) + 1, 1);
    case '1mo':
      return utc(y, m + 1, 1);
    case '5mo': {
      const total = y * 12 + m;
      const first = total - (((total % 5) + 5) % 5);
      return utc(Math.floor(first / 12), (first % 12) + 1 + (first % 12 < 0 ? 12 : 0), 1);
    }
    case '1w':
      return floorTo(MS_PER_DAY) - ((date.getUTCDay() + 6) % 7) * MS_PER_DAY;
    case '1d':
      return floorTo(MS_PER_DAY);
    case '1h':
      return floorTo(3_600_000);
    case '15m':
      return floorTo(900_000);
    case '1s':
      return floorTo(1000);
    default:
      return ms;
  }
}

describe('truncate', () => {
  it('agrees with Date arithmetic in UTC for fixed and calendar periods', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -8.6e15, max: 8.6e15 }),
        fc.constantFrom('1y', '1q', '3mo', '1mo', '5mo', '1w', '1d', '1h', '15m', '1s', '1ms', '1us'),
        (ms, every) => {
          assert.equal(truncate(BigInt(ms), 'ms', truncationPeriod(every)), BigInt(referenceTruncate(ms, every)), `${every} of ${new Date(ms).toISOString()}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('aligns multi-unit periods to the epoch and weeks to Mondays, for ns values too', () => {
    const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    assert.equal(truncate(ns('2024-05-15T13:47:12Z') + 5n, 'ns', truncationPeriod('2h')), ns('2024-05-15T12:00:00Z'));
    assert.equal(truncate(ns('1969-12-31T23:59:59Z') + 999n, 'ns', truncationPeriod('1us')), ns('1969-12-31T23:59:59Z'));
    assert.equal(truncate(ns('1969-12-31T23:59:59Z') + 999n, 'ns', truncationPeriod('1d')), ns('1969-12-31T00:00:00Z'));
    assert.equal(truncate(ns('2024-05-15T13:47:12Z'), 'ns', truncationPeriod('1w')), ns('2024-05-13T00:00:00Z'));
    assert.equal(truncate(ns('1970-01-04T10:00:00Z'), 'ns', truncationPeriod('1w')), ns('1969-12-29T00:00:00Z'));
    // Shorter than the unit: unchanged, as in Polars.
    assert.equal(truncate(123_456n, 'ms', truncationPeriod('1us')), 123_456n);
  });
});

describe('offsetBy', () => {
  it('moves by calendar months clamping the day, as Date arithmetic with a clamp', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8e15, max: 8e15 }), fc.integer({ min: -1200, max: 1200 }), (ms, months) => {
        const date = new Date(ms);
        const total = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
        const y = Math.floor(total / 12);
        const m = total - y * 12;
        const lastDay = new Date(utc(y, m + 2, 1) - MS_PER_DAY).getUTCDate();
        const timeOfDay = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
        const expected = utc(y, m + 1, Math.min(date.getUTCDate(), lastDay)) + timeOfDay;
        assert.equal(offsetBy(BigInt(ms), 'ms', parseDuration(months < 0 ? `-${-months}mo` : `${months}mo`, 'x')), BigInt(expected));
      }),
      { numRuns: 2000 },
    );
  });

  it('adds days, weeks and fixed lengths exactly in UTC', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
        fc.integer({ min: 0, max: 10000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 100000 }),
        fc.boolean(),
        (ns, days, weeks, seconds, negative) => {
          const text = `${negative ? '-' : ''}${weeks}w${days}d${seconds}s7ns`;
          const delta = (BigInt((weeks * 7 + days) * 86400 + seconds) * 1_000_000_000n + 7n) * (negative ? -1n : 1n);
          assert.equal(offsetBy(ns, 'ns', parseDuration(text, 'x')), ns + delta);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('clamps known month ends', () => {
    const ms = (iso: string): bigint => BigInt(Date.parse(iso));
    assert.equal(offsetBy(ms('2024-01-31T10:00:00Z'), 'ms', parseDuration('1mo', 'x')), ms('2024-02-29T10:00:00Z'));
    assert.equal(offsetBy(ms('2023-01-31T10:00:00Z'), 'ms', parseDuration('1mo', 'x')), ms('2023-02-28T10:00:00Z'));
    assert.equal(offsetBy(ms('2024-02-29T00:00:00Z'), 'ms', parseDuration('1y', 'x')), ms('2025-02-28T00:00:00Z'));
    assert.equal(offsetBy(ms('2024-03-31T00:00:00Z'), 'ms', parseDuration('-1mo', 'x')), ms('2024-02-29T00:00:00Z'));
    assert.equal(offsetBy(ms('2024-05-31T00:00:00Z'), 'ms', parseDuration('1q', 'x')), ms('2024-08-31T00:00:00Z'));
  });
});
