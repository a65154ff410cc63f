/**
 * @module backends/sqlite/sqlite-backend
 * The backend on SQLite (better-sqlite3, loaded when it connects): durable
 * tasks in one file, with no server. Several processes on one machine may
 * share the file: every change is one write transaction, which SQLite lets
 * one connection at a time run, so workers never race; readers never wait
 * (WAL). Idle workers wait for a signal — at once from this process, by a
 * cheap change check from others (`./signals.ts`). Claims are leases with
 * fences stamped with the machine's clock: `renew` extends them,
 * `reclaimExpired` takes over leases left to expire. Tables: the numbered
 * migrations in `./migrations/`, applied at connect.
 *
 * This class is the public entry and holds the options; the work is done by
 * one part per concern, all sharing one {@link SqliteDatabase}.
 */

import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { type Clock, systemClock } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import { defaultLogger, type Logger } from "../../observability/logger.js";
import { describeGiven } from "../../task/describe-value.js";
import { resolveMaxPayloadBytes } from "../../task/payload-limit.js";
import type { TaskData } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import { checkOptionKeys } from "../../util/unknown-keys.js";
import type {
  AddMode,
  AddOptions,
  Backend,
  BackendCapabilities,
  ClaimedTask,
  ClaimLease,
  ClaimRef,
  CronData,
  DedupeEntry,
  DedupeResult,
  EventReadRequest,
  ListTasksRequest,
  PageRequest,
  QueueStats,
  RateLimitRequest,
  RetentionSettings,
  Settlement,
  SettleResult,
  StoredEvent,
  StoredWorkflow,
  TaskPage,
  WorkerSighting,
  WorkflowAddEvents,
  WorkflowCancellation,
  WorkflowPage,
  WorkflowRetry,
  WorkflowStepEnd,
} from "../backend.js";
import { retentionWithUrl } from "../registry.js";
import {
  type RetentionOptions,
  resolveEventCap,
  resolveRetentionSettings,
} from "../retention-settings.js";
import { Claims } from "./claims.js";
import { CronStore } from "./cron-store.js";
import { IN_MEMORY, SqliteDatabase, type Synchronous } from "./database.js";
import { addDeduplicated } from "./dedupe.js";
import { EventStore } from "./event-log.js";
import { RateLimiter } from "./rate-limiter.js";
import { RetentionBound } from "./retention-bound.js";
import { settle } from "./settle.js";
import { Signals } from "./signals.js";
import { parseSqliteUrl, sqliteTargetFromEnvironment } from "./sqlite-url.js";
import { TaskReader } from "./task-reader.js";
import { TaskStore } from "./task-store.js";
import { SqliteWorkerDirectory } from "./worker-directory.js";
import { WorkflowStore } from "./workflow-store.js";

export interface SqliteBackendOptions extends RetentionOptions {
  /**
   * The database file (created when missing; relative paths from the working
   * directory), or `":memory:"` for a private in-memory database (tests: it
   * lives and dies with this backend and no other process sees it).
   */
  path?: string;
  /**
   * Whether `connect()` creates the file, or Sheppy's tables in a file that
   * holds none (default true). With false, a missing file or one without
   * Sheppy's tables is a `BackendError` that names it: for tools that only
   * look at what is there (the CLI's commands that do not add work), so
   * that a mistyped path is reported instead of created. A file an earlier
   * Sheppy left is then not migrated either but refused (`SchemaVersionError`):
   * migrated, it would be refused by that version's workers still using it.
   */
  create?: boolean;
  /**
   * `sqlite:///absolute/path.db`, `sqlite://relative/path.db` or
   * `sqlite://:memory:`, with `?synchronous=`, `?busyTimeout=`,
   * `?maxPayloadBytes=`, `?eventCap=`; an alternative to `path`. Without either, the backend
   * uses `SHEPPY_BACKEND_URL` when that names SQLite.
   */
  url?: string;
  /**
   * When commits reach the disk (default `"normal"`; the URL's
   * `?synchronous=`). `"normal"`: at checkpoints — a process crash loses
   * nothing, a power loss or OS crash may lose the last commits but never
   * corrupts the file. `"full"`: at every commit — survives a power loss,
   * each commit waits for the disk.
   */
  synchronous?: Synchronous;
  /**
   * Milliseconds a call keeps trying while another process holds the file's
   * write lock before it fails with `BackendUnavailableError` (default 5000;
   * the URL's `?busyTimeout=`).
   */
  busyTimeout?: number;
  /** The payload limit (bytes of JSON) of arguments and results in queues that set none (default: the URL's `?maxPayloadBytes=`, else 16 MiB). */
  maxPayloadBytes?: number;
  /** Time source for timestamps and record expiry (leases use the machine's clock). */
  clock?: Clock;
  logger?: Logger;
}

/** Every key of {@link SqliteBackendOptions} (the compiler keeps it complete). */
const SQLITE_OPTION_KEYS = Object.keys({
  path: true,
  create: true,
  url: true,
  synchronous: true,
  busyTimeout: true,
  maxPayloadBytes: true,
  clock: true,
  logger: true,
  ttl: true,
  errorTtl: true,
  maxFinished: true,
  maxFailed: true,
  eventCap: true,
} satisfies Record<keyof SqliteBackendOptions, true>);

/** Default of {@link SqliteBackendOptions.busyTimeout}, in milliseconds. */
export const DEFAULT_BUSY_TIMEOUT = 5000;

function checkSynchronous(value: unknown): Synchronous {
  if (value !== "normal" && value !== "full") {
    throw new InvalidOptionError(
      `SqliteBackend option synchronous must be "normal" or "full" (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

function checkBusyTimeout(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 3_600_000) {
    throw new InvalidOptionError(
      `SqliteBackend option busyTimeout must be a whole number of milliseconds from 1 to 3600000 (got ${String(value)})`,
    );
  }
  return value;
}

function checkPath(value: unknown): string {
  if (typeof value !== "string" || value === "" || value.includes("\0")) {
    throw new InvalidOptionError(
      `SqliteBackend option path must be a file path or ":memory:" (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * The {@link Backend} on SQLite.
 *
 * @example
 * ```ts
 * const queue = new Queue(new SqliteBackend({ path: "data/tasks.db" }));
 * // or: new Queue("sqlite://data/tasks.db")
 * ```
 */
export class SqliteBackend implements Backend {
  readonly capabilities: BackendCapabilities;
  /** The database file as given (or `":memory:"`). */
  readonly path: string;
  readonly synchronous: Synchronous;
  readonly clock: Clock;
  readonly retention: RetentionSettings;
  readonly eventCap: number;
  readonly maxPayloadBytes: number;
  readonly #db: SqliteDatabase;
  readonly #events: EventStore;
  readonly #logger: Logger;
  readonly #signals: Signals;
  readonly #tasks: TaskStore;
  readonly #claims: Claims;
  readonly #reader: TaskReader;
  readonly #crons: CronStore;
  readonly #workers: SqliteWorkerDirectory;
  readonly #workflows: WorkflowStore;
  readonly #rateLimiter: RateLimiter;
  readonly #bound: RetentionBound;
  #connecting: Promise<void> | undefined;

  constructor(options: SqliteBackendOptions = {}) {
    checkOptionKeys(options, SQLITE_OPTION_KEYS, "SqliteBackend");
    if (options.path !== undefined && options.url !== undefined) {
      throw new InvalidOptionError(
        `SqliteBackend: give either option path or option url, not both (got path ${JSON.stringify(options.path)} and url ${JSON.stringify(options.url)})`,
      );
    }
    const target =
      options.path !== undefined
        ? { path: checkPath(options.path) }
        : options.url !== undefined
          ? parseSqliteUrl(options.url, "SqliteBackend option url")
          : sqliteTargetFromEnvironment();
    this.path = target.path;
    const inMemory = this.path === IN_MEMORY;
    this.capabilities = {
      crossProcess: !inMemory,
      durable: !inMemory,
      // In this process a wait ends at once on the write that ends it; from
      // other processes at the next change check (every 5–250 ms).
      blockingWait: true,
      leases: true,
      instantProcessing: false,
    };
    this.synchronous = checkSynchronous(options.synchronous ?? target.synchronous ?? "normal");
    const busyTimeout = checkBusyTimeout(
      options.busyTimeout ?? target.busyTimeout ?? DEFAULT_BUSY_TIMEOUT,
    );
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetentionSettings(
      "SqliteBackend",
      retentionWithUrl(options, "retention" in target ? target.retention : undefined),
    );
    this.eventCap = resolveEventCap("SqliteBackend", {
      eventCap: options.eventCap ?? target.eventCap,
    });
    this.maxPayloadBytes = resolveMaxPayloadBytes(
      options.maxPayloadBytes ?? target.maxPayloadBytes,
      "SqliteBackend",
    );
    this.#logger = options.logger ?? defaultLogger();
    const create = options.create ?? true;
    if (typeof create !== "boolean") {
      throw new InvalidOptionError(
        `SqliteBackend option create must be true or false (got ${describeGiven(create)})`,
      );
    }
    const db = new SqliteDatabase({
      path: this.path,
      synchronous: this.synchronous,
      busyTimeoutMs: busyTimeout,
      create,
    });
    const now = () => this.clock.now();
    this.#db = db;
    const signals = new Signals(db, this.#logger);
    this.#signals = signals;
    this.#events = new EventStore(db, signals, this.eventCap);
    this.#tasks = new TaskStore(db, signals, this.#events, now);
    this.#claims = new Claims(db, signals, now);
    this.#reader = new TaskReader(db, now);
    this.#crons = new CronStore(db);
    this.#workers = new SqliteWorkerDirectory(db);
    this.#workflows = new WorkflowStore(db, signals, this.#events, now);
    this.#rateLimiter = new RateLimiter(db);
    this.#bound = new RetentionBound(db, this.retention);
  }

  get isConnected(): boolean {
    return this.#db.isConnected;
  }

  connect(): Promise<void> {
    if (this.#db.isConnected) return Promise.resolve();
    this.#connecting ??= (async () => {
      await this.#db.connect();
      this.#signals.useFile(this.#fileKey());
      const migrated = this.#db.migrated;
      // An upgrade changes a file every process of the app shares: said once, by the one that did it.
      if (migrated !== null && migrated.from > 0 && this.path !== IN_MEMORY) {
        this.#logger.info(
          { path: this.path, from: migrated.from, to: migrated.to },
          `sqlite: upgraded the file's schema from version ${migrated.from} to ${migrated.to}`,
        );
      }
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** The file's real absolute path: every backend of this process on it shares one hub of signals. */
  #fileKey(): string | null {
    if (this.path === IN_MEMORY) return null;
    try {
      return realpathSync(this.path);
    } catch {
      return resolve(this.path);
    }
  }

  async disconnect(): Promise<void> {
    // A connect under way would otherwise open the file (and watch it) after this returned.
    if (this.#connecting) await this.#connecting.catch(() => undefined);
    this.#db.close();
    this.#signals.stop();
  }

  // Storing and settling (./task-store.ts, ./settle.ts)

  add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode = "unique",
    options: AddOptions = {},
  ): Promise<boolean[]> {
    return this.#tasks.add(queue, records, mode, options);
  }

  addDeduplicated(
    queue: string,
    entries: readonly DedupeEntry[],
    now: number,
  ): Promise<DedupeResult[]> {
    return addDeduplicated(this.#db, this.#signals, this.#events, queue, entries, now);
  }

  settle(queue: string, settlements: readonly Settlement[], now: number): Promise<SettleResult[]> {
    return settle(this.#db, this.#signals, queue, settlements, now, this.#bound, this.#events);
  }

  cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      workflowStep?: WorkflowStepEnd | undefined;
      event?: string | undefined;
    },
  ): Promise<TaskData | null> {
    return this.#tasks.cancel(queue, id, cancellation);
  }

  reschedule(queue: string, read: TaskData, next: TaskData): Promise<boolean> {
    return this.#tasks.reschedule(queue, read, next);
  }

  deleteTask(queue: string, id: string): Promise<boolean> {
    return this.#tasks.deleteTask(queue, id);
  }

  clear(queue: string): Promise<number> {
    return this.#tasks.clear(queue);
  }

  async pruneExpired(queue: string, now: number): Promise<number> {
    const pruned =
      (await this.#tasks.pruneExpired(queue, now)) +
      (await this.#workflows.pruneWorkflows(queue, now));
    // Records a burst left over the bound (each settle trims at most a batch).
    await this.#bound.trim(queue);
    return pruned;
  }

  // Workflows (./workflow-store.ts)

  addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ): Promise<boolean> {
    return this.#workflows.addWorkflow(queue, record, steps, expiresAt, events);
  }

  getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    return this.#workflows.getWorkflows(queue, ids);
  }

  runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    return this.#workflows.runningWorkflows(queue, ids);
  }

  listWorkflows(
    queue: string,
    page?: PageRequest & { readonly running?: boolean | undefined },
  ): Promise<WorkflowPage> {
    return this.#workflows.listWorkflows(queue, page);
  }

  cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null> {
    return this.#workflows.cancelWorkflow(queue, id, cancellation);
  }

  retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null> {
    return this.#workflows.retryWorkflow(queue, id, retry);
  }

  deleteWorkflow(queue: string, id: string): Promise<boolean | "running"> {
    return this.#workflows.deleteWorkflow(queue, id);
  }

  // Claims (./claims.ts)

  claim(
    queue: string,
    limit: number,
    waitMs = 0,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]> {
    return this.#claims.claim(queue, limit, waitMs, signal, leaseMs);
  }

  promoteDue(queue: string, now: number): Promise<string[]> {
    return this.#tasks.promoteDue(queue, now);
  }

  nextDueAt(queue: string): Promise<number | null> {
    return this.#tasks.nextDueAt(queue);
  }

  renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    return this.#claims.renew(queue, claims);
  }

  reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    return this.#claims.reclaimExpired(queue, window);
  }

  claimLeases(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>> {
    return this.#claims.claimLeases(queue, ids);
  }

  // Reads (./task-reader.ts, ./signals.ts)

  getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    return this.#reader.getTasks(queue, ids);
  }

  getPending(queue: string, count: number): Promise<TaskData[]> {
    return this.#reader.getPending(queue, count);
  }

  getScheduled(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    return this.#reader.getScheduled(queue, page);
  }

  getAllTasks(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    return this.#reader.getAllTasks(queue, page);
  }

  listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage> {
    return this.#reader.listTasks(queue, request);
  }

  size(queue: string): Promise<number> {
    return this.#reader.size(queue);
  }

  getStats(queue: string): Promise<QueueStats> {
    return this.#reader.getStats(queue);
  }

  listQueues(): Promise<Map<string, number>> {
    return this.#reader.listQueues();
  }

  async watchFinished(
    queue: string,
    listener: (ids: readonly string[]) => void,
  ): Promise<() => void> {
    this.#db.assertConnected();
    return this.#signals.listenFinished(queue, listener);
  }

  // The event log (./event-log.ts)

  appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    return this.#events.append(queue, bodies, holders);
  }

  readEvents(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    return this.#events.read(queue, request);
  }

  lastEventId(queue: string): Promise<string | null> {
    return this.#events.last(queue);
  }

  // Which workers serve a queue (./worker-directory.ts)

  announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void> {
    return this.#workers.announceWorker(queue, id, body, ttlMs);
  }

  listWorkers(queue: string): Promise<WorkerSighting[]> {
    return this.#workers.listWorkers(queue);
  }

  withdrawWorker(queue: string, id: string): Promise<void> {
    return this.#workers.withdrawWorker(queue, id);
  }

  listWorkerQueues(): Promise<string[]> {
    return this.#workers.listWorkerQueues();
  }

  // Crons (./cron-store.ts)

  addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    return this.#crons.addCron(queue, deterministicId, cron);
  }

  deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    return this.#crons.deleteCron(queue, deterministicId);
  }

  getCrons(queue: string): Promise<CronData[]> {
    return this.#crons.getCrons(queue);
  }

  listCronQueues(): Promise<string[]> {
    return this.#crons.listCronQueues();
  }

  saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    return this.#claims.saveProgress(queue, claim, record);
  }

  // Pausing (./claims.ts)

  setPaused(queue: string, paused: boolean): Promise<void> {
    return this.#claims.setPaused(queue, paused);
  }

  isPaused(queue: string): Promise<boolean> {
    return this.#claims.isPaused(queue);
  }

  setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    return this.#claims.setConcurrencyLimit(queue, limit);
  }

  getConcurrencyLimit(queue: string): Promise<number | null> {
    return this.#claims.getConcurrencyLimit(queue);
  }

  listPaused(): Promise<string[]> {
    return this.#crons.listPaused();
  }

  // Rate limits (./rate-limiter.ts)

  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return this.#rateLimiter.acquire(queue, request);
  }
}
