// Finalisation's ordering of groups by their first row, against a sort.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { groupsByFirstRow } from '../../../src/engines/shared/aggregate-finalize.js';

describe('groupsByFirstRow', () => {
  it('orders the groups that saw a row by that row, across both of its methods and any row range', () => {
    fc.assert(
      fc.property(
        // Short lengths take the row-indexed table (8 or more rows per group is the sort), long ones the sort.
        fc
          .oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }))
          .chain((length) =>
            fc.tuple(
              fc.constant(length),
              fc.uniqueArray(fc.integer({ min: 0, max: Math.min(length, 2 ** 31) - 1 }), { maxLength: Math.min(length, 400) }),
              fc.array(fc.boolean(), { maxLength: 400 }),
              fc.boolean(),
            ),
          ),
        ([length, rows, absent, sorted]) => {
          // Some ids saw no row (-1), as in a dense partial; hash group-bys come already in first-row order.
          if (sorted) rows.sort((a, b) => a - b);
          const firstRow = Int32Array.from(rows, (row, g) => (absent[g] && !sorted ? -1 : row));
          const expected = [...firstRow.keys()].filter((g) => firstRow[g]! >= 0).sort((a, b) => firstRow[a]! - firstRow[b]!);
          assert.deepEqual(Array.from(groupsByFirstRow(firstRow, firstRow.length, length)), expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
