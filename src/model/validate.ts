// Turns one column of input cells into an Arrow-layout Column in shared memory, checking every cell in one
// typed pass per dtype, and collects what is wrong as issues. It knows trusted modes and zod refinements but
// not input shapes: ingest.ts turns columns, rows, NDJSON and Arrow into arrays of cells first.

import { ValidationError, type ValidationIssue } from '../errors.js';
import { allocBitmap, allocShared, allocValues, getBit, makeColumn, setBit, timestampToDate, valuesCtor } from './column.js';
import { fitsPrecision, numberToDecimal, parseDecimal, POW10, type DecimalParseFailure } from './decimal.js';
import { DEFAULT_UNIT, storageOf } from './dtype.js';
import {
  floorDiv,
  formatIsoDate,
  formatIsoDuration,
  formatIsoTime,
  formatIsoTimestamp,
  parseIsoDate,
  parseIsoDuration,
  parseIsoTime,
  parseIsoTimestamp,
  unitsPerDay,
  UNITS_PER_SECOND,
  type ParseFailure,
  type Parsed,
} from './temporal.js';
import type { ModelField } from './schema.js';
import type { Column, RowFailure, TrustedMode } from './types.js';

/** Stands in for a cell whose problem was already reported (its row was not an object, its line not JSON). */
export const REPORTED: unique symbol = Symbol('gpuframe.reportedCell');

/** The cells of one column as ingest found them. */
export interface CellSource {
  readonly cells: ArrayLike<unknown>;
  /** Arrow validity of the cells (bit set = present), or null when each cell's own value says whether it is null. */
  readonly present: Uint8Array | null;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Largest finite float32, the bound zod's z.float32() checks. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Keeps at most `maxIssues` cell issues (frame issues always come first), counts the rest, and when rows are
 * to be dropped instead of thrown, keeps every issue of every failing row.
 */
export class IssueCollector {
  private readonly frameIssues: ValidationIssue[] = [];
  private readonly cellIssues: ValidationIssue[] = [];
  private cellIssueCount = 0;
  private readonly issuesByRow: Map<number, ValidationIssue[]> | null;

  constructor(
    private readonly maxIssues: number,
    collectRowFailures: boolean,
  ) {
    this.issuesByRow = collectRowFailures ? new Map() : null;
  }

  /** A problem with the input as a whole or with a whole column; never dropped by ignoreErrors. */
  frame(column: string | null, code: string, message: string): void {
    this.frameIssues.push({ column, row: null, code, message });
  }

  get hasFrameIssues(): boolean {
    return this.frameIssues.length > 0;
  }

  get hasCellIssues(): boolean {
    return this.cellIssueCount > 0;
  }

  /** False once an issue would only be counted, so hot loops can skip building its message. */
  keepsNextCell(): boolean {
    return this.issuesByRow !== null || this.cellIssues.length < this.maxIssues;
  }

  /** A problem with one cell, or with a whole row when `column` is null. Past the cap it is only counted. */
  cell(column: string | null, row: number, code: string, message: string): void {
    this.cellIssueCount++;
    if (!this.keepsNextCell()) return;
    const issue: ValidationIssue = { column, row, code, message };
    if (this.cellIssues.length < this.maxIssues) this.cellIssues.push(issue);
    if (this.issuesByRow !== null) {
      const forRow = this.issuesByRow.get(row);
      if (forRow === undefined) this.issuesByRow.set(row, [issue]);
      else forRow.push(issue);
    }
  }

  /** Counts a cell issue past the cap without keeping it. */
  countCell(): void {
    this.cellIssueCount++;
  }

  /** Failing rows in input order, each with every issue found in it. */
  rowFailures(): RowFailure[] {
    if (this.issuesByRow === null) return [];
    return [...this.issuesByRow].sort((a, b) => a[0] - b[0]).map(([row, errors]) => ({ row, errors }));
  }

  toError(includeCellIssues: boolean): ValidationError {
    const cellCount = includeCellIssues ? this.cellIssueCount : 0;
    const all = includeCellIssues ? [...this.frameIssues, ...this.cellIssues] : this.frameIssues;
    const kept = all.slice(0, this.maxIssues);
    return new ValidationError(kept, this.frameIssues.length + cellCount - kept.length);
  }
}

/** Everything a column builder needs besides the cells; made once per column, not per cell. */
interface BuildContext {
  readonly field: ModelField;
  readonly issues: IssueCollector;
  /** Values are checked (integer-ness, range, finiteness); false in 'shape_only', where only JS kinds are. */
  readonly checked: boolean;
  /** zod runs on every accepted cell: 'off' mode and a field with refinements or formats. */
  readonly refine: boolean;
}

/** Validity that stays unallocated until the first null cell, as most columns have none. */
class ValidityBuilder {
  bits: Uint8Array | null = null;

  constructor(private readonly length: number) {}

  markNull(row: number): void {
    if (this.bits !== null) return;
    // Every earlier row was valid, or this would have been allocated already.
    const bits = allocBitmap(this.length);
    bits.fill(0xff, 0, row >> 3);
    for (let i = row & ~7; i < row; i++) setBit(bits, i);
    this.bits = bits;
  }

  markValid(row: number): void {
    if (this.bits !== null) setBit(this.bits, row);
  }
}

export function buildColumn(field: ModelField, source: CellSource, length: number, mode: TrustedMode, issues: IssueCollector): Column {
  const ctx: BuildContext = { field, issues, checked: mode !== 'shape_only', refine: mode === 'off' && field.needsZod };
  switch (field.dtype) {
    case 'int32':
      return buildInt32(ctx, source, length);
    case 'int64':
      return buildInt64(ctx, source, length);
    case 'float32':
      return buildFloat32(ctx, source, length);
    case 'float64':
      return buildFloat64(ctx, source, length);
    case 'bool':
      return buildBool(ctx, source, length);
    case 'utf8':
      return buildUtf8(ctx, source, length);
    case 'timestamp':
    case 'date':
    case 'time':
    case 'duration':
      return buildTemporal(ctx, source, length);
    case 'decimal':
      return buildDecimal(ctx, source, length);
  }
}

/** A column with every cell null: what a missing nullable column becomes. */
export function nullColumn(field: ModelField, length: number): Column {
  return makeColumn(field.dtype, length, allocValues(field.dtype, length), allocBitmap(length), dictionaryStart(field), field);
}

function dictionaryStart(field: ModelField): string[] | null {
  if (field.dtype !== 'utf8') return null;
  return field.enumValues === undefined ? [] : [...field.enumValues];
}

function buildInt32(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(Int32Array, length);
  const validity = new ValidityBuilder(length);
  const { checked, refine } = ctx;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    // `(cell | 0) === cell` holds exactly for integers in int32 range: one comparison for the common case.
    if (typeof cell === 'number' && (!checked || (cell | 0) === cell)) {
      if (!refine || passesZod(ctx, row, cell)) {
        values[row] = cell;
        validity.markValid(row);
        continue;
      }
    } else if (typeof cell === 'number') {
      rejectInteger(ctx, row, cell, INT32_MIN, INT32_MAX);
    } else {
      rejectNonValue(ctx, row, cell, 'an int32 number');
    }
    validity.markNull(row);
  }
  return makeColumn('int32', length, values, validity.bits);
}

function buildFloat64(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(Float64Array, length);
  const validity = new ValidityBuilder(length);
  const { checked, refine } = ctx;
  const integral = ctx.field.integral;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    if (typeof cell === 'number' && (!checked || (integral ? Number.isSafeInteger(cell) : Number.isFinite(cell)))) {
      if (!refine || passesZod(ctx, row, cell)) {
        values[row] = cell;
        validity.markValid(row);
        continue;
      }
    } else if (typeof cell === 'number') {
      if (integral) rejectInteger(ctx, row, cell, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      else reject(ctx, row, 'invalid_type', 'expected a finite number', cell);
    } else {
      rejectNonValue(ctx, row, cell, integral ? 'an integer number' : 'a number');
    }
    validity.markNull(row);
  }
  return makeColumn('float64', length, values, validity.bits);
}

function buildFloat32(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(Float32Array, length);
  const validity = new ValidityBuilder(length);
  const { checked, refine } = ctx;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    // Out of float32 range is an error rather than the Infinity that Math.fround would make of it.
    if (typeof cell === 'number' && (!checked || (Number.isFinite(cell) && Math.abs(cell) <= FLOAT32_MAX))) {
      if (!refine || passesZod(ctx, row, cell)) {
        values[row] = cell;
        validity.markValid(row);
        continue;
      }
    } else if (typeof cell === 'number') {
      if (!Number.isFinite(cell)) reject(ctx, row, 'invalid_type', 'expected a finite number', cell);
      else if (cell > 0) reject(ctx, row, 'too_big', `expected at most ${FLOAT32_MAX} (float32 range)`, cell);
      else reject(ctx, row, 'too_small', `expected at least ${-FLOAT32_MAX} (float32 range)`, cell);
    } else {
      rejectNonValue(ctx, row, cell, 'a number');
    }
    validity.markNull(row);
  }
  return makeColumn('float32', length, values, validity.bits);
}

/**
 * int64 cells are bigints. A number is accepted too when it is a safe integer, because JSON (and so every
 * HTTP body and NDJSON line) has no bigint; it is converted exactly. A larger number is refused in every
 * checked mode: JSON.parse may already have rounded it, so its value cannot be trusted to be what was sent.
 * In 'shape_only' any integral number is taken, as values are trusted there.
 */
function buildInt64(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(BigInt64Array, length);
  const validity = new ValidityBuilder(length);
  const { checked, refine } = ctx;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    let value: bigint | undefined;
    if (typeof cell === 'bigint') {
      if (!checked || BigInt.asIntN(64, cell) === cell) value = cell;
      else if (cell > 0n) reject(ctx, row, 'too_big', `expected at most ${INT64_MAX} (int64 range)`, cell);
      else reject(ctx, row, 'too_small', `expected at least ${INT64_MIN} (int64 range)`, cell);
    } else if (typeof cell === 'number') {
      if (checked ? Number.isSafeInteger(cell) : Number.isInteger(cell)) value = BigInt(cell);
      else if (Number.isInteger(cell))
        reject(
          ctx,
          row,
          'invalid_type',
          'expected a bigint; a number in an int64 column must be a safe integer, as a larger JSON number may already be rounded',
          cell,
        );
      else reject(ctx, row, 'invalid_type', 'expected an integer', cell);
    } else {
      rejectNonValue(ctx, row, cell, 'a bigint or a safe-integer number');
    }
    // BigInt64Array stores modulo 2^64; in checked modes the range test above makes that exact.
    if (value !== undefined && (!refine || passesZod(ctx, row, value))) {
      values[row] = value;
      validity.markValid(row);
    } else {
      validity.markNull(row);
    }
  }
  return makeColumn('int64', length, values, validity.bits);
}

function buildBool(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocBitmap(length);
  const validity = new ValidityBuilder(length);
  const { refine } = ctx;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    if (typeof cell === 'boolean') {
      if (!refine || passesZod(ctx, row, cell)) {
        if (cell) setBit(values, row);
        validity.markValid(row);
        continue;
      }
    } else {
      rejectNonValue(ctx, row, cell, 'a boolean');
    }
    validity.markNull(row);
  }
  return makeColumn('bool', length, values, validity.bits);
}

/** Dictionary-encodes strings: an enum's dictionary is its values in order, a plain column's in first appearance. */
function buildUtf8(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(Int32Array, length);
  const validity = new ValidityBuilder(length);
  const { refine } = ctx;
  const enumValues = ctx.field.enumValues;
  const dictionary = dictionaryStart(ctx.field) ?? [];
  const codes = new Map<string, number>(dictionary.map((value, code) => [value, code]));
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    if (typeof cell === 'string') {
      let code = codes.get(cell);
      if (code === undefined && enumValues !== undefined) {
        reject(ctx, row, 'invalid_value', `expected one of ${enumValues.map((v) => JSON.stringify(v)).join(' | ')}`, cell);
      } else if (!refine || passesZod(ctx, row, cell)) {
        // zod runs before insertion so a refused string never lands in the dictionary.
        if (code === undefined) {
          code = dictionary.length;
          codes.set(cell, code);
          dictionary.push(cell);
        }
        values[row] = code;
        validity.markValid(row);
        continue;
      }
    } else {
      rejectNonValue(ctx, row, cell, 'a string');
    }
    validity.markNull(row);
  }
  return makeColumn('utf8', length, values, validity.bits, dictionary);
}

/** The range of a JS Date, in epoch milliseconds: a timestamp must read back as a valid Date. */
const DATE_MAX_MS = 8640000000000000n;
const INT32_MIN_BIG = -2147483648n;
const INT32_MAX_BIG = 2147483647n;
const MS_PER_DAY = 86400000;

/** One temporal cell read as the column's integer (bigint, or a number of days for a date), or the issue that refuses it. */
type TemporalRead = { readonly value: bigint } | { readonly code: string; readonly expected: string } | null;

const PARSE_ISSUES: Record<ParseFailure, (what: string, unit: string) => { code: string; expected: string }> = {
  syntax: (what) => ({ code: 'invalid_type', expected: `expected ${what}` }),
  precision: (_, unit) => ({ code: 'precision_loss', expected: `expected at most the column's precision (${unit})` }),
  range: () => ({ code: 'too_big', expected: 'expected a value within the int64 range of the column' }),
  nonexistent: () => ({
    code: 'invalid_value',
    expected: "expected a wall time that exists in the column's time zone (this one is skipped by a daylight-saving transition)",
  }),
};

function fromParsed(parsed: Parsed<bigint | number>, what: string, unit: string): TemporalRead {
  return parsed.ok ? { value: BigInt(parsed.value) } : PARSE_ISSUES[parsed.why](what, unit);
}

/** An integer count (number or bigint) in the column's own unit; numbers must be safe integers when checked. */
function readCount(cell: number | bigint, checked: boolean, what: string): TemporalRead {
  if (typeof cell === 'bigint')
    return BigInt.asIntN(64, cell) === cell || !checked
      ? { value: BigInt.asIntN(64, cell) }
      : { code: 'too_big', expected: `expected ${what} within the int64 range` };
  if (checked ? Number.isSafeInteger(cell) : Number.isInteger(cell)) return { value: BigInt(cell) };
  return { code: 'invalid_type', expected: `expected ${what} as a safe integer` };
}

/** Reads one non-null cell of a temporal column; null when it is not a temporal cell at all (the caller reports it). */
function readTemporal(field: ModelField, cell: unknown, checked: boolean): TemporalRead {
  const unit = field.unit ?? DEFAULT_UNIT;
  switch (field.dtype) {
    case 'timestamp': {
      if (cell instanceof Date) {
        const ms = cell.getTime();
        return Number.isNaN(ms) ? { code: 'invalid_type', expected: 'expected a valid Date' } : { value: BigInt(ms) * (UNITS_PER_SECOND[unit] / 1000n) };
      }
      if (typeof cell === 'string') return fromParsed(parseIsoTimestamp(cell, unit, field.timeZone), 'an ISO 8601 date-time with Z or a UTC offset', unit);
      if (typeof cell === 'number' || typeof cell === 'bigint') return readCount(cell, checked, `epoch ${unit}`);
      return null;
    }
    case 'date': {
      if (cell instanceof Date) {
        const ms = cell.getTime();
        if (Number.isNaN(ms)) return { code: 'invalid_type', expected: 'expected a valid Date' };
        if (ms % MS_PER_DAY !== 0 && checked) return { code: 'precision_loss', expected: 'expected a Date at midnight UTC (a date column holds days)' };
        return { value: BigInt(Math.floor(ms / MS_PER_DAY)) };
      }
      if (typeof cell === 'string') return fromParsed(parseIsoDate(cell), 'an ISO 8601 date (YYYY-MM-DD)', 'days');
      if (typeof cell === 'number') {
        if (!Number.isInteger(cell)) return { code: 'invalid_type', expected: 'expected an integer number of days since 1970-01-01' };
        return { value: BigInt(cell) };
      }
      return null;
    }
    case 'time': {
      if (typeof cell === 'string') return fromParsed(parseIsoTime(cell, unit), 'an ISO 8601 time (HH:MM:SS.fraction)', unit);
      if (typeof cell === 'number' || typeof cell === 'bigint') return readCount(cell, checked, `${unit} since midnight`);
      return null;
    }
    case 'duration': {
      if (typeof cell === 'string')
        return fromParsed(parseIsoDuration(cell, unit), 'an ISO 8601 duration of days, hours, minutes and seconds (P1DT2H3.5S)', unit);
      if (typeof cell === 'number' || typeof cell === 'bigint') return readCount(cell, checked, `a count of ${unit}`);
      return null;
    }
    default:
      return null;
  }
}

/** The range check of a read value, beyond what its parse checks: a date in int32, a time within a day, a timestamp a valid Date. */
function outOfRange(field: ModelField, value: bigint): { code: string; expected: string } | null {
  const unit = field.unit ?? DEFAULT_UNIT;
  switch (field.dtype) {
    case 'date':
      return value < INT32_MIN_BIG || value > INT32_MAX_BIG
        ? { code: value > 0n ? 'too_big' : 'too_small', expected: 'expected a date within the int32 range of days' }
        : null;
    case 'time':
      return value < 0n || value >= unitsPerDay(unit)
        ? { code: value < 0n ? 'too_small' : 'too_big', expected: `expected a time of day, from 0 to 24 h exclusive, in ${unit}` }
        : null;
    case 'timestamp': {
      const ms = floorDiv(value, UNITS_PER_SECOND[unit] / 1000n);
      return ms > DATE_MAX_MS || ms < -DATE_MAX_MS
        ? { code: value > 0n ? 'too_big' : 'too_small', expected: `expected an instant within ±${DATE_MAX_MS} ms of 1970 (the range of a Date)` }
        : null;
    }
    default:
      return null;
  }
}

/** The cell zod checks: of the kind the zod type parses (a Date for z.date(), ISO text for an ISO string schema). */
function zodCell(field: ModelField, cell: unknown, value: bigint): unknown {
  const unit = field.unit ?? DEFAULT_UNIT;
  switch (field.zodKind) {
    case 'date':
      if (cell instanceof Date) return cell;
      return field.dtype === 'date' ? new Date(Number(value) * MS_PER_DAY) : timestampToDate(value, unit);
    case 'string':
      if (typeof cell === 'string') return cell;
      if (field.dtype === 'date') return formatIsoDate(Number(value));
      if (field.dtype === 'time') return formatIsoTime(value, unit);
      if (field.dtype === 'duration') return formatIsoDuration(value, unit);
      return formatIsoTimestamp(value, unit);
    case 'number':
      return Number(value);
    default:
      return value;
  }
}

/**
 * Temporal cells: ISO 8601 text (a date-time with 'Z' or an offset, or wall time in the column's zone),
 * integers in the column's unit (days for a date), Date objects for timestamps and dates. Arrow input
 * arrives as integers already in the column's unit (ingest.ts converts them exactly).
 */
function buildTemporal(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const { field } = ctx;
  const isDate = field.dtype === 'date';
  const values = isDate ? allocShared(Int32Array, length) : allocShared(BigInt64Array, length);
  const validity = new ValidityBuilder(length);
  const { checked, refine } = ctx;
  const what = {
    timestamp: 'a Date, an ISO 8601 string or an epoch integer',
    date: 'an ISO 8601 date, a Date or a day number',
    time: 'an ISO 8601 time or an integer',
    duration: 'an ISO 8601 duration or an integer',
  }[field.dtype as 'date'];
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    const read = cell === null || cell === undefined || cell === REPORTED ? null : readTemporal(field, cell, checked);
    if (read === null) {
      rejectNonValue(ctx, row, cell, what);
    } else if ('code' in read) {
      reject(ctx, row, read.code, read.expected, cell);
    } else {
      const bad = checked || isDate ? outOfRange(field, read.value) : null;
      if (bad !== null) reject(ctx, row, bad.code, bad.expected, cell);
      else if (!refine || passesZod(ctx, row, zodCell(field, cell, read.value))) {
        if (isDate) (values as Int32Array)[row] = Number(read.value);
        else (values as BigInt64Array)[row] = read.value;
        validity.markValid(row);
        continue;
      }
    }
    validity.markNull(row);
  }
  return makeColumn(field, length, values, validity.bits);
}

/**
 * Decimal cells are strings ("12.30", "-0.05", "1e3"), numbers (by their shortest round-trip text, so 0.1
 * is exactly 0.1) or bigints (integers). Every mode converts exactly: a value with more fraction digits
 * than the scale is an issue ('precision_loss'), never rounded, and so is one with more digits than the
 * precision ('too_big'), since neither can be stored as declared.
 */
function buildDecimal(ctx: BuildContext, { cells, present }: CellSource, length: number): Column {
  const values = allocShared(BigInt64Array, 2 * length);
  const validity = new ValidityBuilder(length);
  const precision = ctx.field.precision ?? 38;
  const scale = ctx.field.scale ?? 0;
  const declared = `decimal(${precision}, ${scale})`;
  for (let row = 0; row < length; row++) {
    const cell = present === null || getBit(present, row) ? cells[row] : null;
    let unscaled: bigint | DecimalParseFailure | undefined;
    if (typeof cell === 'string') unscaled = parseDecimal(cell, scale);
    else if (typeof cell === 'number') unscaled = numberToDecimal(cell, scale);
    else if (typeof cell === 'bigint') unscaled = cell * POW10[scale]!;
    else rejectNonValue(ctx, row, cell, 'a decimal string, number or bigint');
    if (unscaled === 'syntax') reject(ctx, row, 'invalid_type', typeof cell === 'number' ? 'expected a finite number' : 'expected a decimal number', cell);
    else if (unscaled === 'scale') reject(ctx, row, 'precision_loss', `expected at most ${scale} fraction digits (${declared})`, cell);
    else if (unscaled === 'range' || (unscaled !== undefined && !fitsPrecision(unscaled, precision)))
      reject(ctx, row, 'too_big', `expected at most ${precision - scale} integer digits (${declared})`, cell);
    else if (unscaled !== undefined) {
      values[2 * row] = BigInt.asIntN(64, unscaled);
      values[2 * row + 1] = unscaled >> 64n;
      validity.markValid(row);
      continue;
    }
    validity.markNull(row);
  }
  return makeColumn('decimal', length, values, validity.bits, null, ctx.field);
}

/** Runs the field's zod type on one accepted cell and reports zod's own issues. */
function passesZod(ctx: BuildContext, row: number, value: unknown): boolean {
  const result = ctx.field.cellType.safeParse(value);
  if (result.success) return true;
  for (const issue of result.error.issues) {
    if (ctx.issues.keepsNextCell()) ctx.issues.cell(ctx.field.name, row, issue.code, issue.message);
    else ctx.issues.countCell();
  }
  return false;
}

function reject(ctx: BuildContext, row: number, code: string, expected: string, value: unknown): void {
  if (ctx.issues.keepsNextCell()) ctx.issues.cell(ctx.field.name, row, code, `${expected}, received ${describeValue(value)}`);
  else ctx.issues.countCell();
}

/** A cell that is not of the column's kind: null (fine when nullable), already reported, or the wrong type. */
function rejectNonValue(ctx: BuildContext, row: number, cell: unknown, expected: string): void {
  if (cell === REPORTED) return;
  if (cell === null || cell === undefined) {
    if (!ctx.field.nullable) reject(ctx, row, 'null_value', 'expected a value (the column is not nullable)', cell);
    return;
  }
  reject(ctx, row, 'invalid_type', `expected ${expected}`, cell);
}

/** Explains why a number is not an integer in [min, max], with zod's codes. */
function rejectInteger(ctx: BuildContext, row: number, cell: number, min: number, max: number): void {
  if (!Number.isFinite(cell)) reject(ctx, row, 'invalid_type', 'expected a finite number', cell);
  else if (!Number.isInteger(cell)) reject(ctx, row, 'invalid_type', 'expected an integer', cell);
  else if (cell > max) reject(ctx, row, 'too_big', `expected at most ${max}`, cell);
  else reject(ctx, row, 'too_small', `expected at least ${min}`, cell);
}

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
      return Array.isArray(value) ? 'an array' : 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/**
 * Copies the rows marked in `keep` into a new column: what ignoreErrors leaves of a column after dropping
 * failing rows. A plain string column's dictionary is rebuilt so it holds only, and in first-appearance
 * order, the strings of the kept rows.
 */
export function keepRows(field: ModelField, column: Column, keep: Uint8Array, keptCount: number): Column {
  const { length, validity } = column;
  const keptValidity = validity === null ? null : allocBitmap(keptCount);
  if (keptValidity !== null && validity !== null) {
    for (let row = 0, out = 0; row < length; row++) {
      if (keep[row] === 0) continue;
      if (getBit(validity, row)) setBit(keptValidity, out);
      out++;
    }
  }
  switch (storageOf(column.dtype)) {
    case 'bool': {
      const source = column.values as Uint8Array;
      const values = allocBitmap(keptCount);
      for (let row = 0, out = 0; row < length; row++) {
        if (keep[row] === 0) continue;
        if (getBit(source, row)) setBit(values, out);
        out++;
      }
      return makeColumn('bool', keptCount, values, keptValidity);
    }
    case 'int64': {
      const source = column.values as BigInt64Array;
      const values = allocShared(BigInt64Array, keptCount);
      for (let row = 0, out = 0; row < length; row++) if (keep[row] !== 0) values[out++] = source[row]!;
      return makeColumn(column, keptCount, values, keptValidity);
    }
    case 'decimal': {
      const source = column.values as BigInt64Array;
      const values = allocShared(BigInt64Array, 2 * keptCount);
      for (let row = 0, out = 0; row < length; row++) {
        if (keep[row] === 0) continue;
        values[2 * out] = source[2 * row]!;
        values[2 * out + 1] = source[2 * row + 1]!;
        out++;
      }
      return makeColumn('decimal', keptCount, values, keptValidity, null, column);
    }
    case 'utf8': {
      const source = column.values as Int32Array;
      const values = allocShared(Int32Array, keptCount);
      if (field.enumValues !== undefined) {
        for (let row = 0, out = 0; row < length; row++) if (keep[row] !== 0) values[out++] = source[row]!;
        return makeColumn('utf8', keptCount, values, keptValidity, column.dictionary);
      }
      const oldDictionary = column.dictionary ?? [];
      const newCode = new Int32Array(oldDictionary.length).fill(-1);
      const dictionary: string[] = [];
      for (let row = 0, out = 0; row < length; row++) {
        if (keep[row] === 0) continue;
        if (validity === null || getBit(validity, row)) {
          const old = source[row]!;
          if (newCode[old] === -1) {
            newCode[old] = dictionary.length;
            dictionary.push(oldDictionary[old]!);
          }
          values[out] = newCode[old]!;
        }
        out++;
      }
      return makeColumn('utf8', keptCount, values, keptValidity, dictionary);
    }
    case 'int32':
    case 'float32':
    case 'float64': {
      const source = column.values as Int32Array | Float32Array | Float64Array;
      const values = allocShared(valuesCtor(column.dtype), keptCount) as Int32Array | Float32Array | Float64Array;
      for (let row = 0, out = 0; row < length; row++) if (keep[row] !== 0) values[out++] = source[row]!;
      return makeColumn(column, keptCount, values, keptValidity);
    }
  }
}
