/**
 * @module backends/redis/redis-backend
 * The production backend on Redis (ioredis). Every change that touches more
 * than one key is one Lua script (`./scripts/*.lua`), so workers never race.
 * Idle workers block on a per-queue wake list; `getResults` wakes on pub/sub.
 * Claims are leases: a worker renews them with `heartbeat`; any worker takes
 * over leases left to expire (`reclaimStale`). Key layout: `./keys.ts`.
 *
 * This class is the public entry and holds the options; the work is done by
 * one part per concern, all sharing one {@link RedisSession}:
 * `TaskStore` (writes), `Claims` (leases), `TaskReader` (reads),
 * `ResultWaiter` (`getResults`), `WorkflowStore`, `CronStore`,
 * `./rate-limiter.ts` and `./retention.ts`.
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RedisOptions } from "ioredis";
import { type Clock, systemClock } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import { defaultLogger, type Logger } from "../../observability/logger.js";
import type { TaskData } from "../../task/task-record.js";
import { type RetentionDefaults, resolveRetention } from "../../task/ttl.js";
import type {
  Backend,
  BackendCapabilities,
  CronData,
  QueueStats,
  RateLimitRequest,
  TaskPage,
  WorkflowData,
} from "../backend.js";
import { Claims } from "./claims.js";
import { CronStore } from "./cron-store.js";
import { acquireRateLimit } from "./rate-limiter.js";
import { ResultWaiter } from "./result-waiter.js";
import { pruneExpired } from "./retention.js";
import { RedisSession } from "./session.js";
import { TaskReader } from "./task-reader.js";
import { TaskStore } from "./task-store.js";
import { WorkflowStore } from "./workflow-store.js";

export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (default `redis://127.0.0.1:6379`). */
  url?: string;
  /** First part of every key (default `"sheppy"`); backends with different prefixes never see each other. */
  prefix?: string;
  /** Extra ioredis options (TLS, sentinels, timeouts…). */
  redisOptions?: RedisOptions;
  /** Time source for due times and timestamps (leases use the server's clock). */
  clock?: Clock;
  logger?: Logger;
  /** Seconds a completed record is kept unless its task says otherwise (default 30 days); `null` keeps forever. */
  ttl?: number | null;
  /** Seconds a failed, crashed or cancelled record is kept unless its task says otherwise; default: `ttl`. */
  errorTtl?: number | null;
}

/** Default retention of finished records (TTL-9). */
export const REDIS_DEFAULT_TTL = 30 * 24 * 3600;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

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
  readonly url: string;
  readonly prefix: string;
  readonly clock: Clock;
  /** Retention defaults for finished records (seconds; `null` keeps forever). */
  readonly retention: RetentionDefaults;
  /** Identifies this instance's leases. */
  readonly consumerId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly #session: RedisSession;
  readonly #tasks: TaskStore;
  readonly #claims: Claims;
  readonly #reader: TaskReader;
  readonly #results: ResultWaiter;
  readonly #workflows: WorkflowStore;
  readonly #crons: CronStore;

  constructor(options: RedisBackendOptions = {}) {
    this.url = options.url ?? "redis://127.0.0.1:6379";
    this.prefix = options.prefix ?? "sheppy";
    if (!PREFIX.test(this.prefix)) {
      throw new InvalidOptionError(
        `Invalid Redis key prefix '${this.prefix}': use 1–64 letters, digits, '_', '.', ':' or '-'`,
      );
    }
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetention("RedisBackend", options, REDIS_DEFAULT_TTL);
    const session = new RedisSession(
      this.prefix,
      this.url,
      options.redisOptions ?? {},
      options.logger ?? defaultLogger(),
    );
    this.#session = session;
    this.#tasks = new TaskStore(session, this.clock, this.retention, this.consumerId);
    this.#claims = new Claims(session, this.clock, this.consumerId, this.#tasks);
    this.#reader = new TaskReader(session, this.clock);
    this.#results = new ResultWaiter(session, this.#reader);
    this.#workflows = new WorkflowStore(session);
    this.#crons = new CronStore(session);
  }

  get isConnected(): boolean {
    return this.#session.isConnected;
  }

  connect(): Promise<void> {
    return this.#session.connect();
  }

  disconnect(): Promise<void> {
    return this.#session.disconnect();
  }

  // Writes (./task-store.ts)

  append(queue: string, tasks: readonly TaskData[], unique = true): Promise<boolean[]> {
    return this.#tasks.append(queue, tasks, unique);
  }

  schedule(queue: string, task: TaskData, at: number, unique = true): Promise<boolean> {
    return this.#tasks.schedule(queue, task, at, unique);
  }

  popScheduled(queue: string, now = this.clock.now()): Promise<TaskData[]> {
    return this.#tasks.popScheduled(queue, now);
  }

  storeResult(queue: string, tasks: readonly TaskData[]): Promise<string[]> {
    return this.#tasks.storeResult(queue, tasks);
  }

  cancel(queue: string, id: string): Promise<TaskData | null> {
    return this.#tasks.cancel(queue, id);
  }

  deleteTask(queue: string, id: string): Promise<boolean> {
    return this.#tasks.deleteTask(queue, id);
  }

  clear(queue: string): Promise<number> {
    return this.#tasks.clear(queue);
  }

  // Claims and leases (./claims.ts)

  pop(queue: string, limit: number, timeoutMs = 0): Promise<TaskData[]> {
    return this.#claims.pop(queue, limit, timeoutMs);
  }

  acknowledge(queue: string, ids: readonly string[]): Promise<void> {
    return this.#claims.acknowledge(queue, ids);
  }

  heartbeat(queue: string, ids: readonly string[]): Promise<string[]> {
    return this.#claims.heartbeat(queue, ids);
  }

  reclaimStale(queue: string, idleMs: number): Promise<TaskData[]> {
    return this.#claims.reclaimStale(queue, idleMs);
  }

  // Reads (./task-reader.ts, ./result-waiter.ts)

  getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    return this.#reader.getTasks(queue, ids);
  }

  getPending(queue: string, count: number): Promise<TaskData[]> {
    return this.#reader.getPending(queue, count);
  }

  getScheduled(queue: string): Promise<TaskData[]> {
    return this.#reader.getScheduled(queue);
  }

  size(queue: string): Promise<number> {
    return this.#reader.size(queue);
  }

  getAllTasks(
    queue: string,
    page: { cursor?: string | null; limit?: number } = {},
  ): Promise<TaskPage> {
    return this.#reader.getAllTasks(queue, page);
  }

  getStats(queue: string): Promise<QueueStats> {
    return this.#reader.getStats(queue);
  }

  listQueues(): Promise<Map<string, number>> {
    return this.#reader.listQueues();
  }

  getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>> {
    return this.#results.getResults(queue, ids, timeoutMs);
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

  // Workflows (./workflow-store.ts)

  storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean> {
    return this.#workflows.storeWorkflow(queue, workflow);
  }

  getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>> {
    return this.#workflows.getWorkflows(queue, ids);
  }

  getAllWorkflows(queue: string): Promise<WorkflowData[]> {
    return this.#workflows.getAllWorkflows(queue);
  }

  getPendingWorkflows(queue: string): Promise<WorkflowData[]> {
    return this.#workflows.getPendingWorkflows(queue);
  }

  deleteWorkflow(queue: string, id: string): Promise<boolean> {
    return this.#workflows.deleteWorkflow(queue, id);
  }

  markWorkflowTaskComplete(queue: string, workflowId: string, taskId: string): Promise<number> {
    return this.#workflows.markWorkflowTaskComplete(queue, workflowId, taskId);
  }

  // Rate limits and retention (./rate-limiter.ts, ./retention.ts)

  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return acquireRateLimit(this.#session, this.clock, queue, request);
  }

  pruneExpired(queue: string, now = this.clock.now()): Promise<number> {
    return pruneExpired(this.#session, queue, now);
  }
}
