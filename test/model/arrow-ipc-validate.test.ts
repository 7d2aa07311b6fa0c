// The Arrow IPC validator, rule by rule: what apache-arrow writes passes (and the summary agrees with what
// apache-arrow reads), and each kind of malformed stream or file is refused with a MalformedArrowError that
// says what is wrong, without any work proportional to the lengths it declares.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { BodyCompression, Message } from 'apache-arrow/ipc/metadata/message';
import { MalformedArrowError } from '../../src/errors.js';
import { ARROW_IPC_LIMITS, validateArrowIpc } from '../../src/model/arrow-ipc-validate.js';
import {
  bytesOf,
  concat,
  dictionaryBatchMessage,
  EOS,
  fileOf,
  frameMessage,
  ipcFieldPositions,
  recordBatchMessage,
  schemaMessage,
  schemaOf,
  type BatchSpec,
} from './arrow-ipc-craft.js';

function rejects(bytes: Uint8Array, pattern: RegExp): MalformedArrowError {
  let caught: unknown;
  try {
    validateArrowIpc(bytes);
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof MalformedArrowError,
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- prints whatever was thrown, Error or not
    `expected a MalformedArrowError matching ${String(pattern)}, got ${caught === undefined ? 'acceptance' : String(caught)}`,
  );
  assert.equal(caught.code, 'malformed_arrow');
  assert.equal(caught.status, 400);
  assert.match(caught.message, pattern);
  return caught;
}

/** Accepted, and the summary's rows are what apache-arrow reads. */
function accepts(bytes: Uint8Array): number {
  const summary = validateArrowIpc(bytes);
  assert.equal(summary.rows, arrow.tableFromIPC(bytes).numRows);
  return summary.rows;
}

const int32 = new arrow.Int32();
const schemaA = schemaOf({ a: int32 });
const fourInts = bytesOf(new Int32Array([1, 2, 3, 4]));
const streamOf = (schema: arrow.Schema, ...messages: Uint8Array[]): Uint8Array => concat(schemaMessage(schema), ...messages, EOS);
const batchA = (spec: Partial<BatchSpec> = {}): Uint8Array =>
  recordBatchMessage({
    length: 4,
    nodes: [[4, 0]],
    buffers: [
      [0, 0],
      [0, 16],
    ],
    body: fourInts,
    ...spec,
  });

function patch(bytes: Uint8Array, kind: string, value: number | bigint, nth = 0): Uint8Array {
  const out = bytes.slice();
  const field = ipcFieldPositions(out).filter((f) => f.kind === kind)[nth];
  assert.ok(field, `no ${kind} field`);
  const view = new DataView(out.buffer);
  if (field.size === 1) view.setUint8(field.position, Number(value));
  if (field.size === 2) view.setInt16(field.position, Number(value), true);
  if (field.size === 4) view.setInt32(field.position, Number(value), true);
  if (field.size === 8) view.setBigInt64(field.position, BigInt(value), true);
  return out;
}

const field = (name: string, type: arrow.DataType): arrow.Field => new arrow.Field(name, type, true);
const dictionaryUtf8 = (): arrow.Dictionary => new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());

/** Tables of every type apache-arrow writes, for the acceptance tests. */
function writtenTables(): Record<string, arrow.Table> {
  const n = 300;
  const ints = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i));
  return {
    numbers: new arrow.Table({
      i32: arrow.vectorFromArray(ints, int32),
      f64: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : x / 3)),
        new arrow.Float64(),
      ),
      i64: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : BigInt(x))),
        new arrow.Int64(),
      ),
      u8: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : x % 256)),
        new arrow.Uint8(),
      ),
    }),
    strings: new arrow.Table({
      s: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : `s${x}`)),
        new arrow.Utf8(),
      ),
      large: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : `é${x}`)),
        new arrow.LargeUtf8(),
      ),
      view: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : x % 2 ? `short${x}` : `a string longer than twelve bytes ${x}`)),
        new arrow.Utf8View(),
      ),
      d: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : ['x', 'y', 'z'][x % 3]!)),
        dictionaryUtf8(),
      ),
    }),
    flags: new arrow.Table({
      b: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : x % 2 === 0)),
        new arrow.Bool(),
      ),
      nothing: arrow.vectorFromArray(
        ints.map(() => null),
        new arrow.Null(),
      ),
    }),
    nested: new arrow.Table({
      l: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : [x, x + 1])),
        new arrow.List(field('item', int32)),
      ),
      st: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : { p: x, q: 'q' })) as never,
        new arrow.Struct([field('p', int32), field('q', new arrow.Utf8())] as never),
      ),
      fsl: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : [x, -x])),
        new arrow.FixedSizeList(2, field('x', int32)),
      ),
      m: arrow.vectorFromArray(
        ints.map((x) => (x === null ? null : new Map([[`k${x}`, x]]))),
        new arrow.Map_(new arrow.Field('entries', new arrow.Struct([new arrow.Field('key', new arrow.Utf8(), false), field('value', int32)] as never), false)),
      ),
    }),
    fixed: new arrow.Table({
      dec: arrow.makeVector(arrow.makeData({ type: new arrow.Decimal(2, 10, 128), length: 3, data: new Uint32Array(12) })),
      fsb: arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeBinary(3), length: 3, data: new Uint8Array(9) })),
      ts: arrow.vectorFromArray([1, 2, null], new arrow.TimestampMillisecond()),
    }),
    empty: new arrow.Table({ a: arrow.vectorFromArray([], int32) }),
  };
}

describe('validateArrowIpc: what apache-arrow writes', () => {
  it('accepts streams and files of every written type, in one and in several batches', () => {
    for (const [name, table] of Object.entries(writtenTables())) {
      for (const format of ['stream', 'file'] as const) {
        const one = arrow.tableToIPC(table, format);
        assert.equal(validateArrowIpc(one).format, format, name);
        assert.equal(accepts(one), table.numRows, `${name} ${format}`);
        if (name !== 'strings' || format === 'stream')
          assert.equal(accepts(arrow.tableToIPC(table.concat(table), format)), 2 * table.numRows, `${name} ${format} x2`);
      }
    }
  });

  it('accepts a stream that replaces and one that has no end-of-stream marker', () => {
    const d1 = arrow.vectorFromArray(['a', 'b'], dictionaryUtf8());
    const d2 = arrow.vectorFromArray(['c', 'a', 'c'], dictionaryUtf8());
    const replaced = arrow.tableToIPC(new arrow.Table({ d: d1 }).concat(new arrow.Table({ d: d2 })), 'stream');
    assert.deepEqual({ ...validateArrowIpc(replaced) }, { format: 'stream', messages: 5, dictionaryBatches: 2, recordBatches: 2, rows: 5 });
    assert.equal(accepts(streamOf(schemaA, batchA()).subarray(0, -8)), 4);
  });

  it('every prefix of a stream is refused, except those ending where a message ends (property)', () => {
    const schema = schemaMessage(schemaA);
    const batches = [batchA(), batchA(), batchA()];
    const whole = concat(schema, ...batches, EOS);
    const boundaries = new Map<number, number>([[schema.length, 0]]);
    batches.reduce((end, b, i) => (boundaries.set(end + b.length, 4 * (i + 1)), end + b.length), schema.length);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: whole.length - 1 }), (cut) => {
        const prefix = whole.subarray(0, cut);
        const rows = boundaries.get(cut);
        if (rows === undefined) rejects(prefix, /./);
        else assert.equal(validateArrowIpc(prefix).rows, rows);
      }),
      { numRuns: 300 },
    );
  });
});

describe('validateArrowIpc: framing', () => {
  it('refuses empty input, garbage, negative and oversized lengths', () => {
    rejects(new Uint8Array(0), /the input is empty/);
    const garbage = rejects(
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]),
      /^Arrow IPC message 0 \(byte 0\): metadata of \d+ bytes runs past the end/,
    );
    assert.equal(garbage.messageIndex, 0);
    assert.equal(garbage.byteOffset, 0);
    rejects(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff]), /metadata length -2 is negative/);
    rejects(concat(schemaMessage(schemaA), new Uint8Array([1, 2])), /message 1 \(byte \d+\): 2 bytes where a message length/);
    rejects(EOS, /ends before its schema/);
  });

  it('refuses anything after the end-of-stream marker: a second stream, or any bytes', () => {
    const one = streamOf(schemaA, batchA());
    rejects(concat(one, one), new RegExp(`${one.length - one.length + one.length} bytes follow the end-of-stream marker`));
    rejects(concat(one, new Uint8Array([0])), /1 bytes follow the end-of-stream marker/);
    rejects(concat(one, EOS), /8 bytes follow/);
  });

  it('refuses a body longer than the bytes, a schema with a body, and messages out of place', () => {
    rejects(streamOf(schemaA, batchA({ bodyLength: 1_000_000 })), /body length 1000000 runs past the end/);
    const schemaWithBody = frameMessage(Message.encode(new Message(8, arrow.MetadataVersion.V5, arrow.MessageHeader.Schema, schemaA)), new Uint8Array(8));
    rejects(concat(schemaWithBody, EOS), /a Schema message with a body of 8 bytes/);
    rejects(concat(batchA(), EOS), /starts with a RecordBatch message; expected a Schema/);
    rejects(streamOf(schemaA, schemaMessage(schemaA)), /a second Schema message/);
  });

  it('refuses metadata versions before V4 and message types it does not read', () => {
    const stream = streamOf(schemaA, batchA());
    rejects(patch(stream, 'version', 2), /metadata version 2 is not supported/);
    rejects(patch(stream, 'version', 3, 1), /record batch has metadata version 3, its schema 4/);
    rejects(patch(stream, 'header type', 4, 1), /a Tensor message/);
    rejects(patch(stream, 'header type', 9, 1), /a unknown \(9\) message/);
  });
});

describe('validateArrowIpc: schema', () => {
  const one = (type: arrow.DataType): Uint8Array => concat(schemaMessage(schemaOf({ a: type })), EOS);

  it('refuses unknown and unsupported types and impossible parameters', () => {
    const stream = one(int32);
    rejects(patch(stream, 'field type id', 0), /unknown type id 0/);
    rejects(patch(stream, 'field type id', 27), /unknown type id 27/);
    rejects(patch(stream, 'field type id', 22), /type RunEndEncoded is not supported/);
    rejects(one(new arrow.Int(true, 7 as 8)), /Int width 7 is not 8, 16, 32 or 64/);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- an invalid value on purpose: the test checks that validation refuses it
    rejects(one(new arrow.Float(5 as arrow.Precision)), /FloatingPoint precision 5 is unknown/);
    rejects(one(new arrow.Time(arrow.TimeUnit.SECOND, 64)), /Time width 64 does not match its unit/);
    rejects(one(new arrow.Union(arrow.UnionMode.Sparse, [1, 1], [field('x', int32), field('y', int32)])), /type ids must be distinct/);
    rejects(one(new arrow.Map_(new arrow.Field('entries', int32) as never)), /Map's child must be a struct of key and value/);
    rejects(one(new arrow.Dictionary(new arrow.Utf8(), new arrow.Int(true, 7 as 8) as never)), /dictionary index width 7/);
  });

  it('limits nesting depth and field count', () => {
    const nested = (depth: number): arrow.DataType => (depth === 1 ? int32 : new arrow.Struct([field('s', nested(depth - 1))]));
    assert.equal(accepts(one(nested(ARROW_IPC_LIMITS.maxNestingDepth))), 0);
    rejects(one(nested(ARROW_IPC_LIMITS.maxNestingDepth + 1)), /fields nest deeper than 64/);
    const wide = new arrow.Schema(Array.from({ length: ARROW_IPC_LIMITS.maxFields + 1 }, (_, i) => field(`c${i}`, int32)));
    rejects(concat(schemaMessage(wide), EOS), /more than 10000/);
  });

  it('refuses a dictionary id shared by two fields', () => {
    // apache-arrow will not build such a schema, so the second field's id is rewritten to the first's.
    const two = new arrow.Schema([field('x', new arrow.Dictionary(new arrow.Utf8(), int32, 7)), field('y', new arrow.Dictionary(new arrow.Utf8(), int32, 8))]);
    rejects(patch(concat(schemaMessage(two), EOS), 'dictionary id', 7, 1), /field 'y': dictionary id 7 is used by two fields/);
  });

  it('caps the message when the input makes it long, and names where', () => {
    const name = 'n'.repeat(1_000_000);
    const error = rejects(
      streamOf(schemaOf({ [name]: int32 }), batchA({ length: 1e9, nodes: [[1e9, 0]] })),
      /column 'n{40}\.\.\.' \(Int32\): data buffer holds 16 bytes/,
    );
    assert.ok(error.message.length <= 500);
    assert.equal(error.messageIndex, 1);
  });
});

describe('validateArrowIpc: record batches', () => {
  it('refuses declared lengths that the buffers do not hold, at once', () => {
    rejects(streamOf(schemaA, batchA({ length: 1e9, nodes: [[1e9, 0]] })), /column 'a' \(Int32\): data buffer holds 16 bytes; 1000000000 rows need 4000000000/);
    rejects(streamOf(schemaA, batchA({ length: 2 ** 31 - 1, nodes: [[2 ** 31 - 1, 0]] })), /2147483647 rows need 8589934588/);
    rejects(streamOf(schemaA, batchA({ length: 2 ** 31, nodes: [[2 ** 31, 0]] })), /record batch declares 2147483648 rows, more than 2147483647/);
    rejects(patch(streamOf(schemaA, batchA()), 'length', 2n ** 48n + 4n), /declares 281474976710660 rows/);
    rejects(patch(streamOf(schemaA, batchA()), 'node length', -1), /column 'a' length -1 is out of range/);
    rejects(streamOf(schemaA, batchA({ length: 3 })), /column 'a' has 4 rows, the batch 3/);
  });

  it('refuses node and buffer counts that differ from the schema, and compressed bodies', () => {
    rejects(streamOf(schemaA, batchA({ nodes: [] })), /has 0 field nodes; its schema has 1/);
    rejects(streamOf(schemaA, batchA({ buffers: [[0, 16]] })), /has 1 buffers; its schema needs 2/);
    const compressed = recordBatchMessage({
      length: 4,
      nodes: [[4, 0]],
      buffers: [
        [0, 0],
        [0, 16],
      ],
      body: fourInts,
    });
    const header = Message.decode(compressed.subarray(8));
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- an invalid value on purpose: the test checks that validation refuses it
    const withCodec = Object.assign(header.header(), { _compression: new BodyCompression(0) });
    rejects(streamOf(schemaA, frameMessage(Message.encode(Message.from(withCodec, 16)), fourInts)), /compressed Arrow IPC bodies are not supported/);
  });

  it('checks null counts and validity bitmaps', () => {
    rejects(streamOf(schemaA, batchA({ nodes: [[4, 5]] })), /null count 5 exceeds its 4 rows/);
    rejects(streamOf(schemaA, batchA({ nodes: [[4, 1]] })), /validity buffer holds 0 bytes; 4 rows with 1 nulls need 1/);
    const body = concat(new Uint8Array(8), bytesOf(new Int32Array(100)));
    assert.equal(
      accepts(
        streamOf(
          schemaA,
          recordBatchMessage({
            length: 100,
            nodes: [[100, 0]],
            buffers: [
              [0, 0],
              [8, 400],
            ],
            body,
          }),
        ),
      ),
      100,
    );
    rejects(
      streamOf(
        schemaA,
        recordBatchMessage({
          length: 100,
          nodes: [[100, 0]],
          buffers: [
            [0, 8],
            [8, 400],
          ],
          body,
        }),
      ),
      /validity buffer holds 8 bytes; 100 rows with 0 nulls need 13/,
    );
  });

  it('keeps buffers inside the body, aligned, in order and apart', () => {
    rejects(
      streamOf(
        schemaA,
        batchA({
          buffers: [
            [0, 0],
            [8, 16],
          ],
        }),
      ),
      /data buffer \(buffer 1\) spans bytes 8 to 24, outside the body of 16 bytes/,
    );
    rejects(
      streamOf(
        schemaA,
        batchA({
          buffers: [
            [0, 0],
            [4, 12],
          ],
        }),
      ),
      /starts at body offset 4, not a multiple of 8/,
    );
    const schemaAB = schemaOf({ a: int32, b: int32 });
    const body = concat(fourInts, fourInts);
    const batchAB = (buffers: BatchSpec['buffers']): Uint8Array =>
      recordBatchMessage({
        length: 4,
        nodes: [
          [4, 0],
          [4, 0],
        ],
        buffers,
        body,
      });
    assert.equal(
      accepts(
        streamOf(
          schemaAB,
          batchAB([
            [32, 0],
            [0, 16],
            [0, 0],
            [16, 16],
          ]),
        ),
      ),
      4,
    );
    rejects(
      streamOf(
        schemaAB,
        batchAB([
          [0, 0],
          [0, 16],
          [0, 0],
          [8, 16],
        ]),
      ),
      /column 'b' \(Int32\): data buffer \(buffer 3\) starts at body offset 8, inside or before the previous buffer/,
    );
    rejects(
      streamOf(
        schemaAB,
        batchAB([
          [0, 0],
          [0, 16],
          [0, 0],
          [0, 16],
        ]),
      ),
      /inside or before the previous buffer/,
    );
    rejects(
      streamOf(
        schemaAB,
        batchAB([
          [0, 0],
          [16, 16],
          [0, 0],
          [0, 16],
        ]),
      ),
      /inside or before the previous buffer/,
    );
  });

  it('checks offsets: enough of them, none negative, none decreasing, the last within the data', () => {
    const schema = schemaOf({ s: new arrow.Utf8() });
    const utf8 = (offsets: number[], data = 8): Uint8Array => {
      const offsetBytes = bytesOf(new Int32Array(offsets));
      const padded = concat(offsetBytes, new Uint8Array(((offsetBytes.length + 7) & ~7) - offsetBytes.length));
      return streamOf(
        schema,
        recordBatchMessage({
          length: 3,
          nodes: [[3, 0]],
          buffers: [
            [0, 0],
            [0, offsetBytes.length],
            [padded.length, data],
          ],
          body: concat(padded, new Uint8Array(data)),
        }),
      );
    };
    assert.equal(accepts(utf8([0, 1, 1, 8])), 3);
    rejects(utf8([0, 2, 1, 8]), /offset 2 \(1\) is less than offset 1 \(2\)/);
    rejects(utf8([-1, 1, 1, 8]), /first offset -1 is negative/);
    rejects(utf8([0, 1, 1, 9]), /data buffer holds 8 bytes; the last offset is 9/);
    rejects(utf8([0, 1, 1]), /offsets buffer holds 12 bytes; 3 rows need 16/);
    assert.equal(
      accepts(
        streamOf(
          schema,
          recordBatchMessage({
            length: 0,
            nodes: [[0, 0]],
            buffers: [
              [0, 0],
              [0, 0],
              [0, 0],
            ],
          }),
        ),
      ),
      0,
    );
  });

  it('checks that children hold what their parents index', () => {
    const list = schemaOf({ l: new arrow.List(field('x', int32)) });
    const offsets = concat(bytesOf(new Int32Array([0, 2, 5])), new Uint8Array(4));
    const listBatch = (childLength: number): Uint8Array =>
      recordBatchMessage({
        length: 2,
        nodes: [
          [2, 0],
          [childLength, 0],
        ],
        buffers: [
          [0, 0],
          [0, 12],
          [16, 0],
          [16, 4 * childLength],
        ],
        body: concat(offsets, new Uint8Array(8 * 4)),
      });
    assert.equal(accepts(streamOf(list, listBatch(5))), 2);
    rejects(streamOf(list, listBatch(4)), /the last offset is 5, but the child has 4 rows/);
    const struct = schemaOf({ s: new arrow.Struct([field('x', int32)]) });
    rejects(
      streamOf(
        struct,
        recordBatchMessage({
          length: 4,
          nodes: [
            [4, 0],
            [3, 0],
          ],
          buffers: [
            [0, 0],
            [0, 0],
            [0, 16],
          ],
          body: fourInts,
        }),
      ),
      /child 's\.x' has 3 rows, fewer than the struct's 4/,
    );
    const fsl = schemaOf({ f: new arrow.FixedSizeList(2, field('x', int32)) });
    rejects(
      streamOf(
        fsl,
        recordBatchMessage({
          length: 4,
          nodes: [
            [4, 0],
            [4, 0],
          ],
          buffers: [
            [0, 0],
            [0, 0],
            [0, 16],
          ],
          body: fourInts,
        }),
      ),
      /4 lists of 2 need 8 child rows; the child has 4/,
    );
  });

  it('checks union type ids and dense offsets, and view buffers', () => {
    const children = [field('i', int32), field('j', int32)];
    const sparse = schemaOf({ u: new arrow.SparseUnion([3, 5], children) });
    const typeIds = (ids: number[]): Uint8Array => concat(new Uint8Array(ids), new Uint8Array(8 - ids.length));
    const sparseBatch = (ids: number[]): Uint8Array =>
      recordBatchMessage({
        length: 4,
        nodes: [
          [4, 0],
          [4, 0],
          [4, 0],
        ],
        buffers: [
          [0, 4],
          [8, 0],
          [8, 16],
          [24, 0],
          [24, 16],
        ],
        body: concat(typeIds(ids), fourInts, fourInts),
      });
    assert.equal(accepts(streamOf(sparse, sparseBatch([3, 5, 5, 3]))), 4);
    rejects(streamOf(sparse, sparseBatch([3, 5, 4, 3])), /row 2 has type id 4, not one of 3, 5/);
    const dense = schemaOf({ u: new arrow.DenseUnion([0, 1], children) });
    const denseBatch = (offsets: number[]): Uint8Array =>
      recordBatchMessage({
        length: 4,
        nodes: [
          [4, 0],
          [2, 0],
          [2, 0],
        ],
        buffers: [
          [0, 4],
          [8, 16],
          [24, 0],
          [24, 8],
          [32, 0],
          [32, 8],
        ],
        body: concat(typeIds([0, 1, 0, 1]), bytesOf(new Int32Array(offsets)), new Uint8Array(16)),
      });
    assert.equal(accepts(streamOf(dense, denseBatch([0, 0, 1, 1]))), 4);
    rejects(streamOf(dense, denseBatch([0, 0, 2, 1])), /row 2 points at row 2 of child 'u\.i', which has 2/);

    const views = schemaOf({ v: new arrow.Utf8View() });
    const viewBatch = (bufferIndex: number, offset: number): Uint8Array => {
      const view = new DataView(new ArrayBuffer(16));
      view.setInt32(0, 20, true);
      view.setInt32(8, bufferIndex, true);
      view.setInt32(12, offset, true);
      return recordBatchMessage({
        length: 1,
        nodes: [[1, 0]],
        buffers: [
          [0, 0],
          [0, 16],
          [16, 24],
        ],
        body: concat(new Uint8Array(view.buffer), new Uint8Array(24)),
        variadic: [1],
      });
    };
    assert.equal(accepts(streamOf(views, viewBatch(0, 4))), 1);
    rejects(streamOf(views, viewBatch(1, 0)), /view 0 names data buffer 1 of 1/);
    rejects(streamOf(views, viewBatch(0, 8)), /view 0 spans bytes 8 to 28 of a 24-byte data buffer/);
  });
});

describe('validateArrowIpc: rows no buffer holds', () => {
  const nullSchema = schemaOf({ a: new arrow.Null() });
  const nullBatch = (rows: number): Uint8Array => recordBatchMessage({ length: rows, nodes: [[rows, rows]], buffers: [] });

  it('counts them across all batches of a body, against a limit that grows with its size', () => {
    assert.equal(accepts(streamOf(nullSchema, ...Array<Uint8Array>(10).fill(nullBatch(1000)))), 10_000);
    const twoThousand = streamOf(nullSchema, ...Array<Uint8Array>(2000).fill(nullBatch(65_536)));
    const limit = ARROW_IPC_LIMITS.unbackedRowsBase + ARROW_IPC_LIMITS.unbackedRowsPerByte * twoThousand.length;
    rejects(twoThousand, new RegExp(`over the limit of ${limit} for ${twoThousand.length} bytes`));
    rejects(streamOf(nullSchema, ...Array<Uint8Array>(16).fill(nullBatch(ARROW_IPC_LIMITS.maxLength))), /over the limit/);
    rejects(patch(streamOf(nullSchema, nullBatch(4)), 'null count', 2n ** 60n), /column 'a' \(Null\): null count 1152921504606846976 is out of range/);
    assert.equal(accepts(patch(streamOf(nullSchema, nullBatch(4)), 'null count', -1)), 4);
    rejects(
      streamOf(new arrow.Schema([]), recordBatchMessage({ length: 1e6, nodes: [], buffers: [] })),
      /record batch of 1000000 rows brings the rows that no buffer holds \(Null columns, or no columns\) to 1000000/,
    );
  });

  it('does not count Null columns beside a column whose buffers hold every row', () => {
    const rows = 100_000;
    const schema = schemaOf({ n: new arrow.Null(), a: int32 });
    assert.equal(
      accepts(
        streamOf(
          schema,
          recordBatchMessage({
            length: rows,
            nodes: [
              [rows, rows],
              [rows, 0],
            ],
            buffers: [
              [0, 0],
              [0, 4 * rows],
            ],
            body: new Uint8Array(4 * rows),
          }),
        ),
      ),
      rows,
    );
  });
});

describe('validateArrowIpc: dictionaries', () => {
  const schema = schemaOf({ d: dictionaryUtf8() });
  const id = (schema.fields[0]!.type as arrow.Dictionary).id;
  const words = (count: number): BatchSpec => {
    const offsets = concat(bytesOf(new Int32Array(Array.from({ length: count + 1 }, (_, i) => i))), new Uint8Array(count % 2 === 0 ? 4 : 0));
    return {
      length: count,
      nodes: [[count, 0]],
      buffers: [
        [0, 0],
        [0, 4 * (count + 1)],
        [offsets.length, 8],
      ],
      body: concat(offsets, new TextEncoder().encode('abcdefgh')),
    };
  };
  const indices = recordBatchMessage({
    length: 4,
    nodes: [[4, 0]],
    buffers: [
      [0, 0],
      [0, 16],
    ],
    body: bytesOf(new Int32Array([0, 1, 2, 0])),
  });

  it('accepts deltas, and refuses unknown ids, deltas with nothing to extend and batches before their dictionary', () => {
    assert.equal(accepts(streamOf(schema, dictionaryBatchMessage(id, false, words(2)), dictionaryBatchMessage(id, true, words(1)), indices)), 4);
    rejects(
      streamOf(schema, dictionaryBatchMessage(id + 1, false, words(3)), indices),
      new RegExp(`dictionary batch for id ${id + 1}, which no schema field uses`),
    );
    rejects(streamOf(schema, dictionaryBatchMessage(id, true, words(3)), indices), new RegExp(`dictionary ${id} is sent as a delta before any dictionary`));
    rejects(
      streamOf(schema, indices, dictionaryBatchMessage(id, false, words(3))),
      new RegExp(`a record batch uses dictionary ${id} before any dictionary batch`),
    );
  });

  it('in a file, accepts deltas and refuses replacements', () => {
    const base = { bytes: dictionaryBatchMessage(id, false, words(2)), kind: 'dictionary' } as const;
    const batch = { bytes: indices, kind: 'batch' } as const;
    assert.equal(accepts(fileOf(schema, [base, { bytes: dictionaryBatchMessage(id, true, words(1)), kind: 'dictionary' }, batch])), 4);
    rejects(fileOf(schema, [base, base, batch]), new RegExp(`dictionary ${id} is replaced; the file format allows deltas only`));
  });
});

describe('validateArrowIpc: files', () => {
  const batch = { bytes: batchA(), kind: 'batch' } as const;
  const two = (blocks?: Parameters<typeof fileOf>[2]): Uint8Array => fileOf(schemaA, [batch, batch], blocks);

  it('accepts a file and refuses footers whose blocks repeat, go back, or miss their messages', () => {
    assert.equal(accepts(two()), 8);
    rejects(
      two((_, batches) => batches.push(batches[0]!)),
      /record batch block 2 \(byte 8\) does not follow block 1/,
    );
    rejects(
      two((_, batches) => batches.reverse()),
      /does not follow block 0/,
    );
    rejects(
      two((_, batches) => (batches[1]!.offset += 8)),
      /points at byte \d+, where no message starts/,
    );
    rejects(
      two((_, batches) => (batches[1]!.bodyLength = 8)),
      /gives lengths \d+\+8/,
    );
    rejects(
      two((dictionaries, batches) => dictionaries.push(batches.pop()!)),
      /dictionary block 0 points at a RecordBatch message/,
    );
    const tenThousand = fileOf(schemaA, [batch], (_, batches) => batches.push(...Array.from({ length: 10_000 }, () => batches[0]!)));
    rejects(tenThousand, /block 1 \(byte 8\) does not follow block 0/);
  });

  it('refuses bytes out of place: before the footer, after the magic, and a footer length that does not fit', () => {
    const file = two();
    const footerAt = file.length - 10 - new DataView(file.buffer).getInt32(file.length - 10, true);
    rejects(concat(file.subarray(0, footerAt), new Uint8Array(8), file.subarray(footerAt)), /8 bytes lie between the end-of-stream marker and the footer/);
    rejects(concat(file, new Uint8Array([0])), /does not end with the "ARROW1" magic/);
    rejects(patch(file, 'footer length', file.length), /footer length \d+ does not fit/);
    rejects(file.subarray(0, 12), /too short/);
  });

  it('refuses a schema message that differs from the footer schema', () => {
    const other = { bytes: schemaMessage(schemaOf({ a: new arrow.Float64() })), kind: 'schema' } as const;
    rejects(fileOf(schemaA, [other, batch]), /the schema message differs from the footer schema/);
    assert.equal(accepts(fileOf(schemaA, [{ bytes: schemaMessage(schemaA), kind: 'schema' }, batch])), 4);
  });
});
