// Worker entry for the CPU engine's pool (built on its own as worker.js): compiles a kernel once per
// source text and runs it over the shared column memory the task points at.

import { compileKernel } from './kernels/compile.js';
import { kernelLib } from './kernels/runtime.js';
import type { KernelReply, KernelTask } from './kernels/types.js';

export default function runKernel(task: KernelTask): KernelReply {
  return runKernelTask(task);
}

export function runKernelTask(task: KernelTask): KernelReply {
  try {
    const result = compileKernel(task.source)(task.cols, task.params, task.start, task.end, task.out, kernelLib);
    return { ok: true, result };
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'kernel_error';
    return { ok: false, code, message: error instanceof Error ? error.message : String(error) };
  }
}
