// strftime and strptime against Date's ISO text and Intl's names, known chrono outputs, and each other:
// what strftime writes with a complete format, strptime reads back to the same value.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileFormat, parsedToEpoch, strftime, strptime } from '../../../src/engines/shared/strftime.js';
import { timeZone } from '../../../src/engines/shared/zones.js';
import { InvalidArgumentError, LocalTimeError } from '../../../src/errors.js';

// Years 0..9999, where chrono and toISOString both write four digits.
const isoRangeMs = fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 });
const format = (text: string) => compileFormat(text, 'dt.strftime(format)');
const parser = (text: string) => compileFormat(text, 'str.toDatetime(format)', true);
const ms = (text: string): bigint => BigInt(Date.parse(text));

describe('strftime', () => {
  it('writes what toISOString writes, for ms, us and ns values', () => {
    const iso = format('%Y-%m-%dT%H:%M:%S%.3fZ');
    fc.assert(
      fc.property(isoRangeMs, fc.integer({ min: 0, max: 999_999 }), (value, sub) => {
        const expected = new Date(value).toISOString();
        assert.equal(strftime(iso, BigInt(value), 'ms'), expected);
        assert.equal(strftime(iso, BigInt(value) * 1000n + BigInt(sub % 1000), 'us'), expected);
        assert.equal(strftime(format('%FT%T%.9f'), BigInt(value) * 1_000_000n + BigInt(sub), 'ns'), `${expected.slice(0, 23)}${String(sub).padStart(6, '0')}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("writes Intl's English names and the wall time and offset of a zone", () => {
    const names = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'long', month: 'long' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), (value) => {
        const parts = Object.fromEntries(names.formatToParts(value).map((part): [string, string] => [part.type, part.value]));
        assert.equal(
          strftime(format('%A %a %B %b %h'), BigInt(value), 'ms'),
          `${parts['weekday']!} ${parts['weekday']!.slice(0, 3)} ${parts['month']!} ${parts['month']!.slice(0, 3)} ${parts['month']!.slice(0, 3)}`,
        );
      }),
      { numRuns: 500 },
    );
    const paris = timeZone('Europe/Paris');
    assert.equal(strftime(format('%F %T %z %:z %Z'), ms('2024-03-31T00:59:59Z'), 'ms', paris), '2024-03-31 01:59:59 +0100 +01:00 CET');
    assert.equal(strftime(format('%F %T %z %:z %Z'), ms('2024-03-31T01:00:00Z'), 'ms', paris), '2024-03-31 03:00:00 +0200 +02:00 CEST');
    assert.equal(strftime(format('%F %T %::z'), ms('1890-06-01T00:00:00Z'), 'ms', paris), '1890-06-01 00:09:21 +00:09:21');
    assert.equal(strftime(format('%H:%M %z %Z'), ms('2024-11-03T06:30:00Z'), 'ms', timeZone('America/New_York')), '01:30 -0500 EST');
    assert.equal(strftime(format('%Z %z'), 0n, 'ms', timeZone('UTC')), 'UTC +0000');
  });

  it('writes the specifiers as chrono does', () => {
    // 2001-07-08 00:34:59.026490 (a Sunday), chrono's documentation example, and some edge dates.
    const value = ms('2001-07-08T00:34:59.026Z') * 1000n + 490n;
    const cases: [string, string][] = [
      ['%Y %C %y %m %d %e %j', '2001 20 01 07 08  8 189'],
      ['%a %A %b %B %u %w', 'Sun Sunday Jul July 7 0'],
      ['%U %W %V %G %g', '27 27 27 2001 01'],
      ['%H %k %I %l %p %P %M %S', '00  0 12 12 AM am 34 59'],
      ['%f|%.f|%.3f|%.6f|%.9f|%3f|%6f|%9f', '026490000|.026490|.026|.026490|.026490000|026|026490|026490000'],
      ['%F %T|%D|%R|%r|%c', '2001-07-08 00:34:59|07/08/01|00:34|12:34:59 AM|Sun Jul  8 00:34:59 2001'],
      ['%-d %-m %_d %0e %%', '8 7  8 08 %'],
      ['%s', '994552499'],
    ];
    for (const [text, expected] of cases) assert.equal(strftime(format(text), value, 'us'), expected, text);
    assert.equal(strftime(format('%.f'), ms('2001-07-08T00:34:59Z'), 'ms'), '');
    assert.equal(strftime(format('%.f'), ms('2001-07-08T00:34:59.5Z'), 'ms'), '.500');
    assert.equal(strftime(format('%Y-%m-%d'), -62_198_755_200_000n, 'ms'), '-0001-01-01');
    assert.equal(strftime(format('%Y'), 253_402_300_800_000n, 'ms'), '+10000');
    assert.equal(strftime(format('%F %T%.f'), -1n, 'ns'), '1969-12-31 23:59:59.999999999');
    assert.equal(strftime(format('%G-W%V-%u'), ms('2021-01-03T00:00:00Z'), 'ms'), '2020-W53-7');
  });

  it('rejects unknown specifiers, and zone specifiers on a value without a zone', () => {
    for (const bad of ['%Q', '%', 'abc %', '%E', '%4f']) assert.throws(() => format(bad), InvalidArgumentError, bad);
    assert.throws(() => strftime(format('%z'), 0n, 'ms'), InvalidArgumentError);
    assert.throws(() => strftime(format('%Z'), 0n, 'ms'), InvalidArgumentError);
    assert.deepEqual(
      ['%Y', '%H', '%z', '%s', '%F %T'].map((text) => {
        const { usesDate, usesTime, usesZone, usesEpoch } = format(text);
        return [usesDate, usesTime, usesZone, usesEpoch];
      }),
      [
        [true, false, false, false],
        [false, true, false, false],
        [false, false, true, false],
        [false, false, false, true],
        [true, true, false, false],
      ],
    );
  });
});

describe('strptime', () => {
  it('reads back what strftime writes', () => {
    const formats = ['%Y-%m-%d %H:%M:%S%.9f', '%FT%T%.f', '%d/%m/%Y %I:%M:%S%.9f %p', '%A %e %B %Y %k:%M:%S%9f', '%Y%j %H%M%S.%f', '%s%.f'];
    fc.assert(
      fc.property(
        fc.integer({ min: -30_000_000_000_000, max: 253_402_300_799_999 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.constantFrom(...formats),
        (value, sub, text) => {
          const ns = BigInt(value) * 1_000_000n + BigInt(sub);
          const written = strftime(format(text), ns, 'ns');
          const parsed = strptime(parser(text), written);
          assert.ok(parsed !== null, `${text}: ${written}`);
          assert.equal(parsedToEpoch(parsed, 'ns'), ns, `${text}: ${written}`);
          assert.equal(parsedToEpoch(parsed, 'ms'), BigInt(value), 'digits finer than the unit are dropped');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads offsets as instants, and wall times in a zone', () => {
    const withOffset = parser('%Y-%m-%d %H:%M:%S%z');
    assert.equal(parsedToEpoch(strptime(withOffset, '2024-03-31 03:00:00+0200')!, 'ms'), ms('2024-03-31T01:00:00Z'));
    assert.equal(parsedToEpoch(strptime(parser('%F %T%:z'), '2024-03-31 03:00:00-05:30')!, 'ms'), ms('2024-03-31T08:30:00Z'));
    const paris = timeZone('Europe/Paris');
    const naive = parser('%F %T');
    assert.equal(parsedToEpoch(strptime(naive, '2024-07-01 12:00:00')!, 'us', paris), ms('2024-07-01T10:00:00Z') * 1000n);
    assert.throws(() => parsedToEpoch(strptime(naive, '2024-03-31 02:30:00')!, 'ms', paris), LocalTimeError);
    assert.equal(parsedToEpoch(strptime(naive, '2024-03-31 02:30:00')!, 'ms', paris, 'raise', 'null'), null);
    assert.equal(parsedToEpoch(strptime(naive, '2024-10-27 02:30:00')!, 'ms', paris, 'latest'), ms('2024-10-27T01:30:00Z'));
  });

  it('reads dates alone, two-digit years, names and whitespace as chrono does', () => {
    const days = (text: string, input: string): number | undefined => strptime(parser(text), input)?.days;
    assert.equal(days('%Y-%m-%d', '2024-02-29'), 19782);
    assert.equal(days('%d.%m.%y', '01.02.69'), Date.UTC(2069, 1, 1) / 86_400_000);
    assert.equal(days('%d.%m.%y', '01.02.70'), Date.UTC(1970, 1, 1) / 86_400_000);
    assert.equal(days('%b %d %Y', 'feb 29 2024'), 19782);
    assert.equal(days('%B %d %Y', 'February 29 2024'), 19782);
    assert.equal(days('%a, %d %b %Y', 'Thu, 29 Feb 2024'), 19782);
    assert.equal(days('%Y %m %d', '2024   2 29'), 19782);
    assert.equal(days('%Y%m%d', '20240229'), 19782);
    assert.equal(days('%Y-%j', '2024-060'), 19782);
    assert.equal(strptime(parser('%F %I%p'), '2024-02-29 12am')?.nanosOfDay, 0);
    assert.equal(strptime(parser('%F %I%p'), '2024-02-29 12PM')?.nanosOfDay, 12 * 3600e9);
    assert.equal(strptime(parser('%F %H:%M'), '2024-02-29 23:59')?.nanosOfDay, (23 * 60 + 59) * 60e9);
  });

  it('gives null for text that does not match or names an impossible date or time', () => {
    const bad: [string, string][] = [
      ['%Y-%m-%d', '2023-02-29'],
      ['%Y-%m-%d', '2024-13-01'],
      ['%Y-%m-%d', '2024-00-10'],
      ['%Y-%m-%d', '2024-01-32'],
      ['%Y-%m-%d', '2024-01-01 '],
      ['%Y-%m-%d', '2024-01'],
      ['%Y-%m-%d', 'x2024-01-01'],
      ['%F %T', '2024-01-01 24:00:00'],
      ['%F %T', '2024-01-01 23:60:00'],
      ['%F %T', '2024-01-01 23:59:60'],
      ['%a %F', 'Fri 2024-02-29'],
      ['%F %I:%M', '2024-02-29 10:00'],
      ['%F %I:%M %p', '2024-02-29 13:00 PM'],
      ['%Y-%j', '2023-366'],
      ['%H:%M', '12:00'],
      ['%F%.3f', '2024-02-29.12'],
      ['%F %T%z', '2024-02-29 10:00:00+2'],
    ];
    for (const [text, input] of bad) assert.equal(strptime(parser(text), input), null, `${text} / ${input}`);
  });

  it('refuses specifiers it cannot read', () => {
    for (const text of ['%Z', '%G-%V-%u', '%U', '%C%y']) assert.throws(() => parser(text), InvalidArgumentError, text);
  });
});
