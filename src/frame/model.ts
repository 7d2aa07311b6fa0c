// DataFrameModel: declares a typed frame from a zod object shape. The returned class validates input
// (columnar JSON, rows, NDJSON, Arrow) into Arrow-layout columns and is itself a Frame over them.

import type * as arrow from 'apache-arrow';
import type { z } from 'zod';
import { ingestArrow, ingestColumns, ingestNdjson, ingestRows } from '../model/ingest.js';
import { fieldsFromShape, type ModelField } from '../model/schema.js';
import type { PlanNode } from '../plan/types.js';
import type { ColumnBatch, Field, IngestOptions } from '../model/types.js';
import { sourceNode } from '../plan/source.js';
import { Frame } from './frame.js';
import type { RowOf } from './types.js';

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
  /** From `{ column: values[] }`, keyed by alias or name as `inputKeyMode` says. */
  fromColumns<T extends ModelClass<S>>(this: T, columns: unknown, options?: IngestOptions): InstanceType<T>;
  /** From an array of row objects. */
  fromRows<T extends ModelClass<S>>(this: T, rows: unknown, options?: IngestOptions): InstanceType<T>;
  /** From newline-delimited JSON, one row object per line. */
  fromNdjson<T extends ModelClass<S>>(this: T, text: string | Uint8Array, options?: IngestOptions): InstanceType<T>;
  /** From an Arrow table or Arrow IPC bytes (stream or file format). */
  fromArrow<T extends ModelClass<S>>(this: T, input: arrow.Table | Uint8Array | ArrayBuffer, options?: IngestOptions): InstanceType<T>;
}

export function DataFrameModel<S extends ModelShape>(shape: S): ModelClass<S> {
  const fields = fieldsFromShape(shape);
  const schema: Field[] = fields.map((f) => ({ name: f.name, dtype: f.dtype, nullable: f.nullable, ...(f.enumValues ? { enumValues: f.enumValues } : {}) }));

  function wrap<T extends ModelClass<S>>(cls: T, batch: ColumnBatch): InstanceType<T> {
    return new cls(sourceNode(schema, batch, cls.name || 'Model')) as InstanceType<T>;
  }

  return class Model extends Frame<RowOf<S>> {
    static readonly shape: S = shape;
    static readonly fields: readonly ModelField[] = fields;
    static readonly schema: readonly Field[] = schema;

    static fromColumns<T extends ModelClass<S>>(this: T, columns: unknown, options: IngestOptions = {}): InstanceType<T> {
      return wrap(this, ingestColumns(fields, columns, options));
    }

    static fromRows<T extends ModelClass<S>>(this: T, rows: unknown, options: IngestOptions = {}): InstanceType<T> {
      return wrap(this, ingestRows(fields, rows, options));
    }

    static fromNdjson<T extends ModelClass<S>>(this: T, text: string | Uint8Array, options: IngestOptions = {}): InstanceType<T> {
      return wrap(this, ingestNdjson(fields, text, options));
    }

    static fromArrow<T extends ModelClass<S>>(this: T, input: arrow.Table | Uint8Array | ArrayBuffer, options: IngestOptions = {}): InstanceType<T> {
      return wrap(this, ingestArrow(fields, input, options));
    }
  };
}
