/**
 * @module sheppy/backend
 * What a backend author needs, apart from the application API: the backend
 * contract (its role interfaces and types), the shared pieces every backend
 * uses so they agree (record codec and routing, retention, rate-limit
 * arithmetic, URL registration). The contract kit — the same cases every
 * built-in backend passes, runnable against any backend from a Vitest file —
 * is an entry of its own, `sheppy/backend/contract`, so that a module using
 * these never loads the suite (or Vitest).
 * @example
 * import { registerBackendScheme } from "sheppy/backend";
 */
export type {
  AddDeduplicatedOptions,
  AddMode,
  AddOptions,
  Backend,
  BackendCapabilities,
  ClaimedTask,
  ClaimLease,
  ClaimRef,
  ClaimStore,
  Connection,
  CronData,
  CronStore,
  DedupeEntry,
  DedupeMode,
  DedupeOutcome,
  DedupeResult,
  EventLog,
  EventReadRequest,
  InlineProcessing,
  ListTasksRequest,
  PageRequest,
  QueueControl,
  QueueStats,
  RateLimitRequest,
  RateLimitStore,
  RetentionSettings,
  Settlement,
  SettleResult,
  SqlTransaction,
  StoredEvent,
  StoredWorkflow,
  TaskPage,
  TaskReader,
  TaskStore,
  WorkerDirectory,
  WorkerSighting,
  WorkflowAddEvents,
  WorkflowCancellation,
  WorkflowPage,
  WorkflowRetry,
  WorkflowStepEnd,
  WorkflowStore,
  WorkflowWrite,
  WorkListener,
} from "../backends/backend.js";
export {
  type DedupeAction,
  type DedupeSlot,
  decideDedupe,
  isSlotStale,
  type SlotTaskState,
} from "../backends/dedupe-decision.js";
export { checkEventLimit, eventPosition, keyedEventBody } from "../backends/event-positions.js";
export { acquireSlot, newRateWindowState, type RateWindowState } from "../backends/rate-window.js";
export { checkNewWork, type RecordRoute, routeOf } from "../backends/record-route.js";
export {
  type BackendFactory as BackendUrlFactory,
  type BackendUrlSettings,
  backendFromUrl,
  booleanParam,
  clockOption,
  positiveIntegerParam,
  type RawBackendFactory,
  registerBackendScheme,
  registerRawBackendScheme,
  supportedSchemes,
} from "../backends/registry.js";
export {
  DEFAULT_ERROR_TTL,
  DEFAULT_EVENT_CAP,
  DEFAULT_MAX_FINISHED,
  DEFAULT_TTL,
  type RetentionOptions,
  resolveEventCap,
  resolveRetentionSettings,
} from "../backends/retention-settings.js";
export {
  checkListRequest,
  compareTaskIds,
  creationTimeOf,
  encodeListCursor,
  type ListPlan,
  type ListPosition,
} from "../backends/task-listing.js";
export type {
  BackendFactory,
  BackendTestOptions,
  ContractHarness,
  ContractOptions,
} from "../contract/run-backend-contract.js";
export {
  checkTaskData,
  decodeTaskData,
  encodeTaskData,
  readStoredRecord,
  type StoredRecord,
} from "../task/task-codec.js";
export { TASK_DATA_VERSION } from "../task/task-record.js";
export { expiryOf, type RetentionDefaults, resolveTtl } from "../task/ttl.js";
export {
  checkWorkflowData,
  decodeWorkflowData,
  encodeWorkflowData,
} from "../task/workflow-codec.js";
export {
  WORKFLOW_DATA_VERSION,
  type WorkflowData,
  type WorkflowStatus,
  type WorkflowStep,
} from "../task/workflow-record.js";
export { maskUrl } from "../util/mask-url.js";
export { runBackendContract } from "./contract-kit.js";
