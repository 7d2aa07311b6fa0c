// The service's models: what /ingest and /query accept, and the rollup rows it answers with.

import { z } from 'zod';
import { DataFrameModel } from '../index.js';

/** Largest |amount| /ingest accepts: totals of up to 2^53 such amounts stay finite and far from overflow. */
export const MAX_AMOUNT = 1e12;

/** One billing event; clients send `userId`, the frame calls it user_id. */
export class BillingEvent extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
}) {}

/** What /query reads: billing events, with an optional country to filter or group by. */
export class QueryEvent extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
  country: z.string().nullable().optional(),
}) {}

/** Accumulated totals per user, as /rollups answers them. */
export class Rollup extends DataFrameModel({
  user_id: z.int32(),
  total: z.float64(),
  count: z.int64(),
  mean: z.float64(),
}) {}
