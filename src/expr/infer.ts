// Type-level mirror of the binder's rules (src/expr/bind.ts): the dtype and JS value type of an expression's
// result, computed from its operands' dtypes, so that `Expr<T, D>` says what collect() will return. Types
// only: nothing here exists at runtime. Where the static types cannot tell two runtime outcomes apart
// (an integer column `number` may be int32 or a float), the result is the union of both, never a guess.

import type { DecimalString } from '../model/decimal.js';
import type { DType } from '../model/types.js';
import type { LiteralValue } from './types.js';

/** The numeric dtypes: arithmetic, `sum` and `mean` take these. */
export type NumericDType = 'int32' | 'int64' | 'float32' | 'float64';
type FloatDType = 'float32' | 'float64';

/** The temporal dtypes. */
export type TemporalDType = 'timestamp' | 'date' | 'time' | 'duration';

/**
 * The JS value of a non-null cell of dtype `D`, as rows and `toColumns()` give it back: int64 and duration
 * as bigint, timestamp as Date, date ('YYYY-MM-DD') and time ('HH:MM:SS.fraction') as ISO text, decimal as its exact text.
 */
export type JsOf<D extends DType> = D extends 'int64' | 'duration'
  ? bigint
  : D extends 'bool'
    ? boolean
    : D extends 'utf8' | 'date' | 'time'
      ? string
      : D extends 'timestamp'
        ? Date
        : D extends 'decimal'
          ? DecimalString
          : number;

/** `null` when values of type `T` may be null (and for `unknown`), else never. */
export type NullOf<T> = null extends T ? null : never;

type DTypeOfValue<T> = T extends number
  ? 'int32' | 'float32' | 'float64'
  : T extends bigint
    ? 'int64'
    : T extends boolean
      ? 'bool'
      : T extends DecimalString
        ? 'decimal'
        : T extends string
          ? 'utf8'
          : T extends Date
            ? 'timestamp'
            : DType;

/** The dtypes whose cells read back as JS type `T` (every dtype for `unknown`): `number` is int32, float32 or float64. */
export type DTypeOf<T> = unknown extends T ? DType : [NonNullable<T>] extends [never] ? DType : DTypeOfValue<NonNullable<T>>;

type PromotePair<A extends DType, B extends DType> = [A] extends [B]
  ? A
  : A extends 'decimal'
    ? B extends FloatDType
      ? 'float64'
      : 'decimal'
    : B extends 'decimal'
      ? A extends FloatDType
        ? 'float64'
        : 'decimal'
      : A extends 'float64'
        ? 'float64'
        : B extends 'float64'
          ? 'float64'
          : A extends 'float32'
            ? 'float64'
            : B extends 'float32'
              ? 'float64'
              : 'int64';

/**
 * `promote(a, b)` of bind.ts over every pair of the two unions' numeric members; a decimal with a decimal or
 * an integer is a decimal, with a float float64.
 */
export type Promote<A extends DType, B extends DType> = A extends NumericDType | 'decimal'
  ? B extends NumericDType | 'decimal'
    ? PromotePair<A, B>
    : never
  : never;

/** True when the string `S` has at least `N` characters. */
type AtLeast<S extends string, N extends number, Seen extends unknown[] = []> = Seen['length'] extends N
  ? true
  : S extends `${string}${infer Rest}`
    ? S extends ''
      ? false
      : AtLeast<Rest, N, [...Seen, unknown]>
    : false;

/** A number literal placed beside an expression of dtype `H` (bind.ts `literalNear`). */
type NumberNear<N extends number, H extends DType> = number extends N
  ? H extends 'int32'
    ? 'int32' | 'int64' | 'float64'
    : H extends 'int64'
      ? 'int64' | 'float64'
      : H extends 'float32'
        ? FloatDType
        : H extends 'float64'
          ? 'float64'
          : 'int32' | 'float64'
  : `${N}` extends `${bigint}`
    ? H extends 'int32'
      ? AtLeast<`${N}`, 10> extends true
        ? 'int32' | 'int64' | 'float64'
        : 'int32'
      : H extends 'int64'
        ? AtLeast<`${N}`, 16> extends true
          ? 'int64' | 'float64'
          : 'int64'
        : H extends 'float32'
          ? FloatDType
          : H extends 'float64'
            ? 'float64'
            : AtLeast<`${N}`, 10> extends true
              ? 'int32' | 'float64'
              : 'int32'
    : H extends 'float32'
      ? FloatDType
      : 'float64';

/** The dtype a literal takes beside an expression of dtype `H`: it adopts `H` when exact, else widens (bind.ts `literalNear`). */
export type LiteralNear<V extends LiteralValue, H extends DType> = H extends DType
  ? V extends null
    ? H
    : H extends 'decimal'
      ? V extends number | bigint | string
        ? 'decimal'
        : LiteralDType<V>
      : V extends number
        ? NumberNear<V, H>
        : V extends bigint
          ? H extends FloatDType
            ? H | 'int64'
            : 'int64'
          : V extends string
            ? H extends TemporalDType
              ? H
              : 'utf8'
            : V extends boolean
              ? 'bool'
              : H extends 'date'
                ? 'date'
                : 'timestamp'
  : never;

/** The dtype of `lit(value)` on its own (bind.ts `defaultLiteral`): a number is int32 when it fits, else float64. */
export type LiteralDType<V extends LiteralValue> = V extends null
  ? 'float64'
  : V extends number
    ? NumberNear<V, 'bool'>
    : V extends bigint
      ? 'int64'
      : V extends string
        ? 'utf8'
        : V extends boolean
          ? 'bool'
          : 'timestamp';

/** `div`: float32 by float32 stays float32, everything else divides in float64. */
export type DivDType<D extends DType, O extends DType> = D extends NumericDType | 'decimal'
  ? O extends NumericDType | 'decimal'
    ? [D, O] extends ['float32', 'float32']
      ? 'float32'
      : 'float64'
    : never
  : never;

/** `sum`: floats sum in float64, integers and booleans in int64 (bind.ts `aggResultType`). */
export type SumDType<D extends DType> = D extends FloatDType
  ? 'float64'
  : D extends 'int32' | 'int64' | 'bool'
    ? 'int64'
    : D extends 'decimal'
      ? 'decimal'
      : never;
