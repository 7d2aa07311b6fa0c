// The bounds-checked flatbuffer reader on hand-written buffers: a valid table reads back, and each way an
// offset, vtable, vector or string can leave its buffer, misalign or nest too deep is refused.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flatbuffer, FlatbufferError } from '../../src/model/arrow-flatbuffer-verify.js';

/**
 * Root offset → table at 16. Vtable at 4: size 10, table size 16, fields 0, 1, 2 at +4, +8, +12. Table: soffset
 * 12, int32 42, an offset to a vector at 32 of two int32s (7 and 9), an offset to the string "hi" at 44.
 */
function sample(): Uint8Array {
  const bytes = new Uint8Array(52);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 16, true);
  [10, 16, 4, 8, 12].forEach((v, i) => {
    view.setUint16(4 + 2 * i, v, true);
  });
  view.setInt32(16, 12, true);
  view.setInt32(20, 42, true);
  view.setUint32(24, 8, true);
  view.setUint32(28, 16, true);
  view.setUint32(32, 2, true);
  view.setInt32(36, 7, true);
  view.setInt32(40, 9, true);
  view.setUint32(44, 2, true);
  bytes.set([0x68, 0x69, 0], 48);
  return bytes;
}

function refuses(bytes: Uint8Array, read: (fb: Flatbuffer) => unknown, pattern: RegExp): void {
  assert.throws(
    () => read(new Flatbuffer(bytes, 0, bytes.length)),
    (error: unknown) => error instanceof FlatbufferError && pattern.test(error.message),
  );
}

describe('Flatbuffer', () => {
  it('reads scalars, vectors, strings and defaults of a valid table', () => {
    const root = new Flatbuffer(sample(), 0, 52).root();
    assert.equal(root.int32(0, 0), 42);
    assert.deepEqual(root.vector(1, 4, 4), { position: 36, length: 2 });
    assert.deepEqual(root.string(2), { position: 48, length: 2 });
    assert.equal(root.int32(5, -1), -1);
    assert.equal(root.has(3), false);
  });

  it('refuses offsets, vtables and vectors outside the buffer, misaligned, or self-referencing', () => {
    const root = (fb: Flatbuffer) => fb.root();
    const set = (at: number, value: number, size: 2 | 4 = 4): Uint8Array => {
      const bytes = sample();
      if (size === 4) new DataView(bytes.buffer).setUint32(at, value, true);
      else new DataView(bytes.buffer).setUint16(at, value, true);
      return bytes;
    };
    refuses(set(0, 1000), root, /root table: offset at byte 0 points past the flatbuffer's end/);
    refuses(set(0, 0), root, /offset at byte 0 is zero/);
    refuses(set(0, 17), root, /table at byte 17 is not 4-byte aligned/);
    refuses(set(16, 0x7fff0000), root, /vtable .* lies outside the flatbuffer/);
    refuses(set(4, 5, 2), root, /vtable at byte 4 has an invalid size 5/);
    refuses(set(6, 2, 2), root, /table at byte 16 has an invalid size 2/);
    refuses(set(8, 14, 2), (fb) => fb.root().int32(0, 0), /field 0 of the table at byte 16 ends past the table/);
    refuses(set(32, 1000), (fb) => fb.root().vector(1, 4, 4), /elements of vector field 1 .* lies outside/);
    refuses(sample(), (fb) => fb.root().vector(1, 8, 8), /elements of vector field 1 at byte 36 is not 8-byte aligned/);
    refuses(sample().subarray(0, 50), (fb) => fb.root().string(2), /terminator of string field 2 .* lies outside/);
    refuses(set(48, 0x016968), (fb) => fb.root().string(2), /string field 2 at byte 44 is not zero-terminated/);
  });

  it('limits how deep tables nest and how many there are', () => {
    // A chain of tables after one shared vtable at 8; each holds in field 0 an offset to the next.
    const depth = 10;
    const laid = new Uint8Array(16 + 8 * depth);
    const view = new DataView(laid.buffer);
    view.setUint32(0, 16, true);
    [6, 8, 4].forEach((v, i) => {
      view.setUint16(8 + 2 * i, v, true);
    });
    for (let i = 0; i < depth; i++) {
      const at = 16 + 8 * i;
      view.setInt32(at, at - 8, true);
      view.setUint32(at + 4, 4, true);
    }
    const walk = (fb: Flatbuffer): number => {
      let table = fb.root();
      for (let i = 1; i < depth; i++) table = table.table(0)!;
      return table.depth;
    };
    assert.equal(walk(new Flatbuffer(laid, 0, laid.length)), depth);
    assert.throws(() => walk(new Flatbuffer(laid, 0, laid.length, { maxDepth: depth - 1, maxTables: 100 })), /tables nest deeper than 9/);
    assert.throws(() => walk(new Flatbuffer(laid, 0, laid.length, { maxDepth: 100, maxTables: depth - 1 })), /more than 9 tables/);
  });
});
