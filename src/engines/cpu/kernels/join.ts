// Hash equi-join on the main thread: builds a KeyTable over the right keys with per-key chains of right
// rows, probes it with the left keys, and returns the matching row pairs; gathering columns is the caller's.

import { ExpressionTypeError } from '../../../errors.js';
import type { Column } from '../../../model/types.js';
import type { JoinHow } from '../../../plan/types.js';
import { dictionaryRemap } from '../../shared/dictionaries.js';
import { encodeKeyBlock, KeyTable, valueWidth, type KeyColumn } from '../../shared/key-table.js';

const BLOCK_ROWS = 4096;
const MAX_OUTPUT_ROWS = 2 ** 31 - 1;

/**
 * Hash equi-join. Returns matching row pairs in output order: left rows in order and, for each left row,
 * its matching right rows in right order. inner: only matches; left: unmatched left rows get right index
 * -1; semi: each left row with a match, once; anti: left rows without one (rightRows null for both).
 * Null keys never match. Floats compare as group-by groups them: -0 equals 0 and NaN equals NaN.
 */
export function hashJoin(left: readonly Column[], right: readonly Column[], how: JoinHow): { leftRows: Int32Array; rightRows: Int32Array | null } {
  const { leftKeys, rightKeys } = joinKeys(left, right);
  const withMask = leftKeys.some((k) => k.column.validity !== null) || rightKeys.some((k) => k.column.validity !== null);
  // Both sides share one tuple layout, so the mask word is there on both when either side has nulls.
  const width = valueWidth(leftKeys) + (withMask ? 1 : 0);
  const build = buildRight(rightKeys, right[0]?.length ?? 0, width, withMask);
  const matches = probeLeft(leftKeys, left[0]?.length ?? 0, width, withMask, build.table);
  return collect(matches, build, how);
}

/** Pairs the key columns up, widening int32 to meet int64 and remapping right utf8 codes into the left dictionary. */
function joinKeys(left: readonly Column[], right: readonly Column[]): { leftKeys: KeyColumn[]; rightKeys: KeyColumn[] } {
  if (left.length === 0 || left.length !== right.length)
    throw new ExpressionTypeError(`join needs the same non-zero number of left and right keys, got ${left.length} and ${right.length}`);
  const leftKeys: KeyColumn[] = [];
  const rightKeys: KeyColumn[] = [];
  left.forEach((l, k) => {
    const r = right[k]!;
    if (l.dtype === r.dtype) {
      leftKeys.push({ column: l });
      const remap = l.dtype === 'utf8' ? dictionaryRemap(r.dictionary ?? [], l.dictionary ?? []) : null;
      rightKeys.push(remap === null ? { column: r } : { column: r, remap });
    } else if (l.dtype === 'int32' && r.dtype === 'int64') {
      leftKeys.push({ column: l, as: 'int64' });
      rightKeys.push({ column: r });
    } else if (l.dtype === 'int64' && r.dtype === 'int32') {
      leftKeys.push({ column: l });
      rightKeys.push({ column: r, as: 'int64' });
    } else {
      throw new ExpressionTypeError(`join key ${k}: ${l.dtype} cannot match ${r.dtype}`);
    }
  });
  return { leftKeys, rightKeys };
}

interface RightBuild {
  readonly table: KeyTable;
  /** First right row of each key id, and the next right row with the same key (-1 ends a chain). */
  readonly head: Int32Array;
  readonly next: Int32Array;
  /** Right rows per key id. */
  readonly counts: Int32Array;
}

function buildRight(keys: readonly KeyColumn[], length: number, width: number, withMask: boolean): RightBuild {
  const table = new KeyTable(width, length);
  const head = new Int32Array(length).fill(-1);
  const next = new Int32Array(length).fill(-1);
  const counts = new Int32Array(length);
  const block = new Uint32Array(Math.max(1, BLOCK_ROWS * width));
  // Blocks and rows are walked backwards so that pushing onto the front of a chain leaves it in right order.
  for (let end = length; end > 0; end -= BLOCK_ROWS) {
    const start = Math.max(0, end - BLOCK_ROWS);
    encodeKeyBlock(keys, null, start, end, block, 0, width, withMask);
    for (let r = end - 1; r >= start; r--) {
      const at = (r - start) * width;
      if (withMask && block[at + width - 1] !== 0) continue;
      const id = table.findOrInsert(block, at);
      next[r] = head[id]!;
      head[id] = r;
      counts[id]!++;
    }
  }
  return { table, head, next, counts };
}

/** Key id of each left row in the right table, -1 for no match (null keys included). */
function probeLeft(keys: readonly KeyColumn[], length: number, width: number, withMask: boolean, table: KeyTable): Int32Array {
  const ids = new Int32Array(length);
  const block = new Uint32Array(Math.max(1, BLOCK_ROWS * width));
  for (let start = 0; start < length; start += BLOCK_ROWS) {
    const end = Math.min(length, start + BLOCK_ROWS);
    encodeKeyBlock(keys, null, start, end, block, 0, width, withMask);
    for (let r = start, at = 0; r < end; r++, at += width) ids[r] = withMask && block[at + width - 1] !== 0 ? -1 : table.find(block, at);
  }
  return ids;
}

/** Output pairs from the left rows' key ids: counted first, then written into exactly sized arrays. */
function collect(ids: Int32Array, build: RightBuild, how: JoinHow): { leftRows: Int32Array; rightRows: Int32Array | null } {
  const { head, next, counts } = build;
  const n = ids.length;
  if (how === 'semi' || how === 'anti') {
    const keep = how === 'semi';
    let total = 0;
    for (let i = 0; i < n; i++) if (ids[i]! >= 0 === keep) total++;
    const leftRows = new Int32Array(total);
    for (let i = 0, o = 0; i < n; i++) if (ids[i]! >= 0 === keep) leftRows[o++] = i;
    return { leftRows, rightRows: null };
  }
  const outer = how === 'left';
  let total = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    total += id >= 0 ? counts[id]! : outer ? 1 : 0;
  }
  if (total > MAX_OUTPUT_ROWS) throw new RangeError(`join would produce ${total} rows, more than ${MAX_OUTPUT_ROWS}`);
  const leftRows = new Int32Array(total);
  const rightRows = new Int32Array(total);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id < 0) {
      if (outer) {
        leftRows[o] = i;
        rightRows[o++] = -1;
      }
      continue;
    }
    for (let r = head[id]!; r >= 0; r = next[r]!) {
      leftRows[o] = i;
      rightRows[o++] = r;
    }
  }
  return { leftRows, rightRows };
}
