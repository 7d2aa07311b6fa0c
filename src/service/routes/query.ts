// POST /query: data plus a plan, answered in the format Accept asks for.
// - application/json: { "data": { "userId": [...], "amount": [...], "country": [...] }, "plan": {...} }
// - Arrow IPC (stream or file): the body is the data; the plan is JSON in the `plan` query parameter.

import Router from '@koa/router';
import { ValidationError } from '../../errors.js';
import {
  ARROW_FILE_TYPE,
  ARROW_STREAM_TYPE,
  arrowFrame,
  getExecutor,
  JSON_TYPE,
  MalformedBodyError,
  negotiateFormat,
  parseJson,
  readBody,
  requireMediaType,
  sendFrame,
  type GpuframeState,
} from '../../koa/index.js';
import { QueryEvent } from '../models.js';
import type { ServiceContext } from '../context.js';
import { parseQueryPlan, planFrame } from '../query-plan.js';

const ACCEPTED = [JSON_TYPE, ARROW_STREAM_TYPE, ARROW_FILE_TYPE];

export function queryRouter(service: ServiceContext): Router<GpuframeState> {
  const router = new Router<GpuframeState>();
  router.post('/query', async (ctx) => {
    const type = requireMediaType(ctx, ACCEPTED);
    const format = negotiateFormat(ctx);
    const bytes = await readBody(ctx, { limit: service.config.bodyLimit, timeoutMs: service.config.bodyTimeoutMs });
    let data: QueryEvent;
    let planInput: unknown;
    if (type === JSON_TYPE) {
      const body = parseJson(bytes);
      if (typeof body !== 'object' || body === null || Array.isArray(body) || !('data' in body) || !('plan' in body)) {
        throw new ValidationError([
          { column: null, row: null, code: 'invalid_body', message: 'expected an object { "data": { column: [cells] }, "plan": { ... } }' },
        ]);
      }
      data = QueryEvent.fromColumns(body.data, { trustedMode: 'strict' });
      planInput = body.plan;
    } else {
      const text = ctx.query['plan'];
      if (typeof text !== 'string')
        throw new ValidationError([
          { column: null, row: null, code: 'missing_plan', message: 'an Arrow body needs the plan as JSON in the `plan` query parameter' },
        ]);
      try {
        planInput = JSON.parse(text);
      } catch (error) {
        throw new MalformedBodyError(`the plan parameter is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- arrowFrame returns a frame of the model it was given
      data = arrowFrame(QueryEvent, bytes, { trustedMode: 'strict' });
    }
    const frame = planFrame(data, parseQueryPlan(planInput));
    await sendFrame(ctx, frame, { format, executor: getExecutor(ctx) });
  });
  return router;
}
