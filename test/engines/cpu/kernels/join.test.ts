// hashJoin against a nested-loop join over JS cells, for every `how`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hashJoin } from '../../../../src/engines/cpu/kernels/join.js';
import { ExpressionTypeError } from '../../../../src/errors.js';
import type { DType } from '../../../../src/model/types.js';
import type { JoinHow } from '../../../../src/plan/types.js';
import { buildColumn, columnArbitrary, DTYPES, sameKey, type TestColumn } from './kernel-helpers.js';

const HOWS: readonly JoinHow[] = ['inner', 'left', 'semi', 'anti'];

function referenceJoin(
  left: readonly TestColumn[],
  right: readonly TestColumn[],
  leftLength: number,
  rightLength: number,
  how: JoinHow,
): { leftRows: number[]; rightRows: number[] | null } {
  const leftRows: number[] = [];
  const rightRows: number[] = [];
  for (let i = 0; i < leftLength; i++) {
    const matches: number[] = [];
    for (let j = 0; j < rightLength; j++) if (left.every((l, k) => sameKey(l.cells[i]!, right[k]!.cells[j]!))) matches.push(j);
    if (how === 'semi' || how === 'anti') {
      if (matches.length > 0 === (how === 'semi')) leftRows.push(i);
      continue;
    }
    if (matches.length === 0 && how === 'left') matches.push(-1);
    for (const j of matches) {
      leftRows.push(i);
      rightRows.push(j);
    }
  }
  return { leftRows, rightRows: how === 'semi' || how === 'anti' ? null : rightRows };
}

/** Key dtype pairs a join accepts: equal dtypes, and int32 with int64 either way round. */
const keyPair: fc.Arbitrary<[DType, DType]> = fc.oneof(
  fc.constantFrom(...DTYPES).map((d): [DType, DType] => [d, d]),
  fc.constantFrom<[DType, DType]>(['int32', 'int64'], ['int64', 'int32']),
);

function joinCase(maxLength: number) {
  return fc
    .record({
      leftLength: fc.nat({ max: maxLength }),
      rightLength: fc.nat({ max: maxLength }),
      pairs: fc.array(keyPair, { minLength: 1, maxLength: 2 }),
      how: fc.constantFrom(...HOWS),
    })
    .chain(({ leftLength, rightLength, pairs, how }) =>
      fc.record({
        leftLength: fc.constant(leftLength),
        rightLength: fc.constant(rightLength),
        how: fc.constant(how),
        // Each side builds its own dictionary (own strings, own order), so utf8 keys must match by value.
        left: fc.tuple(...pairs.map(([l]) => columnArbitrary(l, leftLength))),
        right: fc.tuple(...pairs.map(([, r]) => columnArbitrary(r, rightLength))),
      }),
    );
}

function checkJoin({
  leftLength,
  rightLength,
  how,
  left,
  right,
}: {
  leftLength: number;
  rightLength: number;
  how: JoinHow;
  left: TestColumn[];
  right: TestColumn[];
}): void {
  const result = hashJoin(
    left.map((c) => c.column),
    right.map((c) => c.column),
    how,
  );
  const expected = referenceJoin(left, right, leftLength, rightLength, how);
  assert.deepEqual(Array.from(result.leftRows), expected.leftRows);
  assert.deepEqual(result.rightRows === null ? null : Array.from(result.rightRows), expected.rightRows);
}

describe('hashJoin', () => {
  it('matches a nested-loop join for every how, dtype and null pattern', () => {
    fc.assert(fc.property(joinCase(40), checkJoin), { numRuns: 800 });
  });

  it('matches a nested-loop join over larger inputs with many duplicate keys', () => {
    fc.assert(fc.property(joinCase(400), checkJoin), { numRuns: 20 });
  });

  it('matches strings by value across different dictionaries, never a string the left lacks', () => {
    const left = buildColumn('utf8', ['a', 'b', 'c', null], ['c', 'b', 'a']);
    const right = buildColumn('utf8', ['z', 'b', 'a', 'b', null], ['b', 'z', 'a']);
    const inner = hashJoin([left], [right], 'inner');
    assert.deepEqual(Array.from(inner.leftRows), [0, 1, 1]);
    assert.deepEqual(Array.from(inner.rightRows!), [2, 1, 3]);
    assert.deepEqual(Array.from(hashJoin([left], [right], 'anti').leftRows), [2, 3]);
  });

  it('compares int32 with int64 by value, beyond the int32 range too', () => {
    const narrow = buildColumn('int32', [-1, 0, 2 ** 31 - 1]);
    const wide = buildColumn('int64', [2n ** 32n - 1n, -1n, 2n ** 31n - 1n, 2n ** 32n]);
    const { leftRows, rightRows } = hashJoin([narrow], [wide], 'left');
    assert.deepEqual(Array.from(leftRows), [0, 1, 2]);
    assert.deepEqual(Array.from(rightRows!), [1, -1, 2]);
  });

  it('joins empty sides', () => {
    const some = buildColumn('int32', [1, 2]);
    const none = buildColumn('int32', []);
    assert.deepEqual(Array.from(hashJoin([some], [none], 'left').rightRows!), [-1, -1]);
    assert.deepEqual(Array.from(hashJoin([some], [none], 'anti').leftRows), [0, 1]);
    assert.equal(hashJoin([none], [some], 'inner').leftRows.length, 0);
  });

  it('rejects keys of incompatible dtypes or counts', () => {
    assert.throws(() => hashJoin([buildColumn('float32', [1])], [buildColumn('float64', [1])], 'inner'), ExpressionTypeError);
    assert.throws(() => hashJoin([buildColumn('int32', [1])], [], 'inner'), ExpressionTypeError);
  });
});
