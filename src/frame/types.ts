// Public types of the frame layer: row types inferred from zod shapes and from expressions.

import type { z } from 'zod';
import type { Expr } from '../expr/expr.js';
import type { Executor } from '../exec/executor.js';
import type { JoinHow } from '../plan/types.js';

/** The row type of a zod shape: optional columns read back as null, never undefined. */
export type RowOf<S extends Readonly<Record<string, z.ZodType>>> = {
  [K in keyof S]: undefined extends z.output<S[K]> ? Exclude<z.output<S[K]>, undefined> | null : z.output<S[K]>;
};

export type ExprValue<E> = E extends Expr<infer T> ? T : unknown;

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
