/**
 * @module queue/queue
 * `Queue`: the application's handle on one named queue of a backend. Every
 * method is async and connects the backend on first use. Durations are seconds.
 */

import type { Backend, QueueStats, SqlTransaction } from "../backends/backend.js";
import { backendFromUrl } from "../backends/registry.js";
import { type Clock, createdOn, isoAt, systemClock } from "../clock.js";
import { InvalidOptionError, TaskStateError } from "../errors.js";
import { defaultTaskMetrics } from "../observability/task-metrics.js";
import { checkQueueConcurrencyLimit } from "../task/concurrency.js";
import { describeGiven } from "../task/describe-value.js";
import type { QueueEventOf, QueueEventType } from "../task/lifecycle-event.js";
import { resolveMaxPayloadBytes } from "../task/payload-limit.js";
import {
  copyTaskData,
  type FinishedTaskStatus,
  type Task,
  type TaskData,
} from "../task/task-record.js";
import type { FinishedWorkflowStatus, Workflow } from "../task/workflow-record.js";
import { RecentIds } from "../util/recent-ids.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { AddBatcher, MAX_COALESCED_ADD } from "./add-batcher.js";
import { type AddEntry, addEntries, checkEntries, isEntryList } from "./add-entries.js";
import { addOptionsFor } from "./add-events.js";
import {
  addReported,
  checkReported,
  type ReportedAddOptions,
  reportsOutcome,
} from "./add-reported.js";
import { stopBackendUsers } from "./backend-users.js";
import { type CancelAllOptions, type CancelAllResult, cancelAll } from "./cancel-all.js";
import { type CancelOptions, cancelTask } from "./cancel-api.js";
import type { CronDefinition } from "./cron.js";
import {
  isCronDefinition,
  listCrons,
  registerCron,
  removeCron,
  removeCronById,
} from "./cron-api.js";
import type { CronEvery, CronOptions } from "./cron-schedule.js";
import { decodeTask } from "./decode-task.js";
import type { AddResult, DedupeOptions } from "./dedupe-options.js";
import { type DeleteAllOptions, type DeleteAllResult, deleteAll } from "./delete-all.js";
import {
  concurrencyOf,
  type EnqueueOptions,
  type PlainEnqueueOptions,
  priorityOf,
  transactionOf,
} from "./enqueue-options.js";
import { addAgainIfExpired } from "./expired-ids.js";
import { type InlineRunner, inlineRunnerFor } from "./inline-runner.js";
import { resolveDueTime } from "./instant.js";
import { type ListTasksOptions, listTasks, type TaskList } from "./list-tasks.js";
import { byStart, decodeLiveWorker, hasWorkerDirectory, type LiveWorker } from "./live-worker.js";
import { PORTED_ADD_OPTIONS, refusePortedOption } from "./ported-options.js";
import { publishTraced } from "./publish-span.js";
import { type QueueEventsOptions, queueEvents } from "./queue-events.js";
import type { QueueHandle } from "./queue-handle.js";
import { queueLatencyMs } from "./queue-latency.js";
import { queueNameProblem } from "./queue-name.js";
import { type RescheduleOptions, rescheduleTask } from "./reschedule-api.js";
import { type RetryAllOptions, type RetryAllResult, retryAll } from "./retry-all.js";
import { type RetryOptions, retryTask } from "./retry-api.js";
import {
  type RetryWorkflowsOptions,
  type RetryWorkflowsResult,
  retryWorkflows,
} from "./retry-workflows.js";
import {
  type CancelledTask,
  checkTasks,
  type FinishedTask,
  type FinishedTasks,
  idOf,
  type StoredTask,
  type TaskRef,
  type TasksOrNull,
} from "./task-refs.js";
import { waitForFinished, waitForWorkflows } from "./wait-for-finished.js";
import {
  type AddWorkflowOptions,
  addWorkflow,
  type CancelledWorkflow,
  type CancelWorkflowOptions,
  cancelWorkflow,
  decodeWorkflow,
  deleteWorkflow,
  type FinishedWorkflow,
  type FinishedWorkflows,
  readWorkflowSteps,
  readWorkflows,
  retryWorkflow,
  type StoredWorkflow,
  type WorkflowRef,
  type WorkflowsOrNull,
  workflowIdOf,
} from "./workflow-api.js";

export type { AddEntry } from "./add-entries.js";
export type {
  CancelAllOptions,
  CancelAllResult,
  CancellableStatus,
} from "./cancel-all.js";
export type { CancelOptions } from "./cancel-api.js";
export type { AddResult, DedupeOptions } from "./dedupe-options.js";
export type { DeleteAllOptions, DeleteAllResult, PurgeableStatus } from "./delete-all.js";
export type { EnqueueOptions } from "./enqueue-options.js";
export type { ListTasksOptions, TaskList } from "./list-tasks.js";
export type { RescheduleOptions } from "./reschedule-api.js";
export type { RedriveStatus, RetryAllOptions, RetryAllResult } from "./retry-all.js";
export type { RetryOptions } from "./retry-api.js";
export type { RetryWorkflowsOptions, RetryWorkflowsResult } from "./retry-workflows.js";
export type {
  CancelledTask,
  FinishedTask,
  FinishedTasks,
  StoredTask,
  TaskRef,
  TasksOrNull,
} from "./task-refs.js";
export type {
  AddWorkflowOptions,
  CancelledWorkflow,
  CancelWorkflowOptions,
  FinishedWorkflow,
  FinishedWorkflows,
  StoredWorkflow,
  WorkflowRef,
  WorkflowsOrNull,
} from "./workflow-api.js";

export interface QueueOptions {
  /** Queue name (default: first entry of `SHEPPY_QUEUE`, else `"default"`). ASCII letters, digits, `_ . : -`. */
  name?: string | undefined;
  /** Time source for due times and timestamps written by the queue (tests). */
  clock?: Clock | undefined;
  /**
   * The most bytes a task's arguments may take as JSON when added here, and
   * its result when a worker serving this queue settles it (default: the
   * backend's `maxPayloadBytes`, else 16 MiB). Over it: `PayloadTooLargeError`.
   */
  maxPayloadBytes?: number | undefined;
}

/**
 * Options of an add of one task that reports what it did (see
 * {@link AddResult}): under a dedupe key, or under an id of the caller's
 * choosing, or both. See docs/dedupe.md.
 */
export type ReportingEnqueueOptions = PlainEnqueueOptions &
  (
    | { dedupe: DedupeOptions; id?: string | undefined }
    | { id: string; dedupe?: DedupeOptions | undefined }
  );

/**
 * Options of one task's add whose id or dedupe key may be `undefined`: with
 * one, the add resolves to `{ outcome, id }`; without, to a boolean.
 */
export type MaybeReportingEnqueueOptions = PlainEnqueueOptions & {
  id?: string | undefined;
  dedupe?: DedupeOptions | undefined;
};

/** Whether `value` looks like a backend (an object with the contract's `connect` and `add`), not a misplaced options object. */
function isBackend(value: unknown): value is Backend {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Backend>;
  return typeof candidate.connect === "function" && typeof candidate.add === "function";
}

/** The keys of each options type (the compiler keeps each list complete). */
const WAIT_OPTION_KEYS = Object.keys({
  timeout: true,
  signal: true,
} satisfies Record<keyof WaitOptions, true>);
const ENQUEUE_OPTION_KEYS = Object.keys({
  tx: true,
  priority: true,
  concurrency: true,
  dedupe: true,
  id: true,
} satisfies Record<keyof (EnqueueOptions & ReportedAddOptions), true>);
const QUEUE_OPTION_KEYS = Object.keys({
  name: true,
  clock: true,
  maxPayloadBytes: true,
} satisfies Record<keyof QueueOptions, true>);

export interface WaitOptions {
  /** Seconds to wait at most (≥ 0); absent waits without limit (an unknown id then throws `TaskNotFoundError`); 0 checks once. Elapsed → `WaitTimeoutError`. */
  timeout?: number | undefined;
  /**
   * Ends the wait when it aborts (an HTTP request whose client went away),
   * rejecting with the signal's reason; the tasks are left as they are.
   */
  signal?: AbortSignal | undefined;
}

function defaultQueueName(): string {
  const fromEnv = process.env.SHEPPY_QUEUE?.split(",")
    .map((name) => name.trim())
    .find((name) => name !== "");
  return fromEnv ?? "default";
}

/** A wait's `timeout` in ms (`null`: no limit). A negative one is a bug in the caller, refused like NaN. */
function timeoutMsOf(options: WaitOptions, where: string): number | null {
  // A misspelt `timeout` would leave the wait unbounded.
  checkOptionKeys(options, WAIT_OPTION_KEYS, where);
  const { timeout } = options;
  if (timeout !== undefined && (typeof timeout !== "number" || !(timeout >= 0))) {
    throw new InvalidOptionError(
      `${where}: timeout must be a number of seconds ≥ 0 (got ${describeGiven(timeout)})`,
    );
  }
  return timeout === undefined ? null : timeout * 1000;
}

/** A wait's `signal`, checked: an `AbortSignal` or nothing. */
function signalOf(options: WaitOptions, where: string): AbortSignal | undefined {
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(
      `${where}: signal must be an AbortSignal (got ${describeGiven(signal)})`,
    );
  }
  return signal;
}

export class Queue implements QueueHandle {
  readonly name: string;
  readonly backend: Backend;
  readonly clock: Clock;
  /** The most bytes of JSON a task's arguments (or result) may take in this queue. */
  readonly maxPayloadBytes: number;
  /** Runs tasks as they are added, when the backend asks for it (`memory://`). */
  readonly #inline: InlineRunner | undefined;
  /** Plain adds of one turn of the event loop, sent as one backend call. */
  readonly #adds: AddBatcher;
  /**
   * Ids this object stored (outside a caller's transaction), the newest
   * 50,000: one of them a wait cannot find was removed, not "not added
   * yet", so the wait ends at once instead of at its timeout.
   */
  readonly #addedHere = new RecentIds(50_000);
  /** Told the due time of each task this queue schedules (a worker's scheduler, to wake for it). */
  readonly #scheduledListeners = new Set<(at: number) => void>();
  #connecting: Promise<void> | undefined;
  /** Adds and schedules under way: `close()` waits for them, so one not awaited is not cut off. */
  readonly #writes = new Set<Promise<unknown>>();
  /** Listeners whose start is still being read: this queue's calls wait for them (see `events`). */
  readonly #eventStarts = new Set<Promise<void>>();

  /**
   * @param backend a backend instance, or a URL (`memory://`, `redis://…`); default `SHEPPY_BACKEND_URL`.
   * @example
   * const queue = new Queue("memory://");
   * const emails = new Queue(process.env.REDIS_URL, { name: "emails" });
   */
  constructor(backend?: Backend | string, options: QueueOptions = {}) {
    const source = backend ?? process.env.SHEPPY_BACKEND_URL;
    if (source === undefined || source === "") {
      throw new InvalidOptionError(
        "No backend provided: pass a backend or URL to new Queue(), or set SHEPPY_BACKEND_URL",
      );
    }
    if (typeof source !== "string" && !isBackend(source)) {
      throw new InvalidOptionError(
        `new Queue(): the first argument must be a backend (new RedisBackend(…), …) or a backend URL (got ${describeGiven(source)})`,
      );
    }
    // A misspelt `name` would put the tasks in the default queue.
    checkOptionKeys(options, QUEUE_OPTION_KEYS, "new Queue()");
    this.backend =
      typeof source === "string"
        ? backendFromUrl(source, options.clock ? { clock: options.clock } : {})
        : source;
    // Two clocks would split one queue's time: tasks stamped by one, run, retried and
    // rate-limited by the other (a test clock that moves nothing the backend does). A
    // backend that keeps no clock of its own goes by the times its callers give it.
    const backendClock = this.backend.clock;
    if (
      options.clock !== undefined &&
      backendClock !== undefined &&
      backendClock !== options.clock
    ) {
      throw new InvalidOptionError(
        "new Queue(): the clock option is not the backend's clock; give the backend the same clock (new MemoryBackend({ clock }), new RedisBackend({ url, clock })…), or pass a backend URL and the clock here only",
      );
    }
    const name = options.name ?? defaultQueueName();
    if (typeof name !== "string")
      throw new InvalidOptionError(
        `new Queue(): name must be a string (got ${describeGiven(name)})`,
      );
    const problem = queueNameProblem(name);
    if (problem !== null) throw new InvalidOptionError(problem);
    this.name = name;
    this.clock = options.clock ?? this.backend.clock ?? systemClock;
    this.#adds = new AddBatcher(name, () => this.clock.now());
    this.maxPayloadBytes = resolveMaxPayloadBytes(
      options.maxPayloadBytes,
      "new Queue()",
      this.backend.maxPayloadBytes,
    );
    this.#inline = inlineRunnerFor(this.backend);
  }

  /** Connects the backend (once; every method does this on first use) and returns it. */
  async connect(): Promise<Backend> {
    // A listener made before this call reads its start first, so it hears what this call writes.
    if (this.#eventStarts.size > 0) await Promise.all(this.#eventStarts);
    if (!this.backend.isConnected) {
      this.#connecting ??= this.backend.connect().finally(() => {
        this.#connecting = undefined;
      });
      await this.#connecting;
    }
    return this.backend;
  }

  /**
   * Enqueues tasks. Returns `false` for a task whose id the queue already holds (idempotent add).
   * With `{ tx }`, within your SQL transaction (see {@link EnqueueOptions}).
   * With `{ dedupe }` or `{ id }` (one task), resolves to what it did instead: `{ outcome, id }`,
   * `outcome` being `added`, `ignored` or `replaced` (see docs/dedupe.md).
   * A list of entries `{ task, id?, dedupe?, at?, priority?, concurrency? }` adds each
   * with options of its own and resolves to one `{ outcome, id }` per entry, in order.
   * @example
   * await queue.add(sendEmail("a@example.com", "Hi"));
   * await queue.add(orders.map((o) => ({ task: charge(o.id), id: `charge:${o.id}` })));
   * const { outcome } = await queue.add(sync("u1"), { dedupe: { key: "sync:u1" } });
   */
  // The single task's plain form comes last: an editor shows the last overload's complaint, so a
  // misspelt option is pointed at, not the task as if it should have been a list.
  add(tasks: readonly Task[], options?: EnqueueOptions): Promise<boolean[]>;
  add(entries: readonly AddEntry[], options?: EnqueueOptions): Promise<AddResult[]>;
  add(task: Task, options: ReportingEnqueueOptions): Promise<AddResult>;
  add(task: Task, options?: EnqueueOptions): Promise<boolean>;
  // An id or key that may be undefined (`{ id: order.externalId }`): the answer is either form.
  add(task: Task, options: MaybeReportingEnqueueOptions): Promise<AddResult | boolean>;
  add(
    input: Task | readonly Task[] | readonly AddEntry[],
    options?: PlainEnqueueOptions & ReportedAddOptions,
  ): Promise<boolean | boolean[] | AddResult | AddResult[]> {
    if (Array.isArray(input) && isEntryList(input)) {
      return this.#untilClosed(this.#addEntries(input, options));
    }
    return this.#untilClosed(this.#add(input as Task | readonly Task[], options));
  }

  async #addEntries(
    list: readonly unknown[],
    options?: PlainEnqueueOptions & ReportedAddOptions,
  ): Promise<AddResult[]> {
    const where = "queue.add()";
    checkOptionKeys(options, ENQUEUE_OPTION_KEYS, where);
    if (reportsOutcome(options)) {
      throw new InvalidOptionError(
        `${where}: id and dedupe go in each entry of a list ({ task, id, dedupe }), not in the call's options`,
      );
    }
    const entries = checkEntries(this, list, options, where);
    const backend = await this.connect();
    const tx = transactionOf(options, backend, where);
    const { results, records, scheduled, conflict } = await addEntries(
      this,
      backend,
      entries,
      tx,
      where,
    );
    this.#countAdded(
      records,
      results.map((result) => result.outcome !== "ignored"),
    );
    for (const due of scheduled) this.#tellScheduled(due);
    await this.runInline();
    if (conflict) throw conflict;
    return results;
  }

  async #add(
    input: Task | readonly Task[],
    options?: PlainEnqueueOptions & ReportedAddOptions,
  ): Promise<boolean | boolean[] | AddResult> {
    const list = Array.isArray(input) ? (input as readonly unknown[]) : [input];
    checkTasks(list, "queue.add()", this.maxPayloadBytes, Array.isArray(input));
    // A misspelt `dedupe` would add a duplicate without a word.
    refusePortedOption(options, PORTED_ADD_OPTIONS, "queue.add()");
    checkOptionKeys(options, ENQUEUE_OPTION_KEYS, "queue.add()");
    const priority = priorityOf(options, "queue.add()");
    const concurrency = concurrencyOf(options, "queue.add()");
    const reporting = reportsOutcome(options);
    if (reporting) checkReported(options!, "queue.add()");
    if (reporting && Array.isArray(input)) {
      throw new InvalidOptionError(
        "queue.add(): dedupe and id apply to one task; for a list, give each its own in an entry ({ task, id, dedupe })",
      );
    }
    if (list.length === 0) return [];
    const backend = await this.connect();
    const tx = transactionOf(options, backend, "queue.add()");
    const records = list.map((task) => {
      const data = task.toJSON();
      return copyTaskData(data, {
        status: "pending",
        createdAt: createdOn(this.clock, data.createdAt),
        ...(priority === undefined ? {} : { priority }),
        ...concurrency,
      });
    });
    if (reporting) {
      // Its producer span is the add's own (a list of one entry).
      const result = await addReported(this, records[0]!, options!, tx, "queue.add()");
      this.#countAdded(records, [result.outcome !== "ignored"]);
      await this.runInline();
      return result;
    }
    const added = await this.#storeNew(backend, records, tx);
    // Outside the add's span: an inline run is a consumer of its own.
    await this.runInline();
    return Array.isArray(input) ? added : (added[0] ?? false);
  }

  /**
   * Enqueues a task to run at a time: a `Date`, ISO-8601 text with an explicit offset
   * (`Z` or `±hh:mm`), or a delay in seconds. A date a second or more past (less is due
   * now), an invalid date, or text without an offset, is an `InvalidOptionError`. Returns `false` when the queue already holds the id.
   * With `{ tx }`, within your SQL transaction (see {@link EnqueueOptions}).
   * With `{ dedupe }` or `{ id }`, resolves to `{ outcome, id }` as `add` does.
   * @example
   * await queue.schedule(report(), 3600); // in an hour
   * await queue.schedule(report(), "2030-01-01T09:00:00+01:00");
   */
  schedule(
    task: Task,
    at: Date | number | string,
    options: ReportingEnqueueOptions,
  ): Promise<AddResult>;
  schedule(task: Task, at: Date | number | string, options?: EnqueueOptions): Promise<boolean>;
  schedule(
    task: Task,
    at: Date | number | string,
    options: MaybeReportingEnqueueOptions,
  ): Promise<AddResult | boolean>;
  schedule(
    task: Task,
    at: Date | number | string,
    options?: PlainEnqueueOptions & ReportedAddOptions,
  ): Promise<boolean | AddResult> {
    return this.#untilClosed(this.#schedule(task, at, options));
  }

  async #schedule(
    task: Task,
    at: Date | number | string,
    options?: PlainEnqueueOptions & ReportedAddOptions,
  ): Promise<boolean | AddResult> {
    checkTasks([task], "queue.schedule()", this.maxPayloadBytes, false);
    const due = resolveDueTime(at, this.clock.now(), "queue.schedule()");
    checkOptionKeys(options, ENQUEUE_OPTION_KEYS, "queue.schedule()");
    const priority = priorityOf(options, "queue.schedule()");
    const concurrency = concurrencyOf(options, "queue.schedule()");
    if (reportsOutcome(options)) checkReported(options!, "queue.schedule()");
    const data = task.toJSON();
    const record = copyTaskData(data, {
      status: "scheduled",
      createdAt: createdOn(this.clock, data.createdAt),
      scheduledAt: isoAt(due),
      ...(priority === undefined ? {} : { priority }),
      ...concurrency,
    });
    const backend = await this.connect();
    const tx = transactionOf(options, backend, "queue.schedule()");
    if (reportsOutcome(options)) {
      const result = await addReported(this, record, options!, tx, "queue.schedule()");
      this.#countAdded([record], [result.outcome !== "ignored"]);
      if (result.outcome !== "ignored") this.#tellScheduled(due);
      return result;
    }
    const [added] = await this.#storeNew(backend, [record], tx);
    if (added) this.#tellScheduled(due);
    return added ?? false;
  }

  /**
   * @internal Calls `listener` with the due time (epoch ms, this queue's
   * clock) of each task scheduled through this queue object, until the
   * returned function is called: a worker of this process wakes its
   * scheduler then instead of finding the task at its next look.
   */
  onScheduled(listener: (at: number) => void): () => void {
    this.#scheduledListeners.add(listener);
    return () => this.#scheduledListeners.delete(listener);
  }

  #tellScheduled(at: number): void {
    for (const listener of this.#scheduledListeners) listener(at);
  }

  /**
   * Stores new work as a plain add (`unique` mode) under the add's span:
   * within `tx` or as a bulk list in a call of its own, else with the other
   * adds of this turn; counts what was stored.
   */
  async #storeNew(
    backend: Backend,
    records: TaskData[],
    tx: SqlTransaction | undefined,
  ): Promise<boolean[]> {
    const store = (some: readonly TaskData[]) =>
      backend.add(this.name, some, "unique", addOptionsFor(backend, some, this.clock.now(), tx));
    const added = await publishTraced(this.name, records, async (traced) => {
      const first = await (tx || traced.length > MAX_COALESCED_ADD
        ? store(traced)
        : this.#adds.add(backend, traced));
      return addAgainIfExpired(backend, this.name, this.clock.now(), traced, first, store);
    });
    this.#countAdded(records, added);
    // Within a caller's transaction it may yet roll back: not known to be stored.
    if (tx === undefined) {
      records.forEach((record, i) => {
        if (added[i]) this.#addedHere.add(record.id);
      });
    }
    return added;
  }

  /**
   * Counts the records the backend stored (a replace under a dedupe key
   * counts: new work was stored); an id it already held adds nothing. Within
   * a caller's transaction it counts at the add, even if the transaction
   * later rolls back: the queue never learns the outcome.
   */
  #countAdded(records: readonly TaskData[], stored: readonly boolean[]): void {
    records.forEach((record, i) => {
      if (stored[i]) defaultTaskMetrics.added.inc({ queue: this.name, task: record.name });
    });
  }

  /** The stored record of a task (or of each task in a list), `null` when the queue does not hold it. */
  getTask<T extends Task<unknown>>(task: T): Promise<StoredTask<T> | null>;
  getTask(id: string): Promise<Task | null>;
  getTask<const L extends readonly TaskRef[]>(items: L): Promise<TasksOrNull<L>>;
  async getTask(input: TaskRef | readonly TaskRef[]): Promise<Task | null | (Task | null)[]> {
    const refs = Array.isArray(input) ? (input as readonly TaskRef[]) : [input as TaskRef];
    const ids = refs.map((ref) => idOf(ref, "queue.getTask()"));
    const found = await (await this.connect()).getTasks(this.name, [...new Set(ids)]);
    const decoded = await Promise.all(
      ids.map((id) => {
        const data = found.get(id);
        return data ? decodeTask(data) : null;
      }),
    );
    return Array.isArray(input) ? decoded : (decoded[0] ?? null);
  }

  /**
   * Every record of the queue, any status, newest first by creation time on
   * every built-in backend (a backend of your own may page in another order).
   * For large queues prefer {@link iterateTasks}.
   */
  async getAllTasks(): Promise<Task[]> {
    const all: Task[] = [];
    for await (const task of this.iterateTasks()) all.push(task);
    return all;
  }

  /** Streams every record of the queue, a page at a time, in {@link getAllTasks}' order. */
  async *iterateTasks(pageSize = 500): AsyncGenerator<Task> {
    const backend = await this.connect();
    // The contract lets a backend's pages repeat a record while the queue changes: yield each once.
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await backend.getAllTasks(this.name, { cursor, limit: pageSize });
      for (const data of page.tasks) {
        if (seen.has(data.id)) continue;
        seen.add(data.id);
        yield await decodeTask(data);
      }
      cursor = page.cursor;
    } while (cursor !== null);
  }

  /**
   * A page of the queue's tasks, newest first (by creation time), of one status
   * or several when `status` is given; pass the page's `cursor` back for the
   * next page (`null` after the last). A page holds `limit` tasks (default
   * 100) unless it is the last; a task keeps its place while it runs or is
   * retried, so a walk returns each task that keeps its status once.
   * @example
   * let page = await queue.listTasks({ status: ["failed", "crashed"], limit: 50 });
   * while (page.cursor) page = await queue.listTasks({ status: "failed", cursor: page.cursor });
   */
  listTasks(options: ListTasksOptions = {}): Promise<TaskList> {
    return listTasks(this, options);
  }

  /** The next `count` pending tasks (default 100), oldest first, without claiming them. */
  async getPending(count = 100): Promise<Task[]> {
    const records = await (await this.connect()).getPending(this.name, count);
    return Promise.all(records.map(decodeTask));
  }

  /** The first `count` tasks (default 100) waiting for a time (scheduled, or a retry not yet due), earliest first. */
  async getScheduled(count = 100): Promise<Task[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `queue.getScheduled(): count must be an integer ≥ 1 (got ${describeGiven(count)})`,
      );
    }
    const page = await (await this.connect()).getScheduled(this.name, { limit: count });
    return Promise.all(page.tasks.slice(0, count).map(decodeTask));
  }

  /**
   * Waits until the task (or every task of a list) is finished — completed, failed,
   * crashed or cancelled — and returns the final record(s). Wakes on the backend's
   * notification. Throws `WaitTimeoutError` when `timeout` seconds pass first. Without a
   * `timeout`, an id the queue does not hold (never added here, deleted or expired) throws
   * `TaskNotFoundError` at once instead of waiting forever; with one, it counts as unfinished,
   * so a caller may wait for a task another process is about to add — but a task this queue
   * object added and the queue no longer holds is gone, not coming, and throws at once.
   * Either way, a task seen waiting and then gone (deleted, or finished and deleted past
   * `maxFinished` or its TTL before the wait read it) throws `TaskNotFoundError` at once:
   * keep `maxFinished` above the number of tasks waited for together.
   * @example const done = await queue.waitFor(t, { timeout: 10 }); done.result // typed
   */
  waitFor<T extends Task<unknown>>(task: T, options?: WaitOptions): Promise<FinishedTask<T>>;
  waitFor(id: string, options?: WaitOptions): Promise<Task<unknown, FinishedTaskStatus>>;
  waitFor<const L extends readonly TaskRef[]>(
    items: L,
    options?: WaitOptions,
  ): Promise<FinishedTasks<L>>;
  async waitFor(
    input: TaskRef | readonly TaskRef[],
    options: WaitOptions = {},
  ): Promise<Task | Task[]> {
    const refs = Array.isArray(input) ? (input as readonly TaskRef[]) : [input as TaskRef];
    const ids = refs.map((ref) => idOf(ref, "queue.waitFor()"));
    const timeoutMs = timeoutMsOf(options, "queue.waitFor()");
    const signal = signalOf(options, "queue.waitFor()");
    const unique = [...new Set(ids)];
    const found = await waitForFinished(
      await this.connect(),
      this.name,
      unique,
      timeoutMs,
      this.idleWaitHint(),
      signal,
      (id) => this.#addedHere.has(id),
    );
    const decoded = await Promise.all(ids.map((id) => decodeTask(found.get(id)!)));
    return Array.isArray(input) ? decoded : decoded[0]!;
  }

  /**
   * What a `waitFor` timeout says when no worker has claimed the tasks;
   * `undefined` asks whether a worker serving this queue runs. A subclass
   * whose tasks no worker runs (`TestQueue`) says what runs them instead.
   */
  protected idleWaitHint(): string | undefined {
    return undefined;
  }

  /** {@link idleWaitHint} for a `waitForWorkflow` timeout on workflows none of whose steps has finished. */
  protected idleWorkflowWaitHint(): string | undefined {
    return undefined;
  }

  /**
   * Starts a workflow: runs its body here up to the steps it first asks for and stores it with
   * them; workers do the rest. Returns the workflow as stored (the stored one when the queue
   * already holds its id — `options.id` chooses that id). A body that asks for no step
   * completes here.
   * @example const wf = await queue.addWorkflow(fulfil(order), { id: `order-${order.id}` });
   */
  addWorkflow<W extends Workflow<unknown>>(
    workflow: W,
    options?: AddWorkflowOptions,
  ): Promise<StoredWorkflow<W>> {
    return addWorkflow(this, workflow, options) as Promise<StoredWorkflow<W>>;
  }

  /** The stored workflow (or each of a list), `null` when the queue does not hold it. */
  getWorkflow<W extends Workflow<unknown>>(workflow: W): Promise<StoredWorkflow<W> | null>;
  getWorkflow(id: string): Promise<Workflow | null>;
  getWorkflow<const L extends readonly WorkflowRef[]>(list: L): Promise<WorkflowsOrNull<L>>;
  async getWorkflow(
    input: WorkflowRef | readonly WorkflowRef[],
  ): Promise<Workflow | null | (Workflow | null)[]> {
    const refs = Array.isArray(input) ? (input as readonly WorkflowRef[]) : [input as WorkflowRef];
    const ids = refs.map((ref) => workflowIdOf(ref, "queue.getWorkflow()"));
    const found = await readWorkflows(this, ids);
    const list = ids.map((id) => found.get(id) ?? null);
    return Array.isArray(input) ? list : (list[0] ?? null);
  }

  /** Every workflow of the queue, finished ones included, oldest first. For many, prefer {@link iterateWorkflows}. */
  getAllWorkflows(): Promise<Workflow[]> {
    return this.#allWorkflows(false);
  }

  /** The workflows still running, oldest first. */
  getPendingWorkflows(): Promise<Workflow[]> {
    return this.#allWorkflows(true);
  }

  async #allWorkflows(running: boolean): Promise<Workflow[]> {
    const all: Workflow[] = [];
    for await (const workflow of this.iterateWorkflows({ running })) all.push(workflow);
    // Ids break ties: made within one millisecond by one process, they sort in the order made
    // (pages come in no stated order, so the store's order cannot).
    return all.sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /** Streams every workflow of the queue (or only the running ones), a page at a time, in no stated order. */
  async *iterateWorkflows(
    options: { running?: boolean; pageSize?: number } = {},
  ): AsyncGenerator<Workflow> {
    const backend = await this.connect();
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await backend.listWorkflows(this.name, {
        cursor,
        limit: options.pageSize ?? 500,
        running: options.running ?? false,
      });
      for (const data of page.workflows) {
        if (seen.has(data.id)) continue;
        seen.add(data.id);
        yield await decodeWorkflow(data);
      }
      cursor = page.cursor;
    } while (cursor !== null);
  }

  /**
   * Waits until the workflow (or every one of a list) has completed, failed or been cancelled,
   * and returns it; `timeout` as for `waitFor` (`WaitTimeoutError`; without one, an id the
   * queue does not hold is a `WorkflowNotFoundError` at once).
   */
  waitForWorkflow<W extends Workflow<unknown>>(
    workflow: W,
    options?: WaitOptions,
  ): Promise<FinishedWorkflow<W>>;
  waitForWorkflow(
    id: string,
    options?: WaitOptions,
  ): Promise<Workflow<unknown, FinishedWorkflowStatus>>;
  waitForWorkflow<const L extends readonly WorkflowRef[]>(
    list: L,
    options?: WaitOptions,
  ): Promise<FinishedWorkflows<L>>;
  async waitForWorkflow(
    input: WorkflowRef | readonly WorkflowRef[],
    options: WaitOptions = {},
  ): Promise<Workflow | Workflow[]> {
    const refs = Array.isArray(input) ? (input as readonly WorkflowRef[]) : [input as WorkflowRef];
    const ids = refs.map((ref) => workflowIdOf(ref, "queue.waitForWorkflow()"));
    const timeoutMs = timeoutMsOf(options, "queue.waitForWorkflow()");
    const signal = signalOf(options, "queue.waitForWorkflow()");
    const found = await waitForWorkflows(
      await this.connect(),
      this.name,
      ids,
      timeoutMs,
      this.idleWorkflowWaitHint(),
      signal,
    );
    const decoded = await Promise.all(ids.map((id) => decodeWorkflow(found.get(id)!)));
    return Array.isArray(input) ? decoded : decoded[0]!;
  }

  /**
   * Each step's task as it stands, aligned with `workflow.steps`: its record while the queue
   * holds it, else the finished record the workflow kept (a step's own record may expire
   * first), else `null`. An unknown workflow is a `WorkflowNotFoundError`.
   */
  getWorkflowSteps(workflow: WorkflowRef): Promise<(Task | null)[]> {
    return readWorkflowSteps(this, workflow);
  }

  /**
   * Cancels a running workflow and its steps that have not started (a running step finishes,
   * unless `force` cancels it too; the workflow does not go on). Returns the cancelled
   * workflow; one that has finished is a `TaskStateError`, an unknown one a
   * `WorkflowNotFoundError`.
   */
  cancelWorkflow<W extends Workflow<unknown>>(
    workflow: W,
    options?: CancelWorkflowOptions,
  ): Promise<CancelledWorkflow<W>>;
  cancelWorkflow(
    ref: WorkflowRef,
    options?: CancelWorkflowOptions,
  ): Promise<Workflow<unknown, "cancelled">>;
  cancelWorkflow(ref: WorkflowRef, options?: CancelWorkflowOptions): Promise<Workflow> {
    return cancelWorkflow(this, ref, options);
  }

  /**
   * Runs a failed workflow again: a worker replays its body as deployed now,
   * which asks again for the steps it saw last that did not complete (new
   * tasks; their failed records go) and goes on from there. Steps that
   * completed are not run again. Returns the workflow as stored, running (on
   * `memory://` with instant processing, as far as it got); one that is not
   * failed is a `TaskStateError`, an unknown one a `WorkflowNotFoundError`.
   * Of two callers retrying one workflow at once, one runs it again and the
   * other gets `TaskStateError`.
   */
  retryWorkflow<W extends Workflow<unknown>>(workflow: W): Promise<StoredWorkflow<W>>;
  retryWorkflow(ref: WorkflowRef): Promise<Workflow>;
  retryWorkflow(ref: WorkflowRef): Promise<Workflow> {
    return retryWorkflow(this, ref);
  }

  /**
   * Runs every failed workflow of the queue again, as `retryWorkflow` runs
   * one — only those of some names (`name`), or that failed at or after
   * `since` (a `Date`, ISO text, or seconds before now), when given — a page
   * at a time. Only workflows that failed before the call began are run
   * again, once each. Returns how many run again, and how many were skipped
   * (retried or deleted by someone else meanwhile).
   */
  retryWorkflows(options: RetryWorkflowsOptions = {}): Promise<RetryWorkflowsResult> {
    return retryWorkflows(this, options);
  }

  /** Deletes a finished workflow's record; `false` for an unknown one, `TaskStateError` for a running one. */
  deleteWorkflow(workflow: WorkflowRef): Promise<boolean> {
    return deleteWorkflow(this, workflow);
  }

  /**
   * Runs a finished task, or one waiting for its automatic retry, again (same id; `retryCount`
   * unchanged). Returns `false` for an unknown task. A completed task needs `force`; a pending,
   * scheduled or running one cannot be retried. Of two callers retrying one task at once (any
   * processes), one re-queues it and the other gets `TaskStateError`.
   */
  retry(ref: TaskRef, options: RetryOptions = {}): Promise<boolean> {
    return retryTask(this, ref, options);
  }

  /**
   * Moves a task that waits to run (pending, scheduled, or waiting for its automatic retry) to
   * another time: now by default — run a scheduled task at once — or `at` (a `Date`, ISO text, or
   * seconds from now); `priority` changes the priority it is claimed by (given alone, it keeps the
   * task's time). Same id, arguments and attempt count. Returns `false` for an unknown task. A
   * task a worker has claimed, or one that has finished, gets `TaskStateError` (`retry` runs a
   * finished one again), and so does a cron's run moved before its fire time. A task changed by
   * others between the read and the write is read again: only this call's change is applied.
   * @example
   * await queue.reschedule(reminder); // run it now instead of tomorrow
   * await queue.reschedule(reminder, { at: 3600 }); // in an hour
   */
  reschedule(ref: TaskRef, options: RescheduleOptions = {}): Promise<boolean> {
    return rescheduleTask(this, ref, options);
  }

  /**
   * Redrive: runs again every task that finished with one of these statuses
   * (`failed` by default; `crashed` and `cancelled` when named), only those
   * that finished at or after `since`, of some task names (`name`) or of some
   * concurrency keys (`concurrencyKey`) when given, a batch at a time. Each is
   * re-queued as `retry()` does (same id, outcome cleared); none runs twice at
   * once. Returns how many were re-queued, and how many were skipped because
   * they changed before their turn (claimed, retried or deleted meanwhile).
   * With `dryRun: true` it changes nothing and answers with the counts it would give.
   * @example
   * const { retried } = await queue.retryAll({ status: "failed", since: 3600 }); // failed in the last hour
   */
  retryAll(options: RetryAllOptions = {}): Promise<RetryAllResult> {
    return retryAll(this, options);
  }

  /**
   * The queue's lifecycle events — added, started, progress, retrying,
   * completed, failed, crashed, cancelled, deferred, interrupted — from
   * every process on this storage, in the order they were stored. Starts
   * with what happens from this call on — the start is read at the call, so
   * what this queue does after it is heard however late the loop begins
   * (`after: "start"` reads what the log still keeps; an event's `id`
   * resumes after it). Bad options throw at the call; a position the log
   * never gave, at the first read. Ends when `signal`
   * aborts, the loop breaks, or the backend disconnects. The log keeps the
   * newest `eventCap` events per queue (a backend option, default 10,000).
   * @example
   * for await (const event of queue.events({ signal })) {
   *   if (event.type === "failed") console.log(event.taskId, event.error?.message);
   * }
   * // Naming types narrows the events to them:
   * for await (const done of queue.events({ types: ["completed"], signal })) done.result;
   */
  events<T extends QueueEventType = QueueEventType>(
    options?: QueueEventsOptions<T>,
  ): AsyncGenerator<QueueEventOf<T>, void, undefined> {
    const { events, started } = queueEvents(this, options);
    this.#eventStarts.add(started);
    void started.then(() => this.#eventStarts.delete(started));
    // Only events of the types asked for are given (all of them when none is named).
    return events as AsyncGenerator<QueueEventOf<T>, void, undefined>;
  }

  /**
   * Cancels a task that has not started; returns its `cancelled` record.
   * With `force`, a running task too: its record is `cancelled` at once, its
   * concurrency slot freed, and at its worker's next lease renewal its
   * AbortSignal fires with a `TaskCancelledError` and its outcome is
   * discarded. Throws `TaskCancellationError` when it cannot: unknown,
   * finished, or running without `force`.
   */
  cancel<T extends Task<unknown>>(task: T, options?: CancelOptions): Promise<CancelledTask<T>>;
  cancel(ref: TaskRef, options?: CancelOptions): Promise<Task<unknown, "cancelled">>;
  async cancel(ref: TaskRef, options?: CancelOptions): Promise<Task> {
    return await decodeTask(await cancelTask(this, ref, options));
  }

  /**
   * Cancels a backlog: every task that has not started (pending, scheduled,
   * or waiting for a retry), or only those of `status`, of some task names
   * (`name`) or concurrency keys (`concurrencyKey`: a tenant's); with
   * `force`, running ones too. Each is cancelled as `cancel()` cancels one,
   * a page at a time; a task that started or finished meanwhile is skipped.
   * Cancelled records are kept as failures are, so
   * `retryAll({ status: "cancelled" })` runs them again. With `dryRun: true` it
   * changes nothing and answers with the counts it would give.
   * @example
   * const { cancelled } = await queue.cancelAll({ concurrencyKey: "tenant:acme" });
   */
  cancelAll(options: CancelAllOptions = {}): Promise<CancelAllResult> {
    return cancelAll(this, options);
  }

  /**
   * Purge: deletes the records of finished tasks — every finished one, or
   * those of `status`, of some task names (`name`) or concurrency keys
   * (`concurrencyKey`), that finished before `before` — a page at a time.
   * A task retried or claimed meanwhile is skipped, never lost; a record
   * that cannot be read is left. Unfinished tasks are never touched
   * (`cancelAll` first). With `dryRun: true` it changes nothing and answers
   * with the counts it would give.
   * @example
   * const { deleted } = await queue.deleteAll({ status: "failed", before: 86_400 }); // failed over a day ago
   */
  deleteAll(options: DeleteAllOptions = {}): Promise<DeleteAllResult> {
    return deleteAll(this, options);
  }

  /** @internal Fires the signal of `id`'s attempt when this process runs it inline (`memory://`); otherwise nothing. */
  interruptInline(id: string, reason: Error): void {
    this.#inline?.interrupt(this.name, id, reason);
  }

  /** Deletes a finished task's record. `false` for an unknown task; an unfinished task must be cancelled first. */
  async delete(ref: TaskRef): Promise<boolean> {
    const id = idOf(ref, "queue.delete()");
    const backend = await this.connect();
    if (await backend.deleteTask(this.name, id)) return true;
    const current = (await backend.getTasks(this.name, [id])).get(id);
    if (current) {
      // A running task is cancelled only when forced: the plain advice would send the caller in a circle.
      const instead =
        current.status === "processing"
          ? "wait until it finishes, or cancel it with { force: true } first"
          : "cancel it first";
      throw new TaskStateError(
        `Cannot delete task ${id} while it is ${current.status}: ${instead}`,
        {
          reason: current.status === "processing" ? "running" : "waiting",
          id,
          status: current.status,
        },
      );
    }
    return false;
  }

  /** Number of pending (claimable) tasks. */
  async size(): Promise<number> {
    return (await this.connect()).size(this.name);
  }

  /**
   * Removes every record, cron and rate-limit state of this queue; returns how
   * many records and crons it removed. A record whose retention had already
   * run out is not counted: no read returned it any more, on any backend,
   * whether or not a sweep had deleted it yet.
   */
  async clear(): Promise<number> {
    const backend = await this.connect();
    await backend.pruneExpired(this.name, this.clock.now());
    return backend.clear(this.name);
  }

  /**
   * Pauses the queue: every worker on this backend, in any process, stops
   * claiming its tasks from its next claim on. Tasks already running finish;
   * adds, scheduled times and retries go on, and their tasks wait until
   * {@link resume}. Stays paused until resumed, across restarts of workers
   * (and of the server, on a durable backend).
   */
  async pause(): Promise<void> {
    await (await this.connect()).setPaused(this.name, true);
  }

  /** Resumes a paused queue: waiting workers start claiming again at once. */
  async resume(): Promise<void> {
    await (await this.connect()).setPaused(this.name, false);
  }

  /** Whether the queue is paused. */
  async isPaused(): Promise<boolean> {
    return (await this.connect()).isPaused(this.name);
  }

  /**
   * Caps how many of this queue's tasks run at once across every worker on
   * the backend (`null` lifts the cap), from the next claim on; running tasks
   * are never stopped. Stays set across restarts, until changed.
   * @example await queue.setConcurrencyLimit(5);
   */
  async setConcurrencyLimit(limit: number | null): Promise<void> {
    const checked = checkQueueConcurrencyLimit(limit, "queue.setConcurrencyLimit()");
    await (await this.connect()).setConcurrencyLimit(this.name, checked);
  }

  /** The queue's cap on running tasks across workers; `null` when there is none. */
  async getConcurrencyLimit(): Promise<number | null> {
    return (await this.connect()).getConcurrencyLimit(this.name);
  }

  /** Counts of this queue's records by life stage. */
  async stats(): Promise<QueueStats> {
    return (await this.connect()).getStats(this.name);
  }

  /**
   * How long, in milliseconds, the next task to be claimed has waited since
   * it was due (since it was added, or since the time it was scheduled for or
   * its retry was due); 0 when no task waits. A queue whose workers keep up
   * stays near 0 whatever its size; a paused or under-served queue's latency
   * grows.
   * @example
   * if ((await queue.latency()) > 60_000) alert(`${queue.name} runs a minute late`);
   */
  async latency(): Promise<number> {
    return queueLatencyMs(await this.connect(), this.name, this.clock.now());
  }

  /**
   * The workers serving this queue now — each as it last announced itself
   * (every heartbeat; one not heard from for a lease is gone) — longest
   * running first; `null` when the backend does not keep track of workers (a
   * backend of a third party may not). A queue whose tasks wait while this
   * is empty has no worker at all, not busy ones.
   * @example
   * const workers = await queue.workers();
   * if (workers?.length === 0 && (await queue.size()) > 0) alert(`nothing serves ${queue.name}`);
   */
  async workers(): Promise<LiveWorker[] | null> {
    const backend = await this.connect();
    if (!hasWorkerDirectory(backend)) return null;
    const statuses: LiveWorker[] = [];
    for (const seen of await backend.listWorkers(this.name)) {
      const status = decodeLiveWorker(seen.id, seen.body, seen.seenAgoMs);
      if (status) statuses.push(status);
    }
    return statuses.sort(byStart);
  }

  /** Every queue of the backend that holds records, with its pending count. */
  async listQueues(): Promise<Record<string, number>> {
    return Object.fromEntries(await (await this.connect()).listQueues());
  }

  /**
   * Registers a cron: the task (its name, arguments and options) runs at every
   * fire time of `schedule` once workers with a cron manager serve this queue.
   * `schedule` is cron text — five fields or a macro such as `@daily`, read in
   * UTC or in `options.timezone` (an IANA name) — or `{ every: seconds }`
   * (whole seconds; fire times at the multiples of the interval since the Unix
   * epoch). Returns `false` when an identical cron (same name, arguments,
   * options and schedule) exists. An invalid schedule or unknown time zone is
   * a `CronExpressionError`.
   * @example
   * await queue.addCron(sendReport("weekly"), "0 9 * * 1-5");
   * await queue.addCron(sendReport("berlin"), "30 2 * * *", { timezone: "Europe/Berlin" });
   * await queue.addCron(poll("inbox"), { every: 30 });
   */
  addCron(task: Task, schedule: string | CronEvery, options?: CronOptions): Promise<boolean> {
    return registerCron(this, task, schedule, options);
  }

  /**
   * Removes the cron `addCron(task, schedule, options)` registered (also one created
   * from the config file) and removes its runs still waiting for their time
   * (no record is kept, so the cron, added again, schedules those runs again).
   * A cron can also be named by either id `getCrons()` lists for it — its
   * `deterministicId` or its `id` (what `sheppy cron delete` does), or by
   * the definition itself. Returns `false` when there is no such cron.
   * @example
   * for (const cron of await queue.getCrons()) await queue.deleteCron(cron);
   */
  deleteCron(task: Task, schedule: string | CronEvery, options?: CronOptions): Promise<boolean>;
  deleteCron(idOrCron: string | CronDefinition): Promise<boolean>;
  deleteCron(
    taskOrId: Task | string | CronDefinition,
    schedule?: string | CronEvery,
    options?: CronOptions,
  ): Promise<boolean> {
    if (schedule === undefined) {
      if (typeof taskOrId === "string") return removeCronById(this, taskOrId);
      if (isCronDefinition(taskOrId)) {
        if (taskOrId.queue !== this.name) {
          return Promise.reject(
            new InvalidOptionError(
              `queue.deleteCron(): the cron ${taskOrId.id} belongs to queue '${taskOrId.queue}', not '${this.name}'`,
            ),
          );
        }
        return removeCronById(this, taskOrId.id);
      }
    }
    return removeCron(this, taskOrId as Task, schedule as string | CronEvery, options);
  }

  /** The queue's crons, oldest first, each with its next fire time by this queue's clock. */
  getCrons(): Promise<CronDefinition[]> {
    return listCrons(this);
  }

  /**
   * @internal Runs what is claimable right now when the backend processes tasks
   * inline (`memory://`); otherwise does nothing. `add` and `retry` call it.
   */
  async runInline(): Promise<void> {
    if (this.#inline) await this.#inline.drain(this.name, this.maxPayloadBytes);
  }

  /**
   * Disconnects the backend. A Worker still working through it is closed
   * first, as `worker.close()` does (its running tasks finish, up to its
   * `shutdownTimeout`, and their outcomes are stored).
   */
  async close(): Promise<void> {
    // An add the caller did not await still ends as it would have: stored (or failed), then closed.
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
    await stopBackendUsers(this.backend);
    await this.backend.disconnect();
  }

  /** `write`, which {@link close} lets end before it disconnects. */
  #untilClosed<T>(write: Promise<T>): Promise<T> {
    this.#writes.add(write);
    const done = () => this.#writes.delete(write);
    write.then(done, done);
    return write;
  }
}
