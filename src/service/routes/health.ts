// GET /health: which engine answers (the GPU adapter, or the CPU), the pool, queues and uptime.

import Router from '@koa/router';
import type { GpuframeState } from '../../koa/index.js';
import type { ServiceContext } from '../context.js';

export function healthRouter(service: ServiceContext): Router<GpuframeState> {
  const router = new Router<GpuframeState>();
  router.get('/health', (ctx) => {
    const life = service.lifecycle.stats();
    const exec = life.state === 'running' ? service.lifecycle.executor.stats() : null;
    const gpu = exec?.gpu ?? null;
    // 'auto' never hands work to a software adapter; say so rather than report a GPU that is not used.
    const software = gpu !== null && (gpu.adapter.architecture === 'software' || gpu.adapter.isFallbackAdapter);
    const usesGpu = gpu !== null && (exec?.backend === 'webgpu' || !software);
    ctx.status = life.state === 'running' ? 200 : 503;
    ctx.body = {
      status: life.state === 'running' ? 'ok' : life.state,
      backend: {
        configured: exec?.backend ?? service.config.backend,
        in_use: usesGpu ? 'webgpu' : 'cpu',
        adapter: gpu
          ? `${gpu.adapter.vendor} ${gpu.adapter.device} (${gpu.adapter.architecture}${gpu.adapter.description ? `, ${gpu.adapter.description}` : ''})`.trim()
          : null,
        gpu_unavailable: exec?.gpuUnavailable ?? null,
        device_losses: exec?.deviceLosses ?? 0,
      },
      pool: { workers: exec?.workers ?? 0, queue_depth: exec?.queueDepth ?? 0, active_jobs: exec?.activeJobs ?? 0 },
      tasks: { pending: life.pendingTasks, completed: life.completedTasks, failed: life.failedTasks },
      in_flight_requests: life.inFlightRequests,
      uptime_s: Math.round(life.uptimeMs / 10) / 100,
    };
  });
  return router;
}
