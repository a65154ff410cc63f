/**
 * @module backends/redis/redis-backend
 * The production backend on Redis (ioredis). Every change that touches more
 * than one key is one Lua script (`./scripts/*.lua`), so workers never race.
 * Idle workers block on a per-queue wake list; finished tasks are announced
 * on pub/sub. Claims are leases with fences: `renew` extends them, and
 * `reclaimExpired` takes over leases left to expire. Key layout: `./keys.ts`.
 *
 * This class is the public entry and holds the options; the work is done by
 * one part per concern, all sharing one {@link RedisSession}: `TaskStore`
 * (writes), `Claims` (leases), `TaskReader` (reads), `FinishedListener`
 * (notifications), `RedisEventLog` (lifecycle events), `CronStore` and
 * `./rate-limiter.ts`.
 */

import type { ClusterOptions, Redis, RedisOptions } from "ioredis";
import { type Clock, systemClock } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import { defaultLogger, type Logger } from "../../observability/logger.js";
import { resolveMaxPayloadBytes } from "../../task/payload-limit.js";
import type { TaskData } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import { maskUrl } from "../../util/mask-url.js";
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
import { ClaimedForms } from "./claimed-forms.js";
import { Claims } from "./claims.js";
import { isClusterUrl, parseClusterUrl } from "./cluster-url.js";
import { warnOfClusterNode, warnOfFewReplicas } from "./connect-warnings.js";
import { CronStore } from "./cron-store.js";
import { checkDataFormat } from "./data-format.js";
import { RedisEventLog } from "./event-log.js";
import { FinishedListener } from "./finished-listener.js";
import { migrateLegacyIndexes } from "./legacy-index.js";
import { acquireRateLimit } from "./rate-limiter.js";
import { redisTargetFromEnvironment, redisTargetOf } from "./redis-url.js";
import { RedisSession } from "./session.js";
import { TaskReader } from "./task-reader.js";
import { TaskStore } from "./task-store.js";
import { RedisWorkerDirectory } from "./worker-directory.js";
import { WorkflowStore } from "./workflow-store.js";

export interface RedisBackendOptions extends RetentionOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…`, its Sheppy
   * parameters (`?prefix=app`, `maxPayloadBytes`, `eventCap`,
   * `waitReplicas`) read as `new Queue(url)` reads them — an option of the
   * same name given here wins over the URL's. Without it, the backend uses
   * `SHEPPY_BACKEND_URL` as `new Queue()` does, when that is a `redis://` or
   * `rediss://` URL; when it names another backend (`memory://`) the
   * constructor throws a `BackendUrlError`; unset or empty,
   * `redis://127.0.0.1:6379`.
   */
  url?: string;
  /**
   * First part of every key (default: the `?prefix=` of the URL, else
   * `"sheppy"`); backends with different prefixes never see each other.
   */
  prefix?: string;
  /**
   * The payload limit (bytes of JSON) of arguments and results in queues that
   * set none (default: the `?maxPayloadBytes=` of the URL, else 16 MiB).
   */
  maxPayloadBytes?: number;
  /** Extra ioredis options (TLS, sentinels, timeouts…); on a cluster, for every node connection. */
  redisOptions?: RedisOptions;
  /**
   * Talk to a Redis Cluster, with the `url`'s host as the seed node. A
   * `redis+cluster://host1:port1,host2:port2` URL says the same with several
   * seeds. Every key of a queue carries one hash tag, so a queue lives on one
   * slot and each script touches one node.
   */
  cluster?: boolean;
  /**
   * Replicas that must have the writes of an add, a settle or a cancel before
   * it answers (Redis `WAIT`, sent with the write in one round trip; default
   * 0: none). Redis replicates asynchronously: without it, a write the master
   * acknowledged just before it failed can be missing on the replica that
   * takes over. With it, a write whose replicas do not confirm within
   * `waitReplicasTimeout` fails with `BackendUnavailableError` (it was
   * applied on the master and may survive). See docs/backends/redis.md.
   */
  waitReplicas?: number;
  /** Seconds a write waits for its replicas with `waitReplicas` (default 1). */
  waitReplicasTimeout?: number;
  /** Extra options of ioredis's cluster client (`natMap`, `scaleReads`, `slotsRefreshInterval`…), on a cluster. */
  clusterOptions?: ClusterOptions;
  /** Time source for timestamps and record expiry (leases use the server's clock). */
  clock?: Clock;
  logger?: Logger;
  /**
   * Seconds a call keeps trying while Redis cannot be reached (or does not
   * answer) before it fails with `BackendUnavailableError` (default 10).
   */
  unavailableAfter?: number;
}

/** Every key of {@link RedisBackendOptions} (the compiler keeps it complete). */
const REDIS_OPTION_KEYS = Object.keys({
  url: true,
  prefix: true,
  maxPayloadBytes: true,
  redisOptions: true,
  cluster: true,
  waitReplicas: true,
  waitReplicasTimeout: true,
  clusterOptions: true,
  clock: true,
  logger: true,
  unavailableAfter: true,
  ttl: true,
  errorTtl: true,
  maxFinished: true,
  maxFailed: true,
  eventCap: true,
} satisfies Record<keyof RedisBackendOptions, true>);

/** Default of {@link RedisBackendOptions.unavailableAfter}, in seconds. */
export const DEFAULT_UNAVAILABLE_AFTER = 10;

/**
 * No ':' in a prefix: keys are `{<prefix>:<queue>}…` and queue names may hold
 * ':', so the prefix must end at the first one for two prefixes never to share
 * a key (`a` + queue `b:c` and `a:b` + queue `c` would).
 */
const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The {@link Backend} on Redis.
 *
 * @example
 * ```ts
 * const queue = new Queue(new RedisBackend({ url: "redis://127.0.0.1:6379", prefix: "app" }));
 * ```
 */
export class RedisBackend implements Backend {
  readonly capabilities: BackendCapabilities = {
    crossProcess: true,
    durable: true,
    blockingWait: true,
    leases: true,
    instantProcessing: false,
  };
  readonly #url: string;
  /**
   * The URL it connects to, password included. A getter, not a field, so
   * that `console.log(queue)` and `JSON.stringify` never show the password.
   */
  get url(): string {
    return this.#url;
  }
  readonly prefix: string;
  readonly clock: Clock;
  readonly retention: RetentionSettings;
  readonly maxPayloadBytes: number;
  /** Replicas an add, a settle or a cancel waits for (`WAIT`); 0: none. */
  readonly waitReplicas: number;
  /** Whether the backend talks to a Redis Cluster (a `redis+cluster://` URL, or the `cluster` option). */
  readonly isCluster: boolean;
  /** Most entries kept in each queue's event log (option or URL `eventCap`, default 10,000); 0: the log is off. */
  readonly eventCap: number;
  readonly #session: RedisSession;
  readonly #tasks: TaskStore;
  readonly #claims: Claims;
  readonly #workers: RedisWorkerDirectory;
  readonly #reader: TaskReader;
  readonly #finished: FinishedListener;
  readonly #crons: CronStore;
  readonly #workflows: WorkflowStore;
  readonly #events: RedisEventLog;
  readonly #logger: Logger;
  /** The connect under way (connections, then the move of ids an earlier version kept). */
  #connecting: Promise<void> | undefined;

  constructor(options: RedisBackendOptions = {}) {
    checkOptionKeys(options, REDIS_OPTION_KEYS, "RedisBackend");
    // The URL's own parameters count as in `new Queue(url)`; an option given beside them wins.
    const target =
      options.url === undefined ? redisTargetFromEnvironment() : redisTargetOf(options.url);
    this.#url = target.url;
    this.prefix = options.prefix ?? target.prefix ?? "sheppy";
    if (!PREFIX.test(this.prefix)) {
      throw new InvalidOptionError(
        `Invalid Redis key prefix '${this.prefix}': use 1–64 ASCII letters, digits, '_', '.' or '-' (no ':', which separates the prefix from queue names)`,
      );
    }
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetentionSettings(
      "RedisBackend",
      retentionWithUrl(options, "retention" in target ? target.retention : undefined),
    );
    this.eventCap = resolveEventCap("RedisBackend", {
      eventCap: options.eventCap ?? target.eventCap,
    });
    this.maxPayloadBytes = resolveMaxPayloadBytes(
      options.maxPayloadBytes ?? target.maxPayloadBytes,
      "RedisBackend",
    );
    const unavailableAfter = options.unavailableAfter ?? DEFAULT_UNAVAILABLE_AFTER;
    if (
      typeof unavailableAfter !== "number" ||
      !Number.isFinite(unavailableAfter) ||
      unavailableAfter <= 0 ||
      unavailableAfter > 3600
    ) {
      throw new InvalidOptionError(
        `RedisBackend option unavailableAfter must be a number of seconds > 0 and ≤ 3600 (got ${String(unavailableAfter)})`,
      );
    }
    this.waitReplicas = options.waitReplicas ?? target.waitReplicas ?? 0;
    if (!Number.isSafeInteger(this.waitReplicas) || this.waitReplicas < 0) {
      throw new InvalidOptionError(
        `RedisBackend option waitReplicas must be a whole number of replicas ≥ 0 (got ${String(this.waitReplicas)})`,
      );
    }
    const waitReplicasTimeout = options.waitReplicasTimeout ?? 1;
    if (
      typeof waitReplicasTimeout !== "number" ||
      !(waitReplicasTimeout > 0 && waitReplicasTimeout <= 60)
    ) {
      throw new InvalidOptionError(
        `RedisBackend option waitReplicasTimeout must be a number of seconds > 0 and ≤ 60 (got ${String(waitReplicasTimeout)})`,
      );
    }
    this.#logger = options.logger ?? defaultLogger();
    this.isCluster = options.cluster === true || isClusterUrl(this.url);
    const session = new RedisSession(
      this.prefix,
      this.url,
      // The URL's typed options, then the constructor's, which win.
      { ...target.redisOptions, ...options.redisOptions },
      this.#logger,
      unavailableAfter * 1000,
      this.isCluster
        ? { target: parseClusterUrl(this.url), options: options.clusterOptions ?? {} }
        : undefined,
      this.waitReplicas > 0
        ? { replicas: this.waitReplicas, timeoutMs: Math.round(waitReplicasTimeout * 1000) }
        : undefined,
    );
    const now = () => this.clock.now();
    this.#session = session;
    const forms = new ClaimedForms();
    this.#tasks = new TaskStore(session, this.retention, now, this.eventCap, forms);
    // A claim sent behind a wait is stamped by the server's clock: only the system clock agrees with it.
    const claimBehindWait =
      this.clock === systemClock && !this.isCluster && this.waitReplicas === 0;
    this.#claims = new Claims(session, now, claimBehindWait, forms);
    this.#reader = new TaskReader(session, now, (queue) => this.#tasks.pruneExpired(queue, now()));
    this.#finished = new FinishedListener(
      () => session.connections.subscriber(),
      session.unavailableAfterMs,
    );
    this.#crons = new CronStore(session);
    this.#workflows = new WorkflowStore(session, now, this.eventCap);
    this.#events = new RedisEventLog(session, this.eventCap);
    this.#workers = new RedisWorkerDirectory(session);
  }

  get isConnected(): boolean {
    return this.#session.isConnected && this.#connecting === undefined;
  }

  connect(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    this.#connecting ??= (async () => {
      try {
        await this.#session.connect();
        // Before anything reads or writes: data a newer version laid out is not touched, and
        // records an earlier version wrote must be in the index.
        await checkDataFormat(this.#session);
        await migrateLegacyIndexes(this.#session, this.#logger);
        const { main } = this.#session.connections;
        await warnOfFewReplicas(main, this.waitReplicas, this.#logger);
        if (!this.isCluster)
          await warnOfClusterNode(main as Redis, maskUrl(this.url), this.#logger);
      } catch (error) {
        await this.#session.disconnect();
        throw error;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    // Its connect (the session's, then the move of an earlier version's ids) ends first — the
    // session's at once, when it still waits for a server that does not answer.
    if (this.#connecting) {
      this.#session.abandonConnect();
      await this.#connecting.catch(() => undefined);
    }
    await this.#session.disconnect();
    this.#finished.lookAgain();
  }

  // Storing and settling (./task-store.ts)

  add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode = "unique",
    options?: AddOptions,
  ): Promise<boolean[]> {
    return this.#tasks.add(queue, records, mode, options);
  }

  addDeduplicated(
    queue: string,
    entries: readonly DedupeEntry[],
    now: number,
  ): Promise<DedupeResult[]> {
    return this.#tasks.addDeduplicated(queue, entries, now);
  }

  settle(queue: string, settlements: readonly Settlement[], now: number): Promise<SettleResult[]> {
    return this.#tasks.settle(queue, settlements, now);
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
    return (
      (await this.#tasks.pruneExpired(queue, now)) +
      (await this.#workflows.pruneWorkflows(queue, now))
    );
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

  // Reads (./task-reader.ts, ./finished-listener.ts)

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
    // Checked first: listening would otherwise open a subscriber on a closed backend.
    this.#session.assertConnected();
    const channel = this.#session.keys(queue).finishedChannel;
    return this.#session.call("watchFinished", () => this.#finished.listen(channel, listener));
  }

  // Lifecycle events (./event-log.ts)

  appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    return this.#events.appendEvents(queue, bodies, holders);
  }

  readEvents(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    return this.#events.readEvents(queue, request);
  }

  lastEventId(queue: string): Promise<string | null> {
    return this.#events.lastEventId(queue);
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
    return this.#reader.listCronQueues();
  }

  saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    return this.#claims.saveProgress(queue, claim, record);
  }

  // Pausing (./claims.ts)

  async setPaused(queue: string, paused: boolean): Promise<void> {
    // Registered so that listPaused finds a paused queue that holds nothing.
    if (paused) this.#session.register(queue);
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
    return this.#reader.listPaused();
  }

  // Rate limits (./rate-limiter.ts)

  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return acquireRateLimit(this.#session, this.clock, queue, request);
  }
}
