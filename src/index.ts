/**
 * @module sheppy
 * Sheppy: an async task queue for Node.js. Define a task as a typed function,
 * call it to get a `Task`, add it to a `Queue`, and a `Worker` runs it.
 */
import "./backends/builtin.js";

export type {
  Backend,
  BackendCapabilities,
  QueueStats,
  SqlTransaction,
} from "./backends/backend.js";
export type { MemoryBackendOptions } from "./backends/memory/index.js";
export { MemoryBackend } from "./backends/memory/index.js";
export type { PostgresBackendOptions } from "./backends/postgres/index.js";
export { PostgresBackend } from "./backends/postgres/index.js";
export type { RedisBackendOptions } from "./backends/redis/index.js";
export { RedisBackend } from "./backends/redis/index.js";
export type { RetentionOptions } from "./backends/retention-settings.js";
export type { SqliteBackendOptions } from "./backends/sqlite/index.js";
export { SqliteBackend } from "./backends/sqlite/index.js";
export type { Clock, Timer } from "./clock.js";
export { systemClock } from "./clock.js";
export type { TaskStateDetails, TaskStateReason, ValidationIssue } from "./errors.js";
export {
  BackendError,
  BackendFullError,
  BackendUnavailableError,
  BackendUrlError,
  CronExpressionError,
  DependencyError,
  DuplicateTaskNameError,
  InvalidOptionError,
  InvalidTaskError,
  InvalidYieldError,
  MiddlewareError,
  NonDeterministicWorkflowError,
  PayloadTooLargeError,
  SandboxError,
  SchemaVersionError,
  SerializationError,
  SheppyError,
  TaskCancellationError,
  TaskCancelledError,
  TaskDefinitionError,
  TaskFailedError,
  TaskIdConflictError,
  TaskInterruptedError,
  TaskNotFoundError,
  TaskStateError,
  TaskStateRefusal,
  TaskTimeoutError,
  UnknownTaskError,
  UnrecoverableError,
  ValidationError,
  WaitTimeoutError,
  WorkerCrashedError,
  WorkflowDefinitionError,
  WorkflowNotFoundError,
} from "./errors.js";
export type { TaskEvent, WorkerEventMap, WorkerListener } from "./events.js";
export { type TaskLogFields, taskMixin } from "./execution/attempt-fields.js";
export type { DependencyValue } from "./execution/dependencies.js";
export { use } from "./execution/dependencies.js";
export type { Middleware, MiddlewareContext } from "./execution/middleware.js";
export type { Dependency, DependencyOverrides, RunningTask } from "./execution/run-context.js";
export { currentTask, log, progress } from "./execution/run-context.js";
export type { JsonCompatible, JsonValue } from "./json.js";
export type { Logger } from "./observability/logger.js";
export { PROMETHEUS_CONTENT_TYPE } from "./observability/prometheus-text.js";
export { TRACE_META_KEY, traceMixin } from "./observability/tracing.js";
export { collectMetrics } from "./queue/collect-metrics.js";
export type { CronDefinition, CronManagedBy } from "./queue/cron.js";
export type { CronEvery, CronOptions } from "./queue/cron-schedule.js";
export type { LiveWorker } from "./queue/live-worker.js";
export type {
  AddEntry,
  AddResult,
  AddWorkflowOptions,
  CancelAllOptions,
  CancelAllResult,
  CancellableStatus,
  CancelledTask,
  CancelledWorkflow,
  CancelOptions,
  CancelWorkflowOptions,
  DedupeOptions,
  DeleteAllOptions,
  DeleteAllResult,
  EnqueueOptions,
  FinishedTask,
  FinishedTasks,
  FinishedWorkflow,
  FinishedWorkflows,
  ListTasksOptions,
  MaybeReportingEnqueueOptions,
  PurgeableStatus,
  QueueOptions,
  RedriveStatus,
  ReportingEnqueueOptions,
  RescheduleOptions,
  RetryAllOptions,
  RetryAllResult,
  RetryOptions,
  RetryWorkflowsOptions,
  RetryWorkflowsResult,
  StoredTask,
  StoredWorkflow,
  TaskList,
  TaskRef,
  TasksOrNull,
  WaitOptions,
  WorkflowRef,
  WorkflowsOrNull,
} from "./queue/queue.js";
export { Queue } from "./queue/queue.js";
export type { QueueEventsOptions } from "./queue/queue-events.js";
export type {
  BackoffFunction,
  BackoffJitter,
  ExponentialBackoff,
  FixedBackoff,
  RetryDelay,
  StoredBackoff,
  StoredRetryDelay,
} from "./task/backoff-options.js";
export type {
  AnyTaskFactory,
  ArgsSchema,
  TaskFactory,
  TaskFunction,
  TaskOptions,
  TaskSchemas,
} from "./task/define-task.js";
export { task } from "./task/define-task.js";
export type {
  WorkflowFactory,
  WorkflowFunction,
  WorkflowOptions,
  WorkflowSchemas,
} from "./task/define-workflow.js";
export { workflow } from "./task/define-workflow.js";
export { overrideDependency } from "./task/dependency-types.js";
export type {
  JsonStorable,
  SideEffectNotJson,
  TaskArgumentsNotJson,
  TaskResultNotJson,
  WorkflowArgumentsNotJson,
  WorkflowResultNotJson,
} from "./task/json-signature.js";
export type { QueueEvent, QueueEventOf, QueueEventType } from "./task/lifecycle-event.js";
export {
  MAX_EVENT_ERROR_CHARS,
  MAX_EVENT_LOG_CHARS,
  MAX_EVENT_RESULT_CHARS,
} from "./task/lifecycle-event.js";
export type { StoredAs } from "./task/stored-as.js";
export type { ErrorData, IssueData } from "./task/stored-error.js";
export { registerErrorClass, TaskError } from "./task/stored-error.js";
export type {
  RateLimitOptions,
  TaskBehaviourOptions,
  TaskConfig,
  TaskRateLimitOptions,
} from "./task/task-options.js";
export type {
  FinishedTaskStatus,
  TaskConstructor,
  TaskData,
  TaskStatus,
} from "./task/task-record.js";
export { Task } from "./task/task-record.js";
export type {
  FinishedWorkflowStatus,
  WorkflowConfig,
  WorkflowConstructor,
  WorkflowData,
  WorkflowStatus,
  WorkflowStep,
} from "./task/workflow-record.js";
export { Workflow } from "./task/workflow-record.js";
export type {
  FinishedSteps,
  WorkflowGenerator,
  WorkflowInstruction,
} from "./task/workflow-steps.js";
export { all, now, run, sideEffect, sleep, sleepUntil, step } from "./task/workflow-steps.js";
export type { WorkOptions, WorkSummary } from "./worker/worker.js";
export { Worker } from "./worker/worker.js";
export type { HealthProblem, WorkerHealth, WorkerStatus } from "./worker/worker-health.js";
export type { WorkerOptions } from "./worker/worker-options.js";
