// Columns resident on the device. A column is uploaded once and stays while its frame lives, so a
// repeated query over the same frame reads device memory only; columns a kernel produced on the device
// are adopted the same way. Memory is capped by a byte budget with least-recently-used eviction; columns
// in use by a running query are pinned and never evicted under it.

import { GpuMemoryError } from '../../errors.js';
import type { Column, DType } from '../../model/types.js';
import { roundUp, STORAGE, type GpuContext } from './context.js';
import type { ResidentStats } from './types.js';

/** The dtypes whose values live on the device in a 32-bit form the kernels read directly. */
export const GPU_DTYPES: ReadonlySet<DType> = new Set<DType>(['int32', 'float32', 'bool', 'utf8']);

/**
 * A column on the device:
 * - `values`: i32 (int32, utf8 dictionary codes) or f32 (float32) per row; bool as bit words.
 * - `validity`: the Arrow bitmap as u32 words (1 = valid), or null when nothing is null.
 */
export interface GpuColumn {
  readonly column: Column;
  readonly values: GPUBuffer;
  readonly validity: GPUBuffer | null;
  readonly bytes: number;
}

interface Entry {
  readonly gpu: GpuColumn;
  pins: number;
  lastUse: number;
}

/** Bytes a column takes on the device. */
export function deviceBytes(column: Column): number {
  const values = column.dtype === 'bool' ? bitWordsBytes(column.length) : column.length * 4;
  return Math.max(4, values) + (column.validity ? bitWordsBytes(column.length) : 0);
}

export function bitWordsBytes(length: number): number {
  return Math.max(4, Math.ceil(length / 32) * 4);
}

export class ResidentColumns {
  private readonly entries = new WeakMap<Column, Entry>();
  /** Live entries in use order (oldest first); WeakRefs so a dropped frame's columns can be collected. */
  private readonly order = new Set<WeakRef<Column>>();
  private readonly refs = new WeakMap<Column, WeakRef<Column>>();
  private readonly finalizer = new FinalizationRegistry<{ gpu: GpuColumn; ref: WeakRef<Column> }>(({ gpu, ref }) => {
    if (!this.order.delete(ref)) return;
    this.total -= gpu.bytes;
    destroyColumn(gpu);
  });
  private total = 0;
  private clock = 0;
  private readonly counts = { uploads: 0, hits: 0, evictions: 0 };

  constructor(
    private readonly ctx: GpuContext,
    readonly budget: number,
  ) {}

  /** The column on the device, uploading it if needed; pinned until `unpin`. */
  pin(column: Column): GpuColumn {
    const entry = this.entries.get(column);
    if (entry) {
      entry.pins++;
      entry.lastUse = ++this.clock;
      this.counts.hits++;
      return entry.gpu;
    }
    const bytes = deviceBytes(column);
    this.makeRoom(bytes);
    const gpu = uploadColumn(this.ctx, column, bytes);
    this.counts.uploads++;
    this.insert(column, gpu, 1);
    return gpu;
  }

  unpin(column: Column): void {
    const entry = this.entries.get(column);
    if (entry && entry.pins > 0) entry.pins--;
  }

  /**
   * Registers device buffers a kernel produced as `column`'s copy on the device (unpinned); they belong
   * to the cache from now on. Without room in the budget they are destroyed instead.
   */
  adopt(column: Column, values: GPUBuffer, validity: GPUBuffer | null): void {
    if (this.entries.has(column)) return;
    const gpu: GpuColumn = { column, values, validity, bytes: values.size + (validity?.size ?? 0) };
    try {
      this.makeRoom(gpu.bytes);
    } catch {
      destroyColumn(gpu);
      return;
    }
    this.insert(column, gpu, 0);
  }

  has(column: Column): boolean {
    return this.entries.has(column);
  }

  stats(): ResidentStats {
    return { bytes: this.total, budget: this.budget, columns: this.order.size, ...this.counts };
  }

  /** Frees every unpinned column. */
  clear(): void {
    for (const ref of [...this.order]) {
      const column = ref.deref();
      const entry = column && this.entries.get(column);
      if (!column || !entry || entry.pins > 0) continue;
      this.evict(column, entry, ref);
    }
  }

  private insert(column: Column, gpu: GpuColumn, pins: number): void {
    const ref = new WeakRef(column);
    this.entries.set(column, { gpu, pins, lastUse: ++this.clock });
    this.refs.set(column, ref);
    this.order.add(ref);
    this.finalizer.register(column, { gpu, ref }, ref);
    this.total += gpu.bytes;
  }

  private evict(column: Column, entry: Entry, ref: WeakRef<Column>): void {
    this.order.delete(ref);
    this.finalizer.unregister(ref);
    this.entries.delete(column);
    this.total -= entry.gpu.bytes;
    this.counts.evictions++;
    destroyColumn(entry.gpu);
  }

  private makeRoom(bytes: number): void {
    if (bytes > this.budget) throw new GpuMemoryError(`a column of ${bytes} bytes exceeds the device memory budget of ${this.budget} bytes`);
    if (this.total + bytes <= this.budget) return;
    const candidates: { column: Column; entry: Entry; ref: WeakRef<Column> }[] = [];
    for (const ref of this.order) {
      const column = ref.deref();
      const entry = column && this.entries.get(column);
      if (column && entry && entry.pins === 0) candidates.push({ column, entry, ref });
    }
    candidates.sort((a, b) => a.entry.lastUse - b.entry.lastUse);
    for (const c of candidates) {
      if (this.total + bytes <= this.budget) break;
      this.evict(c.column, c.entry, c.ref);
    }
    if (this.total + bytes > this.budget) {
      throw new GpuMemoryError(
        `the query needs ${bytes} more bytes on the device, but ${this.total} of the ${this.budget}-byte budget are held by columns in use`,
      );
    }
  }
}

function destroyColumn(gpu: GpuColumn): void {
  gpu.values.destroy();
  gpu.validity?.destroy();
}

/** Uploads a column in its device layout (not from the pool: resident buffers live long). */
function uploadColumn(ctx: GpuContext, column: Column, bytes: number): GpuColumn {
  const valueBytes = column.dtype === 'bool' ? bitWordsBytes(column.length) : Math.max(4, column.length * 4);
  const values = ctx.device.createBuffer({ size: roundUp(valueBytes, 4), usage: STORAGE });
  const source = column.values;
  ctx.write(
    values,
    0,
    new Uint8Array(source.buffer, source.byteOffset, Math.min(source.byteLength, column.dtype === 'bool' ? Math.ceil(column.length / 8) : column.length * 4)),
  );
  let validity: GPUBuffer | null = null;
  if (column.validity) {
    validity = ctx.device.createBuffer({ size: bitWordsBytes(column.length), usage: STORAGE });
    ctx.write(validity, 0, column.validity.subarray(0, Math.ceil(column.length / 8)));
  }
  return { column, values, validity, bytes };
}
