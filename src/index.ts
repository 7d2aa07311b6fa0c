// The public API of gpuframe: models, expressions, frames, executors and errors.

export { DataFrameModel } from './frame/model.js';
export type { ModelClass } from './frame/model.js';
export { Frame, GroupBy } from './frame/frame.js';
export type { RowOf, RowInput, ColumnsInput, DTypeOfZod, JoinRow, ExprValue, ExecuteOptions, StreamOptions, SortOptions, JoinOptions } from './frame/types.js';
export { col, lit, when, coalesce, countRows, Expr, type AnyExpr, type Operand } from './expr/expr.js';
export { DtNamespace } from './expr/dt.js';
export type { DTypeOf, JsOf } from './expr/infer.js';
export type { AggOp, DtOp, EpochUnit, LiteralValue } from './expr/types.js';
export { createExecutor, Executor } from './exec/executor.js';
export { ExecutionHandle } from './exec/handle.js';
export type { BackendName, ExecutorOptions, ExecutorStats, HandleStatus } from './exec/types.js';
export type { DType, Field, IngestOptions, InputKeyMode, RowFailure, TrustedMode } from './model/types.js';
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
  LocalTimeError,
  CancelledError,
  ExecutorClosedError,
  BackendUnavailableError,
  GpuMemoryError,
  ExecutionError,
  InvalidArgumentError,
  isGpuframeError,
} from './errors.js';
export type { ValidationIssue } from './errors.js';
