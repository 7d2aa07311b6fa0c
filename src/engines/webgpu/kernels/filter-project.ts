// Filter and projection on the device (shaders/filter-project.wgsl), chunked by the binding size: the
// predicate marks kept rows, a prefix sum turns marks into output positions, and the outputs are
// evaluated for kept rows only and written compacted. Columns passed through unfiltered are reused.

import type { BoundExpr } from '../../../expr/types.js';
import { allocBitmap, allocShared, makeColumn } from '../../../model/column.js';
import type { Column, ColumnBatch, DType } from '../../../model/types.js';
import type { NamedExpr } from '../../../plan/types.js';
import { GpuUnsupportedError, type Binding, type BindingType, type GpuContext } from '../context.js';
import { bitWordsBytes, type ResidentColumns } from '../resident.js';
import { compileWgsl, compileWgslFilter, raiseOverflow, unsupportedReason, WgslBuilder, type WgslValue } from '../wgsl-expr.js';
import { bindInputs, tablesBuffer } from './inputs.js';
import { encodeExclusiveScan } from './prefix-sum.js';

const WG = 256;

export function filterProjectUnsupported(predicate: BoundExpr | null, outputs: readonly NamedExpr[]): string | null {
  if (predicate) {
    const reason = unsupportedReason(predicate);
    if (reason) return reason;
  }
  for (const o of outputs) {
    // A column passed through untouched without a filter is reused whatever its type.
    if (!predicate && o.expr.kind === 'col') continue;
    const reason = unsupportedReason(o.expr);
    if (reason) return reason;
  }
  return null;
}

interface OutputPlan {
  readonly name: string;
  readonly value: WgslValue;
  readonly nullable: boolean;
}

export async function gpuFilterProject(
  ctx: GpuContext,
  resident: ResidentColumns,
  batch: ColumnBatch,
  predicate: BoundExpr | null,
  outputs: readonly NamedExpr[],
): Promise<ColumnBatch> {
  const columns = new Map(batch.names.map((name, k) => [name, batch.columns[k]!]));
  const computed = predicate ? outputs : outputs.filter((o) => o.expr.kind !== 'col');
  const perChunk = Math.max(2048, Math.floor(ctx.bindingBytes / 4 / 2048) * 2048);
  const parts: ColumnBatch[] = [];
  // An empty input still runs one (empty) chunk: it gives the outputs their types and dictionaries.
  for (let start = 0; start < batch.length || parts.length === 0; start += perChunk) {
    parts.push(await runChunk(ctx, resident, columns, predicate, computed, start, Math.min(perChunk, batch.length - start), batch.length <= perChunk));
  }
  const made =
    parts.length === 1
      ? parts[0]!
      : concatBatches(
          parts,
          computed.map((o) => o.name),
        );
  const length = predicate ? made.length : batch.length;
  const byName = new Map(made.names.map((n, k) => [n, made.columns[k]!]));
  return {
    length,
    names: outputs.map((o) => o.name),
    columns: outputs.map((o) => byName.get(o.name) ?? columns.get((o.expr as { name: string }).name)!),
  };
}

/** Storage bindings every filter-project dispatch takes: flags, tables, keep, positions. */
const FIXED_STORAGE = 4;

interface OutputGroup {
  readonly builder: WgslBuilder;
  readonly plans: readonly OutputPlan[];
  readonly text: string[];
}

/** Output expressions in groups whose bindings fit the device's per-stage limit, one dispatch each. */
function groupOutputs(ctx: GpuContext, columns: ReadonlyMap<string, Column>, computed: readonly NamedExpr[]): OutputGroup[] {
  const limit = ctx.limits.maxStorageBuffersPerShaderStage;
  const groups: OutputGroup[] = [];
  let current: NamedExpr[] = [];
  const build = (outputs: readonly NamedExpr[]): OutputGroup & { storage: number } => {
    const builder = new WgslBuilder(columns);
    const plans: OutputPlan[] = [];
    const text = builder.capture(() => {
      outputs.forEach((o, k) => {
        const value = compileWgsl(builder, o.expr);
        plans.push({ name: o.name, value, nullable: value.n !== 'false' });
        if (value.dtype === 'bool')
          builder.line(`if (${value.n === 'false' ? '' : `!${value.n} && `}${value.v}) { atomicOr(&out${k}[at >> 5u], 1u << (at & 31u)); }`);
        else builder.line(`out${k}[at] = ${value.v};`);
        if (value.n !== 'false') builder.line(`if (!${value.n}) { atomicOr(&out${k}_valid[at >> 5u], 1u << (at & 31u)); }`);
      });
    });
    const storage = FIXED_STORAGE + builder.inputs.reduce((n, i) => n + (i.validity ? 2 : 1), 0) + plans.reduce((n, p) => n + (p.nullable ? 2 : 1), 0);
    return { builder, plans, text, storage };
  };
  for (const output of computed) {
    const trial = build([...current, output]);
    if (trial.storage <= limit) {
      current.push(output);
      continue;
    }
    if (current.length === 0) throw new GpuUnsupportedError(`output '${output.name}' needs ${trial.storage} storage bindings; the device allows ${limit}`);
    groups.push(build(current));
    current = [output];
    if (build(current).storage > limit) throw new GpuUnsupportedError(`output '${output.name}' needs more storage bindings than the device allows (${limit})`);
  }
  if (current.length > 0) groups.push(build(current));
  return groups;
}

/** Declarations and binding types of a builder's inputs and outputs after the fixed bindings. */
function declare(builder: WgslBuilder, plans: readonly OutputPlan[]): { decls: string; layout: BindingType[] } {
  const inputs = builder.inputDeclarations(5);
  const decls = [inputs.text];
  const layout: BindingType[] = [
    'uniform',
    'storage',
    'read-only-storage',
    'storage',
    'storage',
    ...Array.from({ length: inputs.next - 5 }, (): BindingType => 'read-only-storage'),
  ];
  let binding = inputs.next;
  plans.forEach((p, k) => {
    const element = p.value.dtype === 'float32' ? 'f32' : p.value.dtype === 'bool' ? 'atomic<u32>' : 'i32';
    decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> out${k}: array<${element}>;`);
    layout.push('storage');
    if (p.nullable) {
      decls.push(`@group(0) @binding(${binding++}) var<storage, read_write> out${k}_valid: array<atomic<u32>>;`);
      layout.push('storage');
    }
  });
  return { decls: decls.join('\n'), layout };
}

async function runChunk(
  ctx: GpuContext,
  resident: ResidentColumns,
  columns: ReadonlyMap<string, Column>,
  predicate: BoundExpr | null,
  computed: readonly NamedExpr[],
  start: number,
  count: number,
  wholeInput: boolean,
): Promise<ColumnBatch> {
  const adopted = new Set<GPUBuffer>();
  const selector = new WgslBuilder(columns);
  const predicateText = predicate
    ? selector.capture(() => {
        compileWgslFilter(selector, predicate, 'return 0u;');
      })
    : [];
  const groups = groupOutputs(ctx, columns, computed);
  const workgroups = Math.ceil(count / WG);
  const run = ctx.begin();
  const flags = run.zeros(4);
  const keep = run.temp(count * 4);
  const positions = run.temp(count * 4);
  const total = run.zeros(4);
  const params = run.uniform(Uint32Array.of(count, predicate ? 1 : 0, 0));
  const pinned: Column[] = [];
  const tablesOf = (builder: WgslBuilder): GPUBuffer => tablesBuffer(ctx, run, builder);
  const inputBindings = (builder: WgslBuilder): Binding[] => bindInputs(builder, resident, pinned, start, count);
  const outs: { values: GPUBuffer; validity: GPUBuffer | null; plan: OutputPlan }[] = [];
  try {
    if (predicate) {
      const { decls, layout } = declare(selector, []);
      const pipeline = ctx.pipeline('filter-project', { DECLS: decls, PREDICATE: predicateText.join('\n'), OUTPUTS: '' }, { WG }, 'select_rows', layout);
      run.dispatch(pipeline, [params, flags, tablesOf(selector), keep, positions, ...inputBindings(selector)], workgroups);
      encodeExclusiveScan(ctx, run, keep, positions, count, total);
    }
    for (const group of groups) {
      const { decls, layout } = declare(group.builder, group.plans);
      const pipeline = ctx.pipeline('filter-project', { DECLS: decls, PREDICATE: '', OUTPUTS: group.text.join('\n') }, { WG }, 'project_rows', layout);
      const bindings: Binding[] = [params, flags, tablesOf(group.builder), keep, positions, ...inputBindings(group.builder)];
      for (const plan of group.plans) {
        const out = {
          plan,
          values: plan.value.dtype === 'bool' ? run.zeros(bitWordsBytes(count)) : run.temp(count * 4),
          validity: plan.nullable ? run.zeros(bitWordsBytes(count)) : null,
        };
        outs.push(out);
        bindings.push(out.values);
        if (out.validity) bindings.push(out.validity);
      }
      run.dispatch(pipeline, bindings, workgroups);
    }
    const kept = [flags, total, ...outs.flatMap((o) => (o.validity ? [o.values, o.validity] : [o.values]))];
    await run.submit(kept);
    try {
      const [flagBytes, totalBytes] = await ctx.readMany([
        { buffer: flags, bytes: 4 },
        { buffer: total, bytes: 4 },
      ]);
      raiseOverflow(new Uint32Array(flagBytes!)[0]!);
      const length = predicate ? new Uint32Array(totalBytes!)[0]! : count;
      const data = await ctx.readMany(
        outs.flatMap((o) => {
          const bytes = o.plan.value.dtype === 'bool' ? Math.ceil(length / 8) : length * 4;
          return o.validity
            ? [
                { buffer: o.values, bytes },
                { buffer: o.validity, bytes: Math.ceil(length / 8) },
              ]
            : [{ buffer: o.values, bytes }];
        }),
      );
      let at = 0;
      const made = outs.map((o) => {
        const values = data[at++]!;
        const validity = o.validity ? data[at++]! : null;
        const column = toColumn(o.plan.value, length, values, validity);
        // The output already sits on the device in the resident layout: a later operator reads it there.
        if (wholeInput) {
          resident.adopt(column, o.values, column.validity ? o.validity : null);
          adopted.add(o.values);
          if (column.validity) adopted.add(o.validity!);
        }
        return column;
      });
      return { length, names: outs.map((o) => o.plan.name), columns: made };
    } finally {
      ctx.recycle(kept.filter((buffer) => !adopted.has(buffer)));
    }
  } catch (error) {
    run.discard();
    throw error;
  } finally {
    for (const column of pinned) resident.unpin(column);
  }
}

function toColumn(value: WgslValue, length: number, bytes: ArrayBuffer, validityBytes: ArrayBuffer | null): Column {
  const dtype: DType = value.dtype;
  let values: Int32Array | Float32Array | Uint8Array;
  if (dtype === 'bool') {
    values = allocBitmap(length);
    values.set(new Uint8Array(bytes, 0, Math.ceil(length / 8)));
  } else {
    values = dtype === 'float32' ? allocShared(Float32Array, length) : allocShared(Int32Array, length);
    values.set(dtype === 'float32' ? new Float32Array(bytes, 0, length) : new Int32Array(bytes, 0, length));
  }
  let validity: Uint8Array | null = null;
  if (validityBytes) {
    validity = allocBitmap(length);
    validity.set(new Uint8Array(validityBytes, 0, Math.ceil(length / 8)));
  }
  return makeColumn(dtype, length, values, validity, dtype === 'utf8' ? (value.dictionary ?? []) : null);
}

function concatBatches(parts: readonly ColumnBatch[], names: readonly string[]): ColumnBatch {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const columns = names.map((_, k) => {
    const first = parts[0]!.columns[k]!;
    const dtype = first.dtype;
    const bits = dtype === 'bool';
    const values = bits ? allocBitmap(length) : dtype === 'float32' ? allocShared(Float32Array, length) : allocShared(Int32Array, length);
    const nullable = parts.some((p) => p.columns[k]!.validity !== null);
    const validity = nullable ? allocBitmap(length) : null;
    let at = 0;
    for (const part of parts) {
      const c = part.columns[k]!;
      for (let i = 0; i < c.length; i++) {
        const row = at + i;
        if (bits) {
          if ((c.values as Uint8Array)[i >> 3]! & (1 << (i & 7))) (values as Uint8Array)[row >> 3]! |= 1 << (row & 7);
        } else (values as Int32Array | Float32Array)[row] = (c.values as Int32Array | Float32Array)[i]!;
        if (validity && (c.validity === null || c.validity[i >> 3]! & (1 << (i & 7)))) validity[row >> 3]! |= 1 << (row & 7);
      }
      at += c.length;
    }
    return makeColumn(dtype, length, values, validity, first.dictionary);
  });
  return { length, names, columns };
}
