// columnarJsonSchema(Model): the published JSON Schema matches the model (keys by alias or name as the
// input key mode says, required exactly where columnarBody requires a column, cell types and bounds), and
// a body built from the schema alone is one columnarBody accepts over HTTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Router from '@koa/router';
import fc from 'fast-check';
import Koa from 'koa';
import { z } from 'zod';
import { DataFrameModel, decimal, type InputKeyMode } from '../../src/index.js';
import { columnarBody, columnarJsonSchema, registerErrorHandlers, setLogger, silentLogger, type FrameState, type GpuframeState } from '../../src/koa/index.js';
import { Event, request, serve, type Served } from './koa-helpers.js';

class Wide extends DataFrameModel({
  at: z.date(),
  big: z.int64(),
  ok: z.boolean(),
  ratio: z.float32().nullable(),
  kind: z.enum(['a', 'b']),
  n: z.int32().meta({ alias: 'N' }),
}) {}

interface ColumnSchema {
  readonly type: string;
  readonly items: Record<string, unknown>;
}

interface ObjectSchema {
  readonly $schema: string;
  readonly title: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, ColumnSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties: boolean;
}

const schemaOf = (model: Parameters<typeof columnarJsonSchema>[0], mode?: InputKeyMode): ObjectSchema =>
  columnarJsonSchema(model, mode === undefined ? {} : { inputKeyMode: mode }) as unknown as ObjectSchema;

describe('columnarJsonSchema', () => {
  it('describes the model keyed by alias by default: types, bounds, nullability, required, no extra keys', () => {
    const schema = schemaOf(Event);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.title, 'Event (columnar)');
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), ['userId', 'amount', 'country']);
    assert.deepEqual([...(schema.required ?? [])].sort(), ['amount', 'userId']);
    for (const column of Object.values(schema.properties)) assert.equal(column.type, 'array');
    const { userId, amount, country } = schema.properties;
    assert.equal(userId?.items['type'], 'integer');
    assert.equal(userId.items['minimum'], -(2 ** 31));
    assert.equal(userId.items['maximum'], 2 ** 31 - 1);
    assert.equal(amount?.items['type'], 'number');
    assert.deepEqual(country?.items['type'], ['string', 'null']);
    assert.equal(JSON.stringify(schema).includes('"alias"'), false, 'aliases key the columns; they are not repeated as keywords');
  });

  it('keys by name with inputKeyMode names, and lists both keys (optional) with both', () => {
    const byName = schemaOf(Event, 'names');
    assert.deepEqual(Object.keys(byName.properties), ['user_id', 'amount', 'country']);
    assert.deepEqual([...(byName.required ?? [])].sort(), ['amount', 'user_id']);
    const both = schemaOf(Event, 'both');
    assert.deepEqual(Object.keys(both.properties).sort(), ['amount', 'country', 'userId', 'user_id']);
    // user_id may come under either key, so neither is required; amount has one key and stays required.
    assert.deepEqual(both.required ?? [], ['amount']);
  });

  it('dates are date-time strings, int64 integers, enums their values, float32 bounded', () => {
    const schema = schemaOf(Wide);
    assert.deepEqual(Object.keys(schema.properties), ['at', 'big', 'ok', 'ratio', 'kind', 'N']);
    assert.deepEqual([...(schema.required ?? [])].sort(), ['N', 'at', 'big', 'kind', 'ok']);
    const items = (key: string) => schema.properties[key]?.items;
    assert.equal(items('at')?.['type'], 'string');
    assert.equal(items('at')?.['format'], 'date-time');
    assert.equal(items('big')?.['type'], 'integer');
    assert.equal(items('ok')?.['type'], 'boolean');
    assert.deepEqual(items('ratio')?.['anyOf'], [{ type: 'number', minimum: -3.4028234663852886e38, maximum: 3.4028234663852886e38 }, { type: 'null' }]);
    assert.deepEqual(items('kind')?.['enum'], ['a', 'b']);
  });

  it('required keys are exactly the ones whose absence the ingest refuses (property)', () => {
    const cells: Record<string, unknown> = { userId: 1, user_id: 1, amount: 2.5, country: 'PT' };
    fc.assert(
      fc.property(fc.constantFrom<InputKeyMode>('aliases', 'names'), fc.subarray(['user', 'amount', 'country']), (mode, present) => {
        const schema = schemaOf(Event, mode);
        const keyOf = { user: mode === 'aliases' ? 'userId' : 'user_id', amount: 'amount', country: 'country' } as const;
        const body = Object.fromEntries(present.map((p) => [keyOf[p as keyof typeof keyOf], [cells[keyOf[p as keyof typeof keyOf]]]]));
        const schemaSaysValid = (schema.required ?? []).every((key) => key in body) && Object.keys(body).every((key) => key in schema.properties);
        let accepted = true;
        try {
          const input: unknown = body; // keys chosen at runtime: checked at runtime only
          Event.fromColumns(input, { inputKeyMode: mode });
        } catch {
          accepted = false;
        }
        assert.equal(accepted, schemaSaysValid, `${mode}: ${JSON.stringify(body)}`);
      }),
    );
  });
});

describe('columnarJsonSchema and columnarBody agree over HTTP', () => {
  let served: Served;
  before(async () => {
    const app = new Koa();
    registerErrorHandlers(app);
    setLogger(app, silentLogger);
    const router = new Router<GpuframeState>();
    router.get('/wide/schema', (ctx) => {
      ctx.body = columnarJsonSchema(Wide);
    });
    router.post<FrameState<Wide>>('/wide', columnarBody(Wide), async (ctx) => {
      ctx.body = { rows: (await ctx.state.frame.collect()).length };
    });
    app.use(router.routes());
    served = await serve(app);
  });
  after(() => served.close());

  it('a body made from the published schema alone is accepted', async () => {
    const schema = (await request(served.port, { path: '/wide/schema' })).json<ObjectSchema>();
    const example = (items: Record<string, unknown>): unknown => {
      if (Array.isArray(items['anyOf'])) return example(items['anyOf'][0] as Record<string, unknown>);
      if (Array.isArray(items['enum'])) return items['enum'][0];
      if (items['format'] === 'date-time') return '2024-05-01T10:00:00.000Z';
      const type: unknown = Array.isArray(items['type']) ? items['type'][0] : items['type'];
      return type === 'integer' ? 7 : type === 'number' ? 1.5 : type === 'boolean' ? true : 'text';
    };
    const body = Object.fromEntries(Object.entries(schema.properties).map(([key, column]) => [key, [example(column.items), example(column.items)]]));
    const reply = await request(served.port, { method: 'POST', path: '/wide', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json(), { rows: 2 });
    const onlyRequired = Object.fromEntries((schema.required ?? []).map((key) => [key, body[key]]));
    const minimal = await request(served.port, {
      method: 'POST',
      path: '/wide',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(onlyRequired),
    });
    assert.equal(minimal.status, 200, minimal.text);
  });
});

describe('columnarJsonSchema of a decimal column', () => {
  class Priced extends DataFrameModel({ price: decimal(12, 2), fee: decimal(5, 3).nullable() }) {}

  it('publishes a JSON number or decimal text, with the digits in the description', () => {
    const schema = columnarJsonSchema(Priced) as unknown as ObjectSchema;
    const price = schema.properties['price']!.items;
    assert.deepEqual(price['anyOf'], [{ type: 'string', pattern: '^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?$' }, { type: 'number' }]);
    assert.equal(price['description'], 'decimal(12, 2): at most 2 fraction digits');
    assert.equal(price['dtype'], undefined, 'the model metadata is not a JSON Schema keyword');
    const pattern = new RegExp((price['anyOf'] as { pattern?: string }[])[0]!.pattern!);
    for (const text of ['12.30', '-0.05', '+7', '.5', '1e3', '5.']) assert.ok(pattern.test(text), text);
    for (const text of ['', '-', '1.2.3', 'NaN', ' 1', '1e']) assert.ok(!pattern.test(text), text);
    // Every text the pattern accepts, ingest parses (whether it fits the scale is a value's question).
    const accepted = Priced.fromColumns({ price: ['12.30', '-0.05', '+7', '.5', '1e3', '5.'] });
    assert.deepEqual(
      accepted.collectSync().map((r) => r.price),
      ['12.30', '-0.05', '7.00', '0.50', '1000.00', '5.00'],
    );
  });
});
