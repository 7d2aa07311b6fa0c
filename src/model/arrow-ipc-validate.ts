// Structural validation of Arrow IPC bytes (stream and file formats) before apache-arrow reads them, in time
// that grows with the bytes and never with the lengths they declare: message framing, every metadata
// flatbuffer, the schema, and each batch's nodes and buffers against its types (Arrow C++'s Validate is the
// model). apache-arrow trusts all of these; what passes here it reads without any per-row loop of its own.

import { MalformedArrowError } from '../errors.js';
import { DEFAULT_FLATBUFFER_LIMITS, Flatbuffer, FlatbufferError, type FlatbufferLimits, type FlatTable, type FlatVector } from './arrow-flatbuffer-verify.js';

export const ARROW_IPC_LIMITS = {
  /** Deepest nesting of fields (Arrow C++'s IPC reader: 64). */
  maxNestingDepth: 64,
  /** Most fields in a schema, nested ones and dictionary value types included. */
  maxFields: 10_000,
  /** Most rows one array may declare (what a JS typed array and Arrow's 32-bit offsets can address). */
  maxLength: 2 ** 31 - 1,
  /**
   * Rows that no buffer holds (batches of only Null columns, or of no columns) cost no bytes to declare but
   * work to ingest, so their running total over one input is capped: this many, plus `unbackedRowsPerByte`
   * for each byte of the input (a bool column holds 8 rows a byte, so real data never comes close).
   */
  unbackedRowsBase: 65_536,
  unbackedRowsPerByte: 8,
  /**
   * A delta dictionary batch makes apache-arrow join the dictionary's chunks again (work that grows with the
   * chunks so far), so a stream of many small deltas costs the square of their number while its bytes grow
   * linearly. The chunks joined, summed over all deltas of one input, are capped: this many (about a quarter
   * of a second of apache-arrow's work; some 700 deltas to one dictionary), plus one for each
   * `deltaWorkBytesPer` bytes of the input.
   */
  deltaWorkBase: 262_144,
  deltaWorkBytesPer: 64,
} as const;

export interface ArrowIpcSummary {
  readonly format: 'stream' | 'file';
  /** Messages read, the schema included (for a file: those between the magic and the footer). */
  readonly messages: number;
  /** Dictionary and record batches apache-arrow will load. */
  readonly dictionaryBatches: number;
  readonly recordBatches: number;
  /** Rows of all record batches apache-arrow will load. */
  readonly rows: number;
}

/** Tables nest a few levels deeper than fields: message, schema, then a field's type and dictionary encoding. */
const FLATBUFFER_LIMITS: FlatbufferLimits = { maxDepth: ARROW_IPC_LIMITS.maxNestingDepth + 8, maxTables: DEFAULT_FLATBUFFER_LIMITS.maxTables };

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const CONTINUATION = -1;

const enumNames = {
  header: ['NONE', 'Schema', 'DictionaryBatch', 'RecordBatch', 'Tensor', 'SparseTensor'],
  type: [
    'NONE',
    'Null',
    'Int',
    'FloatingPoint',
    'Binary',
    'Utf8',
    'Bool',
    'Decimal',
    'Date',
    'Time',
    'Timestamp',
    'Interval',
    'List',
    'Struct',
    'Union',
    'FixedSizeBinary',
    'FixedSizeList',
    'Map',
    'Duration',
    'LargeBinary',
    'LargeUtf8',
    'LargeList',
    'RunEndEncoded',
    'BinaryView',
    'Utf8View',
    'ListView',
    'LargeListView',
  ],
} as const;

const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;
const METADATA_V4 = 3;
const METADATA_V5 = 4;

/** How a field's array is laid out in a batch: which buffers it has and what they must hold. */
type Layout =
  | { readonly kind: 'null' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'fixed'; readonly width: number }
  | { readonly kind: 'binary'; readonly offsetWidth: 4 | 8 }
  | { readonly kind: 'view' }
  | { readonly kind: 'list'; readonly offsetWidth: 4 | 8 }
  | { readonly kind: 'fixedSizeList'; readonly size: number }
  | { readonly kind: 'struct' }
  | { readonly kind: 'union'; readonly dense: boolean; readonly typeIds: readonly number[] }
  | { readonly kind: 'dictionary'; readonly id: number; readonly indexWidth: number };

interface FieldInfo {
  /** For messages: the field's path, names shortened. */
  readonly path: string;
  readonly typeName: string;
  readonly layout: Layout;
  /** The arrays a batch holds below this one (none for a dictionary-encoded field: its values are the dictionary's). */
  readonly children: readonly FieldInfo[];
  /** Type and nesting, to compare two schemas. */
  readonly signature: string;
}

interface SchemaInfo {
  readonly fields: readonly FieldInfo[];
  /** Dictionary id → the type of its values. */
  readonly dictionaries: ReadonlyMap<number, FieldInfo>;
  /** Dictionary ids the record batches' fields use. */
  readonly batchDictionaryIds: readonly number[];
  readonly signature: string;
  /** Metadata version of the schema; every batch must share it (it decides whether unions have a validity bitmap). */
  readonly version: number;
}

interface Location {
  readonly messageIndex: number | null;
  readonly byteOffset: number | null;
}

/** Where a message sits: its prefix, its metadata flatbuffer and its body. */
interface Framed {
  readonly index: number;
  readonly offset: number;
  /** Prefix (continuation marker and length, or the length alone) plus metadata: a file block's metaDataLength. */
  readonly metadataLength: number;
  readonly bodyStart: number;
  readonly bodyLength: number;
  readonly headerType: number;
  readonly version: number;
  readonly header: FlatTable;
}

/** Running state of one validation: the input, the unbacked-rows budget, and where it is. */
class Validation {
  readonly view: DataView;
  unbackedRows = 0;
  readonly unbackedLimit: number;
  /** Chunks of each dictionary (one, plus one per delta), and the chunks joined by all deltas so far. */
  readonly dictionaryChunks = new Map<number, number>();
  deltaWork = 0;
  readonly deltaWorkLimit: number;
  where: Location = { messageIndex: null, byteOffset: null };

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.unbackedLimit = ARROW_IPC_LIMITS.unbackedRowsBase + ARROW_IPC_LIMITS.unbackedRowsPerByte * bytes.length;
    this.deltaWorkLimit = ARROW_IPC_LIMITS.deltaWorkBase + Math.floor(bytes.length / ARROW_IPC_LIMITS.deltaWorkBytesPer);
  }

  /** Counts what a dictionary batch with this id costs apache-arrow: a delta joins every chunk so far. */
  addDictionary(id: number, isDelta: boolean): void {
    const chunks = isDelta ? (this.dictionaryChunks.get(id) ?? 0) + 1 : 1;
    this.dictionaryChunks.set(id, chunks);
    if (!isDelta) return;
    this.deltaWork += chunks;
    if (this.deltaWork > this.deltaWorkLimit) {
      this.fail(
        `dictionary ${id} has grown to ${chunks} chunks by delta batches; joining them costs ${this.deltaWork} chunk copies in all, over the limit of ${this.deltaWorkLimit} for ${this.bytes.length} bytes (send fewer, larger deltas)`,
      );
    }
  }

  fail(reason: string, byteOffset: number | null = this.where.byteOffset): never {
    const { messageIndex } = this.where;
    const place =
      messageIndex === null
        ? byteOffset === null
          ? ''
          : ` at byte ${byteOffset}`
        : ` message ${messageIndex}${byteOffset === null ? '' : ` (byte ${byteOffset})`}`;
    throw new MalformedArrowError(`Arrow IPC${place}: ${reason}`, { messageIndex, byteOffset });
  }

  /** Runs `read`, turning the structural errors of the flatbuffers it reads into this input's error. */
  guard<T>(what: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (error instanceof FlatbufferError) this.fail(`${what} flatbuffer: ${error.message}`, error.position);
      throw error;
    }
  }

  /** Verifies the flatbuffer in bytes [start, end) and runs `read` on its root table. */
  flatbuffer<T>(what: string, start: number, end: number, read: (root: FlatTable) => T): T {
    return this.guard(what, () => read(new Flatbuffer(this.bytes, start, end, FLATBUFFER_LIMITS).root()));
  }

  addUnbacked(rows: number, what: string): void {
    this.unbackedRows += rows;
    if (this.unbackedRows > this.unbackedLimit) {
      this.fail(
        `${what} brings the rows that no buffer holds (Null columns, or no columns) to ${this.unbackedRows}, over the limit of ${this.unbackedLimit} for ${this.bytes.length} bytes`,
      );
    }
  }
}

/**
 * Checks that `bytes` are one complete Arrow IPC stream or file (a file starts with "ARROW1") that
 * apache-arrow can read without trusting any declared length, and nothing after it. Throws
 * MalformedArrowError saying what is wrong and where; returns what apache-arrow will find.
 */
export function validateArrowIpc(bytes: Uint8Array): ArrowIpcSummary {
  const validation = new Validation(bytes);
  if (bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b)) return validateFile(validation);
  return validateStream(validation);
}

function validateStream(v: Validation): ArrowIpcSummary {
  const { bytes } = v;
  if (bytes.length === 0) v.fail('the input is empty; expected an Arrow IPC stream or file');
  const dictionaries = new Set<number>();
  let schema: SchemaInfo | null = null;
  let position = 0;
  let index = 0;
  let recordBatches = 0;
  let dictionaryBatches = 0;
  let rows = 0;
  while (position < bytes.length) {
    v.where = { messageIndex: index, byteOffset: position };
    const framed = readMessage(v, position, bytes.length, index);
    if (framed === null) {
      const end = position + eosLength(v, position);
      if (schema === null) v.fail('the stream ends before its schema message');
      if (end < bytes.length) v.fail(`${bytes.length - end} bytes follow the end-of-stream marker; a body must hold one stream and nothing after it`, end);
      break;
    }
    if (index === 0) {
      if (framed.headerType !== HEADER_SCHEMA) v.fail(`the stream starts with a ${headerName(framed.headerType)} message; expected a Schema`);
      schema = readSchemaMessage(v, framed);
    } else if (framed.headerType === HEADER_SCHEMA) {
      v.fail('a second Schema message; a stream holds one schema, first');
    } else if (framed.headerType === HEADER_DICTIONARY_BATCH) {
      applyDictionary(v, framed, schema!, dictionaries, 'stream');
      dictionaryBatches++;
    } else {
      requireDictionaries(v, schema!.batchDictionaryIds, dictionaries);
      rows += checkRecordBatchMessage(v, framed, schema!);
      recordBatches++;
    }
    position = framed.bodyStart + framed.bodyLength;
    index++;
  }
  return { format: 'stream', messages: index, dictionaryBatches, recordBatches, rows };
}

/**
 * Checks a dictionary batch and its place among the others: dictionaries its values use come first, a delta
 * needs a dictionary to extend, and a file replaces none.
 */
function applyDictionary(v: Validation, framed: Framed, schema: SchemaInfo, seen: Set<number>, format: 'stream' | 'file'): void {
  const id = checkDictionaryBatch(v, framed, schema);
  requireDictionaries(v, nestedDictionaryIds(schema.dictionaries.get(id)!), seen, `dictionary ${id}`);
  const isDelta = v.guard('dictionary batch', () => framed.header.bool(2, false));
  if (isDelta && !seen.has(id)) v.fail(`dictionary ${id} is sent as a delta before any dictionary with that id`);
  if (!isDelta && seen.has(id) && format === 'file') v.fail(`dictionary ${id} is replaced; the file format allows deltas only`);
  v.addDictionary(id, isDelta);
  seen.add(id);
}

function requireDictionaries(v: Validation, ids: readonly number[], seen: ReadonlySet<number>, user = 'a record batch'): void {
  for (const id of ids) if (!seen.has(id)) v.fail(`${user} uses dictionary ${id} before any dictionary batch with that id`);
}

function validateFile(v: Validation): ArrowIpcSummary {
  const { bytes } = v;
  const n = bytes.length;
  // "ARROW1", 2 bytes of padding, messages, footer, footer length (int32), "ARROW1".
  if (n < 8 + 4 + MAGIC.length) v.fail(`a file of ${n} bytes is too short to hold the magic, a footer and its length`, 0);
  if (!MAGIC.every((b, i) => bytes[n - MAGIC.length + i] === b))
    v.fail('the file does not end with the "ARROW1" magic (truncated, or bytes after it)', n - MAGIC.length);
  const footerLength = v.view.getInt32(n - 10, true);
  const footerStart = n - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) v.fail(`the footer length ${footerLength} does not fit the file's ${n} bytes`, n - 10);

  const messages = new Map<number, Framed>();
  let streamSchema: SchemaInfo | null = null;
  let position = 8;
  let index = 0;
  while (position < footerStart) {
    v.where = { messageIndex: index, byteOffset: position };
    const framed = readMessage(v, position, footerStart, index);
    if (framed === null) {
      const end = position + eosLength(v, position);
      if (end !== footerStart) v.fail(`${footerStart - end} bytes lie between the end-of-stream marker and the footer`, end);
      break;
    }
    if (framed.headerType === HEADER_SCHEMA) {
      if (index !== 0) v.fail('a Schema message after the first message');
      streamSchema = readSchemaMessage(v, framed);
    }
    messages.set(position, framed);
    position = framed.bodyStart + framed.bodyLength;
    index++;
  }

  v.where = { messageIndex: null, byteOffset: footerStart };
  const footer = v.flatbuffer('footer', footerStart, footerStart + footerLength, (root) => {
    const version = root.int16(0, 0);
    if (version !== METADATA_V4 && version !== METADATA_V5) v.fail(`footer metadata version ${version} is not V4 or V5`);
    const schemaTable = root.table(1);
    if (schemaTable === null) v.fail('the footer has no schema');
    verifyKeyValues(root, 4);
    return { schema: readSchema(v, schemaTable, version), dictionaries: root.vector(2, 24, 8), recordBatches: root.vector(3, 24, 8) };
  });
  const schema = footer.schema;
  if (streamSchema !== null && streamSchema.signature !== schema.signature) v.fail('the schema message differs from the footer schema');

  // Every block must name a message read above, each once and in order, so no batch is read twice.
  const blocks = (vector: FlatVector | null, headerType: number, what: string): Framed[] => {
    if (vector === null) return [];
    const found: Framed[] = [];
    let previous = -1;
    for (let i = 0; i < vector.length; i++) {
      const at = vector.position + 24 * i;
      const offset = Number(v.view.getBigInt64(at, true));
      const metadataLength = v.view.getInt32(at + 8, true);
      const bodyLength = v.view.getBigInt64(at + 16, true);
      const framed = messages.get(offset);
      if (framed === undefined) v.fail(`footer ${what} block ${i} points at byte ${offset}, where no message starts`, at);
      if (offset <= previous)
        v.fail(`footer ${what} block ${i} (byte ${offset}) does not follow block ${i - 1} (byte ${previous}); blocks must be distinct and in file order`, at);
      if (framed.headerType !== headerType) v.fail(`footer ${what} block ${i} points at a ${headerName(framed.headerType)} message`, at);
      if (metadataLength !== framed.metadataLength || bodyLength !== BigInt(framed.bodyLength)) {
        v.fail(
          `footer ${what} block ${i} gives lengths ${metadataLength}+${bodyLength}, the message at byte ${offset} has ${framed.metadataLength}+${framed.bodyLength}`,
          at,
        );
      }
      previous = offset;
      found.push(framed);
    }
    return found;
  };
  const dictionaryBlocks = blocks(footer.dictionaries, HEADER_DICTIONARY_BATCH, 'dictionary');
  const batchBlocks = blocks(footer.recordBatches, HEADER_RECORD_BATCH, 'record batch');

  const dictionaries = new Set<number>();
  for (const framed of dictionaryBlocks) {
    v.where = { messageIndex: framed.index, byteOffset: framed.offset };
    applyDictionary(v, framed, schema, dictionaries, 'file');
  }
  let rows = 0;
  for (const framed of batchBlocks) {
    v.where = { messageIndex: framed.index, byteOffset: framed.offset };
    requireDictionaries(v, schema.batchDictionaryIds, dictionaries);
    rows += checkRecordBatchMessage(v, framed, schema);
  }
  return { format: 'file', messages: index, dictionaryBatches: dictionaryBlocks.length, recordBatches: batchBlocks.length, rows };
}

function headerName(type: number): string {
  return enumNames.header[type] ?? `unknown (${type})`;
}

/** Length of the end-of-stream marker at `position`: continuation and zero, or (before 0.15) a zero alone. */
function eosLength(v: Validation, position: number): number {
  return v.view.getInt32(position, true) === CONTINUATION ? 8 : 4;
}

/**
 * The message at `position` (bounded by `end`), its metadata flatbuffer verified and its body in bounds, or
 * null for an end-of-stream marker.
 */
function readMessage(v: Validation, position: number, end: number, index: number): Framed | null {
  if (position + 4 > end) v.fail(`${end - position} bytes where a message length (4 bytes) should be`);
  let prefix = 4;
  let length = v.view.getInt32(position, true);
  if (length === CONTINUATION) {
    if (position + 8 > end) v.fail('the stream ends inside a message prefix');
    prefix = 8;
    length = v.view.getInt32(position + 4, true);
  }
  if (length === 0) return null;
  if (length < 0) v.fail(`metadata length ${length} is negative`);
  const metadataStart = position + prefix;
  if (metadataStart + length > end) v.fail(`metadata of ${length} bytes runs past the end (${end - metadataStart} bytes remain)`);
  const { version, headerType, header, bodyLength } = v.flatbuffer('metadata', metadataStart, metadataStart + length, (root) => {
    const version = root.int16(0, 0);
    if (version !== METADATA_V4 && version !== METADATA_V5) v.fail(`metadata version ${version} is not supported (V4 or V5 only)`);
    const headerType = root.uint8(1, 0);
    if (headerType !== HEADER_SCHEMA && headerType !== HEADER_DICTIONARY_BATCH && headerType !== HEADER_RECORD_BATCH) {
      v.fail(`a ${headerName(headerType)} message; only Schema, DictionaryBatch and RecordBatch are read`);
    }
    const header = root.table(2);
    if (header === null) v.fail(`the ${headerName(headerType)} message has no header`);
    verifyKeyValues(root, 4);
    return { version, headerType, header, bodyLength: root.int64(3, 0n) };
  });
  const bodyStart = metadataStart + length;
  if (bodyLength < 0n || bodyLength > BigInt(end - bodyStart)) v.fail(`body length ${bodyLength} runs past the end (${end - bodyStart} bytes remain)`);
  // apache-arrow does not read a schema's body: bytes there would be taken for the next message.
  if (headerType === HEADER_SCHEMA && bodyLength !== 0n) v.fail(`a Schema message with a body of ${bodyLength} bytes`);
  return { index, offset: position, metadataLength: prefix + length, bodyStart, bodyLength: Number(bodyLength), headerType, version, header };
}

function readSchemaMessage(v: Validation, framed: Framed): SchemaInfo {
  return v.guard('schema', () => readSchema(v, framed.header, framed.version));
}

/** A vector of KeyValue tables (custom metadata): every key and value must be a string in bounds. */
function verifyKeyValues(table: FlatTable, index: number): void {
  for (const entry of table.tables(index, Number.MAX_SAFE_INTEGER) ?? []) {
    entry.string(0);
    entry.string(1);
  }
}

const decoder = new TextDecoder('utf-8');
const NAME_SHOWN = 40;

function shownName(table: FlatTable): string {
  const name = table.string(0);
  if (name === null) return '?';
  const bytes = table.buffer.bytes.subarray(name.position, name.position + Math.min(name.length, NAME_SHOWN));
  return decoder.decode(bytes) + (name.length > NAME_SHOWN ? '...' : '');
}

/** Reads a Schema table into the layouts the batches are checked against. */
function readSchema(v: Validation, schema: FlatTable, version: number): SchemaInfo {
  if (schema.int16(0, 0) !== 0) v.fail('the schema is big-endian; only little-endian data is read');
  verifyKeyValues(schema, 2);
  schema.vector(3, 8, 8);
  const dictionaries = new Map<number, FieldInfo>();
  const batchDictionaryIds: number[] = [];
  let fieldCount = 0;

  const readField = (field: FlatTable, depth: number, parent: string, inDictionary: boolean): FieldInfo => {
    if (++fieldCount > ARROW_IPC_LIMITS.maxFields) v.fail(`the schema has more than ${ARROW_IPC_LIMITS.maxFields} fields`);
    if (depth > ARROW_IPC_LIMITS.maxNestingDepth) v.fail(`fields nest deeper than ${ARROW_IPC_LIMITS.maxNestingDepth}`);
    const path = parent === '' ? `'${shownName(field)}'` : `${parent.slice(0, -1)}.${shownName(field)}'`;
    verifyKeyValues(field, 6);
    const childTables = field.tables(5, ARROW_IPC_LIMITS.maxFields) ?? [];
    const encoding = field.table(4);
    const children = childTables.map((child) => readField(child, depth + 1, path, inDictionary || encoding !== null));
    const value = readType(v, field, path, children);
    if (encoding === null) return value;

    const id = encoding.int64(0, 0n);
    if (id < BigInt(Number.MIN_SAFE_INTEGER) || id > BigInt(Number.MAX_SAFE_INTEGER)) v.fail(`field ${path}: dictionary id ${id} is out of range`);
    const indexType = encoding.table(1);
    const bitWidth = indexType === null ? 32 : indexType.int32(0, 0);
    if (indexType !== null) indexType.bool(1, false);
    if (![8, 16, 32, 64].includes(bitWidth)) v.fail(`field ${path}: dictionary index width ${bitWidth} is not 8, 16, 32 or 64`);
    encoding.bool(2, false);
    if (encoding.int16(3, 0) !== 0) v.fail(`field ${path}: dictionary kind ${encoding.int16(3, 0)} is not DenseArray`);
    const key = Number(id);
    if (dictionaries.has(key)) v.fail(`field ${path}: dictionary id ${key} is used by two fields`);
    dictionaries.set(key, value);
    if (!inDictionary) batchDictionaryIds.push(key);
    const indexName = `Int${bitWidth}`;
    return {
      path,
      typeName: `Dictionary<${indexName}, ${value.typeName}>`,
      layout: { kind: 'dictionary', id: key, indexWidth: bitWidth / 8 },
      children: [],
      signature: `dict(${key},${indexName},${value.signature})`,
    };
  };

  const fields = (schema.tables(1, ARROW_IPC_LIMITS.maxFields) ?? []).map((field) => readField(field, 1, '', false));
  return { fields, dictionaries, batchDictionaryIds, signature: fields.map((f) => f.signature).join(','), version };
}

const LEAF_WIDTHS = {
  floatingPoint: [2, 4, 8],
  date: [4, 8],
  interval: [4, 8, 16],
} as const;

/** A field's own type (not its dictionary encoding): the layout and the children a batch holds for it. */
function readType(v: Validation, field: FlatTable, path: string, children: readonly FieldInfo[]): FieldInfo {
  const typeId = field.uint8(2, 0);
  const typeName = enumNames.type[typeId];
  if (typeName === undefined || typeId === 0) v.fail(`field ${path} has an unknown type id ${typeId}`);
  const table = field.table(3);
  const params = (): FlatTable => table ?? v.fail(`field ${path}: a ${typeName} type without its parameters`);
  const arity = (expected: number): void => {
    if (children.length !== expected) v.fail(`field ${path}: a ${typeName} has ${children.length} children, expected ${expected}`);
  };
  const info = (layout: Layout, name: string, signature = name): FieldInfo => ({
    path,
    typeName: name,
    layout,
    children,
    signature: children.length === 0 ? signature : `${signature}<${children.map((c) => c.signature).join(',')}>`,
  });
  const fixed = (width: number, name: string): FieldInfo => {
    arity(0);
    return info({ kind: 'fixed', width }, name);
  };
  const unit = (value: number, max: number, what = 'unit'): number => {
    if (value < 0 || value > max) v.fail(`field ${path}: ${typeName} ${what} ${value} is unknown`);
    return value;
  };
  switch (typeName) {
    case 'Null':
      arity(0);
      return info({ kind: 'null' }, 'Null');
    case 'Bool':
      arity(0);
      return info({ kind: 'bool' }, 'Bool');
    case 'Int': {
      const t = params();
      const bitWidth = t.int32(0, 0);
      const signed = t.bool(1, false);
      if (![8, 16, 32, 64].includes(bitWidth)) v.fail(`field ${path}: Int width ${bitWidth} is not 8, 16, 32 or 64`);
      return fixed(bitWidth / 8, `${signed ? 'Int' : 'Uint'}${bitWidth}`);
    }
    case 'FloatingPoint': {
      const precision = unit(params().int16(0, 0), 2, 'precision');
      return fixed(LEAF_WIDTHS.floatingPoint[precision]!, `Float${LEAF_WIDTHS.floatingPoint[precision]! * 8}`);
    }
    case 'Decimal': {
      const t = params();
      const bitWidth = t.int32(2, 128);
      if (![32, 64, 128, 256].includes(bitWidth)) v.fail(`field ${path}: Decimal width ${bitWidth} is not 32, 64, 128 or 256`);
      return fixed(bitWidth / 8, `Decimal${bitWidth}(${t.int32(0, 0)}, ${t.int32(1, 0)})`);
    }
    case 'Date': {
      const u = unit(params().int16(0, 1), 1);
      return fixed(LEAF_WIDTHS.date[u]!, u === 0 ? 'Date32' : 'Date64');
    }
    case 'Time': {
      const t = params();
      const u = unit(t.int16(0, 1), 3);
      const bitWidth = t.int32(1, 32);
      if (bitWidth !== (u <= 1 ? 32 : 64)) v.fail(`field ${path}: Time width ${bitWidth} does not match its unit`);
      return fixed(bitWidth / 8, `Time${bitWidth}(${u})`);
    }
    case 'Timestamp': {
      const t = params();
      const u = unit(t.int16(0, 0), 3);
      t.string(1);
      return fixed(8, `Timestamp(${u})`);
    }
    case 'Duration':
      return fixed(8, `Duration(${unit(params().int16(0, 1), 3)})`);
    case 'Interval': {
      const u = unit(params().int16(0, 0), 2);
      return fixed(LEAF_WIDTHS.interval[u]!, `Interval(${u})`);
    }
    case 'FixedSizeBinary': {
      const width = params().int32(0, 0);
      if (width < 0) v.fail(`field ${path}: FixedSizeBinary width ${width} is negative`);
      return fixed(width, `FixedSizeBinary(${width})`);
    }
    case 'Binary':
    case 'Utf8':
      arity(0);
      return info({ kind: 'binary', offsetWidth: 4 }, typeName);
    case 'LargeBinary':
    case 'LargeUtf8':
      arity(0);
      return info({ kind: 'binary', offsetWidth: 8 }, typeName);
    case 'BinaryView':
    case 'Utf8View':
      arity(0);
      return info({ kind: 'view' }, typeName);
    case 'List':
    case 'LargeList':
      arity(1);
      return info({ kind: 'list', offsetWidth: typeName === 'List' ? 4 : 8 }, typeName);
    case 'Map': {
      arity(1);
      params().bool(0, false);
      const entries = children[0]!;
      if (entries.layout.kind !== 'struct' || entries.children.length !== 2) v.fail(`field ${path}: a Map's child must be a struct of key and value`);
      return info({ kind: 'list', offsetWidth: 4 }, 'Map');
    }
    case 'FixedSizeList': {
      arity(1);
      const size = params().int32(0, 0);
      if (size < 0) v.fail(`field ${path}: FixedSizeList size ${size} is negative`);
      return info({ kind: 'fixedSizeList', size }, `FixedSizeList(${size})`);
    }
    case 'Struct':
      return info({ kind: 'struct' }, 'Struct');
    case 'Union': {
      const t = params();
      const mode = t.int16(0, 0);
      if (mode !== 0 && mode !== 1) v.fail(`field ${path}: Union mode ${mode} is unknown`);
      const ids = t.vector(1, 4, 4);
      const typeIds: number[] = [];
      for (let i = 0; i < (ids?.length ?? 0); i++) typeIds.push(t.buffer.view.getInt32(ids!.position + 4 * i, true));
      if (typeIds.length !== children.length) v.fail(`field ${path}: a Union of ${children.length} children lists ${typeIds.length} type ids`);
      if (typeIds.some((id, i) => id < 0 || id > 127 || typeIds.indexOf(id) !== i)) v.fail(`field ${path}: Union type ids must be distinct, from 0 to 127`);
      return info(
        { kind: 'union', dense: mode === 1, typeIds },
        `${mode === 1 ? 'Dense' : 'Sparse'}Union`,
        `${mode === 1 ? 'Dense' : 'Sparse'}Union[${typeIds.join(',')}]`,
      );
    }
    default:
      return v.fail(`field ${path}: type ${typeName} is not supported`);
  }
}

function checkDictionaryBatch(v: Validation, framed: Framed, schema: SchemaInfo): number {
  return v.guard('dictionary batch', () => {
    const header = framed.header;
    const rawId = header.int64(0, 0n);
    const id = Number(rawId);
    const value = schema.dictionaries.get(id);
    if (value === undefined || BigInt(id) !== rawId) v.fail(`dictionary batch for id ${rawId}, which no schema field uses`);
    header.bool(2, false);
    const data = header.table(1);
    if (data === null) v.fail(`dictionary batch ${id} has no data`);
    checkBatch(v, data, framed, [value], schema, `dictionary ${id}`);
    return id;
  });
}

/** Dictionary ids used inside a dictionary's value type. */
function nestedDictionaryIds(field: FieldInfo): number[] {
  const ids: number[] = [];
  const walk = (f: FieldInfo): void => {
    if (f.layout.kind === 'dictionary') ids.push(f.layout.id);
    f.children.forEach(walk);
  };
  field.children.forEach(walk);
  return ids;
}

function checkRecordBatchMessage(v: Validation, framed: Framed, schema: SchemaInfo): number {
  return v.guard('record batch', () => checkBatch(v, framed.header, framed, schema.fields, schema, 'record batch'));
}

/** Reads an int64 that must be a count or offset: a number from 0 to 2^53 - 1. */
function nonNegative(v: Validation, value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) v.fail(`${what} ${value} is out of range`);
  return Number(value);
}

/**
 * Checks one RecordBatch table (of a record or dictionary batch) against `fields`: node and buffer counts,
 * every node's length and null count, every buffer inside the body, aligned, in order, not overlapping, and
 * large enough for its node, and the offsets, views and type ids that point elsewhere. Returns its length.
 */
function checkBatch(v: Validation, batch: FlatTable, framed: Framed, fields: readonly FieldInfo[], schema: SchemaInfo, what: string): number {
  const { version } = schema;
  if (framed.version !== version) v.fail(`${what} has metadata version ${framed.version}, its schema ${version}`);
  const length = nonNegative(v, batch.int64(0, 0n), `${what} length`);
  if (length > ARROW_IPC_LIMITS.maxLength) v.fail(`${what} declares ${length} rows, more than ${ARROW_IPC_LIMITS.maxLength}`);
  if (batch.table(3) !== null) v.fail(`${what} is compressed; compressed Arrow IPC bodies are not supported`);
  const nodes = batch.vector(1, 16, 8) ?? { position: 0, length: 0 };
  const buffers = batch.vector(2, 16, 8) ?? { position: 0, length: 0 };
  const variadic = batch.vector(4, 8, 8) ?? { position: 0, length: 0 };

  let expectedNodes = 0;
  let viewNodes = 0;
  let fixedBuffers = 0;
  const count = (field: FieldInfo): void => {
    expectedNodes++;
    fixedBuffers += bufferCount(field.layout, version);
    if (field.layout.kind === 'view') viewNodes++;
    field.children.forEach(count);
  };
  fields.forEach(count);
  if (nodes.length !== expectedNodes) v.fail(`${what} has ${nodes.length} field nodes; its schema has ${expectedNodes}`);
  if (variadic.length !== viewNodes) v.fail(`${what} gives ${variadic.length} variadic buffer counts for ${viewNodes} view columns`);
  let variadicTotal = 0;
  for (let i = 0; i < variadic.length; i++)
    variadicTotal += nonNegative(v, v.view.getBigInt64(variadic.position + 8 * i, true), `${what} variadic buffer count`);
  if (buffers.length !== fixedBuffers + variadicTotal) v.fail(`${what} has ${buffers.length} buffers; its schema needs ${fixedBuffers + variadicTotal}`);

  const walk = new BatchWalk(v, framed, nodes, buffers, variadic, version, what);
  let backed = 0;
  for (const field of fields) {
    const node = walk.visit(field);
    if (node.length !== length) v.fail(`${what}: column ${field.path} has ${node.length} rows, the batch ${length}`);
    backed = Math.max(backed, node.backed);
  }
  if (backed < length) v.addUnbacked(length - backed, `${what} of ${length} rows`);
  return length;
}

/** Buffers a layout has in a batch, besides a view's variadic data buffers. */
function bufferCount(layout: Layout, version: number): number {
  switch (layout.kind) {
    case 'null':
      return 0;
    case 'struct':
    case 'fixedSizeList':
      return 1;
    case 'bool':
    case 'fixed':
    case 'view':
    case 'list':
    case 'dictionary':
      return 2;
    case 'binary':
      return 3;
    case 'union':
      return (layout.dense ? 2 : 1) + (version < METADATA_V5 ? 1 : 0);
  }
}

interface NodeResult {
  readonly length: number;
  /** Rows that some buffer of this array (or of a child it cannot be shorter than) must hold. */
  readonly backed: number;
}

interface BufferRange {
  /** Absolute position in the input. */
  readonly position: number;
  readonly size: number;
}

/** One pass over a batch's nodes and buffers in schema order (pre-order, as apache-arrow's loader takes them). */
class BatchWalk {
  private node = 0;
  private buffer = 0;
  private viewIndex = 0;
  private previousEnd = 0;
  private readonly view: DataView;

  constructor(
    private readonly v: Validation,
    private readonly framed: Framed,
    private readonly nodes: FlatVector,
    private readonly buffers: FlatVector,
    private readonly variadic: FlatVector,
    private readonly version: number,
    private readonly what: string,
  ) {
    this.view = v.view;
  }

  private fail(field: FieldInfo, reason: string): never {
    return this.v.fail(`${this.what}: column ${field.path} (${field.typeName}): ${reason}`);
  }

  /** The next buffer: inside the body, 8-byte aligned, and after the previous one. */
  private take(field: FieldInfo, role: string): BufferRange {
    const at = this.buffers.position + 16 * this.buffer;
    const index = this.buffer++;
    const offset = this.view.getBigInt64(at, true);
    const size = this.view.getBigInt64(at + 8, true);
    const bodyLength = BigInt(this.framed.bodyLength);
    if (offset < 0n || size < 0n || offset + size > bodyLength) {
      this.fail(field, `${role} buffer (buffer ${index}) spans bytes ${offset} to ${offset + size}, outside the body of ${bodyLength} bytes`);
    }
    const start = Number(offset);
    const bytes = Number(size);
    // Empty buffers hold nothing, so their offsets cannot overlap anything.
    if (bytes > 0) {
      if (start % 8 !== 0) this.fail(field, `${role} buffer (buffer ${index}) starts at body offset ${start}, not a multiple of 8`);
      if (start < this.previousEnd)
        this.fail(
          field,
          `${role} buffer (buffer ${index}) starts at body offset ${start}, inside or before the previous buffer (which ends at ${this.previousEnd}); buffers must be in order and not overlap`,
        );
      this.previousEnd = start + bytes;
    }
    return { position: this.framed.bodyStart + start, size: bytes };
  }

  private need(field: FieldInfo, buffer: BufferRange, role: string, bytes: number, rows: number): void {
    if (buffer.size < bytes) this.fail(field, `${role} buffer holds ${buffer.size} bytes; ${rows} rows need ${bytes}`);
  }

  /** The validity bitmap: absent (empty) only when nothing is null, else a bit per row. */
  private validity(field: FieldInfo, length: number, nullCount: number): BufferRange {
    const bitmap = this.take(field, 'validity');
    const needed = Math.ceil(length / 8);
    if (bitmap.size < needed && !(nullCount === 0 && bitmap.size === 0)) {
      this.fail(field, `validity buffer holds ${bitmap.size} bytes; ${length} rows with ${nullCount} nulls need ${needed}`);
    }
    return bitmap;
  }

  /**
   * Offsets: `length + 1` of them (none at all for an empty array), the first not negative, each not below
   * the one before. Returns the last, the extent of the data or child they index.
   */
  private offsets(field: FieldInfo, length: number, width: 4 | 8): number {
    const buffer = this.take(field, 'offsets');
    if (length === 0 && buffer.size === 0) return 0;
    this.need(field, buffer, 'offsets', (length + 1) * width, length);
    const read = width === 4 ? (i: number) => this.view.getInt32(buffer.position + 4 * i, true) : (i: number) => this.int64At(buffer.position + 8 * i);
    let previous = read(0);
    if (previous < 0) this.fail(field, `first offset ${previous} is negative`);
    for (let i = 1; i <= length; i++) {
      const offset = read(i);
      if (offset < previous) this.fail(field, `offset ${i} (${offset}) is less than offset ${i - 1} (${previous})`);
      previous = offset;
    }
    return previous;
  }

  /** An int64 as a number; past 2^53 it only needs to compare as too large, which it does. */
  private int64At(position: number): number {
    return this.view.getInt32(position + 4, true) * 2 ** 32 + this.view.getUint32(position, true);
  }

  private isNull(bitmap: BufferRange, nullCount: number, row: number): boolean {
    return nullCount > 0 && (this.view.getUint8(bitmap.position + (row >> 3)) & (1 << (row & 7))) === 0;
  }

  visit(field: FieldInfo): NodeResult {
    const at = this.nodes.position + 16 * this.node++;
    const length = nonNegative(this.v, this.view.getBigInt64(at, true), `${this.what}: column ${field.path} length`);
    if (length > ARROW_IPC_LIMITS.maxLength) this.fail(field, `declares ${length} rows, more than ${ARROW_IPC_LIMITS.maxLength}`);
    const { layout } = field;
    // Every row of a Null array is null whatever its node says (apache-arrow writes -1 there), but
    // apache-arrow still converts the count to a number, which throws past 2^53.
    if (layout.kind === 'null') {
      const nullCount = this.view.getBigInt64(at + 8, true);
      if (nullCount < BigInt(Number.MIN_SAFE_INTEGER) || nullCount > BigInt(Number.MAX_SAFE_INTEGER))
        this.fail(field, `null count ${nullCount} is out of range`);
      return { length, backed: 0 };
    }
    const nullCount = nonNegative(this.v, this.view.getBigInt64(at + 8, true), `${this.what}: column ${field.path} null count`);
    if (nullCount > length) this.fail(field, `null count ${nullCount} exceeds its ${length} rows`);
    switch (layout.kind) {
      case 'bool':
      case 'fixed':
      case 'dictionary': {
        const bitmap = this.validity(field, length, nullCount);
        const role = layout.kind === 'dictionary' ? 'indices' : 'data';
        const bytes = layout.kind === 'bool' ? Math.ceil(length / 8) : length * (layout.kind === 'fixed' ? layout.width : layout.indexWidth);
        this.need(field, this.take(field, role), role, bytes, length);
        // Only FixedSizeBinary(0) needs no data bytes.
        return { length, backed: bytes > 0 || bitmap.size > 0 ? length : 0 };
      }
      case 'binary': {
        this.validity(field, length, nullCount);
        const last = this.offsets(field, length, layout.offsetWidth);
        const data = this.take(field, 'data');
        if (data.size < last) this.fail(field, `data buffer holds ${data.size} bytes; the last offset is ${last}`);
        return { length, backed: length };
      }
      case 'view':
        return this.visitView(field, length, nullCount);
      case 'list': {
        this.validity(field, length, nullCount);
        const last = this.offsets(field, length, layout.offsetWidth);
        const child = this.visit(field.children[0]!);
        if (child.length < last) this.fail(field, `the last offset is ${last}, but the child has ${child.length} rows`);
        return { length, backed: length };
      }
      case 'fixedSizeList': {
        const bitmap = this.validity(field, length, nullCount);
        const child = this.visit(field.children[0]!);
        const needed = length * layout.size;
        if (child.length < needed) this.fail(field, `${length} lists of ${layout.size} need ${needed} child rows; the child has ${child.length}`);
        const backed = bitmap.size > 0 ? length : layout.size > 0 ? Math.min(length, Math.floor(child.backed / layout.size)) : 0;
        return { length, backed };
      }
      case 'struct': {
        const bitmap = this.validity(field, length, nullCount);
        let backed = bitmap.size > 0 ? length : 0;
        for (const childField of field.children) {
          const child = this.visit(childField);
          if (child.length < length) this.fail(field, `child ${childField.path} has ${child.length} rows, fewer than the struct's ${length}`);
          backed = Math.max(backed, Math.min(length, child.backed));
        }
        return { length, backed };
      }
      case 'union':
        return this.visitUnion(field, layout, length, nullCount);
    }
  }

  private visitView(field: FieldInfo, length: number, nullCount: number): NodeResult {
    const bitmap = this.validity(field, length, nullCount);
    const views = this.take(field, 'views');
    this.need(field, views, 'views', length * 16, length);
    const count = Number(this.view.getBigInt64(this.variadic.position + 8 * this.viewIndex++, true));
    const data: BufferRange[] = [];
    for (let i = 0; i < count; i++) data.push(this.take(field, `variadic data ${i}`));
    for (let row = 0; row < length; row++) {
      if (this.isNull(bitmap, nullCount, row)) continue;
      const at = views.position + 16 * row;
      const size = this.view.getInt32(at, true);
      if (size < 0) this.fail(field, `view ${row} has a negative length ${size}`);
      if (size <= 12) continue;
      const index = this.view.getInt32(at + 8, true);
      const offset = this.view.getInt32(at + 12, true);
      const target = data[index];
      if (target === undefined) this.fail(field, `view ${row} names data buffer ${index} of ${count}`);
      if (offset < 0 || offset + size > target.size)
        this.fail(field, `view ${row} spans bytes ${offset} to ${offset + size} of a ${target.size}-byte data buffer`);
    }
    return { length, backed: length };
  }

  private visitUnion(field: FieldInfo, layout: Extract<Layout, { kind: 'union' }>, length: number, nullCount: number): NodeResult {
    if (this.version < METADATA_V5) this.validity(field, length, nullCount);
    else if (nullCount !== 0) this.fail(field, `a union has no validity bitmap, so its null count must be 0, not ${nullCount}`);
    const typeIds = this.take(field, 'type ids');
    this.need(field, typeIds, 'type ids', length, length);
    const offsets = layout.dense ? this.take(field, 'offsets') : null;
    if (offsets !== null) this.need(field, offsets, 'offsets', length * 4, length);
    const childLengths = field.children.map((child) => this.visit(child).length);
    if (offsets === null) {
      childLengths.forEach((childLength, i) => {
        if (childLength < length) this.fail(field, `child ${field.children[i]!.path} has ${childLength} rows, fewer than the union's ${length}`);
      });
    }
    const childOf = new Int16Array(128).fill(-1);
    layout.typeIds.forEach((id, i) => (childOf[id] = i));
    for (let row = 0; row < length; row++) {
      const typeId = this.view.getInt8(typeIds.position + row);
      const child = typeId < 0 ? -1 : childOf[typeId]!;
      if (child < 0) this.fail(field, `row ${row} has type id ${typeId}, not one of ${layout.typeIds.join(', ') || '(none)'}`);
      if (offsets === null) continue;
      const childLength = childLengths[child]!;
      const offset = this.view.getInt32(offsets.position + 4 * row, true);
      if (offset < 0 || offset >= childLength)
        this.fail(field, `row ${row} points at row ${offset} of child ${field.children[child]!.path}, which has ${childLength}`);
    }
    return { length, backed: length };
  }
}
