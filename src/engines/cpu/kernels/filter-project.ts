// Fused filter + projection: one pass over a row range (or a list of row indices) that evaluates the
// predicate and every output expression, writing kept rows compactly. This is the CPU engine's kernel
// for Filter and Project, for evaluating expressions at chosen rows (first/last, keys), and for the row
// selection of a filter fused into the operator above it.

import type { NamedExpr } from '../../../plan/types.js';
import type { BoundExpr } from '../../../expr/types.js';
import type { Column, DType } from '../../../model/types.js';
import { paramsOf } from '../../../model/dtype.js';
import { allocShared, makeColumn, packBits, valuesLength } from '../../../model/column.js';
import { outputArray } from '../../shared/output-values.js';
import { compileExpr, compileFilter, KernelBuilder } from '../codegen.js';
import { compileKernel } from './compile.js';
import { kernelLib } from './runtime.js';
import { kernelColumns, type OutputSpec, type PreparedKernel, type ScanOut } from './types.js';

export interface PreparedScan extends PreparedKernel {
  readonly outputs: readonly OutputSpec[];
}

/**
 * Builds the kernel. In 'range' mode the kernel visits rows start..end; in 'gather' mode it visits
 * `out.rows[start..end)`. It returns the number of rows written, or with dynamic string outputs a
 * ScanResult (read either with scanCount).
 */
export function prepareScan(
  columns: ReadonlyMap<string, Column>,
  predicate: BoundExpr | null,
  outputs: readonly NamedExpr[],
  mode: 'range' | 'gather',
): PreparedScan {
  const b = new KernelBuilder(columns);
  const specs: OutputSpec[] = [];
  const writes: string[] = [];
  b.line(mode === 'range' ? 'for (let i = start; i < end; i++) {' : 'for (let r = start; r < end; r++) { const i = rows[r];');
  if (predicate) compileFilter(b, predicate);
  const interned: string[] = [];
  outputs.forEach((o, k) => {
    const c = compileExpr(b, o.expr);
    const dtype = o.expr.type.dtype;
    if (c.dynamic === true) {
      // Text made per row is interned into this call's dictionary `d<k>`; a null row holds code -1.
      specs.push({ name: o.name, dtype, nullable: c.n !== 'false', dictionary: null, dynamic: true });
      interned.push(`d${k}`);
      const intern = `{ let code = d${k}.get(${c.v}); if (code === undefined) { code = d${k}.size; d${k}.set(${c.v}, code); } o${k}[w] = code; }`;
      writes.push(c.n === 'false' ? intern : `if (${c.n}) o${k}[w] = -1; else ${intern}`);
    } else {
      specs.push({ name: o.name, dtype, ...paramsOf(o.expr.type), nullable: c.n !== 'false', dictionary: dtype === 'utf8' ? (c.dictionary ?? []) : null });
      // A decimal is two words: the low 64 bits, then the rest (BigInt64Array stores each modulo 2^64).
      if (dtype === 'decimal') writes.push(`o${k}[2 * w] = ${c.v}; o${k}[2 * w + 1] = ${c.v} >> 64n;`);
      else writes.push(`o${k}[w] = ${storeValue(dtype, c.v)};`);
    }
    if (c.n !== 'false') writes.push(`z${k}[w] = ${c.n} ? 0 : 1;`);
  });
  b.line('const w = base + k;');
  writes.forEach((w) => {
    b.line(w);
  });
  b.line('k++;');
  b.line('}');
  const body = b.takeBody();
  const outDecls = specs.map((s, k) => `const o${k} = out.values[${k}]${s.nullable ? `, z${k} = out.valid[${k}]` : ''};`);
  const dictionaries = interned.map((d) => `const ${d} = new Map();`);
  const result = interned.length === 0 ? 'return k;' : `return { count: k, dictionaries: { ${interned.map((d) => `${d}: [...${d}.keys()]`).join(', ')} } };`;
  const source = [b.headerText(), ...outDecls, ...dictionaries, 'const base = out.base, rows = out.rows;', 'let k = 0;', body, result].join('\n');
  return { source, params: b.params, inputs: b.slotColumns, outputs: specs };
}

/**
 * A kernel that writes the index of each row in start..end whose predicate is true to `out.values[0]`
 * from `out.base`, and returns how many: a filter fused into an operator that reads a row selection.
 */
export function prepareSelection(columns: ReadonlyMap<string, Column>, predicate: BoundExpr): PreparedScan {
  const b = new KernelBuilder(columns);
  b.line('for (let i = start; i < end; i++) {');
  compileFilter(b, predicate);
  b.line('o0[base + k] = i;');
  b.line('k++;');
  b.line('}');
  const body = b.takeBody();
  const source = [b.headerText(), 'const o0 = out.values[0], base = out.base;', 'let k = 0;', body, 'return k;'].join('\n');
  return { source, params: b.params, inputs: b.slotColumns, outputs: [{ name: 'row', dtype: 'int32', nullable: false, dictionary: null }] };
}

/** What a scan kernel with dynamic string outputs returns: its row count and, per such output `d<k>`, its dictionary. */
interface ScanResult {
  readonly count: number;
  readonly dictionaries: Readonly<Record<string, readonly string[]>>;
}

/** The number of rows a scan kernel call wrote. */
export function scanCount(result: unknown): number {
  return typeof result === 'number' ? result : (result as ScanResult).count;
}

/**
 * Merges the per-call dictionaries of dynamic string outputs: `placed[m]` is where call m's rows now
 * start in `out` (after compaction). Rewrites their codes in place into one dictionary per output, in
 * the order the texts first appear, and returns the specs with those dictionaries.
 */
export function mergeScanDictionaries(outputs: readonly OutputSpec[], out: ScanOut, results: readonly unknown[], placed: readonly number[]): OutputSpec[] {
  return outputs.map((spec, k) => {
    if (spec.dynamic !== true) return spec;
    const codes = out.values[k] as Int32Array;
    const index = new Map<string, number>();
    results.forEach((result, m) => {
      const local = (result as ScanResult).dictionaries[`d${k}`] ?? [];
      const remap = Int32Array.from(local, (s) => {
        let code = index.get(s);
        if (code === undefined) {
          code = index.size;
          index.set(s, code);
        }
        return code;
      });
      const start = placed[m]!;
      const end = start + (result as ScanResult).count;
      // A null row's -1 becomes code 0, as a null slot of any utf8 column may hold.
      for (let r = start; r < end; r++) codes[r] = codes[r]! < 0 ? 0 : remap[codes[r]!]!;
    });
    return { name: spec.name, dtype: spec.dtype, nullable: spec.nullable, dictionary: [...index.keys()] };
  });
}

function storeValue(dtype: DType, v: string): string {
  return dtype === 'bool' ? `${v} ? 1 : 0` : v;
}

/** Output buffers for `capacity` rows. */
export function allocScanOut(outputs: readonly OutputSpec[], capacity: number, base: number, rows: Int32Array | null): ScanOut {
  return {
    values: outputs.map((o) => outputArray(o.dtype, capacity)),
    valid: outputs.map((o) => (o.nullable ? allocShared(Uint8Array, capacity) : null)),
    base,
    rows,
  };
}

/** Evaluates expressions at the given rows on this thread (small row counts: one per group). */
export function evaluateAtRows(columns: ReadonlyMap<string, Column>, exprs: readonly { name: string; expr: BoundExpr }[], rows: Int32Array): Column[] {
  const prepared = prepareScan(columns, null, exprs, 'gather');
  const out = allocScanOut(prepared.outputs, rows.length, 0, rows);
  const result = compileKernel(prepared.source)(kernelColumns(prepared.inputs), prepared.params, 0, rows.length, out, kernelLib);
  return scanOutColumns(mergeScanDictionaries(prepared.outputs, out, [result], [0]), out, scanCount(result));
}

/** Columns over the first `count` rows of scan output buffers (bools and validity packed to bitmaps). */
export function scanOutColumns(outputs: readonly OutputSpec[], out: ScanOut, count: number): Column[] {
  return outputs.map((o, k) => {
    const raw = out.values[k]!;
    const values = o.dtype === 'bool' ? packBits(raw as Uint8Array, count) : raw.subarray(0, valuesLength(o.dtype, count));
    const valid = out.valid[k];
    return makeColumn(o, count, values, valid ? packBits(valid, count) : null, o.dictionary);
  });
}
