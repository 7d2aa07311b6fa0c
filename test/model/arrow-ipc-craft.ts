// Arrow IPC bytes built message by message for the validator and fuzz tests: apache-arrow's own metadata
// encoders write the flatbuffers, with whatever lengths, counts and offsets a hostile client could send;
// and the positions of those fields inside real streams and files, so that mutations can aim at them.

import * as arrow from 'apache-arrow';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import {
  BufferRegion,
  DictionaryBatch as DictionaryBatchHeader,
  FieldNode,
  Message,
  RecordBatch as RecordBatchHeader,
} from 'apache-arrow/ipc/metadata/message';
import { Flatbuffer, type FlatTable } from '../../src/model/arrow-flatbuffer-verify.js';

export const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const MAGIC = new TextEncoder().encode('ARROW1');

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** One encapsulated message: continuation marker, metadata length (padded so the body is 8-aligned), metadata, body. */
export function frameMessage(metadata: Uint8Array, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const metadataLength = pad8(8 + metadata.length) - 8;
  const out = new Uint8Array(8 + metadataLength + pad8(body.length));
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, metadataLength, true);
  out.set(metadata, 8);
  out.set(body, 8 + metadataLength);
  return out;
}

export function schemaMessage(schema: arrow.Schema): Uint8Array {
  return frameMessage(Message.encode(Message.from(schema)));
}

/** A node: [length, null count]; a buffer: [offset, length] in the body. Numbers past 2^53 are rounded. */
export type NodeSpec = readonly [number, number];
export type BufferSpec = readonly [number, number];

function batchHeader(length: number, nodes: readonly NodeSpec[], buffers: readonly BufferSpec[], variadic?: readonly number[]): RecordBatchHeader {
  // apache-arrow's constructors refuse lengths past 2^53; a hostile writer is not so polite, so set them after.
  const fieldNodes = nodes.map(([n, nulls]) => Object.assign(new FieldNode(0, 0), { length: n, nullCount: nulls }));
  const regions = buffers.map(([offset, size]) => Object.assign(new BufferRegion(0, 0), { offset, length: size }));
  const header = new RecordBatchHeader(0, fieldNodes, regions, null, variadic ? [...variadic] : undefined);
  Object.assign(header, { _length: length });
  return header;
}

export interface BatchSpec {
  readonly length: number;
  readonly nodes: readonly NodeSpec[];
  readonly buffers: readonly BufferSpec[];
  readonly body?: Uint8Array;
  /** The body length the metadata declares (default: the body's length). */
  readonly bodyLength?: number;
  readonly variadic?: readonly number[];
}

export function recordBatchMessage(spec: BatchSpec): Uint8Array {
  const body = spec.body ?? new Uint8Array(0);
  const message = Message.from(batchHeader(spec.length, spec.nodes, spec.buffers, spec.variadic), spec.bodyLength ?? body.length);
  return frameMessage(Message.encode(message), body);
}

export function dictionaryBatchMessage(id: number, isDelta: boolean, spec: BatchSpec): Uint8Array {
  const body = spec.body ?? new Uint8Array(0);
  const header = new DictionaryBatchHeader(batchHeader(spec.length, spec.nodes, spec.buffers, spec.variadic), id, isDelta);
  return frameMessage(Message.encode(Message.from(header, spec.bodyLength ?? body.length)), body);
}

/** Little-endian bytes of typed values, for bodies. */
export function bytesOf(values: Int32Array | Float64Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A schema of fields, from names and types. */
export function schemaOf(fields: Record<string, arrow.DataType>): arrow.Schema {
  return new arrow.Schema(Object.entries(fields).map(([name, type]) => new arrow.Field(name, type, true)));
}

/** A block a file's footer lists: which message, and which footer list it goes in. */
export interface FileMessage {
  readonly bytes: Uint8Array;
  readonly kind: 'schema' | 'dictionary' | 'batch';
}

/**
 * An IPC file: magic, the messages, end-of-stream, footer (schema and blocks), footer length, magic.
 * `blocks` rewrites the footer's block lists (to point them where a hostile writer would).
 */
export function fileOf(schema: arrow.Schema, messages: readonly FileMessage[], blocks?: (dictionaries: FileBlock[], batches: FileBlock[]) => void): Uint8Array {
  const head = concat(MAGIC, new Uint8Array(2));
  const dictionaries: FileBlock[] = [];
  const batches: FileBlock[] = [];
  let offset = head.length;
  for (const message of messages) {
    const metadataLength = 8 + new DataView(message.bytes.buffer, message.bytes.byteOffset).getInt32(4, true);
    const block = new FileBlock(metadataLength, message.bytes.length - metadataLength, offset);
    if (message.kind === 'dictionary') dictionaries.push(block);
    if (message.kind === 'batch') batches.push(block);
    offset += message.bytes.length;
  }
  blocks?.(dictionaries, batches);
  const footer = Footer.encode(new Footer(schema, arrow.MetadataVersion.V5, batches, dictionaries));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setInt32(0, footer.length, true);
  return concat(head, ...messages.map((m) => m.bytes), EOS, footer, length, MAGIC);
}

/** A field a mutation can aim at: where its bytes are and how many. */
export interface FieldPosition {
  readonly kind: string;
  readonly position: number;
  readonly size: 1 | 2 | 4 | 8;
}

/**
 * The positions of the length, count and offset fields of every message in a valid stream or file:
 * metadata and body lengths, batch lengths, node lengths and null counts, buffer offsets and lengths,
 * dictionary ids and delta flags, and for a file the footer's blocks and length.
 */
export function ipcFieldPositions(bytes: Uint8Array): FieldPosition[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: FieldPosition[] = [];
  const add = (kind: string, position: number | null, size: FieldPosition['size']): void => {
    if (position !== null) found.push({ kind, position, size });
  };
  const batch = (table: FlatTable, prefix: string): void => {
    add(`${prefix}length`, table.fieldPosition(0, 8), 8);
    const nodes = table.vector(1, 16, 8);
    for (let i = 0; i < (nodes?.length ?? 0); i++) {
      add(`${prefix}node length`, nodes!.position + 16 * i, 8);
      add(`${prefix}null count`, nodes!.position + 16 * i + 8, 8);
    }
    const buffers = table.vector(2, 16, 8);
    for (let i = 0; i < (buffers?.length ?? 0); i++) {
      add(`${prefix}buffer offset`, buffers!.position + 16 * i, 8);
      add(`${prefix}buffer length`, buffers!.position + 16 * i + 8, 8);
    }
  };
  const schemaFields = (fields: readonly FlatTable[]): void => {
    for (const field of fields) {
      add('field type id', field.fieldPosition(2, 1), 1);
      add('dictionary id', field.table(4)?.fieldPosition(0, 8) ?? null, 8);
      schemaFields(field.tables(5, Infinity) ?? []);
    }
  };
  const isFile = MAGIC.every((b, i) => bytes[i] === b);
  const end = isFile ? bytes.length - 10 - view.getInt32(bytes.length - 10, true) : bytes.length;
  let position = isFile ? 8 : 0;
  while (position + 8 <= end) {
    const length = view.getInt32(position + 4, true);
    if (length === 0) break;
    add('metadata length', position + 4, 4);
    const root = new Flatbuffer(bytes, position + 8, position + 8 + length).root();
    add('body length', root.fieldPosition(3, 8), 8);
    add('version', root.fieldPosition(0, 2), 2);
    add('header type', root.fieldPosition(1, 1), 1);
    const header = root.table(2)!;
    const type = root.uint8(1, 0);
    if (type === 1) schemaFields(header.tables(1, Infinity) ?? []);
    if (type === 3) batch(header, '');
    if (type === 2) {
      add('dictionary id', header.fieldPosition(0, 8), 8);
      batch(header.table(1)!, 'dictionary ');
    }
    position += 8 + length + Number(root.int64(3, 0n));
  }
  if (isFile) {
    add('footer length', bytes.length - 10, 4);
    const footer = new Flatbuffer(bytes, end, bytes.length - 10).root();
    for (const [field, kind] of [
      [2, 'dictionary block'],
      [3, 'batch block'],
    ] as const) {
      const blocks = footer.vector(field, 24, 8);
      for (let i = 0; i < (blocks?.length ?? 0); i++) {
        add(`${kind} offset`, blocks!.position + 24 * i, 8);
        add(`${kind} metadata length`, blocks!.position + 24 * i + 8, 4);
        add(`${kind} body length`, blocks!.position + 24 * i + 16, 8);
      }
    }
  }
  return found;
}
