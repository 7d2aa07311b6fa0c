// groupMedian selects the median in place; it must equal what a full typed-array sort gives (numeric,
// -0 before 0, NaN last), sign of zero included, on any slice of any array.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { groupMedian } from '../../../src/engines/shared/aggregate-finalize.js';

function sortedMedian(values: readonly number[]): number {
  const part = Float64Array.from(values).sort();
  const mid = part.length >> 1;
  return part.length % 2 === 1 ? part[mid]! : (part[mid - 1]! + part[mid]!) / 2;
}

const cell = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -5, max: 5 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity) },
  { weight: 2, arbitrary: fc.double({ noNaN: true }) },
);

test('groupMedian equals the median of a full sort, on a slice, NaN and signed zeros included (property)', () => {
  fc.assert(
    fc.property(
      fc.array(cell, { maxLength: 5 }),
      fc.array(cell, { minLength: 1, maxLength: 200 }),
      fc.array(cell, { maxLength: 5 }),
      (before, group, after) => {
        const a = Float64Array.from([...before, ...group, ...after]);
        const got = groupMedian(a, before.length, before.length + group.length);
        assert.ok(Object.is(got, sortedMedian(group)), `median of ${JSON.stringify(group.map(String))}: ${got} vs ${sortedMedian(group)}`);
        // Only the group's own slice may be reordered.
        assert.deepEqual([...a.subarray(0, before.length)].map(String), before.map(String));
        assert.deepEqual([...a.subarray(before.length + group.length)].map(String), after.map(String));
      },
    ),
    { numRuns: 2000 },
  );
});

test('groupMedian on long sorted, reversed and constant runs', () => {
  for (const values of [Array.from({ length: 10_001 }, (_, i) => i), Array.from({ length: 10_000 }, (_, i) => -i), new Array<number>(9_999).fill(3)]) {
    assert.equal(groupMedian(Float64Array.from(values), 0, values.length), sortedMedian(values));
  }
});
