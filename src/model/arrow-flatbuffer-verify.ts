// Bounds-checked reading of the FlatBuffers tables that Arrow IPC metadata is made of. Every table, vtable,
// vector and string is checked to lie inside its buffer, aligned, within a nesting depth and a table count,
// before a value is read: the checks of flatbuffers' Verifier, done as each field is reached rather than by
// a generated per-schema verifier. It knows nothing of Arrow; arrow-ipc-validate.ts names the fields.

/** A flatbuffer breaks a structural rule at `position` (an absolute offset in the bytes given). */
export class FlatbufferError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

export interface FlatbufferLimits {
  /** Most tables on one path from the root (flatbuffers' Verifier: 64). */
  readonly maxDepth: number;
  /** Most tables reached in one buffer (flatbuffers' Verifier: 1,000,000). */
  readonly maxTables: number;
}

export const DEFAULT_FLATBUFFER_LIMITS: FlatbufferLimits = { maxDepth: 64, maxTables: 1_000_000 };

/** A vector's elements: where the first one starts and how many there are. */
export interface FlatVector {
  readonly position: number;
  readonly length: number;
}

/** One flatbuffer occupying bytes [start, end) of a larger array; positions are absolute in that array. */
export class Flatbuffer {
  readonly view: DataView;
  private tableCount = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly limits: FlatbufferLimits = DEFAULT_FLATBUFFER_LIMITS,
  ) {
    if (start < 0 || end > bytes.length || start > end) throw new RangeError(`flatbuffer bounds [${start}, ${end}) outside ${bytes.length} bytes`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The root table, reached through the unsigned offset in the first four bytes. */
  root(): FlatTable {
    this.check(this.start, 4, 4, 'root offset');
    return this.tableAt(this.offsetTarget(this.start, 'root table'), 1);
  }

  /** Throws unless `size` bytes at `position` lie in the buffer and `position` is `align`-aligned from its start. */
  check(position: number, size: number, align: number, what: string): void {
    if (position < this.start || size < 0 || position + size > this.end) {
      throw new FlatbufferError(`${what} (${size} bytes at byte ${position}) lies outside the flatbuffer's ${this.end - this.start} bytes`, position);
    }
    if ((position - this.start) % align !== 0) throw new FlatbufferError(`${what} at byte ${position} is not ${align}-byte aligned`, position);
  }

  /** Where the unsigned offset stored at `position` points; zero (a self-reference) is refused. */
  offsetTarget(position: number, what: string): number {
    const offset = this.view.getUint32(position, true);
    if (offset === 0) throw new FlatbufferError(`${what}: offset at byte ${position} is zero`, position);
    const target = position + offset;
    if (target >= this.end) throw new FlatbufferError(`${what}: offset at byte ${position} points past the flatbuffer's end`, position);
    return target;
  }

  tableAt(position: number, depth: number): FlatTable {
    if (depth > this.limits.maxDepth) throw new FlatbufferError(`tables nest deeper than ${this.limits.maxDepth}`, position);
    if (++this.tableCount > this.limits.maxTables) throw new FlatbufferError(`more than ${this.limits.maxTables} tables`, position);
    this.check(position, 4, 4, 'table');
    const vtable = position - this.view.getInt32(position, true);
    this.check(vtable, 4, 2, 'vtable');
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    // apache-arrow reads vtable entries as signed 16-bit numbers: anything at or past 0x8000 would read as negative.
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtableSize >= 0x8000)
      throw new FlatbufferError(`vtable at byte ${vtable} has an invalid size ${vtableSize}`, vtable);
    if (tableSize < 4 || tableSize >= 0x8000) throw new FlatbufferError(`table at byte ${position} has an invalid size ${tableSize}`, position);
    this.check(vtable, vtableSize, 2, 'vtable');
    this.check(position, tableSize, 1, 'table');
    return new FlatTable(this, position, vtable, vtableSize, tableSize, depth);
  }
}

/** A verified table: its own bytes and vtable are in bounds; each field is checked when it is read. */
export class FlatTable {
  constructor(
    readonly buffer: Flatbuffer,
    readonly position: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
    readonly depth: number,
  ) {}

  /** Offset of field `index` from the table's start, or 0 when the field is absent. */
  private fieldOffset(index: number): number {
    const slot = 4 + 2 * index;
    if (slot >= this.vtableSize) return 0;
    const offset = this.buffer.view.getUint16(this.vtable + slot, true);
    if (offset !== 0 && offset < 4)
      throw new FlatbufferError(`field ${index} of the table at byte ${this.position} overlaps its vtable offset`, this.vtable + slot);
    return offset;
  }

  /** Absolute position of field `index`'s inline value (`size` bytes, aligned to `size`), or null when absent. */
  fieldPosition(index: number, size: number): number | null {
    const offset = this.fieldOffset(index);
    if (offset === 0) return null;
    if (offset + size > this.tableSize)
      throw new FlatbufferError(`field ${index} of the table at byte ${this.position} ends past the table`, this.position + offset);
    const position = this.position + offset;
    this.buffer.check(position, size, size, `field ${index}`);
    return position;
  }

  has(index: number): boolean {
    return this.fieldOffset(index) !== 0;
  }

  uint8(index: number, fallback: number): number {
    const at = this.fieldPosition(index, 1);
    return at === null ? fallback : this.buffer.view.getUint8(at);
  }

  int8(index: number, fallback: number): number {
    const at = this.fieldPosition(index, 1);
    return at === null ? fallback : this.buffer.view.getInt8(at);
  }

  bool(index: number, fallback: boolean): boolean {
    const at = this.fieldPosition(index, 1);
    return at === null ? fallback : this.buffer.view.getUint8(at) !== 0;
  }

  int16(index: number, fallback: number): number {
    const at = this.fieldPosition(index, 2);
    return at === null ? fallback : this.buffer.view.getInt16(at, true);
  }

  int32(index: number, fallback: number): number {
    const at = this.fieldPosition(index, 4);
    return at === null ? fallback : this.buffer.view.getInt32(at, true);
  }

  int64(index: number, fallback: bigint): bigint {
    const at = this.fieldPosition(index, 8);
    return at === null ? fallback : this.buffer.view.getBigInt64(at, true);
  }

  private target(index: number, what: string): number | null {
    const at = this.fieldPosition(index, 4);
    return at === null ? null : this.buffer.offsetTarget(at, what);
  }

  /** The sub-table in field `index`, or null when absent. */
  table(index: number): FlatTable | null {
    const target = this.target(index, `table field ${index}`);
    return target === null ? null : this.buffer.tableAt(target, this.depth + 1);
  }

  /** A vector of `elementSize`-byte scalars or structs aligned to `align`, or null when absent. */
  vector(index: number, elementSize: number, align: number): FlatVector | null {
    const target = this.target(index, `vector field ${index}`);
    if (target === null) return null;
    const buffer = this.buffer;
    buffer.check(target, 4, 4, `length of vector field ${index}`);
    const length = buffer.view.getUint32(target, true);
    const position = target + 4;
    // A zero-length vector's (absent) elements need no alignment.
    buffer.check(position, length * elementSize, length === 0 ? 1 : align, `elements of vector field ${index}`);
    return { position, length };
  }

  /** The tables of a vector of tables, refusing more than `maxLength`; null when absent. */
  tables(index: number, maxLength: number): FlatTable[] | null {
    const vector = this.vector(index, 4, 4);
    if (vector === null) return null;
    if (vector.length > maxLength)
      throw new FlatbufferError(`vector field ${index} holds ${vector.length} tables, more than ${maxLength}`, vector.position - 4);
    const tables: FlatTable[] = [];
    for (let i = 0; i < vector.length; i++) {
      const slot = vector.position + 4 * i;
      tables.push(this.buffer.tableAt(this.buffer.offsetTarget(slot, `element ${i} of vector field ${index}`), this.depth + 1));
    }
    return tables;
  }

  /** A string's bytes (without its terminator, which must be there), or null when absent. */
  string(index: number): FlatVector | null {
    const vector = this.vector(index, 1, 1);
    if (vector === null) return null;
    const end = vector.position + vector.length;
    this.buffer.check(end, 1, 1, `terminator of string field ${index}`);
    if (this.buffer.view.getUint8(end) !== 0) throw new FlatbufferError(`string field ${index} at byte ${vector.position - 4} is not zero-terminated`, end);
    return vector;
  }
}
