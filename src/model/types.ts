// Public types of the model layer: column dtypes, fields, and the storage of one column.
// Every layer above reads these; nothing here knows about plans or engines.

export type DType = 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'utf8' | 'timestamp' | 'date' | 'time' | 'duration' | 'decimal';

/**
 * How a dtype's values are held in memory, which is all the engines' generic code (gather, hash keys, sort
 * words) needs to know: date is an int32 of days; timestamp, time and duration are int64 counts of their unit;
 * a decimal is two 64-bit words.
 */
export type Storage = 'int32' | 'int64' | 'float32' | 'float64' | 'bool' | 'utf8' | 'decimal';

/** The units of temporal values stored as 64-bit integers. */
export const TIME_UNITS = ['ms', 'us', 'ns'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

/**
 * The parameters of a parametrised dtype, carried beside the dtype by fields, columns and bound expression
 * types: `unit` (and `timeZone`, an IANA name) of temporal types, `precision` and `scale` of decimals.
 * Absent on the dtypes they do not apply to.
 */
export interface TypeParams {
  readonly unit?: TimeUnit;
  readonly timeZone?: string;
  readonly precision?: number;
  readonly scale?: number;
}

/** A column type with its parameters: what `cast()` takes and what a field declares. */
export interface TypeSpec extends TypeParams {
  readonly dtype: DType;
}

export interface Field extends TypeParams {
  readonly name: string;
  readonly dtype: DType;
  readonly nullable: boolean;
  /** Fixed category set of a z.enum column; its dictionary is exactly these values in this order. */
  readonly enumValues?: readonly string[];
}

export type TypedValues = Int32Array | Float64Array | Float32Array | BigInt64Array | Uint8Array;

/**
 * One column in Arrow layout. Values and validity live in SharedArrayBuffer-backed typed arrays so worker
 * threads read them without copies.
 * - int32, float32, float64, int64: values as their typed array (int64 as BigInt64Array).
 * - bool: bit-packed Uint8Array (Arrow layout, least-significant bit first).
 * - utf8: Int32Array of dictionary codes, with `dictionary` holding the distinct strings.
 * - timestamp: BigInt64Array of epoch `unit`s (Arrow Timestamp(unit, timeZone)); the time zone only says how
 *   the instant is shown, the value is always UTC.
 * - date: Int32Array of days since 1970-01-01 (Arrow Date32).
 * - time: BigInt64Array of `unit`s since midnight, unit 'us' or 'ns' (Arrow Time64).
 * - duration: BigInt64Array of `unit`s (Arrow Duration).
 * - decimal: BigInt64Array of two words a row, exactly Arrow Decimal128's bytes: word 2i is the low 64 bits
 *   of row i's unscaled value, word 2i + 1 the high 64 bits (signed), so `values.length` is 2 × `length`.
 *   `precision` and `scale` say what the integer means (model/decimal.ts reads and writes it).
 * `validity` is an Arrow bitmap (1 = valid), or null when no value is null.
 */
export interface Column extends TypeParams {
  readonly dtype: DType;
  readonly length: number;
  readonly values: TypedValues;
  readonly validity: Uint8Array | null;
  readonly nullCount: number;
  readonly dictionary: readonly string[] | null;
}

/** Named columns of equal length: the unit that engines consume and produce. */
export interface ColumnBatch {
  readonly length: number;
  readonly names: readonly string[];
  readonly columns: readonly Column[];
}

export type TrustedMode = 'off' | 'shape_only' | 'strict';
export type InputKeyMode = 'aliases' | 'names' | 'both';

export interface RowFailure {
  readonly row: number;
  readonly errors: readonly import('../errors.js').ValidationIssue[];
}

export interface IngestOptions {
  /** 'off' (default): every cell is validated by its zod type, refinements included. */
  readonly trustedMode?: TrustedMode;
  /** Which input keys are accepted; defaults to 'aliases' when the model declares any alias, else 'names'. */
  readonly inputKeyMode?: InputKeyMode;
  /** A missing nullable column becomes all-null (default true); false makes it an error. */
  readonly fillMissingOptional?: boolean;
  /** Drop failing rows instead of throwing; each dropped row is reported to `onValidationErrors`. */
  readonly ignoreErrors?: boolean;
  readonly onValidationErrors?: (failures: readonly RowFailure[]) => void;
  /** Input columns the model does not declare: 'error' (default) or 'ignore'. */
  readonly extraColumns?: 'error' | 'ignore';
  /** Most issues kept on a ValidationError; the rest are counted (default 100). */
  readonly maxIssues?: number;
}
