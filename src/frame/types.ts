// Public types of the frame layer: row types inferred from zod shapes and from expressions.

import type { z } from 'zod';
import type { Expr } from '../expr/expr.js';
import type { DTypeOf, JsOf, TemporalDType } from '../expr/infer.js';
import type { Executor } from '../exec/executor.js';
import type { DecimalString } from '../model/decimal.js';
import type { DType } from '../model/types.js';
import type { JoinHow } from '../plan/types.js';

/** A cell as it reads back: zod's output type, except temporal columns, which read back as JsOf says (a timestamp declared as an ISO string is a Date). */
type ReadBack<Z extends z.ZodType, V> = DTypeOfZod<Z> extends TemporalDType ? JsOf<DTypeOfZod<Z>> | Extract<V, null> : V;

/** The row type of a zod shape: optional columns read back as null, never undefined. */
export type RowOf<S extends Readonly<Record<string, z.ZodType>>> = {
  [K in keyof S]: undefined extends z.output<S[K]> ? ReadBack<S[K], Exclude<z.output<S[K]>, undefined> | null> : ReadBack<S[K], z.output<S[K]>>;
};

interface ZodDef<Def> {
  readonly _zod: { readonly def: Def };
}

/** The temporal dtype each ISO string format declares (schema.ts STRING_FORMATS). */
interface StringFormatDTypes {
  datetime: 'timestamp';
  date: 'date';
  time: 'time';
  duration: 'duration';
}

/**
 * The column type a zod type declares (src/model/schema.ts `fieldFromZod`), read from its static definition.
 * `.meta({ dtype })` is invisible to TypeScript: a duration declared on z.bigint() is typed int64 here.
 */
export type DTypeOfZod<Z> =
  Z extends ZodDef<{ readonly type: 'nullable' | 'optional'; readonly innerType: infer I }>
    ? DTypeOfZod<I>
    : Z extends { readonly _zod: { readonly output: DecimalString } }
      ? 'decimal'
      : Z extends ZodDef<{ readonly type: 'number'; readonly format: infer F }>
        ? F extends 'int32' | 'float32'
          ? F
          : 'float64'
        : Z extends ZodDef<{ readonly type: 'number' }>
          ? 'float64'
          : Z extends ZodDef<{ readonly type: 'bigint' }>
            ? 'int64'
            : Z extends ZodDef<{ readonly type: 'boolean' }>
              ? 'bool'
              : Z extends ZodDef<{ readonly type: 'string'; readonly format: infer F }>
                ? F extends keyof StringFormatDTypes
                  ? StringFormatDTypes[F]
                  : 'utf8'
                : Z extends ZodDef<{ readonly type: 'string' | 'enum' }>
                  ? 'utf8'
                  : Z extends ZodDef<{ readonly type: 'date' }>
                    ? 'timestamp'
                    : Z extends z.ZodType
                      ? DTypeOf<z.output<Z>>
                      : DType;

/**
 * One non-null input cell of a column of dtype `D` whose values are `V`: int64 also takes safe-integer
 * numbers (JSON); temporal columns ISO 8601 text, integers in their unit, and Dates for timestamps and dates.
 */
type CellOf<D extends DType, V> = D extends 'int64'
  ? bigint | number
  : D extends 'decimal'
    ? string | number | bigint
    : D extends 'timestamp'
      ? Date | string | number | bigint
      : D extends 'date'
        ? Date | string | number
        : D extends 'time' | 'duration'
          ? string | number | bigint
          : D extends 'utf8'
            ? Extract<V, string>
            : NonNullable<V>;
type NullableKeys<S extends Shape> = { [K in keyof S]: null extends RowOf<S>[K] ? K : never }[keyof S];
type Cell<S extends Shape, K extends keyof S> = CellOf<DTypeOfZod<S[K]>, RowOf<S>[K]>;
type NumberArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
type ArrayOfCells<C> = readonly C[] | (C extends number ? NumberArray : never) | (C extends bigint ? BigInt64Array : never);

type Shape = Readonly<Record<string, z.ZodType>>;
type RequiredKeys<S extends Shape> = Exclude<keyof S, NullableKeys<S>>;
type ColumnCells<S extends Shape, K extends keyof S> =
  K extends NullableKeys<S> ? ArrayOfCells<Cell<S, K>> | readonly (Cell<S, K> | null)[] : ArrayOfCells<Cell<S, K>>;
type RowCell<S extends Shape, K extends keyof S> = K extends NullableKeys<S> ? Cell<S, K> | null | undefined : Cell<S, K>;

/** One input row of a model keyed by field name: a nullable column's key may be missing or null. */
export type RowInput<S extends Shape> = Simplify<
  { readonly [K in RequiredKeys<S>]: Cell<S, K> } & { readonly [K in NullableKeys<S>]?: Cell<S, K> | null | undefined }
>;

/** Columnar input of a model keyed by field name, `{ column: cells[] }`; a nullable column may be missing. */
export type ColumnsInput<S extends Shape> = Simplify<
  { readonly [K in RequiredKeys<S>]: ColumnCells<S, K> } & { readonly [K in NullableKeys<S>]?: ColumnCells<S, K> | undefined }
>;

/**
 * The check an input object `I` must pass, with `Cells` the type of one key's value. A field name takes its
 * column's cells. Aliases (`.meta({ alias })`) are not visible to TypeScript, so any other key is taken as the
 * alias of a field the input does not name, and takes that field's cells; with every field named, another
 * key is an error. Without other keys every required field must be named.
 */
type Checked<I, S extends Shape, Cells extends Record<keyof S, unknown>> = {
  readonly [K in keyof I]: K extends keyof S ? Cells[K] : [Exclude<keyof S, keyof I>] extends [never] ? never : Cells[Exclude<keyof S, keyof I>];
} & ([Exclude<keyof I, keyof S>] extends [never] ? { readonly [K in Exclude<RequiredKeys<S>, keyof I>]: Cells[K] } : unknown);

/** What `fromColumns` accepts for input `I`: `unknown`/`any` (checked at runtime only), or columns checked against the model. */
export type ColumnsArg<I, S extends Shape> = unknown extends I ? I : Checked<I, S, { [K in keyof S]: ColumnCells<S, K> }>;

/** What `fromRows` accepts for input `I`: `unknown`/`any` (checked at runtime only), or an array of rows checked against the model. */
export type RowsArg<I, S extends Shape> = unknown extends I
  ? I
  : I extends readonly (infer E)[]
    ? readonly Checked<E, S, { [K in keyof S]: RowCell<S, K> }>[]
    : readonly RowInput<S>[];

export type ExprValue<E> = E extends Expr<infer T, DType> ? T : unknown;

type KeyNames<K> = K extends string ? K : K extends readonly (infer E)[] ? E : never;
/** Right key columns the join drops: those named like the left key they match (join.ts). */
type DroppedRightKeys<O> = O extends { readonly on: infer K }
  ? KeyNames<K>
  : O extends { readonly leftOn: infer L; readonly rightOn: infer R }
    ? L extends string
      ? R extends L
        ? R
        : never
      : L extends readonly unknown[]
        ? R extends readonly unknown[]
          ? { [I in keyof L]: I extends keyof R ? (L[I] extends R[I] ? L[I] : never) : never }[number]
          : never
        : never
    : never;
type SuffixOf<O> = O extends { readonly suffix: infer X extends string } ? X : '_right';
type HowOf<O> = O extends { readonly how: infer H extends JoinHow } ? H : 'inner';

/**
 * The row of `left.join(right, options)`: semi and anti keep the left columns; inner and left add the right
 * ones (less the keys named like the left key), renamed with the suffix where a left column has the name,
 * and nullable after a left join (a left row without a match has nulls there).
 */
export type JoinRow<Row extends object, R extends object, O> = HowOf<O> extends 'semi' | 'anti' ? Row : Simplify<Row & JoinedRight<R, O, keyof Row>>;

/** The right side's columns a join adds: `Taken` are the left's names, whose right namesakes are renamed with the suffix. */
type JoinedRight<R extends object, O, Taken> = {
  [K in Exclude<keyof R & string, DroppedRightKeys<O>> as K extends Taken ? `${K}${SuffixOf<O>}` : K]: 'left' extends HowOf<O> ? R[K] | null : R[K];
};
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

export interface ExecuteOptions {
  /** Runs on this executor's engines; without one the plan runs inline on the calling thread. */
  readonly executor?: Executor;
  readonly signal?: AbortSignal;
}

export interface StreamOptions extends ExecuteOptions {
  /** Rows per RecordBatch (default 65536). */
  readonly batchSize?: number;
}

export interface SortOptions {
  /** One flag for every key, or one per key. */
  readonly descending?: boolean | readonly boolean[];
  readonly nullsLast?: boolean | readonly boolean[];
}

export type JoinOptions =
  | { readonly on: string | readonly string[]; readonly how?: JoinHow; readonly suffix?: string }
  | { readonly leftOn: string | readonly string[]; readonly rightOn: string | readonly string[]; readonly how?: JoinHow; readonly suffix?: string };
