// Entry points that turn request-shaped input (a columnar object, an array of rows, NDJSON text, an Arrow
// table or IPC bytes) into a validated ColumnBatch. This module resolves input keys and aliases, missing and
// extra columns, row shapes and Arrow types; validate.ts checks and stores the cells themselves.

import * as arrow from 'apache-arrow';
import { ColumnLengthMismatchError, isGpuframeError, MalformedArrowError, UnknownColumnError, ValidationError } from '../errors.js';
import { validateArrowIpc } from './arrow-ipc-validate.js';
import { copyArrowColumn, decodedDictionary, joinValidity, type DecodedDictionary } from './arrow-columns.js';
import { allocBitmap, getBit } from './column.js';
import { formatDecimal } from './decimal.js';
import type { ModelField } from './schema.js';
import { DEFAULT_UNIT, typeName } from './dtype.js';
import { floorDiv, UNITS_PER_SECOND } from './temporal.js';
import type { Column, ColumnBatch, DType, IngestOptions, InputKeyMode, RowFailure, TimeUnit, TrustedMode } from './types.js';
import { boolean, func, integer, oneOf, options as optionsOf } from '../options.js';
import { buildColumn, describeValue, IssueCollector, keepRows, nullColumn, REPORTED, type CellSource } from './validate.js';

export const TRUSTED_MODES: readonly TrustedMode[] = ['off', 'shape_only', 'strict'];
export const INPUT_KEY_MODES: readonly InputKeyMode[] = ['aliases', 'names', 'both'];
/** Issues kept on one ValidationError at most: each is an object a response carries. */
export const MAX_ISSUES = 100_000;

/** The options every ingest entry point takes, checked where they enter (a model's from* methods, the body middleware). */
export const INGEST_OPTIONS = {
  trustedMode: oneOf(TRUSTED_MODES),
  inputKeyMode: oneOf(INPUT_KEY_MODES),
  fillMissingOptional: boolean,
  ignoreErrors: boolean,
  onValidationErrors: func,
  extraColumns: oneOf(['error', 'ignore']),
  maxIssues: integer({ min: 0, max: MAX_ISSUES }),
} as const;
export const ingestOptions = optionsOf(INGEST_OPTIONS);

interface Settings {
  readonly mode: TrustedMode;
  readonly keyMode: InputKeyMode;
  readonly fillMissingOptional: boolean;
  readonly ignoreErrors: boolean;
  readonly onValidationErrors: ((failures: readonly RowFailure[]) => void) | undefined;
  readonly extraColumns: 'error' | 'ignore';
  readonly maxIssues: number;
}

/** Columnar input: `{ key: array }`. A key whose value is undefined counts as absent, as JS optional properties do. */
export function ingestColumns(fields: readonly ModelField[], input: unknown, options: IngestOptions = {}, where = 'fromColumns(options)'): ColumnBatch {
  const settings = resolveSettings(fields, options, where);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw inputError(`expected an object mapping column names to arrays, received ${describeValue(input)}`);
  }
  const record = input as Record<string, unknown>;
  const issues = new IssueCollector(settings.maxIssues, settings.ignoreErrors);
  const keys = Object.keys(record).filter((key) => record[key] !== undefined);
  const slots = matchColumns(fields, keys, settings, issues, 'columnar input');
  const arrays = fields.map((field, f): ArrayLike<unknown> | null => {
    const slot = slots[f]!;
    if (slot < 0) return null;
    const value = record[keys[slot]!];
    if (isColumnArray(value)) return value;
    issues.frame(field.name, 'not_an_array', `expected an array of cells, received ${describeValue(value)}`);
    return null;
  });
  const lengths = fields.flatMap((field, f) => {
    const array = arrays[f];
    return array === null || array === undefined ? [] : [[field.name, array.length] as const];
  });
  const length = lengths[0]?.[1] ?? 0;
  if (lengths.some(([, n]) => n !== length)) throw new ColumnLengthMismatchError(Object.fromEntries(lengths));
  const sources = arrays.map((cells) => (cells === null ? null : { cells, present: null }));
  return assemble(fields, length, sources, settings, issues);
}

/** Row input: an array of objects. A key missing from a row is a null cell when the field allows it. */
export function ingestRows(fields: readonly ModelField[], rows: unknown, options: IngestOptions = {}, where = 'fromRows(options)'): ColumnBatch {
  const settings = resolveSettings(fields, options, where);
  if (!Array.isArray(rows)) throw inputError(`expected an array of row objects, received ${describeValue(rows)}`);
  return ingestRowArray(fields, rows, settings, new IssueCollector(settings.maxIssues, settings.ignoreErrors), 'input rows');
}

/**
 * One JSON object per line; blank lines are skipped. `row` in issues counts records (non-blank lines), so it
 * matches the row index of the result; a message about a malformed line names its line number too.
 */
export function ingestNdjson(
  fields: readonly ModelField[],
  text: string | Uint8Array,
  options: IngestOptions = {},
  where = 'fromNdjson(options)',
): ColumnBatch {
  const settings = resolveSettings(fields, options, where);
  const issues = new IssueCollector(settings.maxIssues, settings.ignoreErrors);
  let source: string;
  if (typeof text === 'string') {
    source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  } else if (text instanceof Uint8Array) {
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch (error) {
      throw new ValidationError([{ column: null, row: null, code: 'invalid_encoding', message: 'NDJSON input is not valid UTF-8' }], 0, { cause: error });
    }
  } else {
    throw inputError(`expected NDJSON text or bytes, received ${describeValue(text)}`);
  }
  const rows: unknown[] = [];
  const lines = source.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const lineText = lines[line]!;
    if (lineText.trim() === '') continue;
    try {
      rows.push(JSON.parse(lineText));
    } catch (error) {
      issues.cell(null, rows.length, 'invalid_json', `line ${line + 1}: ${error instanceof Error ? error.message : String(error)}`);
      rows.push(REPORTED);
    }
  }
  return ingestRowArray(fields, rows, settings, issues, 'NDJSON input');
}

/**
 * An Arrow table or IPC bytes (stream or file format). 'strict' wants each column in exactly its declared
 * Arrow type; the other modes convert any numeric type to a numeric column, any string type to utf8 and
 * any date or timestamp to date, checking cells as they would JSON cells. Bytes are validated before
 * apache-arrow reads them (MalformedArrowError, 400, for what is not well-formed Arrow IPC).
 */
export function ingestArrow(
  fields: readonly ModelField[],
  input: arrow.Table | Uint8Array | ArrayBuffer,
  options: IngestOptions = {},
  where = 'fromArrow(options)',
): ColumnBatch {
  const settings = resolveSettings(fields, options, where);
  const issues = new IssueCollector(settings.maxIssues, settings.ignoreErrors);
  // isArrowTable rather than instanceof: a table from another copy of apache-arrow is still a table.
  if (arrow.util.isArrowTable(input)) return assemble(fields, input.numRows, arrowSources(fields, input, settings, issues), settings, issues);
  if (!(input instanceof Uint8Array || input instanceof ArrayBuffer))
    throw inputError(`expected an Arrow Table or Arrow IPC bytes, received ${describeValue(input)}`);
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  validateArrowIpc(bytes);
  let table: arrow.Table;
  let sources: FieldSource[];
  try {
    table = arrow.tableFromIPC(bytes);
    sources = arrowSources(fields, table, settings, issues);
  } catch (error) {
    // The validator leaves apache-arrow nothing known to trip on; should it still throw, the input is at fault.
    if (isGpuframeError(error)) throw error;
    throw new MalformedArrowError(`Arrow IPC not readable by apache-arrow: ${error instanceof Error ? error.message : String(error)}`, {}, { cause: error });
  }
  return assemble(fields, table.numRows, sources, settings, issues);
}

/** Each field's cells, read from the table's column that feeds it (null when none does or its type does not fit). */
function arrowSources(fields: readonly ModelField[], table: arrow.Table, settings: Settings, issues: IssueCollector): FieldSource[] {
  const keys = table.schema.fields.map((f) => f.name);
  const slots = matchColumns(fields, keys, settings, issues, 'Arrow input');
  return fields.map((field, f): FieldSource => {
    const slot = slots[f]!;
    if (slot < 0) return null;
    return arrowSource(field, table.getChildAt(slot)!, settings.mode, issues);
  });
}

function resolveSettings(fields: readonly ModelField[], given: IngestOptions, where: string): Settings {
  const options = ingestOptions(given, where);
  return {
    mode: options.trustedMode ?? 'off',
    keyMode: options.inputKeyMode ?? (fields.some((f) => f.alias !== undefined) ? 'aliases' : 'names'),
    fillMissingOptional: options.fillMissingOptional ?? true,
    ignoreErrors: options.ignoreErrors ?? false,
    onValidationErrors: options.onValidationErrors as Settings['onValidationErrors'],
    extraColumns: options.extraColumns ?? 'error',
    maxIssues: options.maxIssues ?? 100,
  };
}

function inputError(message: string): ValidationError {
  return new ValidationError([{ column: null, row: null, code: 'invalid_type', message }]);
}

/** Arrays and typed arrays hold cells; a DataView does not. */
function isColumnArray(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/** The input keys of a model under one key mode. */
interface InputKeys {
  /** Input key → index of the field it feeds; under 'both' a field with an alias has two. */
  readonly fieldOf: ReadonlyMap<string, number>;
  readonly accepted: readonly string[];
}

function inputKeys(fields: readonly ModelField[], keyMode: InputKeyMode): InputKeys {
  const fieldOf = new Map<string, number>();
  fields.forEach((field, f) => {
    if (keyMode !== 'aliases' || field.alias === undefined) fieldOf.set(field.name, f);
    if (keyMode !== 'names' && field.alias !== undefined) fieldOf.set(field.alias, f);
  });
  return { fieldOf, accepted: [...fieldOf.keys()] };
}

/** How a field's key was sent: the key's position, absent, or sent twice (alias and name, or a repeated Arrow name). */
const ABSENT = -1;
const CONFLICT = -2;

/**
 * For each field, the position in `keys` of the column that feeds it, or ABSENT / CONFLICT. Throws on
 * undeclared keys unless they are ignored; reports duplicate and missing columns as frame issues.
 */
function matchColumns(fields: readonly ModelField[], keys: readonly string[], settings: Settings, issues: IssueCollector, context: string): Int32Array {
  const { fieldOf, accepted } = inputKeys(fields, settings.keyMode);
  const slots = new Int32Array(fields.length).fill(ABSENT);
  const unknown: string[] = [];
  keys.forEach((key, position) => {
    const f = fieldOf.get(key);
    if (f === undefined) {
      if (settings.extraColumns === 'error') unknown.push(key);
      return;
    }
    const slot = slots[f]!;
    if (slot === ABSENT) {
      slots[f] = position;
      return;
    }
    if (slot === CONFLICT) return;
    slots[f] = CONFLICT;
    issues.frame(fields[f]!.name, 'duplicate_key', `column sent twice, as '${String(keys[slot])}' and as '${key}'`);
  });
  if (unknown.length > 0) throw new UnknownColumnError(unknown, accepted, context);
  fields.forEach((field, f) => {
    if (slots[f] !== ABSENT || (field.nullable && settings.fillMissingOptional)) return;
    issues.frame(field.name, 'missing_column', `column ${keyDescription(field, settings.keyMode)} is missing`);
  });
  return slots;
}

function keyDescription(field: ModelField, keyMode: InputKeyMode): string {
  if (field.alias === undefined || keyMode === 'names') return `'${field.name}'`;
  if (keyMode === 'aliases') return `'${field.alias}'`;
  return `'${field.alias}' (or '${field.name}')`;
}

/**
 * Splits rows into one cell array per field in a single pass over each row's keys. Problems found here
 * (a row that is not an object, a missing required key, alias and name both sent) are reported once, and
 * the affected cells become REPORTED so the column builders do not report them again.
 */
function ingestRowArray(fields: readonly ModelField[], rows: readonly unknown[], settings: Settings, issues: IssueCollector, context: string): ColumnBatch {
  const { fieldOf, accepted } = inputKeys(fields, settings.keyMode);
  const cells: unknown[][] = fields.map(() => []);
  const rowCells: unknown[] = new Array<unknown>(fields.length).fill(null);
  const seenInRow = new Int32Array(fields.length).fill(-1);
  const unknown = new Set<string>();
  for (let row = 0; row < rows.length; row++) {
    const value = rows[row];
    if (value === REPORTED || typeof value !== 'object' || value === null || Array.isArray(value)) {
      if (value !== REPORTED) issues.cell(null, row, 'invalid_type', `expected a row object, received ${describeValue(value)}`);
      for (const column of cells) column.push(REPORTED);
      continue;
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const f = fieldOf.get(key);
      if (f === undefined) {
        if (settings.extraColumns === 'error') unknown.add(key);
        continue;
      }
      if (seenInRow[f] !== row) {
        seenInRow[f] = row;
        rowCells[f] = record[key];
      } else if (rowCells[f] !== REPORTED) {
        rowCells[f] = REPORTED;
        issues.cell(fields[f]!.name, row, 'duplicate_key', `row sends ${keyDescription(fields[f]!, 'both')} twice`);
      }
    }
    for (let f = 0; f < fields.length; f++) {
      if (seenInRow[f] === row) {
        cells[f]!.push(rowCells[f]);
        continue;
      }
      const field = fields[f]!;
      if (field.nullable && settings.fillMissingOptional) {
        cells[f]!.push(null);
      } else {
        issues.cell(field.name, row, 'missing_value', `row has no ${keyDescription(field, settings.keyMode)}`);
        cells[f]!.push(REPORTED);
      }
    }
  }
  if (unknown.size > 0) throw new UnknownColumnError([...unknown], accepted, context);
  return assemble(
    fields,
    rows.length,
    cells.map((column) => ({ cells: column, present: null })),
    settings,
    issues,
  );
}

/** What feeds one field: cells to check, a column already built from Arrow buffers, or nothing (absent or reported). */
type FieldSource = CellSource | { readonly built: Column } | null;

/**
 * Builds every column, then either throws one ValidationError with every issue found or, under
 * ignoreErrors, drops the failing rows and reports them. Frame issues always throw.
 */
function assemble(fields: readonly ModelField[], length: number, sources: readonly FieldSource[], settings: Settings, issues: IssueCollector): ColumnBatch {
  if (issues.hasFrameIssues && settings.ignoreErrors) throw issues.toError(false);
  const columns: Column[] = fields.map((field, f) => {
    const source = sources[f];
    if (source === null || source === undefined) return nullColumn(field, length);
    return 'built' in source ? source.built : buildColumn(field, source, length, settings.mode, issues);
  });
  if (issues.hasFrameIssues || (issues.hasCellIssues && !settings.ignoreErrors)) throw issues.toError(true);
  const names = fields.map((f) => f.name);
  if (!issues.hasCellIssues) return { length, names, columns };
  const failures = issues.rowFailures();
  const keep = new Uint8Array(length).fill(1);
  for (const failure of failures) keep[failure.row] = 0;
  const keptCount = length - failures.length;
  const kept = columns.map((column, f) => keepRows(fields[f]!, column, keep, keptCount));
  settings.onValidationErrors?.(failures);
  return { length: keptCount, names, columns: kept };
}

const EXACT_ARROW_TYPES: Record<DType, string> = {
  int32: 'Int32',
  int64: 'Int64',
  float32: 'Float32',
  float64: 'Float64',
  bool: 'Bool',
  utf8: 'Utf8 or Dictionary<Utf8>',
  timestamp: 'Timestamp of the same unit',
  date: 'Date32<DAY>',
  time: 'Time64 of the same unit',
  duration: 'Duration of the same unit',
  decimal: 'Decimal128 of the same precision and scale',
};

/** Units per second of each Arrow TimeUnit (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
const ARROW_UNIT_SCALE: readonly bigint[] = [1n, 1000n, 1000000n, 1000000000n];
const ARROW_UNIT_OF: Record<TimeUnit, arrow.TimeUnit> = { ms: arrow.TimeUnit.MILLISECOND, us: arrow.TimeUnit.MICROSECOND, ns: arrow.TimeUnit.NANOSECOND };

function arrowTypeFits(field: ModelField, type: arrow.DataType, exact: boolean): boolean {
  const { DataType } = arrow;
  const unit = field.unit ?? DEFAULT_UNIT;
  if (!exact && DataType.isNull(type)) return true;
  switch (field.dtype) {
    case 'decimal':
      // Outside strict mode any decimal, integer, float or string converts, exactly or with an issue per cell.
      if (exact) return DataType.isDecimal(type) && type.bitWidth === 128 && type.precision === field.precision && type.scale === field.scale;
      return DataType.isDecimal(type) || isNumericArrowType(type) || DataType.isUtf8(type) || DataType.isLargeUtf8(type);
    case 'int32':
      return exact ? DataType.isInt(type) && type.isSigned && type.bitWidth === 32 : isNumericArrowType(type);
    case 'int64':
      return exact ? DataType.isInt(type) && type.isSigned && type.bitWidth === 64 : isNumericArrowType(type);
    case 'float32':
      return exact ? DataType.isFloat(type) && type.precision === arrow.Precision.SINGLE : isNumericArrowType(type);
    case 'float64':
      return exact ? DataType.isFloat(type) && type.precision === arrow.Precision.DOUBLE : isNumericArrowType(type);
    case 'bool':
      return DataType.isBool(type);
    case 'utf8': {
      const valueType = DataType.isDictionary(type) ? (type.dictionary as arrow.DataType) : type;
      return exact ? DataType.isUtf8(valueType) : DataType.isUtf8(valueType) || DataType.isLargeUtf8(valueType) || DataType.isUtf8View(valueType);
    }
    case 'timestamp':
      if (exact) return DataType.isTimestamp(type) && type.unit === ARROW_UNIT_OF[unit];
      return DataType.isTimestamp(type) || DataType.isDate(type);
    case 'date':
      if (exact) return DataType.isDate(type) && type.unit === arrow.DateUnit.DAY;
      return DataType.isDate(type) || DataType.isTimestamp(type);
    case 'time':
      return exact ? DataType.isTime(type) && type.bitWidth === 64 && type.unit === ARROW_UNIT_OF[unit] : DataType.isTime(type);
    case 'duration':
      return exact ? DataType.isDuration(type) && type.unit === ARROW_UNIT_OF[unit] : DataType.isDuration(type);
  }
}

function isNumericArrowType(type: arrow.DataType): boolean {
  return arrow.DataType.isInt(type) || arrow.DataType.isFloat(type);
}

/**
 * One Arrow column as a column copied whole when its layout fits and nothing in it needs reporting
 * (arrow-columns.ts), else as cells for the column builders; null (reported) when its type does not fit.
 */
function arrowSource(field: ModelField, vector: arrow.Vector<arrow.DataType>, mode: TrustedMode, issues: IssueCollector): FieldSource {
  const { type } = vector;
  const exact = mode === 'strict';
  if (!arrowTypeFits(field, type, exact)) {
    const verb = exact ? 'is not' : 'does not convert to';
    issues.frame(
      field.name,
      'arrow_type_mismatch',
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an Arrow DataType's toString names the type
      `Arrow type ${String(type)} ${verb} the type of a ${typeName(field)} column (${EXACT_ARROW_TYPES[field.dtype]})`,
    );
    return null;
  }
  const copied = copyArrowColumn(field, vector, mode);
  if (copied !== null) return { built: copied };
  if (arrow.DataType.isNull(type)) return { cells: [], present: allocBitmap(vector.length) };
  const present = joinValidity(vector);
  if (arrow.DataType.isDecimal(type)) return { cells: decimalCells(vector, type), present };
  if (isNumericArrowType(type)) return { cells: numericCells(vector, field.dtype === 'int64' || field.dtype === 'decimal'), present };
  if (arrow.DataType.isBool(type)) return { cells: boolCells(vector), present };
  if (arrow.DataType.isDictionary(type)) return { cells: dictionaryCells(field, vector, issues), present };
  if (arrow.DataType.isDate(type) || arrow.DataType.isTimestamp(type) || arrow.DataType.isTime(type) || arrow.DataType.isDuration(type))
    return { cells: temporalCells(field, vector, mode, issues), present };
  return { cells: [...vector] as unknown[], present };
}

/**
 * Numeric chunk values joined into one typed array. 64-bit integers stay bigints only for an int64
 * column; for the others they become numbers, which the builders then range-check.
 */
function numericCells(vector: arrow.Vector<arrow.DataType>, wantBigInt: boolean): ArrayLike<unknown> {
  const { type } = vector;
  const chunks = vector.data;
  const isHalf = arrow.DataType.isFloat(type) && type.precision === arrow.Precision.HALF;
  const isBig = arrow.DataType.isInt(type) && type.bitWidth === 64;
  const isSigned = arrow.DataType.isInt(type) && type.isSigned;
  if (!isHalf && !(isBig && !wantBigInt) && chunks.length === 1) {
    const only = chunks[0]!;
    return (only.values as Int32Array | BigInt64Array).subarray(0, only.length);
  }
  if (isBig && wantBigInt) {
    const joined = isSigned ? new BigInt64Array(vector.length) : new BigUint64Array(vector.length);
    let base = 0;
    for (const chunk of chunks) {
      joined.set((chunk.values as BigInt64Array).subarray(0, chunk.length), base);
      base += chunk.length;
    }
    return joined;
  }
  const joined = new Float64Array(vector.length);
  let base = 0;
  for (const chunk of chunks) {
    const values = chunk.values as ArrayLike<number | bigint>;
    for (let i = 0; i < chunk.length; i++) {
      const value = values[i]!;
      joined[base + i] = isHalf ? arrow.util.uint16ToFloat64(value as number) : Number(value);
    }
    base += chunk.length;
  }
  return joined;
}

/**
 * Arrow decimals of any scale as their exact text, which the decimal builder parses at the column's scale:
 * rescaling up is exact, and down is exact or an issue naming the row, never a rounding.
 */
function decimalCells(vector: arrow.Vector, type: arrow.Decimal): string[] {
  const cells = new Array<string>(vector.length);
  const words32 = type.bitWidth / 32;
  let base = 0;
  for (const chunk of vector.data) {
    const words = chunk.values as Uint32Array;
    for (let i = 0; i < chunk.length; i++) {
      let unscaled = 0n;
      for (let w = words32 - 1; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[i * words32 + w]!);
      cells[base + i] = formatDecimal(BigInt.asIntN(type.bitWidth, unscaled), type.scale);
    }
    base += chunk.length;
  }
  return cells;
}

function boolCells(vector: arrow.Vector): boolean[] {
  const cells = new Array<boolean>(vector.length);
  let base = 0;
  for (const chunk of vector.data) {
    const bits = chunk.values as Uint8Array;
    // Bool values are bit-addressed from the chunk's offset; arrow-js does not slice them.
    for (let i = 0; i < chunk.length; i++) cells[base + i] = getBit(bits, chunk.offset + i);
    base += chunk.length;
  }
  return cells;
}

/** Looks each index up in its chunk's dictionary, decoding every dictionary entry once per input (decodedDictionary). */
function dictionaryCells(field: ModelField, vector: arrow.Vector, issues: IssueCollector): unknown[] {
  const cells = new Array<unknown>(vector.length);
  const decoded = new Map<arrow.Data, DecodedDictionary>();
  let base = 0;
  for (const chunk of vector.data) {
    const dictionary = chunk.dictionary === undefined ? [] : decodedDictionary(chunk.dictionary as arrow.Vector<arrow.DataType>, decoded);
    const size = chunk.dictionary?.length ?? 0;
    const indices = chunk.values as ArrayLike<number | bigint>;
    for (let i = 0; i < chunk.length; i++) {
      const index = Number(indices[i]!);
      if (index >= 0 && index < size) {
        cells[base + i] = dictionary[index];
      } else if (chunk.getValid(i)) {
        issues.cell(field.name, base + i, 'invalid_arrow', `dictionary index ${index} is outside the dictionary of ${size}`);
        cells[base + i] = REPORTED;
      }
    }
    base += chunk.length;
  }
  return cells;
}

/**
 * Arrow temporal values as integers in the column's unit (days for a date column), converted exactly: a
 * value the column's unit cannot hold (a nanosecond timestamp into a millisecond column with a sub-millisecond
 * part, a timestamp into a date that is not at midnight) is an issue in checked modes and floored in 'shape_only'.
 */
function temporalCells(field: ModelField, vector: arrow.Vector<arrow.DataType>, mode: TrustedMode, issues: IssueCollector): unknown[] {
  const type = vector.type as arrow.Date_ | arrow.Timestamp | arrow.Time | arrow.Duration;
  const cells = new Array<unknown>(vector.length);
  // Source values per second, and the column's: days count as 1 / 86400 s, so both sides scale by 86400.
  const perDay = 86400n;
  const isDays = arrow.DataType.isDate(type) && type.unit === arrow.DateUnit.DAY;
  const from = isDays ? 1n : (arrow.DataType.isDate(type) ? 1000n : ARROW_UNIT_SCALE[type.unit]!) * perDay;
  const to = field.dtype === 'date' ? 1n : UNITS_PER_SECOND[field.unit ?? DEFAULT_UNIT] * perDay;
  const what = field.dtype === 'date' ? 'a date column (days)' : `a ${field.unit ?? DEFAULT_UNIT} column`;
  let base = 0;
  for (const chunk of vector.data) {
    const raw = chunk.values as Int32Array | BigInt64Array;
    for (let i = 0; i < chunk.length; i++) {
      const value = BigInt(raw[i]!);
      let converted: bigint;
      if (to >= from) converted = value * (to / from);
      else {
        const divisor = from / to;
        converted = floorDiv(value, divisor);
        if (converted * divisor !== value && mode !== 'shape_only' && chunk.getValid(i)) {
          issues.cell(field.name, base + i, 'precision_loss', `${String(type)} value ${value} does not fit ${what} exactly`);
          cells[base + i] = REPORTED;
          continue;
        }
      }
      cells[base + i] = field.dtype === 'date' ? Number(converted) : converted;
    }
    base += chunk.length;
  }
  return cells;
}
