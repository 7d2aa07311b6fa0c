// Binding a generated kernel's inputs: the resident columns its expressions read (a row range of each,
// for chunked runs) and its lookup tables. Shared by the kernels that compile expressions.

import type { Column } from '../../../model/types.js';
import type { Binding, GpuContext, Recorder } from '../context.js';
import { bitWordsBytes, type ResidentColumns } from '../resident.js';
import type { WgslBuilder } from '../wgsl-expr.js';

function range(buffer: GPUBuffer, offset: number, size: number): Binding {
  return { buffer, offset, size: Math.max(4, Math.ceil(size / 4) * 4) };
}

/**
 * Pins each input column of `builder` (recording it in `pinned` for the caller to unpin) and returns
 * the bindings of rows [start, start + count): values, then validity where the column has one. Chunk
 * starts are multiples of 2048 rows, so bit-word offsets stay 256-byte aligned.
 */
export function bindInputs(builder: WgslBuilder, resident: ResidentColumns, pinned: Column[], start: number, count: number): Binding[] {
  return builder.inputs.flatMap((slot) => {
    const gpu = resident.pin(slot.column);
    pinned.push(slot.column);
    const bits = slot.column.dtype === 'bool';
    const values = range(gpu.values, bits ? start / 8 : start * 4, bits ? bitWordsBytes(count) : count * 4);
    return slot.validity ? [values, range(gpu.validity!, start / 8, bitWordsBytes(count))] : [values];
  });
}

/** The builder's lookup tables in a buffer released with the submit. */
export function tablesBuffer(ctx: GpuContext, run: Recorder, builder: WgslBuilder): GPUBuffer {
  const tables = run.temp(Math.max(4, builder.tables.length * 4));
  if (builder.tables.length > 0) ctx.write(tables, 0, Int32Array.from(builder.tables));
  return tables;
}
