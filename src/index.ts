// The public API of gpuframe: models, expressions, frames, executors and errors.

export { DataFrameModel } from './frame/model.js';
export { decimal, type DecimalSchema, type DecimalString } from './model/decimal.js';
export type { ModelClass } from './frame/model.js';
export { Frame, GroupBy } from './frame/frame.js';
export type { RowOf, RowInput, ColumnsInput, DTypeOfZod, JoinRow, ExprValue, ExecuteOptions, StreamOptions, SortOptions, JoinOptions } from './frame/types.js';
export { col, lit, when, coalesce, countRows, Expr, type AnyExpr, type Operand } from './expr/expr.js';
// Loading expr/str.ts also gives every Expr its `str` namespace.
export { concatStr, type StrNamespace } from './expr/str.js';
export type { DTypeOf, JsOf } from './expr/infer.js';
export type { AggOp, LiteralValue, StrOp } from './expr/types.js';
export { createExecutor, Executor } from './exec/executor.js';
export { ExecutionHandle } from './exec/handle.js';
export type { BackendName, ExecutorOptions, ExecutorStats, HandleStatus } from './exec/types.js';
export type { DType, Field, IngestOptions, InputKeyMode, RowFailure, TrustedMode, TypeSpec } from './model/types.js';
export {
  GpuframeError,
  ValidationError,
  ColumnLengthMismatchError,
  UnknownColumnError,
  MalformedArrowError,
  SchemaDefinitionError,
  ExpressionTypeError,
  ArithmeticOverflowError,
  CastError,
  CancelledError,
  ExecutorClosedError,
  BackendUnavailableError,
  GpuMemoryError,
  ExecutionError,
  InvalidArgumentError,
  isGpuframeError,
} from './errors.js';
export type { ValidationIssue } from './errors.js';
