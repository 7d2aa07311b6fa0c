// IANA time zones from the database Node ships (Intl): the UTC offset of an instant, cached per zone as the
// transitions of lazily scanned ~48-day buckets, and wall time -> instant with stated rules for the hours that
// daylight saving skips or repeats. Offsets are whole seconds, tzdb's resolution (LMT offsets like +00:09:21 too).

import { InvalidArgumentError, LocalTimeError } from '../../errors.js';

/** What a repeated wall time (a DST overlap) resolves to; Polars' `ambiguous` values. */
export const AMBIGUOUS = ['raise', 'earliest', 'latest', 'null'] as const;
export type Ambiguous = (typeof AMBIGUOUS)[number];
/** What a skipped wall time (a DST gap) resolves to: Polars' `nonExistent` values, plus Temporal's 'compatible' forward shift. */
export const NON_EXISTENT = ['raise', 'null', 'shiftForward'] as const;
export type NonExistent = (typeof NON_EXISTENT)[number];

const BUCKET_SECONDS = 2 ** 22;
// Offsets are sampled once a day and each change is then found to the second: a zone that changed its offset
// and changed it back within one day would be missed, and tzdb has no such pair.
const SAMPLE_SECONDS = 86400;
// Intl formats only instants in Date's range; beyond it a zone keeps the offset it has at the range's ends.
const MAX_SECONDS = 8.64e12;
const OFFSET = /GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/;

interface Bucket {
  /** Instants (epoch seconds) where a new offset starts, ascending. */
  readonly transitions: number[];
  /** offsets[0] holds from the bucket's start, offsets[i + 1] from transitions[i]; seconds east of UTC. */
  readonly offsets: number[];
}

export class TimeZone {
  readonly name: string;
  /** UTC itself: no offset lookups at all. */
  readonly isUtc: boolean;
  readonly #offsets: Intl.DateTimeFormat;
  readonly #buckets = new Map<number, Bucket>();
  readonly #abbreviations = new Map<string, string>();
  #abbreviationFormats: Intl.DateTimeFormat[] | undefined;

  constructor(name: string, format: Intl.DateTimeFormat) {
    this.name = name;
    this.#offsets = format;
    this.isUtc = name === 'UTC' || name === 'Etc/UTC';
  }

  /** Seconds east of UTC in force at `seconds` (epoch seconds, an integer). */
  offsetAt(seconds: number): number {
    if (this.isUtc) return 0;
    const index = Math.floor(seconds / BUCKET_SECONDS);
    let bucket = this.#buckets.get(index);
    if (bucket === undefined) {
      bucket = this.#scan(index * BUCKET_SECONDS);
      this.#buckets.set(index, bucket);
    }
    const { transitions, offsets } = bucket;
    let lo = 0;
    let hi = transitions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (transitions[mid]! <= seconds) lo = mid + 1;
      else hi = mid;
    }
    return offsets[lo]!;
  }

  /**
   * The instant (epoch seconds) whose wall time in this zone is `local` (wall-clock seconds since 1970-01-01).
   * A repeated wall time resolves by `ambiguous`, a skipped one by `nonExistent` ('shiftForward' moves it by the
   * gap's length, so 02:30 in a 02:00 -> 03:00 gap is 03:30); 'raise' throws a LocalTimeError.
   */
  localToEpochSeconds(local: number, ambiguous: Ambiguous, nonExistent: NonExistent): number | null {
    if (this.isUtc) return local;
    // As Temporal's GetPossibleEpochNanoseconds: the offsets a day either side are the only candidates.
    const before = this.offsetAt(local - 86400);
    const after = this.offsetAt(local + 86400);
    const valid: number[] = [];
    for (const offset of before === after ? [before] : [before, after]) {
      if (this.offsetAt(local - offset) === offset) valid.push(local - offset);
    }
    valid.sort((a, b) => a - b);
    if (valid.length === 1) return valid[0]!;
    if (valid.length === 2) {
      if (ambiguous === 'earliest') return valid[0]!;
      if (ambiguous === 'latest') return valid[1]!;
      if (ambiguous === 'null') return null;
      throw new LocalTimeError(
        `${showLocal(local)} is ambiguous in time zone '${this.name}' (it occurs twice); pass ambiguous: 'earliest', 'latest' or 'null'`,
      );
    }
    if (nonExistent === 'shiftForward') return local - before;
    if (nonExistent === 'null') return null;
    throw new LocalTimeError(`${showLocal(local)} does not exist in time zone '${this.name}' (its clocks skip it); pass nonExistent: 'null'`);
  }

  /**
   * The zone's abbreviation at an instant ('CET', 'EST', 'BST'): Intl's en-US short name, or its en-GB one where
   * en-US has only an offset (en-US knows American names, en-GB European ones); 'GMT+5:30' where neither has a name.
   */
  abbreviation(seconds: number): string {
    if (this.isUtc) return 'UTC';
    const key = `${Math.floor(seconds / BUCKET_SECONDS)}:${this.offsetAt(seconds)}`;
    let name = this.#abbreviations.get(key);
    if (name === undefined) {
      this.#abbreviationFormats ??= ['en-US', 'en-GB'].map((locale) => new Intl.DateTimeFormat(locale, { timeZone: this.name, timeZoneName: 'short' }));
      for (const format of this.#abbreviationFormats) {
        const text = format.format(clamp(seconds) * 1000);
        name = text.slice(text.lastIndexOf(' ') + 1);
        if (!/^GMT[+-]/.test(name)) break;
      }
      this.#abbreviations.set(key, name!);
    }
    return name!;
  }

  #query(seconds: number): number {
    const match = OFFSET.exec(this.#offsets.format(clamp(seconds) * 1000));
    if (match === null) throw new Error(`Intl gave no UTC offset for time zone ${this.name}`);
    if (match[1] === undefined) return 0;
    const magnitude = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0);
    return match[1] === '-' ? -magnitude : magnitude;
  }

  #scan(start: number): Bucket {
    const end = start + BUCKET_SECONDS;
    let previous = this.#query(start);
    const transitions: number[] = [];
    const offsets = [previous];
    let at = start;
    while (at < end) {
      const next = Math.min(at + SAMPLE_SECONDS, end);
      if (this.#query(next) === previous) {
        at = next;
        continue;
      }
      // Bisect to the first second with another offset, then sample on from there (two changes in a day are found).
      let lo = at;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (this.#query(mid) === previous) lo = mid;
        else hi = mid;
      }
      previous = this.#query(hi);
      transitions.push(hi);
      offsets.push(previous);
      at = hi;
    }
    return { transitions, offsets };
  }
}

function clamp(seconds: number): number {
  return Math.max(-MAX_SECONDS, Math.min(MAX_SECONDS, seconds));
}

function showLocal(local: number): string {
  return Math.abs(local) <= MAX_SECONDS ? new Date(local * 1000).toISOString().replace('T', ' ').replace('.000Z', '') : `${local} s after 1970-01-01 00:00`;
}

const zones = new Map<string, TimeZone>();

/** The zone named `name` (an IANA name Intl knows, e.g. 'Europe/Paris', 'UTC'), cached; InvalidArgumentError naming `argument` otherwise. */
export function timeZone(name: string, argument = 'timeZone'): TimeZone {
  let zone = zones.get(name);
  if (zone !== undefined) return zone;
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError(argument, name, "an IANA time zone name such as 'Europe/Paris' or 'UTC'");
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  } catch {
    throw new InvalidArgumentError(argument, name, "an IANA time zone name such as 'Europe/Paris' or 'UTC'");
  }
  zone = new TimeZone(name, format);
  zones.set(name, zone);
  return zone;
}
