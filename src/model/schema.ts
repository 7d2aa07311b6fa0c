// Maps a zod object shape to columnar fields: dtype, nullability, alias, enum categories, and whether a
// cell can be validated by a vectorised pass or needs zod itself (refinements, string formats).

import type { z } from 'zod';
import { SchemaDefinitionError } from '../errors.js';
import { checkDecimalParams } from './decimal.js';
import { isTemporal, UNITS_OF, DEFAULT_UNIT } from './dtype.js';
import { isTimeZone } from './temporal.js';
import type { DType, Field, TimeUnit, TypeParams } from './types.js';

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
  /** The JS kind zod's cell type parses: temporal columns run zod only on cells of that kind. */
  readonly zodKind: string;
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
  // Another meta dtype is temporalOf's to check.
  if (meta?.['dtype'] !== 'decimal') return undefined;
  try {
    return checkDecimalParams(meta['precision'], meta['scale'] ?? 0, 'meta');
  } catch (error) {
    throw new SchemaDefinitionError(field, error instanceof Error ? error.message : String(error));
  }
}

/** The dtype a string format declares, with the unit it takes when `.meta()` names none. */
const STRING_FORMATS: Record<string, DType> = { datetime: 'timestamp', date: 'date', time: 'time', duration: 'duration' };

/**
 * The temporal dtype and parameters `.meta({ dtype, unit, timeZone })` declares on a cell type whose own
 * kind is `kind` (what zod parses) with the dtype `implied` by it (z.date() a timestamp, z.iso.date() a date);
 * null when neither declares a temporal type. Values are checked: a wrong one is a SchemaDefinitionError.
 */
function temporalOf(name: string, cell: z.ZodType, kind: string, implied: DType | undefined): { dtype: DType; params: TypeParams } | null {
  const meta = internals(cell).meta?.() ?? {};
  const declared = meta['dtype'];
  if (declared !== undefined && !(typeof declared === 'string' && isTemporal(declared as DType)))
    throw new SchemaDefinitionError(name, `meta dtype must be one of 'timestamp', 'date', 'time', 'duration', 'decimal' (got ${JSON.stringify(declared)})`);
  const dtype = (declared as DType | undefined) ?? implied;
  const { unit, timeZone } = meta;
  if (dtype === undefined) {
    if (unit !== undefined || timeZone !== undefined)
      throw new SchemaDefinitionError(name, `meta unit and timeZone need a temporal type (z.date(), z.iso.datetime(), or meta dtype)`);
    return null;
  }
  const accepted: Record<string, readonly DType[]> = {
    date: ['timestamp', 'date'],
    string: ['timestamp', 'date', 'time', 'duration'],
    number: ['timestamp', 'date', 'time', 'duration'],
    bigint: ['timestamp', 'time', 'duration'],
  };
  if (!(accepted[kind] ?? []).includes(dtype)) throw new SchemaDefinitionError(name, `a ${dtype} column cannot be declared on zod type '${kind}'`);
  const units = UNITS_OF[dtype];
  if (units === undefined) {
    if (unit !== undefined) throw new SchemaDefinitionError(name, `a ${dtype} column takes no unit`);
  } else if (unit !== undefined && !(units as readonly unknown[]).includes(unit)) {
    throw new SchemaDefinitionError(
      name,
      `meta unit must be one of ${units.map((u) => `'${u}'`).join(', ')} for a ${dtype} column (got ${JSON.stringify(unit)})`,
    );
  }
  if (timeZone !== undefined) {
    if (dtype !== 'timestamp') throw new SchemaDefinitionError(name, `only a timestamp column takes a timeZone`);
    if (typeof timeZone !== 'string' || !isTimeZone(timeZone))
      throw new SchemaDefinitionError(name, `meta timeZone ${JSON.stringify(timeZone)} is not an IANA time zone`);
  }
  const params: TypeParams = {
    ...(units === undefined ? {} : { unit: (unit as TimeUnit | undefined) ?? (kind === 'date' ? 'ms' : DEFAULT_UNIT) }),
    ...(typeof timeZone === 'string' ? { timeZone } : {}),
  };
  return { dtype, params };
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
  let params: TypeParams = {};
  const implied = def.type === 'date' ? 'timestamp' : def.type === 'string' && def.format !== undefined ? STRING_FORMATS[def.format] : undefined;
  const decimal = def.type === 'string' ? decimalParams(cell, name) : undefined;
  const temporal = decimal === undefined ? temporalOf(name, cell, def.type, implied) : null;
  if (decimal !== undefined) {
    // validate.ts checks decimal cells exactly itself; zod's string check would refuse numbers and bigints.
    dtype = 'decimal';
    params = decimal;
  } else if (temporal !== null) {
    dtype = temporal.dtype;
    params = temporal.params;
    formatNeedsZod = def.type === 'string' && def.format !== undefined;
  } else
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
      case 'string':
        dtype = 'utf8';
        formatNeedsZod = def.format !== undefined;
        break;
      case 'enum': {
        const values = Object.values(def.entries ?? {});
        if (!values.every((v): v is string => typeof v === 'string')) throw new SchemaDefinitionError(name, 'only string enums map to a dictionary column');
        dtype = 'utf8';
        enumValues = values;
        break;
      }
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
    needsZod: dtype !== 'decimal' && (hasChecks || formatNeedsZod),
    integral: def.type === 'number' && def.format === 'safeint',
    zodKind: def.type,
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
