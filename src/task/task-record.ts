/**
 * @module task/task-record
 *
 * Terminology
 * - **task definition**: a function registered under a unique name by `task()`.
 * - **task** (`Task<R>`): one invocation of a definition — id, name, JSON
 *   arguments, options, status and outcome. Immutable; every change makes a new record.
 * - **task data** (`TaskData`): the task's stored JSON form, versioned, the
 *   same on every backend. Backends store and return only this.
 * - **attempt**: one execution of a task by a worker; retries are further attempts.
 * - **claim**: a worker taking a pending task (status `processing`) until it
 *   stores the attempt's outcome.
 *
 * Status flow: `new` → `pending` | `scheduled` → `processing` → `completed` |
 * `failed` | `retrying` (→ `pending` when due) | `crashed` | `cancelled`.
 */
import { isoAt, msOfIso } from "../clock.js";
import { deepFreeze, type JsonValue } from "../json.js";
import { type ErrorData, TaskError } from "./stored-error.js";
import type { TaskConfig } from "./task-options.js";

/** Every status a task can have, in the order of the status flow above. */
export const TASK_STATUSES = [
  "new",
  "pending",
  "scheduled",
  "processing",
  "retrying",
  "completed",
  "failed",
  "crashed",
  "cancelled",
] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses of a task that will not run again unless retried by hand. */
export type FinishedTaskStatus = "completed" | "failed" | "crashed" | "cancelled";

/** Statuses of a task that will not run again unless retried by hand. */
export const FINISHED_STATUSES: ReadonlySet<TaskStatus> = new Set<FinishedTaskStatus>([
  "completed",
  "failed",
  "crashed",
  "cancelled",
]);

/** Statuses whose records expire by the error TTL. */
export const ERROR_STATUSES: ReadonlySet<TaskStatus> = new Set(["failed", "crashed", "cancelled"]);

/**
 * Version of the stored encoding; bumped when {@link TaskData} changes. Every
 * backend reads records of older versions through `task/task-codec.ts`, which
 * upgrades them.
 */
export const TASK_DATA_VERSION = 2;

/** The stored JSON form of a task. Instants are ISO-8601 strings in UTC. */
export interface TaskData {
  v: number;
  id: string;
  name: string;
  args: JsonValue[];
  status: TaskStatus;
  result: JsonValue;
  /** Set when `result` holds the data of tasks this task returned (chaining). */
  resultKind?: "task" | "tasks";
  error: ErrorData | null;
  config: TaskConfig;
  createdAt: string;
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  retryCount: number;
  /** Runs started by hand with `queue.retry()` (absent means 0). */
  manualRetryCount?: number;
  lastRetryAt: string | null;
  nextRetryAt: string | null;
  workflowId: string | null;
  cronId: string | null;
  /** Claim order among pending tasks: higher first, FIFO within one priority (0 by default). */
  priority: number;
  /** Tasks sharing a key run at most `concurrencyLimit` at a time, in the order they became claimable (`null`: no key). */
  concurrencyKey: string | null;
  /** How many tasks with `concurrencyKey` may run at once (present with a key; absent means 1). */
  concurrencyLimit?: number;
  /** Data carried with the task but not passed to it: trace context, user metadata. */
  meta: { [key: string]: JsonValue };
  /** What the task last reported with `progress()` (absent: nothing yet). */
  progress?: JsonValue;
  /** Lines the task wrote with `log()`, oldest first, the latest ones kept (absent: none). */
  logs?: string[];
  /** The dedupe key it was added under (absent: none). */
  dedupeKey?: string;
}

const toDate = (value: string | null): Date | null =>
  value === null ? null : new Date(msOfIso(value));

/** Statuses of a task whose error is always recorded. */
type FailedStatus = "failed" | "crashed";

/** What `result` holds while a task has status `S`: the result once completed, `null` otherwise. */
type ResultIn<R, S extends TaskStatus> = S extends "completed" ? R : null;

/**
 * What `error` holds while a task has status `S`: always an error once it
 * failed or crashed, never once it completed; otherwise the last attempt's
 * error, if there was one (a task waiting for a retry, a re-run by hand).
 */
type ErrorIn<S extends TaskStatus> = S extends FailedStatus
  ? TaskError
  : S extends "completed"
    ? null
    : TaskError | null;

/**
 * One task: what to run (name + arguments), how (config) and what happened
 * (status, result, error, timestamps). Immutable — assigning a field throws.
 * `R` is the type of `result` once the task has completed.
 *
 * A union over the statuses, so checking `status` narrows `result` and
 * `error`: `if (task.status === "completed") task.result` is an `R`, and
 * `if (task.status === "failed") task.error.message` needs no check for
 * `null`. `Task<R, S>` is a task known to have one of the statuses `S`
 * (`Task<R, "completed" | "failed">`).
 */
export type Task<R = unknown, S extends TaskStatus = TaskStatus> = {
  [K in S]: TaskWithStatus<R, K>;
}[S];

/** How `Task` is constructed and recognised (`task instanceof Task`). */
export interface TaskConstructor {
  /** @internal Use a task factory to create tasks; backends' data is read back through the Queue. */
  new <R = unknown>(data: TaskData, result: R | null): Task<R>;
  readonly prototype: Task;
}

/** One task of status `S`; see {@link Task}, the type to use. */
class TaskWithStatus<R, S extends TaskStatus> {
  readonly id: string;
  readonly name: string;
  readonly args: readonly JsonValue[];
  readonly status: S;
  /** The result once `completed`; `null` in every other status. For a chaining task, the added task(s). */
  readonly result: ResultIn<R, S>;
  /** The error once `failed` or `crashed`; `null` once `completed`; otherwise the last attempt's, if any. */
  readonly error: ErrorIn<S>;
  readonly config: Readonly<TaskConfig>;
  readonly createdAt: Date;
  readonly scheduledAt: Date | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** Automatic retries so far (0 on the first attempt). */
  readonly retryCount: number;
  /** Runs started by hand with `queue.retry()` so far. */
  readonly manualRetryCount: number;
  readonly lastRetryAt: Date | null;
  readonly nextRetryAt: Date | null;
  readonly workflowId: string | null;
  readonly cronId: string | null;
  readonly priority: number;
  readonly concurrencyKey: string | null;
  /** How many tasks with its concurrency key may run at once; `null` without a key. */
  readonly concurrencyLimit: number | null;
  readonly meta: Readonly<Record<string, JsonValue>>;
  /** What the task last reported with `progress()`; `null` before it reports. */
  readonly progress: JsonValue;
  /** Lines the task wrote with `log()`, oldest first (the latest ones are kept). */
  readonly logs: readonly string[];
  /** The dedupe key it was added under; `null` when none. */
  readonly dedupeKey: string | null;
  readonly #data: TaskData;

  constructor(data: TaskData, result: R | null) {
    this.#data = deepFreeze(data);
    this.id = data.id;
    this.name = data.name;
    this.args = data.args;
    this.status = data.status as S;
    // The type promises these per status (see ErrorIn): held to here whatever a record says.
    this.result = (data.status === "completed" ? result : null) as ResultIn<R, S>;
    this.error = errorOf(data) as ErrorIn<S>;
    this.config = data.config;
    this.createdAt = new Date(msOfIso(data.createdAt));
    this.scheduledAt = toDate(data.scheduledAt);
    this.startedAt = toDate(data.startedAt);
    this.finishedAt = toDate(data.finishedAt);
    this.retryCount = data.retryCount;
    this.manualRetryCount = data.manualRetryCount ?? 0;
    this.lastRetryAt = toDate(data.lastRetryAt);
    this.nextRetryAt = toDate(data.nextRetryAt);
    this.workflowId = data.workflowId;
    this.cronId = data.cronId;
    this.priority = data.priority;
    this.concurrencyKey = data.concurrencyKey;
    this.concurrencyLimit = data.concurrencyKey === null ? null : (data.concurrencyLimit ?? 1);
    this.meta = data.meta;
    this.progress = data.progress ?? null;
    this.logs = data.logs ?? [];
    this.dedupeKey = data.dedupeKey ?? null;
    Object.freeze(this);
  }

  /** True once the task has an outcome that will not change by itself (completed, failed, crashed, cancelled). */
  get isFinished(): boolean {
    return this.#data.finishedAt !== null;
  }

  /**
   * The number of the latest attempt, counting from 1 and including manual
   * retries: the attempt running now, the one that ended, or for a task that
   * has not run yet, the first. A `retrying` task already counts the retry it
   * waits for.
   */
  get attempt(): number {
    return attemptNumber(this.#data);
  }

  /** True when the task may be retried automatically (`retry > 0`). */
  get isRetriable(): boolean {
    return this.config.retry > 0;
  }

  /** True when a failure now would lead to another automatic attempt. */
  get shouldRetry(): boolean {
    return this.config.retry > 0 && this.retryCount < this.config.retry;
  }

  /** The stored JSON form (what backends hold). */
  toJSON(): TaskData {
    return this.#data;
  }
}

// The class's own name is an implementation detail; inspecting a task shows the name users know.
Object.defineProperty(TaskWithStatus, "name", { value: "Task" });

export const Task = TaskWithStatus as unknown as TaskConstructor;

/** A record's error as its status promises it: made up for a failure stored without one, dropped from a success. */
function errorOf(data: TaskData): TaskError | null {
  if (data.status === "completed") return null;
  if (data.error) return new TaskError(data.error);
  if (data.status !== "failed" && data.status !== "crashed") return null;
  return new TaskError({
    type: "TaskFailedError",
    message: `the task ${data.status} with no error recorded`,
    stack: null,
    cause: null,
  });
}

/**
 * @internal A chaining task's record as a `Task` whose result is the task(s)
 * it added; `null` for any other record.
 */
export function chainingTask(data: TaskData): Task | null {
  if (data.resultKind === "task")
    return new Task(data, new Task(data.result as unknown as TaskData, null));
  if (data.resultKind === "tasks") {
    const children = (data.result as unknown as TaskData[]).map((child) => new Task(child, null));
    return new Task(data, children);
  }
  return null;
}

/**
 * @internal The attempt a record is on (from 1): its automatic and manual
 * retries plus the first run.
 */
export function attemptNumber(data: TaskData): number {
  return data.retryCount + (data.manualRetryCount ?? 0) + 1;
}

/** Fields a record may hold beyond those every record has, in the order {@link copyTaskData} copies them. */
const OPTIONAL_FIELDS = [
  "manualRetryCount",
  "concurrencyLimit",
  "progress",
  "logs",
  "dedupeKey",
] as const;

/**
 * A plain, unfrozen copy of `data` with `changes` applied. Written field by
 * field because every `Task` holds a frozen record, and V8 copies a frozen
 * object with a spread on a slow path (about ten times this copy's cost).
 * A record with fields it does not name, or lacking one every record has
 * (written by another version, say), is copied key by key instead, so the
 * copy always holds exactly the fields a spread would.
 */
export function copyTaskData(data: TaskData, changes: Partial<TaskData>): TaskData {
  const copy: TaskData = {
    v: data.v,
    id: data.id,
    name: data.name,
    args: data.args,
    status: data.status,
    result: data.result,
    error: data.error,
    config: data.config,
    createdAt: data.createdAt,
    scheduledAt: data.scheduledAt,
    startedAt: data.startedAt,
    finishedAt: data.finishedAt,
    retryCount: data.retryCount,
    lastRetryAt: data.lastRetryAt,
    nextRetryAt: data.nextRetryAt,
    workflowId: data.workflowId,
    cronId: data.cronId,
    priority: data.priority,
    concurrencyKey: data.concurrencyKey,
    meta: data.meta,
  };
  const fields = copy as unknown as Record<string, unknown>;
  // The fields every record has, never `undefined` in one (lacksCoreField checks each).
  let copied = 20;
  for (const field of OPTIONAL_FIELDS) {
    const value = data[field];
    if (value !== undefined) {
      fields[field] = value;
      copied++;
    }
  }
  // Equal counts prove the copy whole only when no core field is missing (one missing and one
  // unknown field present would balance out).
  if (Object.keys(data).length !== copied || lacksCoreField(copy))
    return Object.assign(copyEveryKey(data), changes);
  return Object.assign(copy, changes);
}

/** Whether `copy` (of {@link copyTaskData}'s shape) lacks a field every record has; unrolled, as a loop costs more than the copy. */
function lacksCoreField(copy: TaskData): boolean {
  return (
    copy.v === undefined ||
    copy.id === undefined ||
    copy.name === undefined ||
    copy.args === undefined ||
    copy.status === undefined ||
    copy.result === undefined ||
    copy.error === undefined ||
    copy.config === undefined ||
    copy.createdAt === undefined ||
    copy.scheduledAt === undefined ||
    copy.startedAt === undefined ||
    copy.finishedAt === undefined ||
    copy.retryCount === undefined ||
    copy.lastRetryAt === undefined ||
    copy.nextRetryAt === undefined ||
    copy.workflowId === undefined ||
    copy.cronId === undefined ||
    copy.priority === undefined ||
    copy.concurrencyKey === undefined ||
    copy.meta === undefined
  );
}

/** A spread of `data` into a plain object, its "__proto__" field (if any) copied as the field it is. */
function copyEveryKey(data: TaskData): TaskData {
  const given = data as unknown as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    // Assigning "__proto__" would set the copy's prototype: defined as the field it is.
    Object.defineProperty(copy, key, {
      value: given[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy as unknown as TaskData;
}

/** @internal The data a task factory creates: status `new`, no outcome. */
export function newTaskData(
  id: string,
  name: string,
  args: JsonValue[],
  config: TaskConfig,
  now: number,
  extra?: {
    workflowId?: string | null;
    cronId?: string | null;
    priority?: number;
    concurrency?: { key: string; limit: number } | null;
  },
): TaskData {
  const concurrency = extra?.concurrency ?? null;
  return {
    v: TASK_DATA_VERSION,
    id,
    name,
    args,
    status: "new",
    result: null,
    error: null,
    config,
    createdAt: isoAt(now),
    scheduledAt: null,
    startedAt: null,
    finishedAt: null,
    retryCount: 0,
    lastRetryAt: null,
    nextRetryAt: null,
    workflowId: extra?.workflowId ?? null,
    cronId: extra?.cronId ?? null,
    priority: extra?.priority ?? 0,
    concurrencyKey: concurrency?.key ?? null,
    ...(concurrency ? { concurrencyLimit: concurrency.limit } : {}),
    meta: {},
  };
}
