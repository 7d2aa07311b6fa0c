// DataFrameModel: declares a typed frame from a zod object shape. The returned class validates input
// (columnar JSON, rows, NDJSON, Arrow) into Arrow-layout columns and is itself a Frame over them.

import type * as arrow from 'apache-arrow';
import type { z } from 'zod';
import { ingestArrow, ingestColumns, ingestNdjson, ingestRows } from '../model/ingest.js';
import { fieldsFromShape, type ModelField } from '../model/schema.js';
import type { PlanNode } from '../plan/types.js';
import type { ColumnBatch, Field, IngestOptions } from '../model/types.js';
import { sourceNode } from '../plan/source.js';
import { fail, isPlainObject, keyName, maxArguments, nonEmptyString } from '../options.js';
import { UnknownColumnError } from '../errors.js';
import { Frame } from './frame.js';
import { col, type Expr } from '../expr/expr.js';
import type { ColumnsArg, ColumnsInput, DTypeOfZod, RowInput, RowOf, RowsArg } from './types.js';
import { paramsOf } from '../model/dtype.js';

type ModelShape = Readonly<Record<string, z.ZodType>>;

/**
 * The class DataFrameModel returns: a Frame over the model's rows with typed constructors. Declared
 * rather than inferred, so that published declarations name it instead of spelling out (and losing
 * parts of) an anonymous class type.
 */
export interface ModelClass<S extends ModelShape> {
  new (plan: PlanNode): Frame<RowOf<S>>;
  readonly shape: S;
  readonly fields: readonly ModelField[];
  readonly schema: readonly Field[];
  /**
   * From `{ column: values[] }`, keyed by alias or name as `inputKeyMode` says. Typed from the model (field
   * names and cell types); input typed `unknown` (a parsed body, alias keys) is checked at runtime only.
   */
  fromColumns<T extends ModelClass<S>, I = ColumnsInput<S>>(this: T, columns: ColumnsArg<I, S>, options?: IngestOptions): InstanceType<T>;
  /** From an array of row objects; typed from the model as `fromColumns` is. */
  fromRows<T extends ModelClass<S>, I = readonly RowInput<S>[]>(this: T, rows: RowsArg<I, S>, options?: IngestOptions): InstanceType<T>;
  /** `col(name)` with the column's value type and dtype from the model: `Model.col('price').sum()` is `number | null` for a float64 price. */
  col<K extends keyof S & string>(name: K): Expr<RowOf<S>[K], DTypeOfZod<S[K]>>;
  /** From newline-delimited JSON, one row object per line. */
  fromNdjson<T extends ModelClass<S>>(this: T, text: string | Uint8Array, options?: IngestOptions): InstanceType<T>;
  /** From an Arrow table or Arrow IPC bytes (stream or file format). */
  fromArrow<T extends ModelClass<S>>(this: T, input: arrow.Table | Uint8Array | ArrayBuffer, options?: IngestOptions): InstanceType<T>;
}

/** A zod schema, of any copy of zod 4: it carries `_zod.def.type`. */
function isZodType(value: unknown): boolean {
  const internals = typeof value === 'object' && value !== null ? (value as { _zod?: { def?: { type?: unknown } } })._zod : undefined;
  return typeof internals?.def?.type === 'string';
}

export function DataFrameModel<S extends ModelShape>(shape: S): ModelClass<S> {
  maxArguments('DataFrameModel(shape)', arguments, 1);
  if (!isPlainObject(shape)) fail('DataFrameModel(shape)', shape, 'an object mapping column names to zod types, such as { id: z.int32() }');
  for (const [name, type] of Object.entries(shape)) {
    if (!isZodType(type)) fail(`DataFrameModel(shape).${keyName(name)}`, type, 'a zod type such as z.int32(), z.string() or z.date()');
  }
  const fields = fieldsFromShape(shape);
  const schema: Field[] = fields.map((f) => ({
    name: f.name,
    dtype: f.dtype,
    ...paramsOf(f),
    nullable: f.nullable,
    ...(f.enumValues ? { enumValues: f.enumValues } : {}),
  }));

  function wrap<T extends ModelClass<S>>(cls: T, batch: ColumnBatch): InstanceType<T> {
    return new cls(sourceNode(schema, batch, cls.name || 'Model')) as InstanceType<T>;
  }

  return class Model extends Frame<RowOf<S>> {
    static readonly shape: S = shape;
    static readonly fields: readonly ModelField[] = fields;
    static readonly schema: readonly Field[] = schema;

    /** From `{ column: values[] }`, keyed by alias or name as `inputKeyMode` says. */
    static fromColumns<T extends ModelClass<S>, I = ColumnsInput<S>>(this: T, columns: ColumnsArg<I, S>, options: IngestOptions = {}): InstanceType<T> {
      maxArguments('fromColumns(input, options)', arguments, 2);
      return wrap(this, ingestColumns(fields, columns, options));
    }

    /** From an array of row objects. */
    static fromRows<T extends ModelClass<S>, I = readonly RowInput<S>[]>(this: T, rows: RowsArg<I, S>, options: IngestOptions = {}): InstanceType<T> {
      maxArguments('fromRows(input, options)', arguments, 2);
      return wrap(this, ingestRows(fields, rows, options));
    }

    /** `col(name)` typed from the model; refuses a name the model does not declare. */
    static col<K extends keyof S & string>(name: K): Expr<RowOf<S>[K], DTypeOfZod<S[K]>> {
      maxArguments('col(name)', arguments, 1);
      if (!Object.hasOwn(shape, nonEmptyString(name, 'col(name)'))) throw new UnknownColumnError([name], Object.keys(shape), 'col');
      return col<RowOf<S>[K], DTypeOfZod<S[K]>>(name);
    }

    /** From newline-delimited JSON, one row object per line. */
    static fromNdjson<T extends ModelClass<S>>(this: T, text: string | Uint8Array, options: IngestOptions = {}): InstanceType<T> {
      maxArguments('fromNdjson(input, options)', arguments, 2);
      return wrap(this, ingestNdjson(fields, text, options));
    }

    /** From an Arrow table or Arrow IPC bytes (stream or file format). */
    static fromArrow<T extends ModelClass<S>>(this: T, input: arrow.Table | Uint8Array | ArrayBuffer, options: IngestOptions = {}): InstanceType<T> {
      maxArguments('fromArrow(input, options)', arguments, 2);
      return wrap(this, ingestArrow(fields, input, options));
    }
  };
}
