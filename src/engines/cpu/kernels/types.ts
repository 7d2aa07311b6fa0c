// The contract between kernel builders, the worker entry and the engine: what a compiled kernel is,
// how it is called, and the buffers it writes. Both sides of the worker boundary import only this.

import type { Column, DType, TypedValues, TypeParams } from '../../../model/types.js';
import type { KernelLib } from './runtime.js';

/** The input columns a kernel reads, without dictionaries (kernels see codes; tables travel as params). */
export type KernelColumn = Pick<Column, 'values' | 'validity'>;

export interface PreparedKernel {
  /** Function body; the key of the compiled-function cache in every thread. */
  readonly source: string;
  readonly params: readonly unknown[];
  readonly inputs: readonly Column[];
}

export type KernelFunction = (cols: readonly KernelColumn[], params: readonly unknown[], start: number, end: number, out: unknown, lib: KernelLib) => unknown;

/** A scan kernel's output buffers: row `base + k` receives the k-th kept row. Bools and validity as bytes. */
export interface ScanOut {
  readonly values: readonly TypedValues[];
  readonly valid: readonly (Uint8Array | null)[];
  readonly base: number;
  readonly rows: Int32Array | null;
}

export interface OutputSpec extends TypeParams {
  readonly name: string;
  readonly dtype: DType;
  readonly nullable: boolean;
  readonly dictionary: readonly string[] | null;
}

/** A task as sent to a worker. */
export interface KernelTask {
  readonly source: string;
  readonly cols: readonly KernelColumn[];
  readonly params: readonly unknown[];
  readonly start: number;
  readonly end: number;
  readonly out: unknown;
}

export type KernelReply = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

export function kernelColumns(columns: readonly Column[]): KernelColumn[] {
  return columns.map((c) => ({ values: c.values, validity: c.validity }));
}
