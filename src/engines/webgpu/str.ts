// WGSL for the `str` namespace over dictionary codes: each operation is a lookup table computed once per
// dictionary entry on the host (engines/shared/strings.ts), read per row on the device, so the device
// gives exactly the CPU's answer. Text made per row (concatStr) never reaches here (unsupportedReason).

import type { BoundExpr } from '../../expr/types.js';
import type { DType } from '../../model/types.js';
import { mapDictionary, strFunction } from '../shared/strings.js';

interface Value {
  readonly v: string;
  readonly n: string;
  readonly dtype: DType;
  readonly dictionary?: readonly string[];
}

interface Builder {
  table(values: ArrayLike<number>, index: string): string;
  tmp(prefix?: string): string;
  line(text: string): void;
}

export function compileWgslStr(b: Builder, expr: Extract<BoundExpr, { kind: 'str' }>, compile: (e: BoundExpr) => Value): Value {
  if (expr.op === 'concat') throw new Error('concatStr is not compiled to WGSL');
  const a = compile(expr.arg);
  const dict = a.dictionary ?? [];
  const f = strFunction(expr.op, expr.params);
  const dtype = expr.type.dtype;
  const v = b.tmp('v');
  // An empty dictionary (a null literal) has no table to read: every row is null.
  const read = (table: ArrayLike<number>): string => (dict.length === 0 ? '0i' : b.table(table, a.v));
  if (dtype === 'utf8') {
    const { codes, dictionary } = mapDictionary(dict, f);
    if (expr.op !== 'extract') {
      b.line(`let ${v} = ${read(codes)};`);
      return { v, n: a.n, dtype, dictionary };
    }
    // -1 marks an entry without a match: null.
    const r = b.tmp('r');
    b.line(`let ${r} = ${read(codes)};`);
    b.line(`let ${v} = max(${r}, 0i);`);
    const n = b.tmp('n');
    b.line(`let ${n} = ${a.n === 'false' ? '' : `${a.n} || `}${r} < 0i;`);
    return { v, n, dtype, dictionary };
  }
  if (dtype === 'bool') {
    b.line(
      `let ${v} = ${
        dict.length === 0
          ? 'false'
          : `${b.table(
              Int32Array.from(dict, (s) => (f(s) === true ? 1 : 0)),
              a.v,
            )} == 1`
      };`,
    );
    return { v, n: a.n, dtype };
  }
  b.line(`let ${v} = ${read(Int32Array.from(dict, (s) => f(s) as number))};`);
  return { v, n: a.n, dtype };
}
