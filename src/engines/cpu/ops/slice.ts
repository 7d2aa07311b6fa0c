// slice on the CPU: views of its input's rows in the window (bitmaps copied where they must realign).

import { sliceBatch } from '../../shared/gather.js';
import type { CpuOperator } from './types.js';

export const slice: CpuOperator<'slice'> = {
  *run(op, [input]) {
    return sliceBatch(input!, op.window.offset, op.window.length);
  },
};
