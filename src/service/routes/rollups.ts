// GET /rollups: accumulated totals per user, ordered by user_id, as JSON rows, NDJSON or Arrow.

import Router from '@koa/router';
import { negotiateFormat, sendFrame, type GpuframeState } from '../../koa/index.js';
import { Rollup } from '../models.js';
import type { ServiceContext } from '../context.js';

export function rollupsRouter(service: ServiceContext): Router<GpuframeState> {
  const router = new Router<GpuframeState>();
  router.get('/rollups', async (ctx) => {
    const format = negotiateFormat(ctx);
    const rows = await service.store.rollups();
    const frame = Rollup.fromColumns(
      {
        user_id: rows.map((r) => r.user_id),
        total: rows.map((r) => r.total),
        count: rows.map((r) => BigInt(r.count)),
        mean: rows.map((r) => r.mean),
      },
      // The store's own rows: a value it holds must not turn into a client error here.
      { trustedMode: 'shape_only' },
    );
    await sendFrame(ctx, frame, { format });
  });
  return router;
}
