// columnarJsonSchema(Model): the JSON Schema of the columnar body columnarBody(Model) accepts, from zod 4's
// own conversion, so a service can publish its contract (an OpenAPI document, a /schema route).

import { z } from 'zod';
import { INPUT_KEY_MODES } from '../model/ingest.js';
import type { DType, InputKeyMode } from '../model/types.js';
import { fail, isPlainObject, maxArguments, oneOf, options as optionsOf } from '../options.js';
import type { FrameModel } from './types.js';

export interface JsonSchemaOptions {
  /** Which keys the body uses; as in columnarBody: aliases by default when the model has any. */
  readonly inputKeyMode?: InputKeyMode;
}

interface ShapedModel extends Pick<FrameModel, 'fields' | 'name'> {
  readonly shape: Readonly<Record<string, z.ZodType>>;
}

/** The JSON Schema string format of each temporal dtype's ISO 8601 text. */
const JSON_FORMATS: Partial<Record<DType, string>> = { timestamp: 'date-time', date: 'date', time: 'time', duration: 'duration' };

const schemaOptions = optionsOf({ inputKeyMode: oneOf(INPUT_KEY_MODES) });

function keysOf(name: string, alias: string | undefined, mode: InputKeyMode): string[] {
  if (alias === undefined || mode === 'names') return [name];
  return mode === 'aliases' ? [alias] : [alias, name];
}

/**
 * JSON Schema (draft 2020-12) of `{ key: [cells] }`. Temporal cells are ISO 8601 strings (formats date-time,
 * date, time, duration) and int64 cells integers,
 * as the JSON ingest reads them. With inputKeyMode 'both' a column may come under either key; the schema
 * lists both as optional, since JSON Schema cannot say "exactly one of" per column without noise.
 */
/** The decimal text ingest accepts: an optional sign, digits with an optional point, an optional exponent. */
const DECIMAL_PATTERN = '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$';

export function columnarJsonSchema(Model: ShapedModel, options: JsonSchemaOptions = {}): Record<string, unknown> {
  maxArguments('columnarJsonSchema(Model, options)', arguments, 2);
  const shaped = Model as Partial<ShapedModel> | null;
  if ((typeof Model !== 'function' && typeof Model !== 'object') || shaped === null || !Array.isArray(shaped.fields) || !isPlainObject(shaped.shape)) {
    fail('columnarJsonSchema(Model)', Model, 'a model class made by DataFrameModel({...})');
  }
  options = schemaOptions(options, 'columnarJsonSchema(options)');
  const mode = options.inputKeyMode ?? (Model.fields.some((f) => f.alias !== undefined) ? 'aliases' : 'names');
  const properties: Record<string, z.ZodType> = {};
  const formats = new Map<unknown, string>();
  for (const field of Model.fields) {
    const format = JSON_FORMATS[field.dtype];
    if (format !== undefined && (field.zodKind === 'date' || field.zodKind === 'string')) formats.set(field.cellType, format);
  }
  for (const field of Model.fields) {
    const cell = Model.shape[field.name]!;
    const column = z.array(cell);
    const keys = keysOf(field.name, field.alias, mode);
    // Only a column with two possible keys has no single required one.
    for (const key of keys) properties[key] = keys.length > 1 || field.nullable ? column.optional() : column;
  }
  const schema = z.toJSONSchema(z.object(properties).strict(), {
    unrepresentable: 'any',
    override: (ctx) => {
      const type = (ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type;
      const format = formats.get(ctx.zodSchema);
      // Temporal cells declared as dates or ISO strings go as ISO 8601 text (integers are read too, unpublished).
      if (format !== undefined) {
        for (const key of Object.keys(ctx.jsonSchema)) Reflect.deleteProperty(ctx.jsonSchema, key);
        Object.assign(ctx.jsonSchema, { type: 'string', format });
      } else if (type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
      if (type === 'bigint') Object.assign(ctx.jsonSchema, { type: 'integer' });
      const meta = (ctx.zodSchema as { meta?: () => Record<string, unknown> | undefined }).meta?.();
      if (type === 'string' && meta?.['dtype'] === 'decimal') {
        // A decimal cell is a JSON number or exact decimal text; the column's digits are in the description.
        const json = ctx.jsonSchema as Record<string, unknown>;
        delete json['type'];
        delete json['dtype'];
        delete json['precision'];
        delete json['scale'];
        Object.assign(json, {
          anyOf: [{ type: 'string', pattern: DECIMAL_PATTERN }, { type: 'number' }],
          description: `decimal(${String(meta['precision'])}, ${String(meta['scale'])}): at most ${String(meta['scale'])} fraction digits`,
        });
      }
      // The alias is how the column is keyed, already; as a keyword inside the cell schema it is noise.
      delete (ctx.jsonSchema as Record<string, unknown>)['alias'];
    },
  });
  return { ...schema, title: `${Model.name} (columnar)` };
}
