// The service's models: what /ingest and /query accept, and the rollup rows it answers with.

import { z } from 'zod';
import { DataFrameModel, decimal } from '../index.js';

/** Largest |amount| /ingest accepts: totals of up to 2^53 such amounts need 28 integer digits, within DECIMAL(38, 2). */
export const MAX_AMOUNT = 1e12;

/** Fraction digits of a billing amount: cents. An amount with more is refused, never rounded. */
export const AMOUNT_SCALE = 2;

/**
 * One billing event; clients send `userId`, the frame calls it user_id. Amounts are exact decimals (JSON
 * numbers or strings such as "12.30"), so totals are exact sums: a float64 total drifted by 1e-6 over
 * 1,000 ingests of cents.
 */
export class BillingEvent extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  // 13 integer digits hold MAX_AMOUNT: a larger amount is refused with the other validation issues.
  amount: decimal(15, AMOUNT_SCALE),
}) {}

/**
 * What /query reads: billing events, with an optional country to filter or group by. Amounts stay float64
 * here: a query computes statistics (std, var, median) over the events it is sent and persists nothing.
 */
export class QueryEvent extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
  country: z.string().nullable().optional(),
}) {}

/** Accumulated totals per user, as /rollups answers them. */
export class Rollup extends DataFrameModel({
  user_id: z.int32(),
  total: decimal(38, AMOUNT_SCALE),
  count: z.int64(),
  mean: z.float64(),
}) {}
