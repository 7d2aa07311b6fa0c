// Leaf of every plan: a validated batch of columns with its schema.

import type { ColumnBatch, Field } from '../model/types.js';
import type { PlanNode } from './types.js';

export function sourceNode(schema: readonly Field[], batch: ColumnBatch, label = 'frame'): PlanNode {
  return { kind: 'source', schema, batch, label };
}
