// One WebGPU device as the engine uses it: shader loading with spliced code, a pipeline cache keyed by
// the full shader text and override constants, a buffer pool keyed by size and usage whose buffers come
// back only after the submit that used them has completed, and small helpers to record dispatches and
// read results back. Kernels (kernels/*.ts) build on this and never touch the device directly.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError, ExecutionError } from '../../errors.js';
import type { AcquiredDevice } from '../../../native/dawn.js';

const SHADER_DIR = fileURLToPath(new URL('../../../../shaders/', import.meta.url));
const shaderFiles = new Map<string, string>();

/**
 * The text of `shaders/<family>.wgsl` with `common.wgsl` in front and each `//@include NAME` line
 * replaced by `shaders/NAME.wgsl`; read once per process.
 */
export function shaderSource(family: string): string {
  let text = shaderFiles.get(family);
  if (text === undefined) {
    const read = (name: string): string => readFileSync(`${SHADER_DIR}${name}.wgsl`, 'utf8');
    text = `${read('common')}\n${read(family).replace(/^\/\/@include (\S+)[ \t]*$/gm, (_, name: string) => read(name))}`;
    shaderFiles.set(family, text);
  }
  return text;
}

/**
 * Replaces each `//@splice NAME` line with generated code, and each `$NAME` token with the value of the
 * splice named `$NAME` (a name the kernel chooses, such as the array its state lives in). A marker left
 * unfilled, or code with no marker, is an error.
 */
export function spliceShader(text: string, splices: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const out = text.replace(/^[ \t]*\/\/@splice (\w+)[ \t]*$/gm, (_, name: string) => {
    const code = splices[name];
    if (code === undefined) throw new Error(`shader splice '${name}' has no code`);
    used.add(name);
    return code;
  });
  let result: string = out;
  for (const [name, value] of Object.entries(splices)) {
    if (!name.startsWith('$')) continue;
    if (!result.includes(name)) throw new Error(`shader has no token '${name}'`);
    result = result.replaceAll(name, value);
    used.add(name);
  }
  const left = /\$[A-Z_]+/.exec(result.replace(/\/\/.*$/gm, ''));
  if (left) throw new Error(`shader token ${left[0]} has no value`);
  for (const name of Object.keys(splices)) if (!used.has(name)) throw new Error(`shader has no splice marker '${name}'`);
  return result;
}

/** Shared memory is staged to the queue in pieces of this size (a multiple of 4). */
const WRITE_STAGING_BYTES = 16 * 1024 * 1024;

export const STORAGE = 0x0080 | 0x0004 | 0x0008; // STORAGE | COPY_SRC | COPY_DST
const UNIFORM = 0x0040 | 0x0008; // UNIFORM | COPY_DST
const READBACK = 0x0001 | 0x0008; // MAP_READ | COPY_DST

export type BindingType = 'uniform' | 'storage' | 'read-only-storage';

/** A buffer binding: a whole buffer or a byte range of one. */
export type Binding = GPUBuffer | { readonly buffer: GPUBuffer; readonly offset: number; readonly size: number };

/** Device limits the kernels plan around. */
export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

/**
 * A kernel cannot take this input on this device (too many columns for its binding slots, a size past
 * a limit): the engine runs the step on the CPU instead. Never reaches users.
 */
export class GpuUnsupportedError extends Error {}

export interface GpuContextOptions {
  /** Cap on bytes a single binding may span (below the device's limit); tests set it to force chunking. */
  readonly maxBindingBytes?: number;
  /** Free pooled buffers kept for reuse, in bytes (default 256 MiB). */
  readonly poolBytes?: number;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly limits: GpuLimits;
  /** Bytes one storage binding may cover: the device limit, or less when configured. */
  readonly bindingBytes: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Per pipeline, its compile check: null when it compiled, else the error. */
  readonly checks = new WeakMap<GPUComputePipeline, Promise<string | null>>();
  private readonly freeBuffers = new Map<string, GPUBuffer[]>();
  private freeBytes = 0;
  private readonly poolBytes: number;
  private lostReason: string | null = null;
  /** Device errors not yet reported by a submit. */
  readonly errors: string[] = [];
  /** Counters for tests and stats: how often the caches hit. */
  readonly counters = { pipelinesCreated: 0, pipelineHits: 0, buffersCreated: 0, bufferHits: 0, submits: 0 };

  constructor(
    readonly acquired: AcquiredDevice,
    options: GpuContextOptions = {},
  ) {
    this.device = acquired.device;
    const l = acquired.limits;
    const get = (name: string, fallback: number): number => l[name] ?? fallback;
    this.limits = {
      maxStorageBufferBindingSize: get('maxStorageBufferBindingSize', 134217728),
      maxBufferSize: get('maxBufferSize', 268435456),
      maxComputeWorkgroupStorageSize: get('maxComputeWorkgroupStorageSize', 16384),
      maxComputeInvocationsPerWorkgroup: get('maxComputeInvocationsPerWorkgroup', 256),
      maxComputeWorkgroupsPerDimension: get('maxComputeWorkgroupsPerDimension', 65535),
      minStorageBufferOffsetAlignment: get('minStorageBufferOffsetAlignment', 256),
      maxStorageBuffersPerShaderStage: get('maxStorageBuffersPerShaderStage', 8),
    };
    this.bindingBytes = Math.min(this.limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity);
    this.poolBytes = options.poolBytes ?? 256 * 1024 * 1024;
    void this.device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    // Validation errors surface asynchronously; a submit checks for new ones once its work is done.
    this.device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      this.errors.push(event.error.message);
    };
  }

  get lost(): boolean {
    return this.lostReason !== null;
  }

  /** Throws when the device is gone, so callers fall back instead of waiting on a dead queue. */
  assertAlive(): void {
    if (this.lostReason !== null) throw new BackendUnavailableError(`the WebGPU device was lost (${this.lostReason})`);
  }

  /**
   * A compute pipeline for `shaders/<family>.wgsl` with `splices` and override `constants`, from the cache.
   * With `bindings` (the type of binding 0, 1, …) the layout is explicit, so an entry point that leaves
   * some binding unused still takes the same bind group; without, it is inferred ('auto').
   */
  pipeline(
    family: string,
    splices: Readonly<Record<string, string>> = {},
    constants: Readonly<Record<string, number>> = {},
    entryPoint = 'main',
    bindings?: readonly BindingType[],
  ): GPUComputePipeline {
    if (bindings && bindings.filter((b) => b !== 'uniform').length > this.limits.maxStorageBuffersPerShaderStage) {
      throw new GpuUnsupportedError(
        `${family} needs ${bindings.length - 1} storage bindings; the device allows ${this.limits.maxStorageBuffersPerShaderStage}`,
      );
    }
    const code = spliceShader(shaderSource(family), splices);
    const key = `${family}\u0000${entryPoint}\u0000${JSON.stringify(Object.entries(constants).sort())}\u0000${bindings?.join(',') ?? 'auto'}\u0000${code}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline) {
      this.counters.pipelineHits++;
      return pipeline;
    }
    // Shader and pipeline errors arrive asynchronously: the check is awaited before the first submit
    // that uses the pipeline, and a failed pipeline leaves the cache.
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: family });
    const layout = bindings
      ? this.device.createPipelineLayout({
          bindGroupLayouts: [
            this.device.createBindGroupLayout({ entries: bindings.map((type, binding) => ({ binding, visibility: 0x4 /* COMPUTE */, buffer: { type } })) }),
          ],
        })
      : 'auto';
    pipeline = this.device.createComputePipeline({ layout, label: family, compute: { module, entryPoint, constants: { ...constants } } });
    const check = this.device.popErrorScope().then((error) => {
      if (!error) return null;
      this.pipelines.delete(key);
      return `shader '${family}' (${entryPoint}) did not compile: ${error.message}`;
    });
    this.checks.set(pipeline, check);
    this.counters.pipelinesCreated++;
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /** A storage buffer of at least `bytes` (rounded up to a size class) from the pool. */
  buffer(bytes: number, usage: number = STORAGE): GPUBuffer {
    const size = sizeClass(Math.max(16, bytes));
    if (size > this.limits.maxBufferSize)
      throw new GpuUnsupportedError(`a ${bytes}-byte buffer exceeds the device's maxBufferSize (${this.limits.maxBufferSize})`);
    const key = `${usage}:${size}`;
    const free = this.freeBuffers.get(key);
    const reused = free?.pop();
    if (reused) {
      this.freeBytes -= size;
      this.counters.bufferHits++;
      return reused;
    }
    this.counters.buffersCreated++;
    return this.device.createBuffer({ size, usage });
  }

  /** Returns buffers to the pool (or destroys them past the pool's budget); only call once no submit uses them. */
  recycle(buffers: readonly GPUBuffer[]): void {
    for (const buffer of buffers) {
      if (this.freeBytes + buffer.size > this.poolBytes || this.lost) {
        buffer.destroy();
        continue;
      }
      const key = `${buffer.usage}:${buffer.size}`;
      let free = this.freeBuffers.get(key);
      if (!free) this.freeBuffers.set(key, (free = []));
      free.push(buffer);
      this.freeBytes += buffer.size;
    }
  }

  /** A storage buffer holding `data`, padded to 4 bytes, from the pool. */
  upload(data: ArrayBufferView, minBytes = 0): GPUBuffer {
    const buffer = this.buffer(Math.max(minBytes, data.byteLength));
    this.write(buffer, 0, data);
    return buffer;
  }

  /**
   * Writes `data` at `offset`; a tail that is not a multiple of 4 bytes is padded with zeros. Dawn takes
   * no SharedArrayBuffer, so shared column memory goes through a bounded staging copy.
   */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const shared = !(data.buffer instanceof ArrayBuffer);
    const step = shared ? WRITE_STAGING_BYTES : bytes.byteLength;
    for (let at = 0; at < bytes.byteLength; at += step) {
      const part = bytes.subarray(at, Math.min(bytes.byteLength, at + step));
      const padded = roundUp(part.byteLength, 4);
      if (!shared && padded === part.byteLength) {
        this.device.queue.writeBuffer(buffer, offset + at, part.buffer, part.byteOffset, part.byteLength);
        continue;
      }
      const copy = new Uint8Array(padded);
      copy.set(part);
      this.device.queue.writeBuffer(buffer, offset + at, copy.buffer, 0, padded);
    }
  }

  /** Starts recording a submit. */
  begin(): Recorder {
    this.assertAlive();
    return new Recorder(this);
  }

  /** Copies `bytes` from `buffer` at `offset` to the host. */
  async read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    if (bytes === 0) return new ArrayBuffer(0);
    const run = this.begin();
    const staging = run.temp(bytes, READBACK);
    run.encoder.copyBufferToBuffer(buffer, offset, staging, 0, roundUp(bytes, 4));
    await run.submit([staging]);
    await this.mapped(staging);
    const copy = staging.getMappedRange(0, roundUp(bytes, 4)).slice(0, bytes);
    staging.unmap();
    this.recycle([staging]);
    return copy;
  }

  /** Reads several ranges in one submit. */
  async readMany(ranges: readonly { readonly buffer: GPUBuffer; readonly bytes: number; readonly offset?: number }[]): Promise<ArrayBuffer[]> {
    const run = this.begin();
    const stagings = ranges.map((r) => {
      const staging = run.temp(Math.max(4, r.bytes), READBACK);
      if (r.bytes > 0) run.encoder.copyBufferToBuffer(r.buffer, r.offset ?? 0, staging, 0, roundUp(r.bytes, 4));
      return staging;
    });
    await run.submit(stagings);
    const out: ArrayBuffer[] = [];
    for (const [k, staging] of stagings.entries()) {
      await this.mapped(staging);
      const bytes = ranges[k]!.bytes;
      out.push(staging.getMappedRange(0, roundUp(Math.max(4, bytes), 4)).slice(0, bytes));
      staging.unmap();
    }
    this.recycle(stagings);
    return out;
  }

  private async mapped(buffer: GPUBuffer): Promise<void> {
    try {
      await buffer.mapAsync(0x0001);
    } catch (error) {
      this.assertAlive();
      throw error;
    }
  }

  destroy(): void {
    for (const list of this.freeBuffers.values()) for (const b of list) b.destroy();
    this.freeBuffers.clear();
    this.freeBytes = 0;
    this.pipelines.clear();
    this.acquired.release();
  }
}

/** Records dispatches and copies for one queue submit; temporaries return to the pool once it completes. */
export class Recorder {
  readonly encoder: GPUCommandEncoder;
  private readonly temps: GPUBuffer[] = [];
  private readonly used = new Set<GPUComputePipeline>();
  private pass: GPUComputePassEncoder | null = null;
  private finished = false;

  constructor(private readonly ctx: GpuContext) {
    this.encoder = ctx.device.createCommandEncoder();
  }

  /** A pooled buffer released with this submit. */
  temp(bytes: number, usage: number = STORAGE): GPUBuffer {
    const buffer = this.ctx.buffer(bytes, usage);
    this.temps.push(buffer);
    return buffer;
  }

  /** A zero-filled pooled storage buffer released with this submit. */
  zeros(bytes: number): GPUBuffer {
    const buffer = this.temp(bytes);
    this.clear(buffer, 0, bytes);
    return buffer;
  }

  /** A uniform buffer holding `words` (u32/i32/f32 bit patterns), released with this submit. */
  uniform(words: ArrayBufferView): GPUBuffer {
    const buffer = this.temp(roundUp(Math.max(16, words.byteLength), 16), UNIFORM);
    this.ctx.write(buffer, 0, words);
    return buffer;
  }

  /**
   * Dispatches `pipeline` with `bindings[k]` at binding k of group 0. A null skips a binding the entry
   * point does not use ('auto' layouts leave those out).
   */
  dispatch(pipeline: GPUComputePipeline, bindings: readonly (Binding | null)[], workgroups: number): void {
    if (workgroups <= 0) return;
    this.used.add(pipeline);
    const entries: GPUBindGroupEntry[] = [];
    bindings.forEach((b, binding) => {
      if (b === null) return;
      // A pooled buffer can be larger than its use (size classes): bind no more than a binding may cover.
      const whole = 'buffer' in b ? null : { buffer: b, offset: 0, size: Math.min(b.size, Math.floor(this.ctx.limits.maxStorageBufferBindingSize / 4) * 4) };
      entries.push({ binding, resource: whole ?? b });
    });
    const bindGroup = this.ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    const [x, y] = grid(workgroups, this.ctx.limits.maxComputeWorkgroupsPerDimension);
    this.pass.dispatchWorkgroups(x, y);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    if (bytes > 0) this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, roundUp(bytes, 4));
  }

  clear(buffer: GPUBuffer, offset: number, bytes: number): void {
    this.endPass();
    if (bytes > 0) this.encoder.clearBuffer(buffer, offset, roundUp(bytes, 4));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /**
   * Gives the temporaries back without submitting, for a recording abandoned by an error (nothing
   * recorded ever reaches the queue, so they are free at once). A no-op once submitted.
   */
  discard(): void {
    if (this.finished) return;
    this.finished = true;
    this.pass?.end();
    this.pass = null;
    this.ctx.recycle(this.temps);
  }

  /** Submits; resolves once the GPU has finished, then returns temporaries (and `release`) to the pool. */
  async submit(release: readonly GPUBuffer[] = []): Promise<void> {
    this.endPass();
    const ctx = this.ctx;
    ctx.assertAlive();
    // eslint-disable-next-line @typescript-eslint/await-thenable -- pipelines without a pending check map to null, which Promise.all passes through
    const failures = (await Promise.all([...this.used].map((p) => ctx.checks.get(p) ?? null))).filter((f) => f !== null);
    if (failures.length > 0) {
      ctx.errors.splice(0);
      this.discard();
      throw new ExecutionError(failures.join('; '));
    }
    this.finished = true;
    ctx.device.queue.submit([this.encoder.finish()]);
    ctx.counters.submits++;
    try {
      await ctx.device.queue.onSubmittedWorkDone();
      ctx.assertAlive();
      if (ctx.errors.length > 0) throw new ExecutionError(`WebGPU reported: ${ctx.errors.splice(0).join('; ')}`);
    } catch (error) {
      // The caller never gets to read or recycle what it meant to keep.
      ctx.recycle(release);
      throw error;
    } finally {
      // Recycling after a loss destroys instead of pooling.
      ctx.recycle(this.temps.filter((t) => !release.includes(t)));
    }
  }
}

/** Workgroup grid for `count` workgroups: x up to the per-dimension limit, y for the rest. */
export function grid(count: number, perDimension: number): [number, number] {
  if (count <= perDimension) return [count, 1];
  const y = Math.ceil(count / perDimension);
  return [Math.ceil(count / y), y];
}

export function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/** Pool size classes: powers of two up to 1 MiB, then multiples of 1 MiB, so reuse is likely and waste small. */
function sizeClass(bytes: number): number {
  if (bytes <= 1 << 20) return 2 ** Math.ceil(Math.log2(bytes));
  return roundUp(bytes, 1 << 20);
}
