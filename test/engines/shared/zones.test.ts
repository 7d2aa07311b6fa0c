// Time zones against Intl's own wall-clock fields (formatToParts, an independent path through ICU), known DST
// transitions, and the zone-aware calendar operations (truncate, offsetBy) checked by the wall times they give.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { offsetBy, parseDuration, timestampField, truncate, truncationPeriod } from '../../../src/engines/shared/calendar.js';
import { timeZone } from '../../../src/engines/shared/zones.js';
import { InvalidArgumentError, LocalTimeError } from '../../../src/errors.js';

// Zones with DST both ways, half- and quarter-hour offsets, a 30-minute DST (Lord Howe), a skipped day (Apia),
// midnight transitions (Havana, Sao Paulo), negative DST (Dublin) and Ramadan suspensions (Casablanca).
const ZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Apia',
  'Pacific/Chatham',
  'America/Havana',
  'America/Sao_Paulo',
  'America/St_Johns',
  'Europe/Dublin',
  'Africa/Casablanca',
  'Asia/Tehran',
  'Europe/London',
];
// 1850-01-01 .. 2150-01-01, in epoch seconds: where Intl's Gregorian calendar is the proleptic one.
const seconds = fc.integer({ min: -3_786_825_600, max: 5_680_281_600 });
const MS_PER_DAY = 86_400_000;

const intlFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall time Intl shows for an instant in a zone, as milliseconds of a UTC clock showing the same fields. */
function wallMs(epochSeconds: number, zone: string): number {
  let format = intlFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    intlFormats.set(zone, format);
  }
  const parts = format.formatToParts(epochSeconds * 1000);
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((part) => part.type === type)?.value ?? NaN);
  const date = new Date(0);
  date.setUTCFullYear(field('year'), field('month') - 1, field('day'));
  date.setUTCHours(field('hour'), field('minute'), field('second'));
  return date.getTime();
}

const wallDay = (epochSeconds: number, zone: string): number => Math.floor(wallMs(epochSeconds, zone) / MS_PER_DAY);
const iso = (text: string): number => Date.parse(text) / 1000;

describe('TimeZone.offsetAt', () => {
  it("gives each instant the wall time Intl's fields show", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, (name, t) => {
        assert.equal((t + timeZone(name).offsetAt(t)) * 1000, wallMs(t, name), `${name} at ${new Date(t * 1000).toISOString()}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('changes at the known DST transitions, to the second', () => {
    const cases: [string, string, number, number][] = [
      ['Europe/Paris', '2024-03-31T01:00:00Z', 3600, 7200],
      ['Europe/Paris', '2024-10-27T01:00:00Z', 7200, 3600],
      ['America/New_York', '2024-03-10T07:00:00Z', -18000, -14400],
      ['America/New_York', '2024-11-03T06:00:00Z', -14400, -18000],
      ['Australia/Lord_Howe', '2024-04-06T15:00:00Z', 39600, 37800],
      ['Pacific/Apia', '2011-12-30T10:00:00Z', -36000, 50400],
    ];
    for (const [name, at, before, after] of cases) {
      const zone = timeZone(name);
      assert.equal(zone.offsetAt(iso(at) - 1), before, `${name} before ${at}`);
      assert.equal(zone.offsetAt(iso(at)), after, `${name} at ${at}`);
    }
    // Local mean time before standard time: Paris was 9 min 21 s ahead of UTC.
    assert.equal(timeZone('Europe/Paris').offsetAt(iso('1890-06-01T00:00:00Z')), 561);
  });

  it('rejects names Intl does not know', () => {
    for (const bad of ['Mars/Olympus', '', 'Europe/', '+25:00']) assert.throws(() => timeZone(bad, 'convertTimeZone(tz)'), InvalidArgumentError, bad);
  });
});

describe('TimeZone.localToEpochSeconds', () => {
  it('finds every instant back from its wall time; a repeated wall time gives both instants', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, (name, t) => {
        const zone = timeZone(name);
        const local = t + zone.offsetAt(t);
        const earliest = zone.localToEpochSeconds(local, 'earliest', 'raise')!;
        const latest = zone.localToEpochSeconds(local, 'latest', 'raise')!;
        assert.ok(earliest === t || latest === t);
        assert.ok(earliest <= latest);
        for (const instant of [earliest, latest]) assert.equal(instant + zone.offsetAt(instant), local);
        if (earliest === latest) assert.equal(zone.localToEpochSeconds(local, 'raise', 'raise'), t);
        else {
          assert.throws(() => zone.localToEpochSeconds(local, 'raise', 'raise'), LocalTimeError);
          assert.equal(zone.localToEpochSeconds(local, 'null', 'raise'), null);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('moves a skipped wall time forward by the gap, or gives null or raises as asked', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, (name, local) => {
        const zone = timeZone(name);
        const shifted = zone.localToEpochSeconds(local, 'earliest', 'shiftForward')!;
        const wall = shifted + zone.offsetAt(shifted);
        assert.ok(wall >= local);
        if (wall !== local) {
          // A gap: no instant shows `local`; the shift is the gap's length (the change of offset).
          assert.equal(zone.localToEpochSeconds(local, 'earliest', 'null'), null);
          assert.throws(() => zone.localToEpochSeconds(local, 'earliest', 'raise'), LocalTimeError);
          assert.equal(wall - local, zone.offsetAt(shifted) - zone.offsetAt(shifted - 1));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('resolves the known gaps and overlaps of 2024', () => {
    const paris = timeZone('Europe/Paris');
    const newYork = timeZone('America/New_York');
    assert.throws(() => paris.localToEpochSeconds(iso('2024-03-31T02:30:00Z'), 'raise', 'raise'), /does not exist in time zone 'Europe\/Paris'/);
    assert.equal(paris.localToEpochSeconds(iso('2024-03-31T02:30:00Z'), 'raise', 'shiftForward'), iso('2024-03-31T01:30:00Z'));
    assert.equal(paris.localToEpochSeconds(iso('2024-10-27T02:30:00Z'), 'earliest', 'raise'), iso('2024-10-27T00:30:00Z'));
    assert.equal(paris.localToEpochSeconds(iso('2024-10-27T02:30:00Z'), 'latest', 'raise'), iso('2024-10-27T01:30:00Z'));
    assert.throws(() => paris.localToEpochSeconds(iso('2024-10-27T02:30:00Z'), 'raise', 'raise'), /ambiguous/);
    assert.equal(newYork.localToEpochSeconds(iso('2024-03-10T02:30:00Z'), 'raise', 'null'), null);
    assert.equal(newYork.localToEpochSeconds(iso('2024-11-03T01:30:00Z'), 'earliest', 'raise'), iso('2024-11-03T05:30:00Z'));
    assert.equal(newYork.localToEpochSeconds(iso('2024-11-03T01:30:00Z'), 'latest', 'raise'), iso('2024-11-03T06:30:00Z'));
    // Samoa skipped 2011-12-30 entirely.
    assert.equal(timeZone('Pacific/Apia').localToEpochSeconds(iso('2011-12-30T12:00:00Z'), 'raise', 'null'), null);
  });
});

describe('zone-aware calendar operations', () => {
  const ms = (text: string): bigint => BigInt(Date.parse(text));

  it('reads fields on the wall clock of the zone', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, (name, t) => {
        const wall = new Date(wallMs(t, name));
        const value = BigInt(t) * 1_000_000n + 123_456n;
        assert.equal(timestampField('hour', value, 'us', timeZone(name)), wall.getUTCHours());
        assert.equal(timestampField('day', value, 'us', timeZone(name)), wall.getUTCDate());
        assert.equal(timestampField('year', value, 'us', timeZone(name)), wall.getUTCFullYear());
        assert.equal(timestampField('microsecond', value, 'us', timeZone(name)), 123_456);
      }),
      { numRuns: 1000 },
    );
  });

  it('truncates days, weeks and months to the first instant of the local period, even where midnight is skipped', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, fc.constantFrom('1d', '1w', '1mo', '1y'), (name, t, every) => {
        const zone = timeZone(name);
        const start = Number(truncate(BigInt(t) * 1000n, 'ms', truncationPeriod(every), zone)) / 1000;
        const wall = new Date(wallMs(t, name));
        const startWall = new Date(wallMs(start, name));
        const before = new Date(wallMs(start - 1, name));
        assert.ok(start <= t);
        // The start's local date opens the period; the second before it lies in the previous period.
        const period = (date: Date): number =>
          every === '1d'
            ? Math.floor(date.getTime() / MS_PER_DAY)
            : every === '1w'
              ? Math.floor((date.getTime() / MS_PER_DAY + 3) / 7)
              : every === '1mo'
                ? date.getUTCFullYear() * 12 + date.getUTCMonth()
                : date.getUTCFullYear();
        assert.equal(period(startWall), period(wall), `${every} of ${wall.toISOString()} in ${name}`);
        assert.ok(period(before) < period(wall), `${every} of ${wall.toISOString()} in ${name}: ${before.toISOString()} is before the start`);
      }),
      { numRuns: 2000 },
    );
  });

  it('truncates known local days, and fixed lengths on the UTC clock as Polars does', () => {
    const paris = timeZone('Europe/Paris');
    assert.equal(truncate(ms('2024-03-31T12:00:00+02:00'), 'ms', truncationPeriod('1d'), paris), ms('2024-03-30T23:00:00Z'));
    assert.equal(truncate(ms('2024-10-27T12:00:00+01:00'), 'ms', truncationPeriod('1d'), paris), ms('2024-10-26T22:00:00Z'));
    assert.equal(truncate(ms('2024-03-15T12:00:00-04:00'), 'ms', truncationPeriod('1mo'), timeZone('America/New_York')), ms('2024-03-01T05:00:00Z'));
    // Havana's clocks skip midnight on 2024-03-10: its day starts at 01:00 CDT.
    assert.equal(truncate(ms('2024-03-10T12:00:00-04:00'), 'ms', truncationPeriod('1d'), timeZone('America/Havana')), ms('2024-03-10T05:00:00Z'));
    assert.equal(truncate(ms('2024-05-01T10:45:00+05:30'), 'ms', truncationPeriod('1h'), timeZone('Asia/Kolkata')), ms('2024-05-01T05:00:00Z'));
  });

  it('moves days on the wall clock and fixed lengths on the instant, across DST changes', () => {
    const paris = timeZone('Europe/Paris');
    const by = (text: string) => parseDuration(text, 'dt.offsetBy(by)');
    assert.equal(offsetBy(ms('2024-03-30T12:00:00+01:00'), 'ms', by('1d'), paris), ms('2024-03-31T12:00:00+02:00'));
    assert.equal(offsetBy(ms('2024-03-30T12:00:00+01:00'), 'ms', by('24h'), paris), ms('2024-03-31T13:00:00+02:00'));
    assert.equal(offsetBy(ms('2024-10-26T12:00:00+02:00'), 'ms', by('1d'), paris), ms('2024-10-27T12:00:00+01:00'));
    // 02:30 on 2024-03-31 does not exist: it moves forward by the gap, as Temporal does.
    assert.equal(offsetBy(ms('2024-03-30T02:30:00+01:00'), 'ms', by('1d'), paris), ms('2024-03-31T03:30:00+02:00'));
    // 02:30 on 2024-10-27 happens twice: the earlier one.
    assert.equal(offsetBy(ms('2024-10-26T02:30:00+02:00'), 'ms', by('1d'), paris), ms('2024-10-27T02:30:00+02:00'));
    assert.equal(offsetBy(ms('2024-01-31T08:00:00-05:00'), 'ms', by('1mo'), timeZone('America/New_York')), ms('2024-02-29T08:00:00-05:00'));
    assert.equal(offsetBy(ms('2024-02-29T08:00:00-05:00'), 'ms', by('1mo'), timeZone('America/New_York')), ms('2024-03-29T08:00:00-04:00'));
  });

  it('keeps the wall time of day when moving by days, unless it lands in a gap', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), seconds, fc.integer({ min: -400, max: 400 }), (name, t, days) => {
        const moved = Number(offsetBy(BigInt(t) * 1000n, 'ms', parseDuration(`${days}d`, 'x'), timeZone(name))) / 1000;
        const target = wallMs(t, name) + days * MS_PER_DAY;
        const wall = wallMs(moved, name);
        assert.ok(wall >= target);
        if (wall > target) assert.equal(timeZone(name).localToEpochSeconds(target / 1000, 'earliest', 'null'), null);
        else assert.equal(wallDay(moved, name) - wallDay(t, name), days);
      }),
      { numRuns: 2000 },
    );
  });
});
