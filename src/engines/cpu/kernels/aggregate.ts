// Group-by aggregation, morsel-parallel: a generated kernel computes per-morsel partial states for a
// row range (dense arrays indexed by key codes for dictionary, boolean and small integer keys; a hash
// table over key words otherwise), the main thread merges partials in morsel order and finalises.
// Merging in morsel order with morsel bounds that depend only on the row count makes results identical
// whether morsels ran inline or on any number of workers.
// The group mode, the accumulator model, moment merging and finalisation both engines share live in
// engines/shared; this file is the CPU's part: the JS kernel (its partials merge in aggregate-merge.ts).

import type { BoundAgg, BoundExpr } from '../../../expr/types.js';
import type { Column } from '../../../model/types.js';
import { paramsOf, storageOf } from '../../../model/dtype.js';
import { compileExpr, compileFilter, KernelBuilder, type Compiled } from '../codegen.js';
import {
  CO_NON_FINITE,
  CO_VARIES_X,
  CO_VARIES_Y,
  groupByAccumulators,
  isBig,
  stateArity,
  type AccKind,
  type GroupByLayout,
} from '../../shared/accumulators.js';
import { stringRanks } from '../../shared/dictionaries.js';
import type { DenseKey, GroupMode } from '../../shared/group-mode.js';
import type { PreparedKernel } from './types.js';

export interface PreparedGroupBy extends PreparedKernel, GroupByLayout {}

/** Emits the key words of one row into `kw` (hash mode); nulls write 0 words and set a mask bit. */
function emitKeyWords(b: KernelBuilder, keys: readonly Compiled[]): void {
  let at = 0;
  const nullTerms: string[] = [];
  keys.forEach((k, index) => {
    const from = at;
    switch (storageOf(k.dtype)) {
      case 'int32':
      case 'utf8':
        b.line(`kw[${at++}] = ${k.v};`);
        break;
      case 'bool':
        b.line(`kw[${at++}] = ${k.v} ? 1 : 0;`);
        break;
      case 'float32':
        // -0 joins 0 and every NaN joins one canonical NaN.
        b.line(`sf32[0] = ${k.v} === 0 ? 0 : ${k.v}; kw[${at++}] = ${k.v} !== ${k.v} ? 0x7fc00000 : su32[0];`);
        break;
      case 'float64':
        b.line(`sf64[0] = ${k.v} === 0 ? 0 : ${k.v}; if (${k.v} !== ${k.v}) { su32[0] = 0; su32[1] = 0x7ff80000; }`);
        b.line(`kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
        break;
      case 'int64':
        b.line(`si64[0] = ${k.v}; kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
        break;
      case 'decimal':
        // The same four words as the column's own: low 64 bits, then the high 64 bits.
        b.line(`si64[0] = ${k.v}; kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
        b.line(`si64[0] = ${k.v} >> 64n; kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
        break;
    }
    if (k.n !== 'false') {
      // A null's value slot holds whatever was computed there (0, NaN, ...): its words must not split the group.
      b.line(`if (${k.n}) { ${Array.from({ length: at - from }, (_, j) => `kw[${from + j}] = 0;`).join(' ')} }`);
      nullTerms.push(`(${k.n} ? ${1 << index} : 0)`);
    }
  });
  if (nullTerms.length > 0) b.line(`kw[${at}] = ${nullTerms.join(' | ')};`);
}

/** The mixed-radix index of a row's keys in their dense domains, first key lowest (below 2^53 by construction). */
function denseIndex(b: KernelBuilder, columns: ReadonlyMap<string, Column>, keys: readonly DenseKey[]): string {
  const terms: string[] = [];
  let stride = 1;
  for (const key of keys) {
    const column = columns.get(key.name)!;
    const k = compileExpr(b, { kind: 'col', name: key.name, type: { dtype: column.dtype, ...paramsOf(column), nullable: column.validity !== null } });
    const index = k.dtype === 'bool' ? `(${k.v} ? 1 : 0)` : key.offset === 0 ? k.v : `(${k.v} - ${key.offset})`;
    terms.push(`${k.n === 'false' ? index : `(${k.n} ? ${key.nullIndex} : ${index})`}${stride === 1 ? '' : ` * ${stride}`}`);
    stride *= key.size;
  }
  return terms.length === 0 ? '0' : terms.join(' + ');
}

function lessThan(kind: AccKind, a: string, b: string): string {
  // NaN orders after every number (as in sort), so min skips NaN unless nothing else is there.
  return kind === 'minBig' || kind === 'maxBig' ? `${a} < ${b}` : `(${a} < ${b} || (${b} !== ${b} && ${a} === ${a}))`;
}

export function prepareGroupBy(
  columns: ReadonlyMap<string, Column>,
  predicate: BoundExpr | null,
  mode: GroupMode,
  aggs: readonly BoundAgg[],
  withRowGroups: boolean,
): PreparedGroupBy {
  const b = new KernelBuilder(columns);
  const accs = groupByAccumulators(columns, aggs);
  const arrays: { name: string; big: boolean; init: string }[] = [];
  // Count arrays of non-null sums: filled from group presence once, after the loop.
  const presenceCounts: string[] = [];
  // Count arrays of non-null means: a mean's count is its group's row count, copied after the loop.
  const rowCounts: string[] = [];
  b.line('for (let i = start; i < end; i++) {');
  if (predicate) compileFilter(b, predicate);
  if (mode.kind === 'global') b.line('const g = 0;');
  else if (mode.kind === 'dense') b.line(`const g = ${denseIndex(b, columns, mode.keys)};`);
  else if (mode.packed) {
    mode.packed.forEach((word, w) => {
      b.line(`kw[${w}] = ${denseIndex(b, columns, word)};`);
    });
    b.line('const g = table.findOrInsert(kw, 0);');
    b.line('if (g === cap) grow();');
  } else {
    const compiled = mode.keys.map((name) =>
      compileExpr(b, {
        kind: 'col',
        name,
        type: { dtype: columns.get(name)!.dtype, ...paramsOf(columns.get(name)!), nullable: columns.get(name)!.validity !== null },
      }),
    );
    emitKeyWords(b, compiled);
    b.line('const g = table.findOrInsert(kw, 0);');
    b.line('if (g === cap) grow();');
  }
  b.line('if (firstRow[g] < 0) firstRow[g] = i;');
  // Only what some aggregation reads is tracked per row: presence is firstRow >= 0.
  if (aggs.some((a) => a.op === 'last')) b.line('lastRow[g] = i;');
  if (withRowGroups) b.line('gids[i] = g;');
  aggs.forEach((_agg, j) => {
    const acc = accs[j]!;
    const arity = stateArity(acc.kind);
    const names = Array.from({ length: arity }, (_, k) => {
      const name = `s${j}_${k}`;
      const init = acc.kind === 'minBig' || acc.kind === 'maxBig' ? '0n' : acc.kind === 'sumBig' ? '0n' : '0';
      arrays.push({ name, big: isBig(acc.kind, k), init });
      return name;
    });
    if (acc.kind === 'none' || !acc.agg.arg) return;
    const lines = b.capture(() => {
      const a = compileExpr(b, acc.agg.arg!);
      if (acc.kind === 'comoments' || acc.kind === 'comomentsBig') {
        emitCoMoments(b, acc.kind, a, compileExpr(b, acc.agg.arg2!), names);
        return;
      }
      let v = a.v;
      if (a.dtype === 'bool') v = `(${a.v} ? 1 : 0)`;
      if (a.dtype === 'int64' && (acc.kind === 'sumFloat' || acc.kind === 'moments')) v = `Number(${a.v})`;
      if (a.dtype === 'utf8' && (acc.kind === 'min' || acc.kind === 'max')) {
        const { rank } = stringRanks(a.dictionary ?? []);
        v = `${b.param(rank)}[${a.v}]`;
      }
      const guard = a.n === 'false' ? '' : `if (!${a.n}) `;
      // stateArity(acc.kind) gives each kind exactly the state arrays its case below reads.
      const [x, y, z] = names as [string, string, string];
      switch (acc.kind) {
        case 'count':
          b.line(`${guard}${x}[g]++;`);
          break;
        case 'sumFloat':
        case 'sumInt':
          if (a.n === 'false' && acc.agg.op === 'sum') {
            // A sum's count only decides null-ness; over non-null input, presence marks it after the loop.
            b.line(`${x}[g] += ${v};`);
            presenceCounts.push(y);
          } else if (a.n === 'false') {
            b.line(`${x}[g] += ${v};`);
            rowCounts.push(y);
          } else b.line(`${guard}{ ${x}[g] += ${v}; ${y}[g]++; }`);
          break;
        case 'sumBig':
          b.line(`${guard}{ ${x}[g] = (${x}[g] ?? 0n) + ${v}; ${y}[g]++; }`);
          break;
        case 'min':
        case 'minBig':
          b.line(`${guard}{ const u = ${v}; if (${y}[g] === 0 || ${lessThan(acc.kind, 'u', `${x}[g]`)}) ${x}[g] = u; ${y}[g]++; }`);
          break;
        case 'max':
        case 'maxBig':
          b.line(`${guard}{ const u = ${v}; if (${y}[g] === 0 || ${lessThan(acc.kind, `${x}[g]`, 'u')}) ${x}[g] = u; ${y}[g]++; }`);
          break;
        case 'moments':
          // Welford's update: stable for large means.
          b.line(`${guard}{ const u = ${v}; const c = ++${x}[g]; const d = u - ${y}[g]; ${y}[g] += d / c; ${z}[g] += d * (u - ${y}[g]); }`);
          break;
        case 'momentsBig':
          b.line(`${guard}{ const u = ${v}; ${x}[g] += u; ${y}[g] += u * u; ${z}[g]++; }`);
          break;
      }
    });
    lines.forEach((l) => {
      b.line(l);
    });
  });
  // One row count per group serves countAll and every non-null mean.
  if (aggs.some((a) => a.op === 'countAll') || rowCounts.length > 0) b.line('rowsN[g]++;');
  b.line('}');
  // Per-group states side by side in one array (stride = their count): a row's update touches one or two
  // cache lines instead of one per state array. Split back into arrays once the loop is done.
  const rowLoop = b.takeBody();
  const touched = (name: string): boolean => new RegExp(`\\b${name}\\[g\\]`).test(rowLoop);
  // The first row joins them, stored as row + 1 so that a zeroed slot means no row yet.
  const flat = mode.kind === 'global' ? [] : ['firstRow', 'rowsN', ...arrays.filter((a) => !a.big).map((a) => a.name)].filter(touched);
  const stride = flat.length;
  const interleaved = stride >= 2;
  const slotOf = new Map(interleaved ? flat.map((name, k) => [name, k]) : []);
  const slot = (name: string): string => `st[g * ${stride} + ${slotOf.get(name)!}]`;
  const loop = interleaved ? rowLoop.replace(/\b(rowsN|s\d+_\d+)\[g\]/g, (whole, name: string) => (slotOf.has(name) ? slot(name) : whole)) : rowLoop;
  const marker = 'if (firstRow[g] < 0) firstRow[g] = i;';
  // With a fixed slot count, once every slot has its first row the check leaves the hot loop: the
  // same loop body runs in two phases, discovering and then accumulating only.
  const twoPhase = mode.kind !== 'hash' && loop.split('firstRow').length === 3;
  const phased = twoPhase
    ? [
        'let seen = 0;',
        unrollRows(loop.replace(marker, 'if (firstRow[g] < 0) { firstRow[g] = i; seen++; }'), 'start', 'd', ' && seen < cap'),
        unrollRows(loop.replace(marker, ''), 'd', 'u'),
      ].join('\n')
    : unrollRows(loop, 'start', 'u');
  const body = interleaved
    ? phased.replaceAll('firstRow[g] < 0', `${slot('firstRow')} === 0`).replaceAll('firstRow[g] = i;', `${slot('firstRow')} = i + 1;`)
    : phased;
  const initial = mode.kind === 'hash' ? 1024 : mode.kind === 'dense' ? mode.slots : 1;
  const alloc = (a: { name: string; big: boolean }, size: string): string => (a.big ? `new Array(${size}).fill(0n)` : `lib.shared(Float64Array, ${size})`);
  const decl = mode.kind === 'hash' ? 'let' : 'const';
  const setup = [
    // Only the hash path grows its arrays; elsewhere constant bindings let the JIT drop bounds checks.
    `${decl} cap = ${initial};`,
    interleaved ? '' : `${decl} firstRow = lib.shared(Int32Array, ${initial}).fill(-1);`,
    `${decl} lastRow = lib.shared(Int32Array, ${initial});`,
    slotOf.has('rowsN') ? '' : `${decl} rowsN = lib.shared(Float64Array, ${initial});`,
    ...(interleaved ? [`${decl} st = lib.shared(Float64Array, ${initial * stride});`] : []),
    ...arrays.filter((a) => !(interleaved && slotOf.has(a.name))).map((a) => `${decl} ${a.name} = ${alloc(a, String(initial))};`),
    withRowGroups ? 'const gids = out.gids;' : '',
  ];
  if (mode.kind === 'hash') {
    setup.push(
      `const table = new lib.KeyTable(${mode.width}, 1024), kw = new Uint32Array(${mode.width});`,
      'const scratch = new ArrayBuffer(8), sf64 = new Float64Array(scratch), sf32 = new Float32Array(scratch), su32 = new Uint32Array(scratch), si64 = new BigInt64Array(scratch);',
      'function grow() {',
      '  cap *= 2;',
      interleaved ? '' : '  firstRow = lib.grow(firstRow, cap, -1);',
      '  lastRow = lib.grow(lastRow, cap);',
      slotOf.has('rowsN') ? '' : '  rowsN = lib.grow(rowsN, cap);',
      ...(interleaved ? [`  st = lib.grow(st, cap * ${stride});`] : []),
      ...arrays
        .filter((a) => !(interleaved && slotOf.has(a.name)))
        .map((a) => (a.big ? `  while (${a.name}.length < cap) ${a.name}.push(0n);` : `  ${a.name} = lib.grow(${a.name}, cap);`)),
      '}',
    );
  }
  const groups = mode.kind === 'hash' ? 'table.size' : 'cap';
  const states = accs.map((acc, j) => `[${Array.from({ length: stateArity(acc.kind) }, (_, k) => `s${j}_${k}`).join(', ')}]`);
  const ret = `return { groups: ${groups}, firstRow, lastRow, rows: rowsN, states: [${states.join(', ')}], keys: ${mode.kind === 'hash' ? 'lib.tableWords(table)' : 'null'} };`;
  const post = [
    `const groupCount = ${groups};`,
    ...(interleaved
      ? [
          ...flat.map((name) => `const ${name} = lib.shared(${name === 'firstRow' ? 'Int32Array' : 'Float64Array'}, groupCount);`),
          `for (let q = 0, o = 0; q < groupCount; q++, o += ${stride}) { ${flat.map((name, k) => `${name}[q] = st[o + ${k}]${name === 'firstRow' ? ' - 1' : ''};`).join(' ')} }`,
        ]
      : []),
    presenceCounts.length === 0 ? '' : `for (let q = 0; q < groupCount; q++) if (firstRow[q] >= 0) { ${presenceCounts.map((y) => `${y}[q] = 1;`).join(' ')} }`,
    rowCounts.length === 0 ? '' : `for (let q = 0; q < groupCount; q++) { ${rowCounts.map((y) => `${y}[q] = rowsN[q];`).join(' ')} }`,
  ];
  const source = [b.headerText(), ...setup, body, ...post, ret].join('\n');
  return { source, params: b.params, inputs: b.slotColumns, mode, accs };
}

/** Rows per step of an unrolled row loop. */
const UNROLL = 4;

/**
 * A row loop `for (let i = start; i < end; i++) { body }` over rows from `from` while `condition` holds, with
 * `counter` left at the first row not run. UNROLL rows a step: the body is repeated in blocks (each with its
 * own `i`, a filter's `continue` leaving its block only), then single rows. V8 then keeps the loop's
 * typed-array bases and bounds out of most rows: about 1.7x faster on a row that adds one column into a
 * group's state.
 */
function unrollRows(loop: string, from: string, counter: string, condition = ''): string {
  const lines = loop.split('\n');
  if (lines[0] !== 'for (let i = start; i < end; i++) {' || lines[lines.length - 1] !== '}') throw new Error('unrollRows: not a row loop');
  const body = lines.slice(1, -1).join('\n');
  const blocks = Array.from({ length: UNROLL }, (_, k) => `r${k}: { const i = ${counter} + ${k};\n${body.replaceAll('continue;', `break r${k};`)}\n}`);
  return [
    `let ${counter} = ${from};`,
    `for (; ${counter} + ${UNROLL - 1} < end${condition}; ${counter} += ${UNROLL}) {`,
    ...blocks,
    '}',
    `for (; ${counter} < end${condition}; ${counter}++) { const i = ${counter};`,
    body,
    '}',
  ].join('\n');
}

/** One row's update of corr's co-moments (see stateArity); a row with either side null is skipped. */
function emitCoMoments(b: KernelBuilder, kind: 'comoments' | 'comomentsBig', x: Compiled, y: Compiled, names: readonly string[]): void {
  const nulls = [x.n, y.n].filter((n) => n !== 'false');
  const guard = nulls.length === 0 ? '' : `if (!(${nulls.join(' || ')})) `;
  if (kind === 'comomentsBig') {
    const big = (c: Compiled): string => (c.dtype === 'int64' ? c.v : `BigInt(${c.v})`);
    const [sx, sy, sxx, syy, sxy, n] = names as [string, string, string, string, string, string];
    b.line(
      `${guard}{ const u = ${big(x)}, w = ${big(y)}; ${sx}[g] += u; ${sy}[g] += w; ${sxx}[g] += u * u; ${syy}[g] += w * w; ${sxy}[g] += u * w; ${n}[g]++; }`,
    );
    return;
  }
  const num = (c: Compiled): string => (c.dtype === 'int64' ? `Number(${c.v})` : c.v);
  const [n, mx, my, m2x, m2y, cxy, flags] = names as [string, string, string, string, string, string, string];
  // Welford's update extended to the co-moment. While a side has held one value its mean is exactly that
  // value, so comparing with the mean tells exactly whether it varies; u - u is 0 only for finite u.
  b.line(`${guard}{ const u = ${num(x)}, w = ${num(y)}; const c = ++${n}[g];`);
  b.line(
    `  ${flags}[g] |= (c > 1 && u !== ${mx}[g] ? ${CO_VARIES_X} : 0) | (c > 1 && w !== ${my}[g] ? ${CO_VARIES_Y} : 0) | (u - u + (w - w) !== 0 ? ${CO_NON_FINITE} : 0);`,
  );
  b.line(`  const dx = u - ${mx}[g]; ${mx}[g] += dx / c; const dy = w - ${my}[g]; ${my}[g] += dy / c; const ey = w - ${my}[g];`);
  b.line(`  ${m2x}[g] += dx * (u - ${mx}[g]); ${m2y}[g] += dy * ey; ${cxy}[g] += dx * ey; }`);
}
