// Maps a zod object shape to columnar fields: dtype, nullability, alias, enum categories, and whether a
// cell can be validated by a vectorised pass or needs zod itself (refinements, string formats).

import type { z } from 'zod';
import { SchemaDefinitionError } from '../errors.js';
import { checkDecimalParams } from './decimal.js';
import type { DType, Field } from './types.js';

export type ZodShape = Readonly<Record<string, z.ZodType>>;

/** A field plus what ingest needs to validate it. */
export interface ModelField extends Field {
  readonly alias?: string;
  /** The zod type of one non-null cell (wrappers removed). */
  readonly cellType: z.ZodType;
  /** True when the cell type carries refinements or formats that only zod can check. */
  readonly needsZod: boolean;
  /** True when the column may be absent from the input (zod optional). */
  readonly optional: boolean;
  /** Float64 column that must hold integers within ±(2^53 − 1) (z.int()). */
  readonly integral: boolean;
}

interface ZodInternals {
  readonly _zod: {
    readonly def: {
      readonly type: string;
      readonly format?: string;
      readonly checks?: readonly unknown[];
      readonly innerType?: z.ZodType;
      readonly entries?: Record<string, string | number>;
    };
  };
  meta?: () => Record<string, unknown> | undefined;
}

function internals(t: z.ZodType): ZodInternals {
  return t;
}

const NUMBER_FORMATS: Record<string, DType> = { int32: 'int32', float32: 'float32', float64: 'float64', safeint: 'float64' };

function aliasOf(t: z.ZodType, field: string): string | undefined {
  const meta = internals(t).meta?.();
  const alias = meta?.['alias'];
  if (alias === undefined) return undefined;
  if (typeof alias !== 'string' || alias.length === 0) throw new SchemaDefinitionError(field, 'alias must be a non-empty string');
  return alias;
}

/** A string schema marked `.meta({ dtype: 'decimal', precision, scale })` (what `decimal(p, s)` makes) is a decimal column. */
function decimalParams(t: z.ZodType, field: string): { precision: number; scale: number } | undefined {
  const meta = internals(t).meta?.();
  if (meta?.['dtype'] === undefined) return undefined;
  if (meta['dtype'] !== 'decimal')
    throw new SchemaDefinitionError(field, `meta dtype must be 'decimal' on a string schema, got ${JSON.stringify(meta['dtype'])}`);
  try {
    return checkDecimalParams(meta['precision'], meta['scale'] ?? 0, 'meta');
  } catch (error) {
    throw new SchemaDefinitionError(field, error instanceof Error ? error.message : String(error));
  }
}

export function fieldFromZod(name: string, type: z.ZodType): ModelField {
  let cell = type;
  let nullable = false;
  let optional = false;
  let alias = aliasOf(type, name);
  for (;;) {
    const def = internals(cell)._zod.def;
    if (def.type === 'nullable' || def.type === 'optional') {
      nullable = true;
      if (def.type === 'optional') optional = true;
      cell = def.innerType!;
      alias ??= aliasOf(cell, name);
      continue;
    }
    break;
  }
  const def = internals(cell)._zod.def;
  const hasChecks = (def.checks?.length ?? 0) > 0;
  let dtype: DType;
  let enumValues: readonly string[] | undefined;
  let formatNeedsZod = false;
  let params: { precision: number; scale: number } | undefined;
  switch (def.type) {
    case 'number': {
      const mapped = def.format === undefined ? 'float64' : NUMBER_FORMATS[def.format];
      if (mapped === undefined) throw new SchemaDefinitionError(name, `number format '${String(def.format)}' has no column type`);
      dtype = mapped;
      break;
    }
    case 'bigint':
      dtype = 'int64';
      break;
    case 'boolean':
      dtype = 'bool';
      break;
    case 'string': {
      const decimal = decimalParams(cell, name);
      if (decimal !== undefined) {
        // validate.ts checks decimal cells exactly itself; zod's string check would refuse numbers and bigints.
        dtype = 'decimal';
        params = decimal;
        break;
      }
      dtype = 'utf8';
      formatNeedsZod = def.format !== undefined;
      break;
    }
    case 'enum': {
      const values = Object.values(def.entries ?? {});
      if (!values.every((v): v is string => typeof v === 'string')) throw new SchemaDefinitionError(name, 'only string enums map to a dictionary column');
      dtype = 'utf8';
      enumValues = values;
      break;
    }
    case 'date':
      dtype = 'date';
      break;
    default:
      throw new SchemaDefinitionError(
        name,
        `zod type '${def.type}' has no column type; use int32, int, int64, bigint, float32, float64, number, boolean, string, enum or date`,
      );
  }
  return {
    name,
    dtype,
    ...params,
    nullable,
    optional,
    cellType: cell,
    needsZod: params === undefined && (hasChecks || formatNeedsZod),
    integral: def.type === 'number' && def.format === 'safeint',
    ...(alias === undefined ? {} : { alias }),
    ...(enumValues === undefined ? {} : { enumValues }),
  };
}

export function fieldsFromShape(shape: ZodShape): ModelField[] {
  const fields = Object.entries(shape).map(([name, t]) => fieldFromZod(name, t));
  const seen = new Map<string, string>();
  for (const f of fields) {
    for (const key of f.alias === undefined ? [f.name] : [f.name, f.alias]) {
      const owner = seen.get(key);
      if (owner !== undefined && owner !== f.name) throw new SchemaDefinitionError(f.name, `input key '${key}' is also used by field '${owner}'`);
      seen.set(key, f.name);
    }
  }
  return fields;
}
