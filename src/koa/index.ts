// gpuframe/koa: the Koa integration. A shared executor owned by the app's lifecycle, validated columnar
// bodies, one error shape, work after the response, request ids, logs and format-negotiated responses.

export { executorLifecycle, getExecutor, lifecycleOf, ExecutorLifecycle } from './lifecycle.js';
export type { LifecycleStats, ServerTimeouts } from './lifecycle.js';
export {
  columnarBody,
  rowsBody,
  readBody,
  parseJson,
  requireMediaType,
  arrowFrame,
  DEFAULT_BODY_LIMIT,
  DEFAULT_BODY_TIMEOUT_MS,
  JSON_TYPE,
  NDJSON_TYPE,
  ARROW_STREAM_TYPE,
  ARROW_FILE_TYPE,
} from './body.js';
export type { ReadBodyOptions } from './body.js';
export { errorHandler, registerErrorHandlers, respondWithError } from './error-handler.js';
export type { ErrorBody } from './error-handler.js';
export { afterResponse, pendingTasks } from './after-response.js';
export type { AfterResponseOptions } from './after-response.js';
export { requestId } from './request-id.js';
export type { RequestIdOptions } from './request-id.js';
export { requestLog } from './request-log.js';
export { jsonLogger, silentLogger } from './log.js';
export type { JsonLoggerOptions } from './log.js';
export { setLogger } from './runtime.js';
export { sendFrame, negotiateFormat, FORMAT_TYPES } from './respond.js';
export type { SendOptions, BatchSource } from './respond.js';
export { columnarJsonSchema } from './schema.js';
export type { JsonSchemaOptions } from './schema.js';
export {
  MalformedBodyError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  NotAcceptableError,
  RequestAbortedError,
  ExecutorUnavailableError,
  ServiceOverloadedError,
  LifecycleError,
  RouteNotFoundError,
  RequestTimeoutError,
  codeForStatus,
} from './errors.js';
export type {
  AfterResponseTask,
  BodyOptions,
  FrameModel,
  FrameState,
  GpuframeState,
  LifecycleOptions,
  LifecycleState,
  Logger,
  LogLevel,
  LogRecord,
  ResponseFormat,
  ShutdownReport,
} from './types.js';
