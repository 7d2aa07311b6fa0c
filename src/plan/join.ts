// Join: hash equi-join on key columns. Output: left columns, then right non-key columns (renamed with
// `suffix` on a name clash); semi and anti return left columns only. Null keys never match.

import { ExpressionTypeError } from '../errors.js';
import { isNumeric } from '../expr/bind.js';
import type { Field } from '../model/types.js';
import { requireColumns } from './project.js';
import type { JoinHow, PlanNode } from './types.js';
import { typeName } from '../model/dtype.js';

/** The joins implemented; right, full and cross joins are not (yet), and are refused, never approximated. */
export const JOIN_HOWS: readonly JoinHow[] = ['inner', 'left', 'semi', 'anti'];

export interface JoinSpec {
  readonly leftOn: readonly string[];
  readonly rightOn: readonly string[];
  readonly how: JoinHow;
  readonly suffix: string;
}

export function joinNode(left: PlanNode, right: PlanNode, spec: JoinSpec): PlanNode {
  const { leftOn, rightOn, how, suffix } = spec;
  if (leftOn.length === 0 || leftOn.length !== rightOn.length) throw new TypeError('join needs the same non-zero number of left and right keys');
  // Checked again here (the frame checks callers' options): any other value would run as an inner join.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- how comes from callers unchecked here; String() also prints a symbol
  if (!JOIN_HOWS.includes(how)) throw new TypeError(`join how '${String(how)}' is not one of ${JOIN_HOWS.join(', ')}`);
  // An empty suffix would rename a clashing column to itself, forever.
  if (suffix.length === 0) throw new TypeError('join suffix must not be empty');
  requireColumns(left, leftOn, 'join (left keys)');
  requireColumns(right, rightOn, 'join (right keys)');
  leftOn.forEach((l, i) => {
    const lf = left.schema.find((f) => f.name === l)!;
    const rf = right.schema.find((f) => f.name === rightOn[i])!;
    const lt = lf.dtype;
    const rt = rf.dtype;
    // Temporal keys match as their integers, so they need the same unit (the time zone does not change the instant).
    const compatible =
      (lt === rt && lf.unit === rf.unit) ||
      (isNumeric(lt) && isNumeric(rt) && lt !== 'float32' && rt !== 'float32' && (lt === 'float64') === (rt === 'float64'));
    if (!compatible)
      throw new ExpressionTypeError(`join: key '${l}' (${typeName(lf)}) cannot match '${String(rightOn[i])}' (${typeName(rf)}); cast one to the other's unit`);
  });
  const leftNames = new Set(left.schema.map((f) => f.name));
  const rightOutput: { from: string; as: string }[] = [];
  const schema: Field[] = [...left.schema];
  if (how === 'inner' || how === 'left') {
    for (const f of right.schema) {
      if (rightOn.includes(f.name) && leftOn[rightOn.indexOf(f.name)] === f.name) continue;
      let as = f.name;
      while (leftNames.has(as) || rightOutput.some((r) => r.as === as)) as = `${as}${suffix}`;
      rightOutput.push({ from: f.name, as });
      schema.push({ ...f, name: as, nullable: f.nullable || how === 'left' });
    }
  }
  return { kind: 'join', schema, left, right, leftOn, rightOn, how, rightOutput };
}
