// `npm start`: a short demonstration of gpuframe until the ingest service lands here. It declares a
// model, validates columnar input, and runs one plan inline and on the worker pool.

import { z } from 'zod';
import { col, createExecutor, DataFrameModel, lit } from '../index.js';

class UserRow extends DataFrameModel({
  user_id: z.int32().meta({ alias: 'userId' }),
  amount: z.float64(),
  country: z.string().nullable(),
}) {}

const df = UserRow.fromColumns({ userId: [1, 2, 2, 3, 3, 3], amount: [9.5, 1, 2, 4, 0.5, 7], country: ['NL', null, 'NL', 'DE', 'DE', null] }, { trustedMode: 'strict' });

const query = df
  .filter(col('amount').gt(lit(1)))
  .groupBy('user_id')
  .agg({ total: col('amount').sum(), n: col('amount').count(), countries: col('country').nUnique() })
  .sort('user_id');

console.log(query.explain());
console.log('inline:', query.collectSync());
const executor = createExecutor({ backend: 'auto', maxWorkers: 2 });
try {
  console.log('pool:  ', await query.collect({ executor }));
} finally {
  await executor.close();
}
