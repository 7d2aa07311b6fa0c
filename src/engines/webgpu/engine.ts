// The WebGPU engine: walks the same optimised plan as the CPU engine and runs each operator on the
// device when its kernels cover it (filter/projection, group-by and reductions, sort, join), else on the
// CPU engine over the materialised inputs. A lost device or an f32 overflow in a float sum moves that
// step to the CPU too, so a result is never lost or wrong. Per-operator engine and time go to `timings`.

import { BackendUnavailableError, CancelledError, ExecutionError, GpuMemoryError } from '../../errors.js';
import type { BoundExpr } from '../../expr/types.js';
import type { ColumnBatch } from '../../model/types.js';
import type { OperatorTiming } from '../../plan/explain.js';
import type { PlanNode } from '../../plan/types.js';
import { columnsNamed, executeNode, joinedBatch, runAsync, scanShape, type CpuRunOptions } from '../cpu/engine.js';
import { evaluateAtRows } from '../cpu/kernels/scan.js';
import { gatherBatch, sliceBatch } from '../shared/gather.js';
import { GpuUnsupportedError, type GpuContext } from './context.js';
import { filterProjectUnsupported, gpuFilterProject } from './kernels/filter-project.js';
import { F32OverflowError, gpuGroupBy, groupByFits, groupByUnsupported } from './kernels/group-by.js';
import { gpuHashJoin, gpuJoinSupports } from './kernels/join.js';
import { gpuSortIndices, gpuSortSupports } from './kernels/sort.js';
import type { ResidentColumns } from './resident.js';

export interface GpuRunOptions {
  readonly ctx: GpuContext;
  readonly resident: ResidentColumns;
  /** How the CPU engine runs the steps the device does not take. */
  readonly cpu: CpuRunOptions;
  /** Operators over fewer input rows run on the CPU ('auto'); 0 sends everything the device covers to it. */
  readonly handoffRows: number;
  readonly timings?: Map<PlanNode, OperatorTiming>;
  /**
   * 'webgpu' (true): a step whose columns exceed the device memory budget fails with GpuMemoryError.
   * 'auto' (false): such a step runs on the CPU instead.
   */
  readonly strict: boolean;
  /** Called when the device turns out lost mid-query; the step reruns on the CPU. */
  readonly onDeviceLost?: (error: unknown) => void;
}

function source(batch: ColumnBatch, like: PlanNode): PlanNode {
  return { kind: 'source', schema: like.schema, batch, label: 'materialised' };
}

/** Runs `node` on the CPU engine with its (already computed) inputs. */
function cpuStep(node: PlanNode, inputs: readonly [PlanNode, ColumnBatch][], options: GpuRunOptions): Promise<ColumnBatch> {
  let replaced = node;
  const swap = (n: PlanNode): PlanNode => {
    const hit = inputs.find(([from]) => from === n);
    return hit ? source(hit[1], n) : n;
  };
  switch (node.kind) {
    case 'join':
      replaced = { ...node, left: swap(node.left), right: swap(node.right) };
      break;
    case 'source':
      break;
    case 'project':
      replaced =
        node.input.kind === 'filter' && inputs[0]![0] !== node.input
          ? { ...node, input: { ...node.input, input: swap(node.input.input) } }
          : { ...node, input: swap(node.input) };
      break;
    case 'aggregate':
      replaced =
        node.input.kind === 'filter' && inputs[0]![0] !== node.input
          ? { ...node, input: { ...node.input, input: swap(node.input.input) } }
          : { ...node, input: swap(node.input) };
      break;
    default:
      replaced = { ...node, input: swap(node.input) };
  }
  const cpu: CpuRunOptions = { ...options.cpu, timings: new Map() };
  return runAsync(executeNode(replaced, cpu), options.cpu.signal);
}

async function step(
  node: PlanNode,
  options: GpuRunOptions,
  inputs: readonly [PlanNode, ColumnBatch][],
  rows: number,
  gpu: (() => Promise<ColumnBatch>) | null,
): Promise<ColumnBatch> {
  const started = performance.now();
  const useGpu = gpu !== null && rows >= options.handoffRows && !options.ctx.lost;
  if (useGpu) {
    try {
      const out = await gpu();
      options.timings?.set(node, { engine: 'webgpu', ms: performance.now() - started });
      return out;
    } catch (error) {
      if (error instanceof F32OverflowError || error instanceof GpuUnsupportedError) {
        // Fall through to the CPU: it sums in f64 and has no binding limits.
      } else if ((error instanceof GpuMemoryError || error instanceof ExecutionError) && !options.strict) {
        // 'auto' never refuses work the CPU can do, even past a shader the driver would not compile;
        // 'webgpu' reports both, so a kernel bug cannot hide behind the CPU.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- lost is a getter: the device can be lost while the step ran
      } else if (error instanceof BackendUnavailableError && options.ctx.lost) {
        options.onDeviceLost?.(error);
      } else throw error;
    }
  }
  const out = await cpuStep(node, inputs, options);
  options.timings?.set(node, { engine: 'cpu', ms: performance.now() - started });
  return out;
}

export async function executeGpu(node: PlanNode, options: GpuRunOptions): Promise<ColumnBatch> {
  const signal = options.cpu.signal;
  if (signal?.aborted) throw new CancelledError('execution was cancelled', { cause: signal.reason });
  const { ctx, resident } = options;
  switch (node.kind) {
    case 'source':
      return node.batch;
    case 'project':
    case 'filter': {
      const shape = scanShape(node)!;
      const input = await executeGpu(shape.input, options);
      const reason = filterProjectUnsupported(shape.predicate, shape.outputs);
      return step(
        node,
        options,
        [[shape.input, input]],
        input.length,
        reason ? null : () => gpuFilterProject(ctx, resident, input, shape.predicate, shape.outputs),
      );
    }
    case 'aggregate': {
      const fused = node.input.kind === 'filter' ? node.input : null;
      const below = fused ? fused.input : node.input;
      const input = await executeGpu(below, options);
      const predicate: BoundExpr | null = fused ? fused.predicate : null;
      const columns = new Map(input.names.map((n, k) => [n, input.columns[k]!]));
      const ok = groupByUnsupported(columns, node.keys, node.aggs, predicate) === null && groupByFits(ctx, input, node.keys, node.aggs);
      return step(
        node,
        options,
        [[below, input]],
        input.length,
        ok ? () => gpuGroupBy(ctx, resident, input, { predicate, keys: node.keys, aggs: node.aggs }, evaluateAtRows) : null,
      );
    }
    case 'sort': {
      const input = await executeGpu(node.input, options);
      const ok = gpuSortSupports(input, node.keys, ctx);
      return step(
        node,
        options,
        [[node.input, input]],
        input.length,
        ok ? async () => gatherBatch(input, await gpuSortIndices(ctx, resident, input, node.keys)) : null,
      );
    }
    case 'join': {
      const left = await executeGpu(node.left, options);
      const right = await executeGpu(node.right, options);
      const leftKeys = columnsNamed(left, node.leftOn);
      const rightKeys = columnsNamed(right, node.rightOn);
      const ok = gpuJoinSupports(leftKeys, rightKeys, ctx);
      const run = async (): Promise<ColumnBatch> => {
        const { leftRows, rightRows } = await gpuHashJoin(ctx, resident, leftKeys, rightKeys, node.how);
        return joinedBatch(node, left, right, leftRows, rightRows);
      };
      return step(
        node,
        options,
        [
          [node.left, left],
          [node.right, right],
        ],
        Math.max(left.length, right.length),
        ok ? run : null,
      );
    }
    case 'slice': {
      const sort = node.input.kind === 'sort' ? node.input : null;
      const wanted = node.offset + node.length;
      if (sort && Number.isFinite(wanted)) {
        // Only the first `wanted` rows of the order are needed: the sort runs inside this step as a top-k,
        // so it has no timing of its own. The CPU fallback gets the sort over the materialised input, not
        // the plan below it again, and its timing is moved to this node.
        const input = await executeGpu(sort.input, options);
        const fused: PlanNode = { ...node, input: { ...sort, input: source(input, sort.input) } };
        const topRows = async (): Promise<ColumnBatch> =>
          sliceBatch(gatherBatch(input, await gpuSortIndices(ctx, resident, input, sort.keys, wanted)), node.offset, node.length);
        const timings = new Map<PlanNode, OperatorTiming>();
        const out = await step(fused, { ...options, timings }, [], input.length, gpuSortSupports(input, sort.keys, ctx) ? topRows : null);
        const timing = timings.get(fused);
        if (timing) options.timings?.set(node, timing);
        return out;
      }
      const input = await executeGpu(node.input, options);
      return step(node, options, [[node.input, input]], input.length, null);
    }
    case 'unique':
    case 'groupHead': {
      // No device kernel: the CPU engine runs the step over the materialised input (a group head's
      // folded sort included, as its per-group top-n).
      const input = await executeGpu(node.input, options);
      return step(node, options, [[node.input, input]], input.length, null);
    }
  }
}
