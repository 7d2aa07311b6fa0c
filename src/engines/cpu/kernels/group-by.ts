// Group-by aggregation, morsel-parallel: a generated kernel computes per-morsel partial states for a
// row range (dense arrays indexed by key codes for dictionary, boolean and small integer keys; a hash
// table over key words otherwise), the main thread merges partials in morsel order and finalises.
// Merging in morsel order with morsel bounds that depend only on the row count makes results identical
// whether morsels ran inline or on any number of workers.

import type { BoundAgg, BoundExpr } from '../../../expr/types.js';
import type { Column, DType } from '../../../model/types.js';
import { compileExpr, compileFilter, KernelBuilder, type Compiled } from '../codegen.js';
import { stringRanks } from '../../shared/dictionaries.js';
import { encodeKeyBlock, hashWords, KeyTable, keyWidth } from '../../shared/key-table.js';
import type { PreparedKernel } from './types.js';

/** Most dense slots (product of key cardinalities) before the hash path is used. */
export const DENSE_SLOT_LIMIT = 1 << 16;

export interface DenseKey {
  readonly name: string;
  /** Value subtracted from the key to get its index (integer keys), else 0. */
  readonly offset: number;
  /** Index used for null. */
  readonly nullIndex: number;
  readonly size: number;
}

export type GroupMode =
  | { readonly kind: 'global' }
  | { readonly kind: 'dense'; readonly keys: readonly DenseKey[]; readonly slots: number }
  | {
      readonly kind: 'hash';
      readonly keys: readonly string[];
      readonly width: number;
      /**
       * Keys packed into fewer hash words (CPU engine only, see packHashKeys): word w holds its keys' dense
       * indices in mixed radix, first key lowest. Without it each key takes its own words (emitKeyWords).
       */
      readonly packed?: readonly (readonly DenseKey[])[];
    };

/** Per-aggregation partial state, by kind of accumulator. */
export type AccKind = 'count' | 'sumFloat' | 'sumInt' | 'sumBig' | 'min' | 'max' | 'minBig' | 'maxBig' | 'moments' | 'momentsBig' | 'comoments' | 'comomentsBig' | 'none';

export interface AccSpec {
  readonly agg: BoundAgg;
  readonly kind: AccKind;
  /** utf8 min/max track ranks; this is the sorted dictionary those ranks index. */
  readonly rankDictionary?: readonly string[];
}

export interface PreparedGroupBy extends PreparedKernel {
  readonly mode: GroupMode;
  readonly accs: readonly AccSpec[];
}

/** Partial state of one morsel (or the merged state): arrays indexed by group id. */
export interface GroupPartial {
  readonly groups: number;
  readonly firstRow: Int32Array;
  readonly lastRow: Int32Array;
  readonly rows: Float64Array;
  /** Per aggregation, its state arrays (see stateArity). */
  readonly states: readonly (readonly (Float64Array | bigint[])[])[];
  /** Hash mode: key words of each group, `width` words per group. */
  readonly keys: Uint32Array | null;
}

function accKind(agg: BoundAgg): AccKind {
  const d = agg.arg?.type.dtype;
  switch (agg.op) {
    case 'count':
      return 'count';
    case 'sum':
      return d === 'int64' ? 'sumBig' : d === 'float32' || d === 'float64' ? 'sumFloat' : 'sumInt';
    case 'mean':
      // Integer means divide an exact sum, so they stay exact near 2^53 and never depend on morsels.
      return d === 'int64' ? 'sumBig' : d === 'float32' || d === 'float64' ? 'sumFloat' : 'sumInt';
    case 'min':
    case 'max':
      return d === 'int64' ? (agg.op === 'min' ? 'minBig' : 'maxBig') : agg.op;
    case 'var':
    case 'std':
      // int64 values past 2^53 lose their spread as doubles: their moments are exact BigInt sums instead.
      return d === 'int64' ? 'momentsBig' : 'moments';
    case 'corr': {
      // An int64 side paired with an integer keeps exact BigInt sums, as int64 var does; anything else is
      // Welford in f64 (an int64 paired with a float is converted).
      const d2 = agg.arg2?.type.dtype;
      const integer = (t: DType | undefined): boolean => t === 'int32' || t === 'int64';
      return (d === 'int64' || d2 === 'int64') && integer(d) && integer(d2) ? 'comomentsBig' : 'comoments';
    }
    default:
      return 'none';
  }
}

/**
 * Number of state arrays per accumulator kind: [value..., count]; moments are [count, mean, M2]. The
 * co-moments of corr are [count, mean x, mean y, M2 x, M2 y, C xy, flags] (CO_VARIES_X | CO_VARIES_Y |
 * CO_NON_FINITE), or exactly [Σx, Σy, Σx², Σy², Σxy, count] over integers.
 */
export function stateArity(kind: AccKind): number {
  switch (kind) {
    case 'none':
      return 0;
    case 'count':
      return 1;
    case 'moments':
    case 'momentsBig':
      return 3;
    case 'comoments':
      return 7;
    case 'comomentsBig':
      return 6;
    default:
      return 2;
  }
}

/** Co-moment flags: x took two distinct values, y did, a value was NaN or ±Infinity. */
export const CO_VARIES_X = 1;
export const CO_VARIES_Y = 2;
export const CO_NON_FINITE = 4;

/** momentsBig keeps [Σv, Σv², count] and comomentsBig five sums and a count: those sums are BigInt arrays. */
const isBig = (kind: AccKind, k: number): boolean =>
  (k === 0 && (kind === 'sumBig' || kind === 'minBig' || kind === 'maxBig')) || (kind === 'momentsBig' && k < 2) || (kind === 'comomentsBig' && k < 5);

/**
 * Most dense slots for morsels of `morselRows` rows: DENSE_SLOT_LIMIT, or up to a quarter of a morsel
 * (at most 2^18) when morsels are large. A slot array much longer than a morsel costs more to allocate
 * and merge than hashing saves, but 100,000 groups over 1M-row morsels are far cheaper dense than hashed.
 */
export function denseSlotLimit(morselRows: number): number {
  return Math.max(DENSE_SLOT_LIMIT, Math.min(1 << 18, Math.floor(morselRows / 4)));
}

/** Chooses dense slots when every key is a column with a small domain. */
export function chooseGroupMode(columns: ReadonlyMap<string, Column>, keys: readonly string[], hashWidth: number, slotLimit = DENSE_SLOT_LIMIT): GroupMode {
  if (keys.length === 0) return { kind: 'global' };
  const dense: DenseKey[] = [];
  let slots = 1;
  for (const name of keys) {
    const key = denseKey(columns.get(name)!, name);
    if (key === null) return { kind: 'hash', keys, width: hashWidth };
    dense.push(key);
    slots *= key.size;
    if (slots > slotLimit) return { kind: 'hash', keys, width: hashWidth };
  }
  return { kind: 'dense', keys: dense, slots };
}

/** The dense domain of a key column (dictionary codes, booleans, an int32 range, plus a null index), or null. */
function denseKey(column: Column, name: string): DenseKey | null {
  let size: number;
  let offset = 0;
  if (column.dtype === 'utf8') size = column.dictionary!.length;
  else if (column.dtype === 'bool') size = 2;
  else if (column.dtype === 'int32') {
    const [min, max] = int32Range(column);
    if (max < min) size = 0;
    else {
      offset = min;
      size = max - min + 1;
    }
  } else return null;
  const total = size + (column.validity !== null ? 1 : 0);
  return { name, offset, nullIndex: size, size: Math.max(total, 1) };
}

/** Rows sampled to estimate how many distinct keys a hash group-by has. */
const DISTINCT_SAMPLE = 1 << 14;
/** Rows per morsel for a group-by whose keys are mostly distinct: each morsel's table then stays in cache. */
export const HIGH_CARDINALITY_MORSEL = 1 << 16;

/**
 * An estimate of the distinct key tuples among `length` rows: Chao1's (bias-corrected) from an evenly
 * strided sample of rows, d + f1(f1 - 1) / 2(f2 + 1) with f1 and f2 the tuples seen once and twice. Keys
 * compare as the group-by compares them (key-table encoding). Deterministic: the sample depends only on
 * the length.
 */
export function estimateDistinct(columns: ReadonlyMap<string, Column>, keys: readonly string[], length: number): number {
  const size = Math.min(length, DISTINCT_SAMPLE);
  if (size === 0) return 0;
  const rows = new Int32Array(size);
  for (let k = 0; k < size; k++) rows[k] = Math.floor((k * length) / size);
  const keyColumns = keys.map((name) => ({ column: columns.get(name)! }));
  const width = keyWidth(keyColumns);
  const words = new Uint32Array(Math.max(1, size * width));
  encodeKeyBlock(keyColumns, rows, 0, size, words, 0, width, keyColumns.some((k) => k.column.validity !== null));
  const table = new KeyTable(width, size);
  const seen = new Int32Array(size);
  for (let r = 0; r < size; r++) seen[table.findOrInsert(words, r * width)]!++;
  let once = 0;
  let twice = 0;
  for (let g = 0; g < table.size; g++) {
    if (seen[g] === 1) once++;
    else if (seen[g] === 2) twice++;
  }
  return Math.min(length, table.size + (once * (once - 1)) / (2 * (twice + 1)));
}

/**
 * Rows per morsel for a group-by in `mode`: the default, except for hash keys estimated mostly distinct
 * (a quarter of the rows or more). Their morsels' tables hold about a group per row wherever the bounds
 * fall, so smaller morsels cost the merge almost nothing and keep every probe in cache. An explicit
 * `morselRows` always wins.
 */
export function groupByMorselRows(columns: ReadonlyMap<string, Column>, mode: GroupMode, length: number, morselRows: number | undefined): number | undefined {
  if (morselRows !== undefined || mode.kind !== 'hash' || length <= HIGH_CARDINALITY_MORSEL * 4) return morselRows;
  return estimateDistinct(columns, mode.keys, length) * 4 >= length ? HIGH_CARDINALITY_MORSEL : undefined;
}

/** Largest product of key domains one packed hash word holds. */
const PACKED_WORD_RANGE = 2 ** 32;

/**
 * A hash mode whose keys all have dense domains (too many slots together to go dense), packed into as few
 * 32-bit words as their domains allow: keys fill a word in order while the product of their sizes fits.
 * Fewer words per key hash faster and make the tables smaller: six db-benchmark ids take 2 words, not 6.
 * Any other mode is returned as it is. The packing is the same for every morsel of one group-by.
 */
export function packHashKeys(columns: ReadonlyMap<string, Column>, mode: GroupMode): GroupMode {
  if (mode.kind !== 'hash' || mode.packed) return mode;
  const words: DenseKey[][] = [];
  let range = PACKED_WORD_RANGE + 1;
  for (const name of mode.keys) {
    const key = denseKey(columns.get(name)!, name);
    // An int32 range with a null index can need more than one word: such a key keeps its own words.
    if (key === null || key.size > PACKED_WORD_RANGE) return mode;
    if (range * key.size > PACKED_WORD_RANGE) {
      words.push([]);
      range = 1;
    }
    words[words.length - 1]!.push(key);
    range *= key.size;
  }
  return words.length < mode.width ? { ...mode, width: words.length, packed: words } : mode;
}

// Columns never change once built, so the range of a key column without nulls is scanned once, not by
// every query over it. Keyed by the values array and checked against the length the column reads.
const int32Ranges = new WeakMap<object, { readonly length: number; readonly range: [number, number] }>();

function int32Range(column: Column): [number, number] {
  if (column.validity !== null) return scanInt32Range(column);
  const cached = int32Ranges.get(column.values);
  if (cached && cached.length === column.length) return cached.range;
  const range = scanInt32Range(column);
  int32Ranges.set(column.values, { length: column.length, range });
  return range;
}

function scanInt32Range(column: Column): [number, number] {
  const values = column.values as Int32Array;
  const validity = column.validity;
  let min = 2147483647;
  let max = -2147483648;
  for (let i = 0; i < column.length; i++) {
    if (validity !== null && ((validity[i >> 3]! >> (i & 7)) & 1) === 0) continue;
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Words one key column takes in hash mode. */
export function hashKeyWords(dtype: DType): number {
  return dtype === 'int64' || dtype === 'float64' || dtype === 'date' ? 2 : 1;
}

export function hashWidth(columns: ReadonlyMap<string, Column>, keys: readonly string[]): number {
  let width = 0;
  let nullable = false;
  for (const k of keys) {
    const c = columns.get(k)!;
    width += hashKeyWords(c.dtype);
    nullable ||= c.validity !== null;
  }
  return width + (nullable ? 1 : 0);
}

/** Emits the key words of one row into `kw` (hash mode); nulls write 0 words and set a mask bit. */
function emitKeyWords(b: KernelBuilder, keys: readonly Compiled[]): void {
  let at = 0;
  const nullTerms: string[] = [];
  keys.forEach((k, index) => {
    const from = at;
    switch (k.dtype) {
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
      case 'date':
        b.line(`sf64[0] = ${k.v} === 0 ? 0 : ${k.v}; if (${k.v} !== ${k.v}) { su32[0] = 0; su32[1] = 0x7ff80000; }`);
        b.line(`kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
        break;
      case 'int64':
        b.line(`si64[0] = ${k.v}; kw[${at++}] = su32[0]; kw[${at++}] = su32[1];`);
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
    const k = compileExpr(b, { kind: 'col', name: key.name, type: { dtype: column.dtype, nullable: column.validity !== null } });
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

export function prepareGroupBy(columns: ReadonlyMap<string, Column>, predicate: BoundExpr | null, mode: GroupMode, aggs: readonly BoundAgg[], withRowGroups: boolean): PreparedGroupBy {
  const b = new KernelBuilder(columns);
  const accs: AccSpec[] = [];
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
    mode.packed.forEach((word, w) => b.line(`kw[${w}] = ${denseIndex(b, columns, word)};`));
    b.line('const g = table.findOrInsert(kw, 0);');
    b.line('if (g === cap) grow();');
  } else {
    const compiled = mode.keys.map((name) => compileExpr(b, { kind: 'col', name, type: { dtype: columns.get(name)!.dtype, nullable: columns.get(name)!.validity !== null } }));
    emitKeyWords(b, compiled);
    b.line('const g = table.findOrInsert(kw, 0);');
    b.line('if (g === cap) grow();');
  }
  b.line('if (firstRow[g] < 0) firstRow[g] = i;');
  // Only what some aggregation reads is tracked per row: presence is firstRow >= 0.
  if (aggs.some((a) => a.op === 'last')) b.line('lastRow[g] = i;');
  if (withRowGroups) b.line('gids[i] = g;');
  aggs.forEach((agg, j) => {
    const acc: { agg: BoundAgg; kind: AccKind; rankDictionary?: readonly string[] } = { agg, kind: accKind(agg) };
    accs.push(acc);
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
        const { rank, sorted } = stringRanks(a.dictionary ?? []);
        acc.rankDictionary = sorted;
        v = `${b.param(rank)}[${a.v}]`;
      }
      const guard = a.n === 'false' ? '' : `if (!${a.n}) `;
      const [x, y, z] = names;
      switch (acc.kind) {
        case 'count':
          b.line(`${guard}${x}[g]++;`);
          break;
        case 'sumFloat':
        case 'sumInt':
          if (a.n === 'false' && acc.agg.op === 'sum') {
            // A sum's count only decides null-ness; over non-null input, presence marks it after the loop.
            b.line(`${x}[g] += ${v};`);
            presenceCounts.push(y!);
          } else if (a.n === 'false') {
            b.line(`${x}[g] += ${v};`);
            rowCounts.push(y!);
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
    lines.forEach((l) => b.line(l));
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
    ? ['let seen = 0;', unrollRows(loop.replace(marker, 'if (firstRow[g] < 0) { firstRow[g] = i; seen++; }'), 'start', 'd', ' && seen < cap'), unrollRows(loop.replace(marker, ''), 'd', 'u')].join('\n')
    : unrollRows(loop, 'start', 'u');
  const body = interleaved ? phased.replaceAll('firstRow[g] < 0', `${slot('firstRow')} === 0`).replaceAll('firstRow[g] = i;', `${slot('firstRow')} = i + 1;`) : phased;
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
      ...arrays.filter((a) => !(interleaved && slotOf.has(a.name))).map((a) => (a.big ? `  while (${a.name}.length < cap) ${a.name}.push(0n);` : `  ${a.name} = lib.grow(${a.name}, cap);`)),
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
    const [sx, sy, sxx, syy, sxy, n] = names;
    b.line(`${guard}{ const u = ${big(x)}, w = ${big(y)}; ${sx}[g] += u; ${sy}[g] += w; ${sxx}[g] += u * u; ${syy}[g] += w * w; ${sxy}[g] += u * w; ${n}[g]++; }`);
    return;
  }
  const num = (c: Compiled): string => (c.dtype === 'int64' ? `Number(${c.v})` : c.v);
  const [n, mx, my, m2x, m2y, cxy, flags] = names;
  // Welford's update extended to the co-moment. While a side has held one value its mean is exactly that
  // value, so comparing with the mean tells exactly whether it varies; u - u is 0 only for finite u.
  b.line(`${guard}{ const u = ${num(x)}, w = ${num(y)}; const c = ++${n}[g];`);
  b.line(`  ${flags}[g] |= (c > 1 && u !== ${mx}[g] ? ${CO_VARIES_X} : 0) | (c > 1 && w !== ${my}[g] ? ${CO_VARIES_Y} : 0) | (u - u + (w - w) !== 0 ? ${CO_NON_FINITE} : 0);`);
  b.line(`  const dx = u - ${mx}[g]; ${mx}[g] += dx / c; const dy = w - ${my}[g]; ${my}[g] += dy / c; const ey = w - ${my}[g];`);
  b.line(`  ${m2x}[g] += dx * (u - ${mx}[g]); ${m2y}[g] += dy * ey; ${cxy}[g] += dx * ey; }`);
}

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Merges partials in order into one state indexed by global group id. In hash mode also returns, per
 * partial, the map from its local group ids to global ids (-1 where no row reached a slot), used to relabel
 * per-row group ids; dense and global slots are their own ids, and no maps are returned. A partial is
 * merged one state array at a time, not one group at a time.
 */
export function mergeGroupPartials(prepared: PreparedGroupBy, partials: readonly GroupPartial[]): { merged: GroupPartial; exactInt: (bigint | undefined)[][]; localToGlobal: Int32Array[] } {
  const { mode, accs } = prepared;
  let groups = mode.kind === 'dense' ? mode.slots : 1;
  let maps: Int32Array[] = [];
  if (mode.kind === 'hash') {
    let total = 0;
    for (const p of partials) total += p.groups;
    if (total > PARTITIONED_MERGE_GROUPS) ({ maps, groups } = partitionedGroupIds(partials, mode.width, total));
    else {
      // Sized once for all partials' groups together, a bound on the distinct ones: nothing rehashes.
      const table = new KeyTable(mode.width, Math.max(1024, total));
      maps = partials.map((p) => {
        const map = new Int32Array(p.groups);
        const keys = p.keys!;
        for (let l = 0; l < map.length; l++) map[l] = p.firstRow[l]! < 0 ? -1 : table.findOrInsert(keys, l * mode.width);
        return map;
      });
      groups = table.size;
    }
    renumberByFirstRow(maps, groups);
  }
  // Allocated once the group count is known.
  const firstRow = new Int32Array(groups).fill(-1);
  const lastRow = new Int32Array(groups).fill(-1);
  const rows = new Float64Array(groups);
  const states = accs.map((acc) => Array.from({ length: stateArity(acc.kind) }, (_, k): Float64Array | bigint[] => (isBig(acc.kind, k) ? new Array<bigint>(groups).fill(0n) : new Float64Array(groups))));
  // Exact integer sums that left the safe-integer range continue as BigInt here.
  const exactInt: (bigint | undefined)[][] = accs.map(() => []);
  // Kernels track last rows and row counts only for the aggregations that read them.
  const tracksLast = accs.some((a) => a.agg.op === 'last');
  const tracksRows = accs.some((a) => a.agg.op === 'countAll');
  partials.forEach((p, m) => {
    // Without a map, slot l is group l, and a slot no row reached holds zero states (first row -1).
    const map = mode.kind === 'hash' ? maps[m]! : null;
    const partFirst = p.firstRow;
    for (let l = 0; l < p.groups; l++) {
      const g = map === null ? l : map[l]!;
      if (g >= 0 && firstRow[g]! < 0) firstRow[g] = partFirst[l]!;
    }
    if (tracksLast) {
      const partLast = p.lastRow;
      for (let l = 0; l < p.groups; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && partFirst[l]! >= 0) lastRow[g] = partLast[l]!;
      }
    }
    if (tracksRows) addMapped(rows, p.rows, map, p.groups);
    accs.forEach((acc, j) => mergeStates(acc.kind, states[j]!, p.states[j]!, map, p.groups, exactInt[j]!));
  });
  return { merged: { groups, firstRow, lastRow, rows, states, keys: null }, exactInt, localToGlobal: maps };
}

/**
 * Renumbers hash groups 0, 1, 2, ... in order of first row, in place in the maps. A morsel's table numbers
 * its groups as its rows first reach them, and morsels hold rows in order, so the first (partial, local id)
 * that maps to a group is its first row. The merged arrays are then already in output order and
 * finalisation reads them front to back instead of at random.
 */
function renumberByFirstRow(maps: readonly Int32Array[], groups: number): void {
  const rank = new Int32Array(groups).fill(-1);
  let next = 0;
  for (const map of maps) {
    for (let l = 0; l < map.length; l++) {
      const g = map[l]!;
      if (g < 0) continue;
      let r = rank[g]!;
      if (r < 0) r = rank[g] = next++;
      map[l] = r;
    }
  }
}

/** Above this many partial groups in all, hash partials merge partition by partition (partitionedGroupIds). */
const PARTITIONED_MERGE_GROUPS = 1 << 18;
/** About this many partial groups per partition: its table (4 words a slot for a 2-word key) stays in cache. */
const PARTITION_GROUPS = 1 << 15;

/**
 * Global group ids for hash partials with many groups, found partition by partition: each partial group
 * goes to a partition by the top bits of its key hash, its key words are copied into that partition's run,
 * and one small table (in cache, where one table for every group would miss memory on nearly every probe)
 * numbers each run's keys in turn. Ids run partition after partition; within a partition, partials and
 * their groups keep their order. They need only be distinct per key: mergeGroupPartials then renumbers
 * them in first-row order.
 */
function partitionedGroupIds(partials: readonly GroupPartial[], width: number, total: number): { maps: Int32Array[]; groups: number } {
  const bits = Math.min(16, Math.max(1, Math.ceil(Math.log2(total / PARTITION_GROUPS))));
  const partitions = 1 << bits;
  const shift = 32 - bits;
  const starts = new Int32Array(partitions + 1);
  // Per partial group: its partition, then (below) its place in the partition-ordered runs.
  const places = partials.map((p) => {
    const place = new Int32Array(p.groups);
    const keys = p.keys!;
    for (let l = 0; l < p.groups; l++) {
      if (p.firstRow[l]! < 0) place[l] = -1;
      else starts[(place[l] = hashWords(keys, l * width, width) >>> shift) + 1]!++;
    }
    return place;
  });
  let largest = 0;
  for (let q = 0; q < partitions; q++) {
    largest = Math.max(largest, starts[q + 1]!);
    starts[q + 1]! += starts[q]!;
  }
  const cursor = starts.slice(0, partitions);
  const runWords = new Uint32Array(starts[partitions]! * width);
  partials.forEach((p, m) => {
    const place = places[m]!;
    const keys = p.keys!;
    for (let l = 0; l < place.length; l++) {
      const q = place[l]!;
      if (q < 0) continue;
      const e = cursor[q]!++;
      place[l] = e;
      for (let k = 0; k < width; k++) runWords[e * width + k] = keys[l * width + k]!;
    }
  });
  const ids = new Int32Array(starts[partitions]!);
  const table = new KeyTable(width, Math.max(16, largest));
  let groups = 0;
  for (let q = 0; q < partitions; q++) {
    for (let e = starts[q]!; e < starts[q + 1]!; e++) ids[e] = groups + table.findOrInsert(runWords, e * width);
    groups += table.size;
    table.clear();
  }
  for (const place of places) for (let l = 0; l < place.length; l++) if (place[l]! >= 0) place[l] = ids[place[l]!]!;
  return { maps: places, groups };
}

/**
 * Merges one accumulator's partial state `from` (n local groups) into `into`: local group l goes to group
 * map[l], skipped when -1; a null map sends l to l (dense slots, where a slot no row reached is all zeros
 * and every merge below leaves its target unchanged).
 */
function mergeStates(kind: AccKind, into: readonly (Float64Array | bigint[])[], from: readonly (Float64Array | bigint[])[], map: Int32Array | null, n: number, exact: (bigint | undefined)[]): void {
  const f = (k: number): Float64Array => from[k] as Float64Array;
  const t = (k: number): Float64Array => into[k] as Float64Array;
  switch (kind) {
    case 'none':
      return;
    case 'count':
      addMapped(t(0), f(0), map, n);
      return;
    case 'sumFloat':
      addMapped(t(0), f(0), map, n);
      addMapped(t(1), f(1), map, n);
      return;
    case 'sumInt': {
      const [sums, adds] = [t(0), f(0)];
      if (map === null && exact.length === 0 && maxAbs(sums, n) + maxAbs(adds, n) <= SAFE) addMapped(sums, adds, null, n);
      else {
        for (let l = 0; l < n; l++) {
          const g = map === null ? l : map[l]!;
          if (g < 0) continue;
          const add = adds[l]!;
          const sum = sums[g]! + add;
          if (exact.length !== 0 && exact[g] !== undefined) exact[g] = exact[g]! + BigInt(add);
          else if (Math.abs(sum) <= SAFE && Math.abs(sums[g]!) + Math.abs(add) <= SAFE) sums[g] = sum;
          else exact[g] = BigInt(sums[g]!) + BigInt(add);
        }
      }
      addMapped(t(1), f(1), map, n);
      return;
    }
    case 'sumBig':
      addBigMapped(into[0] as bigint[], from[0] as bigint[], map, n);
      addMapped(t(1), f(1), map, n);
      return;
    case 'min':
    case 'max': {
      const [values, counts, candidates, seen] = [t(0), t(1), f(0), f(1)];
      const smaller = kind === 'min';
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g < 0 || seen[l] === 0) continue;
        const candidate = candidates[l]!;
        const current = values[g]!;
        // NaN orders after every number, as in the kernels' lessThan.
        const better =
          counts[g] === 0 ||
          (smaller ? candidate < current || (current !== current && candidate === candidate) : candidate > current || (candidate !== candidate && current === current));
        if (better) values[g] = candidate;
        counts[g] = counts[g]! + seen[l]!;
      }
      return;
    }
    case 'minBig':
    case 'maxBig': {
      const [values, candidates] = [into[0] as bigint[], from[0] as bigint[]];
      const [counts, seen] = [t(1), f(1)];
      const smaller = kind === 'minBig';
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g < 0 || seen[l] === 0) continue;
        const candidate = candidates[l]!;
        if (counts[g] === 0 || (smaller ? candidate < values[g]! : candidate > values[g]!)) values[g] = candidate;
        counts[g] = counts[g]! + seen[l]!;
      }
      return;
    }
    case 'momentsBig':
      addBigMapped(into[0] as bigint[], from[0] as bigint[], map, n);
      addBigMapped(into[1] as bigint[], from[1] as bigint[], map, n);
      addMapped(t(2), f(2), map, n);
      return;
    case 'moments': {
      const [counts, means, m2s] = [f(0), f(1), f(2)];
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && counts[l]! > 0) combineMoments(into as Float64Array[], g, counts[l]!, means[l]!, m2s[l]!);
      }
      return;
    }
    case 'comomentsBig':
      for (let k = 0; k < 5; k++) addBigMapped(into[k] as bigint[], from[k] as bigint[], map, n);
      addMapped(t(5), f(5), map, n);
      return;
    case 'comoments': {
      const counts = f(0);
      for (let l = 0; l < n; l++) {
        const g = map === null ? l : map[l]!;
        if (g >= 0 && counts[l]! > 0) combineCoMoments(into as Float64Array[], g, from as Float64Array[], l);
      }
      return;
    }
  }
}

function maxAbs(values: Float64Array, n: number): number {
  let max = 0;
  for (let l = 0; l < n; l++) max = Math.max(max, Math.abs(values[l]!));
  return max;
}

/** into[map[l]] += from[l] for the n local groups (map null: into[l] += from[l]). */
function addMapped(into: Float64Array, from: Float64Array, map: Int32Array | null, n: number): void {
  if (map === null) {
    for (let l = 0; l < n; l++) into[l] = into[l]! + from[l]!;
    return;
  }
  for (let l = 0; l < n; l++) {
    const g = map[l]!;
    if (g >= 0) into[g] = into[g]! + from[l]!;
  }
}

function addBigMapped(into: bigint[], from: bigint[], map: Int32Array | null, n: number): void {
  for (let l = 0; l < n; l++) {
    const g = map === null ? l : map[l]!;
    if (g >= 0) into[g] = into[g]! + from[l]!;
  }
}

/**
 * Chan et al.'s pairwise combination of a partial (count nb > 0, mean, M2) into the moments state
 * [count, mean, M2] of group g. Both engines merge their partials with it.
 */
export function combineMoments(state: readonly Float64Array[], g: number, nb: number, meanB: number, m2B: number): void {
  const [counts, means, m2s] = state as [Float64Array, Float64Array, Float64Array];
  const na = counts[g]!;
  if (na === 0) {
    counts[g] = nb;
    means[g] = meanB;
    m2s[g] = m2B;
    return;
  }
  const n = na + nb;
  const delta = meanB - means[g]!;
  means[g] = means[g]! + (delta * nb) / n;
  m2s[g] = m2s[g]! + m2B + (delta * delta * na * nb) / n;
  counts[g] = n;
}

/**
 * combineMoments for corr's co-moments: partial l of `from` merged into group g of `state` (layouts in
 * stateArity), x and y exactly as combineMoments merges one variable, the co-moment by the same rule.
 * A side varies when it varied in either partial or the partials' means differ: a side that has held
 * one value has exactly that value as its mean.
 */
export function combineCoMoments(state: readonly Float64Array[], g: number, from: readonly Float64Array[], l: number): void {
  const [counts, meansX, meansY, m2X, m2Y, cXY, flags] = state as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const nb = from[0]![l]!;
  const meanXB = from[1]![l]!;
  const meanYB = from[2]![l]!;
  const na = counts[g]!;
  if (na === 0) {
    for (let k = 0; k < 7; k++) state[k]![g] = from[k]![l]!;
    return;
  }
  flags[g] = flags[g]! | from[6]![l]! | (meanXB !== meansX[g]! ? CO_VARIES_X : 0) | (meanYB !== meansY[g]! ? CO_VARIES_Y : 0);
  const n = na + nb;
  const deltaX = meanXB - meansX[g]!;
  const deltaY = meanYB - meansY[g]!;
  meansX[g] = meansX[g]! + (deltaX * nb) / n;
  meansY[g] = meansY[g]! + (deltaY * nb) / n;
  m2X[g] = m2X[g]! + from[3]![l]! + (deltaX * deltaX * na * nb) / n;
  m2Y[g] = m2Y[g]! + from[4]![l]! + (deltaY * deltaY * na * nb) / n;
  cXY[g] = cXY[g]! + from[5]![l]! + (deltaX * deltaY * na * nb) / n;
  counts[g] = n;
}

