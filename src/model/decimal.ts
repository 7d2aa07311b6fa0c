// Exact decimal values: a decimal(precision, scale) cell is the integer `unscaled`, worth unscaled / 10^scale,
// stored as Arrow Decimal128 (two little-endian 64-bit words a value in a BigInt64Array, the high word signed).
// Parsing, formatting and rescaling work on BigInt and never pass through a float.

import { z } from 'zod';
import { fail } from '../options.js';

/** Decimal128 holds up to 38 decimal digits. */
export const MAX_DECIMAL_PRECISION = 38;

/** Powers of ten up to 10^76: the scale of a product of two decimals of scale ≤ 38. */
export const POW10: readonly bigint[] = Array.from({ length: 77 }, (_, k) => 10n ** BigInt(k));

/** The unscaled value of row `i` of a decimal column's words. */
export function readDecimal(words: BigInt64Array, i: number): bigint {
  return (words[2 * i + 1]! << 64n) + BigInt.asUintN(64, words[2 * i]!);
}

/** Stores `value` (which must fit 128 bits) as row `i`: the low word modulo 2^64, the high word signed. */
export function writeDecimal(words: BigInt64Array, i: number, value: bigint): void {
  words[2 * i] = BigInt.asIntN(64, value);
  words[2 * i + 1] = value >> 64n;
}

/** True when `unscaled` has at most `precision` digits. */
export function fitsPrecision(unscaled: bigint, precision: number): boolean {
  return (unscaled < 0n ? -unscaled : unscaled) < POW10[precision]!;
}

/** The exact text of a decimal: scale digits after the point, always ("12.30" for 1230 at scale 2, "-0.05"). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * Why a text or number is not a decimal of the wanted scale: not a number at all, more fraction digits than
 * the scale, or a magnitude past any decimal (more than 76 digits).
 */
export type DecimalParseFailure = 'syntax' | 'scale' | 'range';

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * The unscaled value of `text` at `scale`, exactly: "12.3", "-0.05", "+7", ".5", "1e3" and "1.5E-2" are
 * decimals; a value with non-zero digits beyond the scale is refused ('scale'), never rounded, as Polars
 * raises on a lossy string cast. Surrounding whitespace, "NaN" and "Infinity" are not decimals.
 */
export function parseDecimal(text: string, scale: number): bigint | DecimalParseFailure {
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) return 'syntax';
  const [, sign, whole = '', fraction = '', exponentText] = match;
  if (whole.length === 0 && fraction.length === 0) return 'syntax';
  // The digits as one integer, with the point moved by the exponent: value = digits × 10^(exponent − fraction digits).
  const digits = BigInt(`${whole}${fraction}`);
  const shift = Number(exponentText ?? 0) - fraction.length + scale;
  let unscaled: bigint;
  if (shift >= 0) {
    if (digits === 0n) unscaled = 0n;
    else if (shift > 2 * MAX_DECIMAL_PRECISION) return 'range';
    else unscaled = digits * POW10[shift]!;
  } else {
    const divisor = -shift > 2 * MAX_DECIMAL_PRECISION + 4 ? null : 10n ** BigInt(-shift);
    if (divisor === null || digits % divisor !== 0n) return digits === 0n ? 0n : 'scale';
    unscaled = digits / divisor;
  }
  return sign === '-' ? -unscaled : unscaled;
}

/**
 * A JS number as a decimal of `scale`: the number's shortest round-trip text (`String(n)`: 0.1 is "0.1",
 * not the binary value 0.1000000000000000055…) parsed exactly. Not finite is 'syntax'.
 */
export function numberToDecimal(value: number, scale: number): bigint | DecimalParseFailure {
  if (!Number.isFinite(value)) return 'syntax';
  return parseDecimal(String(value), scale);
}

/** `unscaled` from scale `from` to scale `to`; null when scaling down would drop non-zero digits. */
export function rescaleExact(unscaled: bigint, from: number, to: number): bigint | null {
  if (to >= from) return unscaled * POW10[to - from]!;
  const divisor = POW10[from - to]!;
  return unscaled % divisor === 0n ? unscaled / divisor : null;
}

/** `unscaled` from scale `from` to a smaller scale `to`, rounding half away from zero. */
export function roundHalfAwayFromZero(unscaled: bigint, from: number, to: number): bigint {
  if (to >= from) return unscaled * POW10[to - from]!;
  const divisor = POW10[from - to]!;
  const half = divisor / 2n;
  return unscaled < 0n ? -((-unscaled + half) / divisor) : (unscaled + half) / divisor;
}

/** Checks a decimal's parameters where they enter the public API. */
export function checkDecimalParams(precision: unknown, scale: unknown, name: string): { precision: number; scale: number } {
  if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION)
    return fail(`${name}.precision`, precision, `an integer in 1..${MAX_DECIMAL_PRECISION}`);
  if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision)
    return fail(`${name}.scale`, scale, `an integer in 0..${precision} (the precision)`);
  return { precision, scale };
}

/**
 * A decimal cell as rows and `toColumns()` give it back: its exact text with `scale` fraction digits
 * ("12.30"). A string, branded so that the static types can tell a decimal column from a utf8 one.
 */
export type DecimalString = string & z.$brand<'gpuframe.decimal'>;

/** The zod type `decimal(p, s)` makes: a string schema whose output is a DecimalString. */
export type DecimalSchema = z.ZodString & { readonly _zod: { readonly output: DecimalString } };

/**
 * A decimal(precision, scale) column for a model: `amount: decimal(18, 2)`. Input cells are strings
 * ("12.30", "-0.05", "1e3"), JS numbers (taken by their shortest round-trip text, so 0.1 is exactly 0.1)
 * or bigints (integers); a cell reads back as its exact string with `scale` fraction digits.
 */
export function decimal(precision: number, scale = 0): DecimalSchema {
  const params = checkDecimalParams(precision, scale, 'decimal(precision, scale)');
  return z
    .string()
    .brand<'gpuframe.decimal'>()
    .meta({ dtype: 'decimal', ...params });
}
