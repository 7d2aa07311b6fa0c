// Compiles bound expressions to WGSL, mirroring the CPU engine's JS compiler (engines/cpu/codegen.ts)
// node for node so both engines give the same answers. Each expression yields a WGSL value and a null
// flag; strings are dictionary codes and every string operation is a lookup table per dictionary entry,
// gathered into one i32 table buffer whose offsets are spliced into the text. Integer overflow sets a
// bit in a flags buffer, which the host turns into the same ArithmeticOverflowError the CPU raises.

import type { BoundExpr } from '../../expr/types.js';
import { conjuncts } from '../../expr/visit.js';
import type { Column, DType } from '../../model/types.js';
import { mergeDictionaries, rankTables } from '../shared/dictionaries.js';
import { orNull } from '../shared/null-flags.js';
import { overflow } from '../shared/overflow.js';
import { GPU_DTYPES } from './resident.js';

export interface WgslValue {
  readonly v: string;
  readonly n: string;
  readonly dtype: DType;
  readonly dictionary?: readonly string[];
}

/** Overflow flag bits, in the order the host reports them. */
const OVERFLOW_OPS = ['add', 'sub', 'mul', 'neg', 'abs', 'cast', 'floorDiv'] as const;
/** Bit of the flags word for a float sum that overflowed f32 where f64 would not (the host reruns on the CPU). */
export const F32_OVERFLOW_FLAG = 1 << 16;

/** Throws the CPU engine's error for the first overflow bit set in `flags`. */
export function raiseOverflow(flags: number): void {
  OVERFLOW_OPS.forEach((op, k) => {
    if (flags & (1 << k)) overflow(op, 'int32');
  });
}

/** An input column as the kernel reads it: binding names for its values and validity. */
interface InputSlot {
  readonly column: Column;
  readonly values: string;
  readonly validity: string | null;
}

export class WgslBuilder {
  readonly inputs: InputSlot[] = [];
  private readonly byName = new Map<string, InputSlot>();
  /** Contents of the i32 lookup-table buffer. */
  readonly tables: number[] = [];
  private blocks: string[][] = [[]];
  private counter = 0;

  constructor(private readonly columns: ReadonlyMap<string, Column>) {}

  input(name: string): InputSlot {
    let slot = this.byName.get(name);
    if (!slot) {
      const column = this.columns.get(name);
      if (!column) throw new Error(`kernel input '${name}' is missing`);
      const k = this.inputs.length;
      slot = { column, values: `in${k}`, validity: column.validity ? `in${k}_valid` : null };
      this.inputs.push(slot);
      this.byName.set(name, slot);
    }
    return slot;
  }

  /** Appends a lookup table and returns the WGSL expression reading entry `index` of it. */
  table(values: ArrayLike<number>, index: string): string {
    const offset = this.tables.length;
    for (let k = 0; k < values.length; k++) this.tables.push(values[k]!);
    return `tables[${offset}u + u32(${index})]`;
  }

  tmp(prefix = 't'): string {
    return `${prefix}${this.counter++}`;
  }

  line(text: string): void {
    this.blocks[this.blocks.length - 1]!.push(text);
  }

  capture(body: () => void): string[] {
    this.blocks.push([]);
    body();
    return this.blocks.pop()!;
  }

  takeBody(): string {
    const text = this.blocks[0]!.join('\n');
    this.blocks = [[]];
    return text;
  }

  /** Storage declarations of the inputs, from binding `first` on; returns the next free binding. */
  inputDeclarations(first: number): { text: string; next: number } {
    const lines: string[] = [];
    let binding = first;
    for (const slot of this.inputs) {
      const element = slot.column.dtype === 'float32' ? 'f32' : slot.column.dtype === 'bool' ? 'u32' : 'i32';
      lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${slot.values}: array<${element}>;`);
      if (slot.validity) lines.push(`@group(0) @binding(${binding++}) var<storage, read> ${slot.validity}: array<u32>;`);
    }
    return { text: lines.join('\n'), next: binding };
  }
}

/** WGSL type of a value of `dtype`. */
export function wgslType(dtype: DType): string {
  return dtype === 'float32' ? 'f32' : dtype === 'bool' ? 'bool' : 'i32';
}

/** Why `expr` cannot run on the GPU, or null when it can. */
export function unsupportedReason(expr: BoundExpr): string | null {
  const dtype = expr.type.dtype;
  const op = expr.kind === 'unary' || expr.kind === 'binary' ? expr.op : null;
  // The CPU computes these in float64 with Math.*; WGSL has no f64, and its f32 builtins are not correctly
  // rounded (pow, exp and log are allowed several ulp), so the GPU could not give the same answer.
  if (op === 'sqrt' || op === 'exp' || op === 'log' || op === 'log10' || op === 'log1p' || op === 'pow' || op === 'logBase')
    return `${op === 'logBase' ? 'log(base)' : op} (a float64 result; WGSL's transcendental builtins are f32 and not correctly rounded)`;
  // Calendar and time-zone arithmetic needs 64-bit values and the zone database, neither of which WGSL has.
  if (expr.kind === 'dt') return `dt.${expr.op} (calendar and time-zone arithmetic on 64-bit values)`;
  if (!GPU_DTYPES.has(dtype)) return `${dtype} values`;
  switch (expr.kind) {
    case 'col':
    case 'lit':
      return null;
    case 'binary':
      // WGSL's f32 division is within 2.5 ULP and its % is not fmod: both would break exact agreement.
      if ((expr.op === 'div' || expr.op === 'mod' || expr.op === 'floorDiv') && dtype === 'float32') return `float ${expr.op}`;
      return unsupportedReason(expr.left) ?? unsupportedReason(expr.right);
    case 'round':
      if (dtype === 'float32') return 'float round';
      return unsupportedReason(expr.arg);
    case 'cast':
      // Null for a value out of range would need a second null flag per cast; the CPU gives it.
      if (!expr.strict) return 'a non-strict cast';
      return unsupportedReason(expr.arg);
    case 'unary':
    case 'isIn':
    case 'match':
      return unsupportedReason(expr.arg);
    case 'when':
      for (const b of expr.branches) {
        const r = unsupportedReason(b.cond) ?? unsupportedReason(b.then);
        if (r) return r;
      }
      return unsupportedReason(expr.otherwise);
    case 'coalesce':
      for (const a of expr.args) {
        const r = unsupportedReason(a);
        if (r) return r;
      }
      return null;
  }
}

function flagOverflow(op: (typeof OVERFLOW_OPS)[number]): string {
  return `atomicOr(&flags[0], ${1 << OVERFLOW_OPS.indexOf(op)}u);`;
}

function f32Literal(x: number): string {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0]!;
  // A constant infinity or NaN does not compile (WGSL const-expressions must be finite): those come
  // from the bits XORed with the runtime zero.
  return Number.isFinite(x) ? `bitcast<f32>(0x${bits.toString(16)}u)` : `bitcast<f32>(0x${bits.toString(16)}u ^ params.opaque_zero)`;
}

function i32Literal(x: number): string {
  return x === -2147483648 ? 'i32(-2147483647 - 1)' : `i32(${x})`;
}

export function compileWgsl(b: WgslBuilder, expr: BoundExpr, i = 'i'): WgslValue {
  const dtype = expr.type.dtype;
  switch (expr.kind) {
    case 'col': {
      const slot = b.input(expr.name);
      const v = b.tmp('v');
      const n = slot.validity ? b.tmp('n') : 'false';
      if (slot.validity) b.line(`let ${n} = !bit_at(${slot.validity}[${i} >> 5u], ${i});`);
      if (dtype === 'bool') b.line(`let ${v} = bit_at(${slot.values}[${i} >> 5u], ${i});`);
      else b.line(`let ${v} = ${slot.values}[${i}];`);
      return dtype === 'utf8' ? { v, n, dtype, dictionary: slot.column.dictionary ?? [] } : { v, n, dtype };
    }
    case 'lit':
      return literal(expr.value, dtype);
    case 'binary':
      return compileBinary(b, expr, i);
    case 'unary':
      return compileUnary(b, expr, i);
    case 'round':
      // Integer rounding is the identity; float round is not compiled (unsupportedReason).
      return compileWgsl(b, expr.arg, i);
    case 'isIn':
      return compileIsIn(b, expr, i);
    case 'match': {
      const a = compileWgsl(b, expr.arg, i);
      const dict = a.dictionary ?? [];
      const table = Int32Array.from(dict, (s) =>
        (expr.op === 'startsWith' ? s.startsWith(expr.pattern) : expr.op === 'endsWith' ? s.endsWith(expr.pattern) : s.includes(expr.pattern)) ? 1 : 0,
      );
      const v = b.tmp('v');
      b.line(`let ${v} = ${dict.length === 0 ? 'false' : `${b.table(table, a.v)} == 1`};`);
      return { v, n: a.n, dtype: 'bool' };
    }
    case 'when':
      return compileWhen(b, expr, i);
    case 'cast':
      return compileCast(b, compileWgsl(b, expr.arg, i), dtype);
    case 'coalesce':
      return compileCoalesce(b, expr, i);
    case 'dt':
      throw new Error(`${expr.kind} is not compiled to WGSL: ${unsupportedReason(expr)!}`);
  }
}

/** Emits an early `return` (of `exit`) for a row whose predicate is not true, conjunct by conjunct. */
export function compileWgslFilter(b: WgslBuilder, predicate: BoundExpr, exit: string, i = 'i'): void {
  for (const term of conjuncts(predicate)) {
    const p = compileWgsl(b, term, i);
    b.line(`if (!(${p.n === 'false' ? p.v : `!${p.n} && ${p.v}`})) { ${exit} }`);
  }
}

function literal(value: number | bigint | string | boolean | null, dtype: DType): WgslValue {
  if (value === null) {
    const zero = dtype === 'bool' ? 'false' : dtype === 'float32' ? '0.0f' : '0i';
    return dtype === 'utf8' ? { v: zero, n: 'true', dtype, dictionary: [] } : { v: zero, n: 'true', dtype };
  }
  if (dtype === 'utf8') return { v: '0i', n: 'false', dtype, dictionary: [value as string] };
  if (typeof value === 'boolean') return { v: String(value), n: 'false', dtype };
  const x = Number(value);
  return { v: dtype === 'float32' ? f32Literal(x) : i32Literal(Object.is(x, -0) ? 0 : x), n: 'false', dtype };
}

function nullVar(b: WgslBuilder, text: string): string {
  if (text === 'false' || text === 'true') return text;
  const n = b.tmp('n');
  b.line(`let ${n} = ${text};`);
  return n;
}

const COMPARE: Record<string, string> = { eq: '==', ne: '!=', gt: '>', ge: '>=', lt: '<', le: '<=' };

function compileBinary(b: WgslBuilder, expr: Extract<BoundExpr, { kind: 'binary' }>, i: string): WgslValue {
  const dtype = expr.type.dtype;
  if (expr.op === 'and' || expr.op === 'or') {
    const l = compileWgsl(b, expr.left, i);
    const r = compileWgsl(b, expr.right, i);
    const v = b.tmp('v');
    if (l.n === 'false' && r.n === 'false') {
      b.line(`let ${v} = ${l.v} ${expr.op === 'and' ? '&&' : '||'} ${r.v};`);
      return { v, n: 'false', dtype };
    }
    const decisive = expr.op === 'and' ? (x: WgslValue) => `(!${x.n} && !${x.v})` : (x: WgslValue) => `(!${x.n} && ${x.v})`;
    const d = b.tmp('d');
    b.line(`let ${d} = ${decisive(l)} || ${decisive(r)};`);
    const n = nullVar(b, `!${d} && ${orNull(l.n, r.n)}`);
    b.line(`let ${v} = ${expr.op === 'and' ? `!${d} && !${n}` : d};`);
    return { v, n, dtype };
  }
  const l = compileWgsl(b, expr.left, i);
  const r = compileWgsl(b, expr.right, i);
  const n0 = orNull(l.n, r.n);
  const v = b.tmp('v');
  if (expr.op in COMPARE) {
    const op = COMPARE[expr.op]!;
    if (l.dtype === 'utf8') {
      const ld = l.dictionary ?? [];
      const rd = r.dictionary ?? [];
      if (ld === rd && (op === '==' || op === '!=')) b.line(`let ${v} = ${l.v} ${op} ${r.v};`);
      else if ((op === '==' || op === '!=') && rd.length === 1 && r.v === '0i') b.line(`let ${v} = ${l.v} ${op} ${i32Literal(ld.indexOf(rd[0]!))};`);
      else {
        const [lr, rr] = rankTables([ld, rd]);
        b.line(`let ${v} = ${lr!.length === 0 ? '0i' : b.table(lr!, l.v)} ${op} ${rr!.length === 0 ? '0i' : b.table(rr!, r.v)};`);
      }
    } else if (l.dtype === 'bool') {
      b.line(`let ${v} = select(0u, 1u, ${l.v}) ${op} select(0u, 1u, ${r.v});`);
    } else if (l.dtype === 'float32') {
      // JS semantics with NaN, stated explicitly: only != holds when either side is NaN.
      b.line(`let ${v} = select(${l.v} ${op} ${r.v}, ${op === '!=' ? 'true' : 'false'}, is_nan_f32(${l.v}) || is_nan_f32(${r.v}));`);
    } else {
      b.line(`let ${v} = ${l.v} ${op} ${r.v};`);
    }
    return { v, n: nullVar(b, n0), dtype: 'bool' };
  }
  const n = nullVar(b, n0);
  const guard = n === 'false' ? '' : `!${n} && `;
  switch (expr.op) {
    case 'add':
    case 'sub':
    case 'mul': {
      const sym = expr.op === 'add' ? '+' : expr.op === 'sub' ? '-' : '*';
      // Float operands go through opaque functions (two different ones, so x - x stays two values):
      // compilers that treat float math as algebra fold x - x to 0 or x + 0 to x, which NaN,
      // infinities and -0 make wrong.
      if (dtype === 'float32') b.line(`let ${v} = opaque(${l.v}) ${sym} opaque_other(${r.v});`);
      else b.line(`let ${v} = ${l.v} ${sym} ${r.v};`);
      if (dtype === 'int32') {
        // Two's complement wraps in WGSL; detect it exactly instead.
        const wrapped =
          expr.op === 'add'
            ? `((${l.v} ^ ${v}) & (${r.v} ^ ${v})) < 0i`
            : expr.op === 'sub'
              ? `((${l.v} ^ ${r.v}) & (${l.v} ^ ${v})) < 0i`
              : `(${l.v} != 0i && ((${v} / ${l.v} != ${r.v}) || (${l.v} == -1i && ${r.v} == i32(-2147483647 - 1))))`;
        b.line(`if (${guard}${wrapped}) { ${flagOverflow(expr.op)} }`);
      }
      return { v, n, dtype };
    }
    case 'mod': {
      // Integer modulo by zero is null (and WGSL's % already truncates toward zero like JS).
      const nz = nullVar(b, orNull(n0, `${r.v} == 0i`));
      b.line(`let ${v} = select(${l.v} % select(${r.v}, 1i, ${r.v} == 0i), 0i, ${nz});`);
      return { v, n: nz, dtype };
    }
    case 'floorDiv': {
      // int32 only (float floorDiv stays on the CPU): null by zero, the minimum by -1 overflows as on the
      // CPU; WGSL's / truncates, so a remainder of the other sign steps the quotient down.
      const nz = nullVar(b, orNull(n0, `${r.v} == 0i`));
      const min = i32Literal(-2147483648);
      const d = b.tmp('d');
      b.line(`let ${d} = select(${r.v}, 1i, ${r.v} == 0i || (${l.v} == ${min} && ${r.v} == -1i));`);
      b.line(`let ${v} = select(${l.v} / ${d} - select(0i, 1i, ${l.v} % ${d} != 0i && ((${l.v} < 0i) != (${d} < 0i))), 0i, ${nz});`);
      b.line(`if (${nz === 'false' ? '' : `!${nz} && `}${l.v} == ${min} && ${r.v} == -1i) { ${flagOverflow('floorDiv')} }`);
      return { v, n: nz, dtype };
    }
    case 'clipLow':
    case 'clipHigh': {
      // A null bound is no bound; NaN on either side leaves the value (tested by bits, as in comparisons).
      const sym = expr.op === 'clipLow' ? '<' : '>';
      const nan = dtype === 'float32' ? ` && !is_nan_f32(${l.v}) && !is_nan_f32(${r.v})` : '';
      b.line(`let ${v} = select(${l.v}, ${r.v}, ${r.n === 'false' ? '' : `!${r.n} && `}${l.v} ${sym} ${r.v}${nan});`);
      return { v, n: l.n, dtype };
    }
    default:
      throw new Error(`binary ${expr.op} on ${dtype} is not compiled to WGSL`);
  }
}

function compileUnary(b: WgslBuilder, expr: Extract<BoundExpr, { kind: 'unary' }>, i: string): WgslValue {
  const a = compileWgsl(b, expr.arg, i);
  const dtype = expr.type.dtype;
  const v = b.tmp('v');
  const guard = a.n === 'false' ? '' : `!${a.n} && `;
  switch (expr.op) {
    case 'isNull':
      return { v: a.n === 'false' ? 'false' : a.n, n: 'false', dtype };
    case 'isNotNull':
      return { v: a.n === 'false' ? 'true' : `(!${a.n})`, n: 'false', dtype };
    case 'not':
      b.line(`let ${v} = !${a.v};`);
      return { v, n: a.n, dtype };
    case 'neg':
      b.line(`let ${v} = -${a.v};`);
      if (dtype === 'int32') b.line(`if (${guard}${a.v} == i32(-2147483647 - 1)) { ${flagOverflow('neg')} }`);
      return { v, n: a.n, dtype };
    case 'abs':
      b.line(`let ${v} = abs(${a.v});`);
      if (dtype === 'int32') b.line(`if (${guard}${a.v} == i32(-2147483647 - 1)) { ${flagOverflow('abs')} }`);
      return { v, n: a.n, dtype };
    case 'floor':
    case 'ceil':
      if (dtype !== 'float32') return a;
      b.line(`let ${v} = ${expr.op}(${a.v});`);
      return { v, n: a.n, dtype };
    case 'sign':
      // Zeros and NaN come back as they are, as Math.sign gives them. Read from the bits, so that a device
      // flushing subnormals to zero in comparisons still gives ±1 for them, as the CPU does.
      if (dtype === 'float32') {
        const bits = b.tmp('s');
        b.line(`let ${bits} = bitcast<u32>(${a.v});`);
        b.line(`let ${v} = select(bitcast<f32>((${bits} & 0x80000000u) | 0x3f800000u), ${a.v}, (${bits} & 0x7fffffffu) == 0u || is_nan_f32(${a.v}));`);
      } else b.line(`let ${v} = select(select(0i, -1i, ${a.v} < 0i), 1i, ${a.v} > 0i);`);
      return { v, n: a.n, dtype };
    case 'isNan':
    case 'isNotNan':
      b.line(`let ${v} = ${expr.op === 'isNan' ? '' : '!'}is_nan_f32(${a.v});`);
      return { v, n: a.n, dtype };
    case 'isFinite':
      b.line(`let ${v} = (bitcast<u32>(${a.v}) & 0x7f800000u) != 0x7f800000u;`);
      return { v, n: a.n, dtype };
    case 'isInfinite':
      b.line(`let ${v} = (bitcast<u32>(${a.v}) & 0x7fffffffu) == 0x7f800000u;`);
      return { v, n: a.n, dtype };
    case 'sqrt':
    case 'exp':
    case 'log':
    case 'log10':
    case 'log1p':
      throw new Error(`${expr.op} is not compiled to WGSL`);
    case 'length': {
      const dict = a.dictionary ?? [];
      b.line(
        `let ${v} = ${
          dict.length === 0
            ? '0i'
            : b.table(
                Int32Array.from(dict, (s) => s.length),
                a.v,
              )
        };`,
      );
      return { v, n: a.n, dtype };
    }
    case 'lower':
    case 'upper': {
      const source = a.dictionary ?? [];
      const mapped = source.map((s) => (expr.op === 'lower' ? s.toLowerCase() : s.toUpperCase()));
      const dictionary = [...new Set(mapped)];
      const index = new Map(dictionary.map((s, k) => [s, k]));
      b.line(
        `let ${v} = ${
          source.length === 0
            ? '0i'
            : b.table(
                Int32Array.from(mapped, (s) => index.get(s)!),
                a.v,
              )
        };`,
      );
      return { v, n: a.n, dtype, dictionary };
    }
  }
}

function compileIsIn(b: WgslBuilder, expr: Extract<BoundExpr, { kind: 'isIn' }>, i: string): WgslValue {
  const a = compileWgsl(b, expr.arg, i);
  const v = b.tmp('v');
  if (a.dtype === 'utf8') {
    const wanted = new Set(expr.values as string[]);
    const dict = a.dictionary ?? [];
    b.line(
      `let ${v} = ${
        dict.length === 0
          ? 'false'
          : `${b.table(
              Int32Array.from(dict, (s) => (wanted.has(s) ? 1 : 0)),
              a.v,
            )} == 1`
      };`,
    );
  } else {
    const terms = expr.values.map((x) => {
      if (a.dtype === 'bool') return x ? a.v : `!${a.v}`;
      const lit = literal(x, a.dtype);
      // NaN equals nothing under ==, but isIn matches NaN with NaN (as Set.has does on the CPU).
      if (typeof x === 'number' && Number.isNaN(x)) return `is_nan_f32(${a.v})`;
      return a.dtype === 'float32' ? `(${a.v} == ${lit.v} && !is_nan_f32(${a.v}))` : `${a.v} == ${lit.v}`;
    });
    b.line(`let ${v} = ${terms.length === 0 ? 'false' : terms.join(' || ')};`);
  }
  return { v, n: a.n, dtype: 'bool' };
}

function zeroOf(dtype: DType): string {
  return dtype === 'bool' ? 'false' : dtype === 'float32' ? '0.0f' : '0i';
}

function compileWhen(b: WgslBuilder, expr: Extract<BoundExpr, { kind: 'when' }>, i: string): WgslValue {
  const dtype = expr.type.dtype;
  const v = b.tmp('v');
  const n = b.tmp('n');
  const arms: { cond: string[]; test: string; value: string[]; result: WgslValue }[] = [];
  for (const branch of expr.branches) {
    let test = '';
    const cond = b.capture(() => {
      const c = compileWgsl(b, branch.cond, i);
      test = c.n === 'false' ? c.v : `!${c.n} && ${c.v}`;
    });
    let result!: WgslValue;
    const value = b.capture(() => {
      result = compileWgsl(b, branch.then, i);
    });
    arms.push({ cond, test, value, result });
  }
  let otherwise!: WgslValue;
  const otherwiseLines = b.capture(() => {
    otherwise = compileWgsl(b, expr.otherwise, i);
  });
  const { dictionary, remaps } =
    dtype === 'utf8' ? mergeDictionaries([...arms.map((a) => a.result.dictionary ?? []), otherwise.dictionary ?? []]) : { dictionary: undefined, remaps: [] };
  const assign = (c: WgslValue, k: number): string => {
    const remap = remaps[k];
    return `${v} = ${remap && remap.length > 0 ? b.table(remap, c.v) : c.v}; ${n} = ${c.n};`;
  };
  b.line(`var ${v}: ${wgslType(dtype)} = ${zeroOf(dtype)};`);
  b.line(`var ${n} = true;`);
  let closing = '';
  arms.forEach((arm, k) => {
    b.line('{');
    arm.cond.forEach((l) => {
      b.line(l);
    });
    b.line(`if (${arm.test}) {`);
    arm.value.forEach((l) => {
      b.line(l);
    });
    b.line(assign(arm.result, k));
    b.line('} else {');
    closing += '}}';
  });
  otherwiseLines.forEach((l) => {
    b.line(l);
  });
  b.line(assign(otherwise, arms.length));
  if (closing) b.line(closing);
  return dictionary ? { v, n, dtype, dictionary } : { v, n, dtype };
}

function compileCoalesce(b: WgslBuilder, expr: Extract<BoundExpr, { kind: 'coalesce' }>, i: string): WgslValue {
  const dtype = expr.type.dtype;
  const v = b.tmp('v');
  const n = b.tmp('n');
  const parts = expr.args.map((arg) => {
    let result!: WgslValue;
    const lines = b.capture(() => {
      result = compileWgsl(b, arg, i);
    });
    return { lines, result };
  });
  const { dictionary, remaps } = dtype === 'utf8' ? mergeDictionaries(parts.map((p) => p.result.dictionary ?? [])) : { dictionary: undefined, remaps: [] };
  b.line(`var ${v}: ${wgslType(dtype)} = ${zeroOf(dtype)};`);
  b.line(`var ${n} = true;`);
  parts.forEach((p, k) => {
    b.line(`if (${n}) {`);
    p.lines.forEach((l) => {
      b.line(l);
    });
    const remap = remaps[k];
    b.line(`if (!${p.result.n}) { ${v} = ${remap && remap.length > 0 ? b.table(remap, p.result.v) : p.result.v}; ${n} = false; }`);
    b.line('}');
  });
  return dictionary ? { v, n, dtype, dictionary } : { v, n, dtype };
}

function compileCast(b: WgslBuilder, a: WgslValue, to: DType): WgslValue {
  if (a.dtype === to) return a;
  const v = b.tmp('v');
  const from = a.dtype;
  const guard = a.n === 'false' ? '' : `!${a.n} && `;
  switch (to) {
    case 'float32':
      if (from === 'bool') b.line(`let ${v} = select(0.0f, 1.0f, ${a.v});`);
      else {
        // WGSL leaves the rounding of an inexact i32 -> f32 conversion to the implementation. Both
        // halves convert exactly (16 low bits; a multiple of 2^16 with 15 significant bits), so the one
        // correctly rounded addition gives round-to-nearest-even, as Math.fround does on the CPU.
        b.line(`let ${v}_lo = ${a.v} & 0xffffi;`);
        b.line(`let ${v} = opaque(f32(${a.v} - ${v}_lo)) + opaque_other(f32(${v}_lo));`);
      }
      break;
    case 'int32':
      if (from === 'bool') b.line(`let ${v} = select(0i, 1i, ${a.v});`);
      else {
        // f32 -> i32 saturates in WGSL; the range test (false for NaN) raises as the CPU does.
        b.line(`let ${v} = i32(trunc(${a.v}));`);
        b.line(`if (${guard}(is_nan_f32(${a.v}) || !(${a.v} > -2147483904.0f && ${a.v} < 2147483648.0f))) { ${flagOverflow('cast')} }`);
      }
      break;
    case 'bool':
      b.line(`let ${v} = ${from === 'float32' ? `(${a.v} != 0.0f || is_nan_f32(${a.v}))` : `${a.v} != 0i`};`);
      break;
    default:
      throw new Error(`cast ${from} -> ${to} is not compiled to WGSL`);
  }
  return { v, n: a.n, dtype: to };
}
