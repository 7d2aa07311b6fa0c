// The CPU engine's operators, by physical operator name: it runs every one.

import type { OperatorName } from '../../../exec/operators.js';
import { aggregate } from './aggregate.js';
import { fillNull } from './fill-null.js';
import { filterProject } from './filter-project.js';
import { groupHead } from './group-head.js';
import { join } from './join.js';
import { slice } from './slice.js';
import { sort } from './sort.js';
import type { CpuOperator } from './types.js';
import { unique } from './unique.js';

export const CPU_OPERATORS: { readonly [N in Exclude<OperatorName, 'source'>]: CpuOperator<N> } = {
  'filter-project': filterProject,
  aggregate,
  sort,
  slice,
  unique,
  'group-head': groupHead,
  'fill-null': fillNull,
  join,
};
