// Dictionary arithmetic both engines share: utf8 values are codes into a dictionary, so ordering,
// comparing across dictionaries and merging branches become tables computed here once per dictionary.

import type { BoundExpr } from '../../expr/types.js';
import type { Column } from '../../model/types.js';
import { mapDictionary, strFunction } from './strings.js';

/**
 * Unifies branch dictionaries: the merged dictionary and, per branch, the table mapping its codes into
 * it (null where the branch already uses it). Shared with the WGSL compiler.
 */
export function mergeDictionaries(dicts: readonly (readonly string[])[]): { dictionary: readonly string[]; remaps: (Int32Array | null)[] } {
  const first = dicts.find((d) => d.length > 0) ?? [];
  if (dicts.every((d) => d === first || d.length === 0)) return { dictionary: first, remaps: dicts.map(() => null) };
  const dictionary = [...new Set(dicts.flat())];
  const index = new Map(dictionary.map((s, k) => [s, k]));
  return { dictionary, remaps: dicts.map((d) => (d === dictionary ? null : Int32Array.from(d, (s) => index.get(s)!))) };
}

/** Rank of each code of each dictionary within their sorted union, for ordering and cross-dictionary equality. */
export function rankTables(dicts: readonly (readonly string[])[]): Int32Array[] {
  const all = [...new Set(dicts.flat())].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const rank = new Map(all.map((s, k) => [s, k]));
  return dicts.map((d) => Int32Array.from(d, (s) => rank.get(s)!));
}

/** Rank of each dictionary code in JS string order (UTF-16 code units), computed once per dictionary. */
export function dictionaryRanks(dictionary: readonly string[]): Int32Array {
  const codes = Array.from(dictionary, (_, code) => code).sort((a, b) => {
    const x = dictionary[a]!;
    const y = dictionary[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const rank = new Int32Array(dictionary.length);
  let current = 0;
  codes.forEach((code, position) => {
    if (position > 0 && dictionary[code] !== dictionary[codes[position - 1]!]) current = position;
    rank[code] = current;
  });
  return rank;
}

/** Code of each `from` string in `to` (-1 where absent), or null when the dictionaries are the same. */
export function dictionaryRemap(from: readonly string[], to: readonly string[]): Int32Array | null {
  if (from === to || (from.length === to.length && from.every((s, code) => s === to[code]))) return null;
  const codeOf = new Map<string, number>();
  to.forEach((s, code) => {
    if (!codeOf.has(s)) codeOf.set(s, code);
  });
  return Int32Array.from(from, (s) => codeOf.get(s) ?? -1);
}

/** Rank of each dictionary code in string order, and the dictionary in that order: utf8 min/max work on ranks. */
export function stringRanks(dictionary: readonly string[]): { rank: Int32Array; sorted: string[] } {
  const order = [...dictionary].map((s, code) => [s, code] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const rank = new Int32Array(dictionary.length);
  order.forEach(([, code], r) => (rank[code] = r));
  return { rank, sorted: order.map(([text]) => text) };
}

/**
 * The dictionary a utf8 expression's codes index, derived as both expression compilers derive it while
 * compiling: a column's own, a literal's one string, lower, upper and `str` operations mapped, branches
 * merged, a boolean cast to text as ['false', 'true']. Lets the plan's metadata be read without compiling
 * a kernel. Text made per row (isDynamicString) has no dictionary here; aggregations refuse it.
 */
export function utf8Dictionary(columns: ReadonlyMap<string, Column>, expr: BoundExpr): readonly string[] {
  switch (expr.kind) {
    case 'col':
      return columns.get(expr.name)?.dictionary ?? [];
    case 'lit':
      return expr.value === null ? [] : [expr.value as string];
    case 'unary': {
      if (expr.op !== 'lower' && expr.op !== 'upper') return [];
      const mapped = utf8Dictionary(columns, expr.arg).map((s) => (expr.op === 'lower' ? s.toLowerCase() : s.toUpperCase()));
      return [...new Set(mapped)];
    }
    case 'cast':
      // Only a boolean casts to a dictionary of its own; numbers cast to text per row (no dictionary).
      return expr.arg.type.dtype === 'bool' ? ['false', 'true'] : utf8Dictionary(columns, expr.arg);
    case 'str':
      if (expr.op === 'concat') return [];
      return expr.type.dtype === 'utf8' ? mapDictionary(utf8Dictionary(columns, expr.arg), strFunction(expr.op, expr.params)).dictionary : [];
    case 'when':
      return mergeDictionaries([...expr.branches.map((branch) => utf8Dictionary(columns, branch.then)), utf8Dictionary(columns, expr.otherwise)]).dictionary;
    case 'coalesce':
      return mergeDictionaries(expr.args.map((arg) => utf8Dictionary(columns, arg))).dictionary;
    default:
      return [];
  }
}
