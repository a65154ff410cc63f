/**
 * @module backends/postgres/postgres-backend
 * The backend on PostgreSQL (node-postgres, loaded when it connects). Every
 * change that touches more than one row is one statement or one short
 * transaction, under row locks taken in one order, so workers never race;
 * claims skip rows others hold (`FOR UPDATE SKIP LOCKED`). Idle workers wait
 * on LISTEN/NOTIFY; finished tasks are announced the same way. Claims are
 * leases with fences stamped with the server's clock: `renew` extends them,
 * `reclaimExpired` takes over leases left to expire. Tables: the numbered
 * migrations in `./migrations/`, applied at connect (`./migrations.ts`).
 *
 * This class is the public entry and holds the options; the work is done by
 * one part per concern, all sharing one {@link PgSession}: `TaskStore` and
 * `settle` (writes), `Claims` (leases), `TaskReader` (reads), `Notifier`
 * (LISTEN/NOTIFY), `EventStore` (the event log), `WorkflowStore`, `CronStore`
 * and `./rate-limiter.ts`.
 */

import type { Pool } from "pg";
import { type Clock, systemClock } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import { defaultLogger, type Logger } from "../../observability/logger.js";
import { describeGiven } from "../../task/describe-value.js";
import { resolveMaxPayloadBytes } from "../../task/payload-limit.js";
import type { TaskData } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import { checkOptionKeys } from "../../util/unknown-keys.js";
import type {
  AddDeduplicatedOptions,
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
import { addDeduplicated } from "./dedupe.js";
import { EventStore } from "./event-log.js";
import { Notifier } from "./notifications.js";
import { checkListenUrl, parsePostgresUrl, postgresTargetFromEnvironment } from "./postgres-url.js";
import { QueueControl } from "./queue-control.js";
import { RateLimiter } from "./rate-limiter.js";
import { RetentionBound } from "./retention-bound.js";
import { checkSchemaName, DEFAULT_SCHEMA } from "./schema-name.js";
import { PgSession } from "./session.js";
import { settle } from "./settle.js";
import { TaskReader } from "./task-reader.js";
import { TaskStore } from "./task-store.js";
import { checkWorkerAccess } from "./worker-access.js";
import { PgWorkerDirectory } from "./worker-directory.js";
import { WorkflowStore } from "./workflow-store.js";

export interface PostgresBackendOptions extends RetentionOptions {
  /**
   * `postgres://[user[:password]@]host[:port]/database[?…]` (or
   * `postgresql://`). Without it (and without `pool`), the backend uses
   * `SHEPPY_BACKEND_URL` as `new Queue()` does, when that names PostgreSQL;
   * when it names another backend the constructor throws a
   * `BackendUrlError`; unset or empty, `postgres://127.0.0.1:5432/postgres`.
   * Sheppy's parameters (`?schema=`, `?poolSize=`, `?maxPayloadBytes=`, `?pollInterval=`,
   * `?eventCap=`, `?preparedStatements=`, `?listenUrl=`) are read from it; the rest goes to
   * node-postgres (`sslmode`…).
   */
  url?: string;
  /**
   * The schema holding Sheppy's tables (default: the URL's `?schema=`, else
   * `"sheppy"`): lower-case letters, digits and `_`. Backends on different
   * schemas never see each other. Created and migrated at connect (unless
   * `createSchema` is false).
   */
  schema?: string;
  /**
   * Whether `connect()` creates the schema's tables when the schema holds
   * none, and migrates one an earlier Sheppy left (default true). With false,
   * connecting changes no schema: one without tables is a `BackendError`
   * that names it, and one behind this Sheppy a `SchemaVersionError` — for
   * tools that only look at what is there (the CLI's commands that do not
   * add work), so that a mistyped `?schema=` is reported instead of created,
   * and a newer CLI does not migrate a schema under workers of an earlier
   * version, which would then refuse it.
   */
  createSchema?: boolean;
  /** Most connections the backend's pool opens (default: the URL's `?poolSize=`, else 10). */
  poolSize?: number;
  /**
   * A `pg.Pool` the application owns: the backend uses it (and one more
   * connection of the same settings, for LISTEN) and does not end it on
   * disconnect. `url` and `poolSize` are then not used for connecting.
   */
  pool?: Pool;
  /** The payload limit (bytes of JSON) of arguments and results in queues that set none (default: the URL's `?maxPayloadBytes=`, else 16 MiB). */
  maxPayloadBytes?: number;
  /** Time source for timestamps and record expiry (leases use the server's clock). */
  clock?: Clock;
  logger?: Logger;
  /**
   * Seconds a call keeps trying while PostgreSQL cannot be reached (or does
   * not answer) before it fails with `BackendUnavailableError` (default 10).
   */
  unavailableAfter?: number;
  /**
   * Seconds an idle worker's claim (or a waiting event read) waits for a
   * notification before it looks again on its own (default 2). Work is
   * announced by `NOTIFY`, so this bounds only how late a task is seen when
   * a notification is lost (across a reconnect); a longer interval means
   * fewer idle queries from many idle workers. Default: the URL's
   * `?pollInterval=`, else 2.
   */
  pollInterval?: number;
  /**
   * Whether statements are prepared once per connection under a name
   * (default: the URL's `?preparedStatements=`, else true). Turn it off
   * behind a pooler in transaction mode (PgBouncer before 1.21, or one
   * without `max_prepared_statements`), which shares server connections
   * between clients; the backend also turns it off by itself at the first
   * refusal such a pooler causes, and logs that once.
   */
  preparedStatements?: boolean;
  /**
   * Where the notification listener connects (default: the URL's
   * `?listenUrl=`, else where the pool does): a direct connection to the
   * same database, for when `url` goes through a pooler in transaction
   * mode, which forwards no notifications — without one, idle workers and
   * waits see new work only at their `pollInterval` look. One connection
   * per backend object.
   */
  listenUrl?: string;
}

/** Every key of {@link PostgresBackendOptions} (the compiler keeps it complete). */
const POSTGRES_OPTION_KEYS = Object.keys({
  url: true,
  schema: true,
  createSchema: true,
  poolSize: true,
  pool: true,
  maxPayloadBytes: true,
  clock: true,
  logger: true,
  unavailableAfter: true,
  pollInterval: true,
  preparedStatements: true,
  listenUrl: true,
  ttl: true,
  errorTtl: true,
  maxFinished: true,
  maxFailed: true,
  eventCap: true,
} satisfies Record<keyof PostgresBackendOptions, true>);

/** Default of {@link PostgresBackendOptions.unavailableAfter}, in seconds. */
export const DEFAULT_UNAVAILABLE_AFTER = 10;
/** Default of {@link PostgresBackendOptions.pollInterval}, in seconds. */
export const DEFAULT_POLL_INTERVAL = 2;
/** Default of {@link PostgresBackendOptions.poolSize}. */
export const DEFAULT_POOL_SIZE = 10;

/** A number of seconds above `min` (or from it, when `minIncluded`) up to 3,600, or an `InvalidOptionError` naming `option`. */
function checkSeconds(option: string, value: unknown, min: number, minIncluded: boolean): number {
  const tooSmall = typeof value === "number" && (minIncluded ? value < min : value <= min);
  if (typeof value !== "number" || !Number.isFinite(value) || tooSmall || value > 3600) {
    throw new InvalidOptionError(
      `PostgresBackend option ${option} must be a number of seconds ${minIncluded ? "≥" : ">"} ${min} and ≤ 3600 (got ${String(value)})`,
    );
  }
  return value;
}

function checkPoolSize(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 1000) {
    throw new InvalidOptionError(
      `PostgresBackend option poolSize must be an integer from 1 to 1000 (got ${String(value)})`,
    );
  }
  return value;
}

/** A URL naming where an application's pool connects, for messages only (masked before shown). */
function urlOfPool(pool: Pool): string {
  const options = pool.options as {
    connectionString?: string;
    host?: string;
    port?: number;
    database?: string;
  };
  if (options.connectionString) return options.connectionString;
  return `postgres://${options.host ?? "localhost"}:${options.port ?? 5432}/${options.database ?? ""}`;
}

/**
 * The {@link Backend} on PostgreSQL.
 *
 * @example
 * ```ts
 * const queue = new Queue(new PostgresBackend({ url: "postgres://app@db/app", schema: "jobs" }));
 * ```
 */
export class PostgresBackend implements Backend {
  readonly capabilities: BackendCapabilities = {
    crossProcess: true,
    durable: true,
    blockingWait: true,
    leases: true,
    instantProcessing: false,
    sqlTransactions: true,
    dedupeInTransactions: true,
  };
  readonly #url: string;
  /**
   * The URL it connects to, password included. A getter, not a field, so
   * that `console.log(queue)` and `JSON.stringify` never show the password.
   */
  get url(): string {
    return this.#url;
  }
  readonly schema: string;
  readonly clock: Clock;
  readonly retention: RetentionSettings;
  readonly eventCap: number;
  readonly maxPayloadBytes: number;
  readonly #session: PgSession;
  readonly #events: EventStore;
  readonly #notifier: Notifier;
  readonly #tasks: TaskStore;
  readonly #claims: Claims;
  readonly #reader: TaskReader;
  readonly #crons: CronStore;
  readonly #workers: PgWorkerDirectory;
  readonly #workflows: WorkflowStore;
  readonly #rateLimiter: RateLimiter;
  readonly #bound: RetentionBound;
  readonly #control: QueueControl;

  constructor(options: PostgresBackendOptions = {}) {
    checkOptionKeys(options, POSTGRES_OPTION_KEYS, "PostgresBackend");
    const target =
      options.url !== undefined
        ? parsePostgresUrl(options.url, "PostgresBackend option url")
        : options.pool
          ? { url: urlOfPool(options.pool) }
          : postgresTargetFromEnvironment();
    this.#url = target.url;
    this.schema = checkSchemaName(options.schema ?? target.schema ?? DEFAULT_SCHEMA);
    const createSchema = options.createSchema ?? target.createSchema ?? true;
    if (typeof createSchema !== "boolean") {
      throw new InvalidOptionError(
        `PostgresBackend option createSchema must be true or false (got ${describeGiven(createSchema)})`,
      );
    }
    const poolSize = checkPoolSize(options.poolSize ?? target.poolSize ?? DEFAULT_POOL_SIZE);
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetentionSettings(
      "PostgresBackend",
      retentionWithUrl(options, "retention" in target ? target.retention : undefined),
    );
    this.eventCap = resolveEventCap("PostgresBackend", {
      eventCap: options.eventCap ?? target.eventCap,
    });
    this.maxPayloadBytes = resolveMaxPayloadBytes(
      options.maxPayloadBytes ?? target.maxPayloadBytes,
      "PostgresBackend",
    );
    const unavailableAfter = checkSeconds(
      "unavailableAfter",
      options.unavailableAfter ?? DEFAULT_UNAVAILABLE_AFTER,
      0,
      false,
    );
    const pollMs =
      checkSeconds(
        "pollInterval",
        options.pollInterval ?? target.pollInterval ?? DEFAULT_POLL_INTERVAL,
        0.05,
        true,
      ) * 1000;
    const preparedStatements = options.preparedStatements ?? target.preparedStatements ?? true;
    if (typeof preparedStatements !== "boolean") {
      throw new InvalidOptionError(
        `PostgresBackend option preparedStatements must be true or false (got ${describeGiven(preparedStatements)})`,
      );
    }
    const listenUrl =
      options.listenUrl !== undefined
        ? checkListenUrl(options.listenUrl, "PostgresBackend option listenUrl")
        : target.listenUrl;
    const logger = options.logger ?? defaultLogger();
    const session = new PgSession({
      url: this.url,
      schema: this.schema,
      poolSize,
      pool: options.pool,
      createSchema,
      logger,
      unavailableAfterMs: unavailableAfter * 1000,
      preparedStatements,
      listenUrl,
    });
    const now = () => this.clock.now();
    this.#session = session;
    this.#notifier = new Notifier(session, logger, pollMs);
    this.#events = new EventStore(session, this.#notifier, this.eventCap, pollMs);
    this.#tasks = new TaskStore(session, this.#events, now);
    this.#claims = new Claims(session, this.#notifier, now, pollMs);
    this.#reader = new TaskReader(session, now);
    this.#crons = new CronStore(session);
    this.#workers = new PgWorkerDirectory(session);
    this.#workflows = new WorkflowStore(session, this.#events, now);
    this.#rateLimiter = new RateLimiter(session);
    this.#bound = new RetentionBound(session, this.retention);
    this.#control = new QueueControl(session);
  }

  get isConnected(): boolean {
    return this.#session.isConnected;
  }

  connect(): Promise<void> {
    return this.#session.connect();
  }

  checkWorkerAccess(): Promise<void> {
    return checkWorkerAccess(this.#session);
  }

  async disconnect(): Promise<void> {
    // Marked disconnected first, so claims the notifier wakes below end instead of looking again.
    const closing = this.#session.disconnect();
    await this.#notifier.stop();
    await closing;
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
    options: AddDeduplicatedOptions = {},
  ): Promise<DedupeResult[]> {
    return addDeduplicated(this.#session, this.#events, queue, entries, now, options.tx);
  }

  settle(queue: string, settlements: readonly Settlement[], now: number): Promise<SettleResult[]> {
    return settle(this.#session, queue, settlements, now, this.#bound, this.#events);
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
    // Records a burst left over the bound while settles skipped trimming (see ./retention-bound.ts).
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

  // Reads (./task-reader.ts, ./notifications.ts)

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
    this.#session.assertConnected();
    return this.#notifier.listenFinished(queue, listener);
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

  // Pausing (./queue-control.ts)

  setPaused(queue: string, paused: boolean): Promise<void> {
    return this.#control.setPaused(queue, paused);
  }

  isPaused(queue: string): Promise<boolean> {
    return this.#control.isPaused(queue);
  }

  setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    return this.#control.setConcurrencyLimit(queue, limit);
  }

  getConcurrencyLimit(queue: string): Promise<number | null> {
    return this.#control.getConcurrencyLimit(queue);
  }

  listPaused(): Promise<string[]> {
    return this.#control.listPaused();
  }

  // Rate limits (./rate-limiter.ts)

  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return this.#rateLimiter.acquire(queue, request);
  }
}
