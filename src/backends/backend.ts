/**
 * @module backends/backend
 *
 * THE contract between Sheppy and storage. `Queue`, `Worker`, `TestQueue` and
 * the HTTP handler speak only this interface; every backend (memory, Redis,
 * PostgreSQL, SQLite) implements all of it and passes one shared contract
 * suite (`test/contract`). The method list is the original in-memory backend's
 * (`append`, `pop`, `getPending`, …) in camelCase, plus what crash recovery
 * and operators need: `heartbeat`, `reclaimStale`, `cancel`, `deleteTask`.
 *
 * Conventions
 * - Records are {@link TaskData}: plain JSON, never mutated in place. A
 *   backend may store them however it likes but returns the same shape.
 * - Instants are epoch milliseconds; durations are milliseconds. (The public
 *   `Queue`/`Worker`/task options speak seconds; they convert.)
 * - Every method is atomic with respect to every other call on the same
 *   backend, from any process: no read-modify-write race between workers.
 * - Every method except `connect` throws `BackendError` when not connected.
 * - Queues are independent namespaces: nothing one queue holds is visible
 *   through another.
 *
 * Deliberately not in the contract: connection settings, pooling,
 * transactions, Lua scripts or SQL — those belong to each backend's own files.
 */
import type { JsonValue } from "../json.js";
import type { TaskData } from "../task/task-record.js";

/** What a backend can do; the contract suite derives its skips from this, never from the backend's name. */
export interface BackendCapabilities {
  /** Tasks added in one process can be claimed by workers in another. */
  readonly crossProcess: boolean;
  /** Records survive a restart of the process that added them. */
  readonly durable: boolean;
  /** `pop` and `getResults` wake on a notification instead of polling. */
  readonly blockingWait: boolean;
  /** Claims are leases renewed by `heartbeat`; `reclaimStale` recovers tasks of dead workers. */
  readonly leases: boolean;
  /** Tasks run in-process as soon as they are added (memory backend's default). */
  readonly instantProcessing: boolean;
}

/** Counts of one queue's records, by where they are in their life. */
export interface QueueStats {
  /** Waiting to be claimed. */
  pending: number;
  /** Waiting for a time: scheduled tasks and retries not yet due. */
  scheduled: number;
  /** Claimed by a worker. */
  processing: number;
  completed: number;
  failed: number;
  crashed: number;
  cancelled: number;
}

/** One page of {@link Backend.getAllTasks}. */
export interface TaskPage {
  tasks: TaskData[];
  /** Pass back to get the next page; `null` when this was the last. */
  cursor: string | null;
}

/** A stored cron definition. Backends key it by `deterministicId` and treat the rest as opaque JSON. */
export interface CronData {
  deterministicId: string;
  [field: string]: JsonValue;
}

/**
 * A stored workflow. Backends treat it as opaque JSON keyed by `id`; they read
 * only `completed`, `error` (finished when either is set) and `pendingTaskIds`.
 */
export interface WorkflowData {
  id: string;
  completed: boolean;
  error: JsonValue;
  pendingTaskIds?: string[];
  [field: string]: JsonValue | undefined;
}

/** Arguments of {@link Backend.acquireRateLimit}. */
export interface RateLimitRequest {
  key: string;
  maxRate: number;
  periodMs: number;
  taskId: string;
  strategy: "sliding_window" | "fixed_window";
  /**
   * The caller's time (epoch ms) the start is counted at; default the
   * backend's clock. Workers pass their own clock's reading, so a test clock
   * drives rate limits on every backend and all backends do the same arithmetic.
   */
  now?: number;
}

export interface Backend {
  readonly capabilities: BackendCapabilities;
  readonly isConnected: boolean;

  /** Opens connections. Idempotent; concurrent calls share one attempt. */
  connect(): Promise<void>;
  /** Closes connections; waiting calls end. Idempotent. */
  disconnect(): Promise<void>;

  /**
   * Stores each record and makes it pending (claimable, FIFO). With `unique`
   * (default) a record whose id already exists in the queue — in any status —
   * is left alone and reported `false`. Without it the record is overwritten
   * and enqueued again (manual retry) — except a task claimed right now, which
   * is left alone and reported `false`. Returns one boolean per record, in order.
   */
  append(queue: string, tasks: readonly TaskData[], unique?: boolean): Promise<boolean[]>;

  /**
   * Claims up to `limit` pending tasks in FIFO order: each becomes `processing`
   * with `startedAt` set, under a lease held by this backend instance. Waits up
   * to `timeoutMs` for the first one when none is pending (0 or absent: no wait).
   * Returns the claimed records (possibly none).
   */
  pop(queue: string, limit: number, timeoutMs?: number): Promise<TaskData[]>;

  /** The first `count` pending records in FIFO order, without claiming them. */
  getPending(queue: string, count: number): Promise<TaskData[]>;

  /** Number of pending (claimable) tasks. */
  size(queue: string): Promise<number>;

  /**
   * Removes every record of the queue (any status), its crons and its
   * rate-limit state. Returns how many task records and crons it removed.
   */
  clear(queue: string): Promise<number>;

  /** The records with these ids that exist in this queue. */
  getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>>;

  /**
   * Stores the record as scheduled for `at` (it becomes pending once
   * `popScheduled` runs at or after `at`). `unique` as in `append`.
   */
  schedule(queue: string, task: TaskData, at: number, unique?: boolean): Promise<boolean>;

  /**
   * Moves every scheduled or retrying task due by `now` to pending (status
   * `pending`), earliest first, atomically, and returns the moved records.
   * Run by every worker's scheduler: a task moves exactly once.
   */
  popScheduled(queue: string, now?: number): Promise<TaskData[]>;

  /**
   * Stores the outcome of claimed tasks and releases their claims, atomically
   * per record. By status: `retrying` is re-queued for `nextRetryAt` (pending
   * at once if already due); `scheduled` for `scheduledAt`; `pending` goes back
   * to the queue now; a finished status (`finishedAt` set) wakes `getResults`
   * and starts its retention clock (see `pruneExpired`); any other status
   * clears a previous expiry. Safe to repeat (a record is never queued twice).
   * Fencing: a record whose claim another holder has taken over, or that the
   * queue no longer holds (deleted, cleared, expired), is not written; the
   * returned ids are those records.
   */
  storeResult(queue: string, tasks: readonly TaskData[]): Promise<string[]>;

  /**
   * The records among `ids` that are finished (`finishedAt` set). With
   * `timeoutMs` `null` waits until all are; `0` returns at once; a positive
   * value waits at most that long, then throws `WaitTimeoutError`.
   */
  getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>>;

  /** Counts by life stage. */
  getStats(queue: string): Promise<QueueStats>;

  /**
   * Every record of the queue, any status, a page at a time. `limit` is a
   * size hint; order is unspecified; a record may appear on two pages when the
   * queue changes during the walk (callers de-duplicate), but none is skipped.
   */
  getAllTasks(queue: string, page?: { cursor?: string | null; limit?: number }): Promise<TaskPage>;

  /** Every queue that holds records, with its pending count. */
  listQueues(): Promise<Map<string, number>>;

  /** Records waiting for a time (scheduled tasks, retries not yet due), earliest first. */
  getScheduled(queue: string): Promise<TaskData[]>;

  /**
   * Cancels a task that is pending, scheduled or waiting for a retry and not
   * claimed: stores it `cancelled` with `finishedAt` and returns that record.
   * Returns `null` (changing nothing) for an unknown, claimed or finished task.
   * Exactly one of a racing cancel and claim wins.
   */
  cancel(queue: string, id: string): Promise<TaskData | null>;

  /** Deletes a finished record. Returns `false` (changing nothing) when the task is unknown or unfinished. */
  deleteTask(queue: string, id: string): Promise<boolean>;

  /** Stores a cron under its deterministic id; `false` if that id exists. */
  addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean>;
  /** `true` if a cron was removed. */
  deleteCron(queue: string, deterministicId: string): Promise<boolean>;
  getCrons(queue: string): Promise<CronData[]>;

  /** Stores (or overwrites) a workflow record. */
  storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean>;
  getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>>;
  getAllWorkflows(queue: string): Promise<WorkflowData[]>;
  /** Workflows neither completed nor failed. */
  getPendingWorkflows(queue: string): Promise<WorkflowData[]>;
  deleteWorkflow(queue: string, id: string): Promise<boolean>;
  /** Removes `taskId` from the workflow's pending ids; returns how many remain, or -1 if it was not pending. */
  markWorkflowTaskComplete(queue: string, workflowId: string, taskId: string): Promise<number>;

  /** Releases claims without storing anything (a claimed task that must not run). */
  acknowledge(queue: string, ids: readonly string[]): Promise<void>;
  /** Renews the leases of claimed tasks; returns the ids whose claim this instance no longer holds. */
  heartbeat(queue: string, ids: readonly string[]): Promise<string[]>;
  /**
   * Takes over claims whose lease was not renewed for `idleMs` and returns
   * their records (now claimed by this instance), for the caller to mark crashed or retry.
   */
  reclaimStale(queue: string, idleMs: number): Promise<TaskData[]>;

  /**
   * Admits a start under a rate limit: `null` when admitted (the start is
   * counted), else milliseconds (≥ 10) until a slot may be free. Refused
   * callers get staggered slots `period / maxRate` apart. State is per queue
   * and key, shared by every instance on the same server, atomic.
   */
  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null>;

  /**
   * Deletes finished records whose retention ran out by `now` (default: the
   * backend's clock) and returns how many it deleted. Expiry is set when a
   * finished record is stored (`storeResult`, `cancel`) from the task's
   * `ttl`/`errorTtl` and the backend's defaults (`task/ttl.ts`); re-queuing
   * the record clears it. Reads never return an expired record even before
   * it is pruned; workers call this periodically so storage does not grow.
   */
  pruneExpired(queue: string, now?: number): Promise<number>;
}
