/**
 * @module backends/redis/redis-backend
 * The production backend on Redis (ioredis). Every change that touches more
 * than one key is one Lua script (`./scripts/*.lua`), so workers never race.
 * Idle workers block on a per-queue wake list; `getResults` wakes on pub/sub.
 * Claims are leases: a worker renews them with `heartbeat`; any worker takes
 * over leases left to expire (`reclaimStale`). Key layout: `./keys.ts`.
 */

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { ChainableCommander, Redis, RedisOptions } from "ioredis";
import { type Clock, isoAt, systemClock } from "../../clock.js";
import { BackendError, InvalidOptionError, WaitTimeoutError } from "../../errors.js";
import { defaultLogger, type Logger } from "../../observability/logger.js";
import { encodeTaskData } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import { expiryOf, type RetentionDefaults, resolveRetention } from "../../task/ttl.js";
import type {
  Backend,
  BackendCapabilities,
  CronData,
  QueueStats,
  RateLimitRequest,
  TaskPage,
  WorkflowData,
} from "../backend.js";
import { RedisConnections } from "./connections.js";
import { FinishedListener } from "./finished-listener.js";
import { type QueueKeys, queueKeys, queuesRegistryKey } from "./keys.js";
import { readRecord, storeRoute } from "./record-codec.js";
import { defineScripts, type ScriptRunner } from "./scripts.js";

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
/** Hash fields read back for a record: JSON, script-written overrides, expiry. */
const RECORD_FIELDS = ["d", "status", "startedAt", "finishedAt", "x"] as const;
const PRUNE_BATCH = 1000;
const SCHEDULER_BATCH = 1000;
const RECLAIM_BATCH = 100;
const CLEAR_BATCH = 500;
/** While waiting for results, look again this often in case a notification was lost in a reconnect. */
const RESULT_RECHECK_MS = 2000;
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTCONN/;

/** A retention default as `cancel.lua` reads it: seconds, `null`, or `inherit`. */
function retentionArg(value: number | null | undefined): string {
  return value === undefined ? "inherit" : String(value);
}

/** Whether a command failed because the connection went away (its effect is unknown), not because Redis refused it. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" || CONNECTION_ERROR.test(error.message);
}

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
  readonly #connections: RedisConnections;
  readonly #listener: FinishedListener;
  readonly #keys = new Map<string, QueueKeys>();
  readonly #registered = new Set<string>();
  #run: ScriptRunner | undefined;
  #connecting: Promise<void> | undefined;
  #connected = false;

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
    this.#connections = new RedisConnections(
      this.url,
      options.redisOptions ?? {},
      options.logger ?? defaultLogger(),
    );
    this.#listener = new FinishedListener(() => this.#connections.subscriber());
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  connect(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.#connecting ??= (async () => {
      try {
        const client = await this.#connections.open();
        this.#run = defineScripts(client);
        this.#connected = true;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    this.#run = undefined;
    this.#connections.interruptBlocking();
    await this.#connections.close();
  }

  get #client(): Redis {
    if (!this.#connected)
      throw new BackendError("Redis backend is not connected: call connect() first");
    return this.#connections.main;
  }

  #script(
    name: Parameters<ScriptRunner>[0],
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (!this.#run || !this.#connected) {
      return Promise.reject(
        new BackendError("Redis backend is not connected: call connect() first"),
      );
    }
    return this.#run(name, keys, args);
  }

  /** Runs the commands `build` queues as one pipeline (one round trip); throws the first error. */
  async #batch<T>(client: Redis, build: (pipeline: ChainableCommander) => unknown): Promise<T[]> {
    const pipeline = client.pipeline();
    build(pipeline);
    if (pipeline.length === 0) return [];
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply as T;
    });
  }

  /** A fresh request memo key: a script resent with it replays its first answer. */
  #request(k: QueueKeys): string {
    return `${k.request}${randomBytes(9).toString("base64url")}`;
  }

  /**
   * Runs a script whose first answer must not be lost: if the connection drops
   * before the reply arrives, the same call (same request key) is sent again
   * until it gets through, and the script replays what it did the first time.
   */
  async #idempotent(
    name: Parameters<ScriptRunner>[0],
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#script(name, keys, args);
      } catch (error) {
        if (!isConnectionError(error) || !this.#connected) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 2000)));
      }
    }
  }

  #k(queue: string): QueueKeys {
    let keys = this.#keys.get(queue);
    if (!keys) {
      keys = queueKeys(this.prefix, queue);
      this.#keys.set(queue, keys);
    }
    return keys;
  }

  /** Records the queue name for `listQueues` (once per instance; rides along with the caller's round trip). */
  #register(queue: string): void {
    if (this.#registered.has(queue)) return;
    this.#registered.add(queue);
    void this.#client
      .sadd(queuesRegistryKey(this.prefix), queue)
      .catch(() => this.#registered.delete(queue));
  }

  /** Decodes `[id, json, …]` script replies; malformed records are stored as failed and left out. */
  async #records(
    flat: unknown,
    queue: string,
    fields: { status?: string; startedAt?: string } = {},
  ): Promise<TaskData[]> {
    const list = flat as string[];
    const records: TaskData[] = [];
    const malformed: TaskData[] = [];
    for (let i = 0; i < list.length; i += 2) {
      const { record, malformed: bad } = readRecord(
        list[i]!,
        list[i + 1]!,
        fields,
        this.clock.now(),
      );
      (bad ? malformed : records).push(record);
    }
    if (malformed.length > 0) await this.storeResult(queue, malformed);
    return records;
  }

  async append(queue: string, tasks: readonly TaskData[], unique = true): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    const k = this.#k(queue);
    this.#register(queue);
    const args: string[] = [k.task, unique ? "1" : "0"];
    for (const task of tasks) args.push(task.id, encodeTaskData(task));
    const added = (await this.#idempotent(
      "append",
      [
        k.all,
        k.pending,
        k.wake,
        k.scheduled,
        k.processing,
        k.done,
        k.counts,
        this.#request(k),
        k.expires,
      ],
      args,
    )) as number[];
    return added.map((flag) => flag === 1);
  }

  async pop(queue: string, limit: number, timeoutMs = 0): Promise<TaskData[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`pop limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const k = this.#k(queue);
    const claimed = await this.#claim(queue, k, limit);
    if (claimed.length > 0 || timeoutMs <= 0) return claimed;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !this.#connected) return [];
      let woke: unknown;
      try {
        woke = await this.#connections.withBlocking((client) =>
          client.blpop(k.wake, Math.max(0.01, remaining / 1000)),
        );
      } catch (error) {
        // disconnect() closes the blocking connection under us: the wait simply ends.
        if (!this.#connected) return [];
        throw error;
      }
      if (!this.#connected) return [];
      const next = await this.#claim(queue, k, limit);
      if (next.length > 0 || woke === null) return next;
    }
  }

  async #claim(queue: string, k: QueueKeys, limit: number): Promise<TaskData[]> {
    const startedAt = isoAt(this.clock.now());
    const flat = await this.#idempotent(
      "claim",
      [k.pending, k.processing, k.wake, this.#request(k)],
      [k.task, limit, startedAt, this.consumerId],
    );
    return this.#records(flat, queue, { status: "processing", startedAt });
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    const ids = await this.#client.lrange(this.#k(queue).pending, 0, count - 1);
    return this.#inOrder(queue, ids);
  }

  async #inOrder(queue: string, ids: readonly string[]): Promise<TaskData[]> {
    const found = await this.getTasks(queue, ids);
    return ids.flatMap((id) => {
      const record = found.get(id);
      return record ? [record] : [];
    });
  }

  async size(queue: string): Promise<number> {
    return this.#client.llen(this.#k(queue).pending);
  }

  async clear(queue: string): Promise<number> {
    const k = this.#k(queue);
    let removed = 0;
    for (;;) {
      const [count, finished] = (await this.#script(
        "clear",
        [
          k.all,
          k.pending,
          k.wake,
          k.scheduled,
          k.processing,
          k.done,
          k.counts,
          k.crons,
          k.rateLimitKeys,
          k.expires,
        ],
        [k.task, CLEAR_BATCH],
      )) as [number, number];
      removed += count;
      if (finished === 1) return removed;
    }
  }

  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    const k = this.#k(queue);
    const client = this.#client;
    const unique = [...new Set(ids)];
    const rows = await this.#batch<(string | null)[]>(client, (p) => {
      for (const id of unique) p.hmget(`${k.task}${id}`, ...RECORD_FIELDS);
    });
    const found = new Map<string, TaskData>();
    const now = this.clock.now();
    unique.forEach((id, i) => {
      const [json, status, startedAt, finishedAt, expires] = rows[i]!;
      // An expired record not yet pruned is already gone for readers.
      if (!json || (expires && Number(expires) <= now)) return;
      found.set(id, readRecord(id, json, { status, startedAt, finishedAt }, now).record);
    });
    return found;
  }

  async schedule(queue: string, task: TaskData, at: number, unique = true): Promise<boolean> {
    const k = this.#k(queue);
    this.#register(queue);
    const added = await this.#idempotent(
      "schedule",
      [k.all, k.scheduled, k.pending, k.processing, k.done, k.counts, this.#request(k), k.expires],
      [k.task, unique ? "1" : "0", task.id, encodeTaskData(task), at],
    );
    return added === 1;
  }

  async popScheduled(queue: string, now = this.clock.now()): Promise<TaskData[]> {
    const k = this.#k(queue);
    const moved: TaskData[] = [];
    for (;;) {
      const flat = await this.#script(
        "popScheduled",
        [k.scheduled, k.pending, k.wake],
        [k.task, now, SCHEDULER_BATCH],
      );
      const batch = await this.#records(flat, queue, { status: "pending" });
      moved.push(...batch);
      if ((flat as unknown[]).length < SCHEDULER_BATCH * 2) return moved;
    }
  }

  async storeResult(queue: string, tasks: readonly TaskData[]): Promise<void> {
    if (tasks.length === 0) return;
    const k = this.#k(queue);
    const now = this.clock.now();
    const args: (string | number)[] = [k.task, now, k.finishedChannel];
    for (const task of tasks) {
      const [kind, extra] = storeRoute(task);
      // The retention clock starts now, when the finished record is stored.
      const expires = kind === "done" ? expiryOf(task, this.retention, now) : null;
      args.push(task.id, encodeTaskData(task), kind, extra, expires === null ? "" : expires);
    }
    await this.#script(
      "storeResult",
      [k.pending, k.wake, k.scheduled, k.processing, k.done, k.counts, k.expires],
      args,
    );
  }

  async getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>> {
    const unique = [...new Set(ids)];
    const finishedAmong = async (wanted: readonly string[]) => {
      const found = await this.getTasks(queue, wanted);
      for (const [id, record] of found) if (record.finishedAt === null) found.delete(id);
      return found;
    };
    const results = await finishedAmong(unique);
    if (results.size === unique.length || timeoutMs === 0) return results;
    const deadline = timeoutMs === null ? null : Date.now() + timeoutMs;
    let wake: (() => void) | undefined;
    let signalled = false;
    const stop = await this.#listener.listen(this.#k(queue).finishedChannel, (finished) => {
      if (finished.some((id) => !results.has(id) && unique.includes(id))) {
        signalled = true;
        wake?.();
      }
    });
    try {
      for (;;) {
        const missing = unique.filter((id) => !results.has(id));
        for (const [id, record] of await finishedAmong(missing)) results.set(id, record);
        if (results.size === unique.length) return results;
        if (!this.#connected)
          throw new BackendError("Redis backend was disconnected while waiting for results");
        const remaining = deadline === null ? RESULT_RECHECK_MS : deadline - Date.now();
        if (remaining <= 0) {
          throw new WaitTimeoutError(
            (timeoutMs ?? 0) / 1000,
            unique.filter((id) => !results.has(id)),
          );
        }
        if (!signalled) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(remaining, RESULT_RECHECK_MS));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        wake = undefined;
        signalled = false;
      }
    } finally {
      stop();
    }
  }

  async getStats(queue: string): Promise<QueueStats> {
    const k = this.#k(queue);
    const client = this.#client;
    // Counts include expired records until they are pruned: prune first, so stats are exact.
    await this.pruneExpired(queue);
    const [pending, scheduled, processing, counts] = (await this.#batch<unknown>(client, (p) =>
      p.llen(k.pending).zcard(k.scheduled).zcard(k.processing).hgetall(k.counts),
    )) as [number, number, number, Record<string, string>];
    const count = (status: string) => Number(counts[status] ?? 0);
    return {
      pending,
      scheduled,
      processing,
      completed: count("completed"),
      failed: count("failed"),
      crashed: count("crashed"),
      cancelled: count("cancelled"),
    };
  }

  async getAllTasks(
    queue: string,
    page: { cursor?: string | null; limit?: number } = {},
  ): Promise<TaskPage> {
    const limit = page.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
    const [next, ids] = await this.#client.sscan(
      this.#k(queue).all,
      page.cursor ?? "0",
      "COUNT",
      limit,
    );
    const found = await this.getTasks(queue, ids);
    return { tasks: [...found.values()], cursor: next === "0" ? null : next };
  }

  async listQueues(): Promise<Map<string, number>> {
    const client = this.#client;
    const names = (await client.smembers(queuesRegistryKey(this.prefix))).sort();
    const counts = await this.#batch<number>(client, (p) => {
      for (const name of names) p.scard(this.#k(name).all).llen(this.#k(name).pending);
    });
    const queues = new Map<string, number>();
    names.forEach((name, i) => {
      if (counts[2 * i]! > 0) queues.set(name, counts[2 * i + 1]!);
    });
    return queues;
  }

  async getScheduled(queue: string): Promise<TaskData[]> {
    const ids = await this.#client.zrange(this.#k(queue).scheduled, 0, -1);
    return this.#inOrder(queue, ids);
  }

  async cancel(queue: string, id: string): Promise<TaskData | null> {
    const k = this.#k(queue);
    const now = this.clock.now();
    const row = (await this.#idempotent(
      "cancel",
      [k.pending, k.scheduled, k.processing, k.done, k.counts, this.#request(k), k.expires],
      [
        k.task,
        id,
        isoAt(now),
        k.finishedChannel,
        now,
        retentionArg(this.retention.errorTtl),
        retentionArg(this.retention.ttl),
      ],
    )) as (string | null)[] | null;
    if (!row) return null;
    const [json, status, startedAt, finishedAt] = row;
    return readRecord(id, json ?? "", { status, startedAt, finishedAt }, this.clock.now()).record;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    const k = this.#k(queue);
    return (
      (await this.#script(
        "deleteTask",
        [k.all, k.done, k.counts, k.expires],
        [k.task, id, this.clock.now()],
      )) === 1
    );
  }

  async addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    this.#register(queue);
    return (
      (await this.#client.hsetnx(this.#k(queue).crons, deterministicId, JSON.stringify(cron))) === 1
    );
  }

  async deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    return (await this.#client.hdel(this.#k(queue).crons, deterministicId)) === 1;
  }

  async getCrons(queue: string): Promise<CronData[]> {
    const values = await this.#client.hvals(this.#k(queue).crons);
    return values.map((json) => JSON.parse(json) as CronData);
  }

  async storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean> {
    const k = this.#k(queue);
    const { pendingTaskIds, ...rest } = workflow;
    // Pending ids live in a set of their own so marking one done is atomic; the JSON keeps a placeholder.
    const json = JSON.stringify(
      pendingTaskIds === undefined ? rest : { ...rest, pendingTaskIds: [] },
    );
    const pendingKey = `${k.workflow}${workflow.id}:pending`;
    const multi = this.#client.multi().hset(k.workflows, workflow.id, json).del(pendingKey);
    if (pendingTaskIds && pendingTaskIds.length > 0) multi.sadd(pendingKey, ...pendingTaskIds);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed)
      throw new BackendError(
        `storing workflow ${workflow.id} failed: ${failed?.[0]?.message ?? "aborted"}`,
      );
    return true;
  }

  async #readWorkflows(
    queue: string,
    entries: readonly (readonly [string, string])[],
  ): Promise<WorkflowData[]> {
    const k = this.#k(queue);
    const workflows = entries.map(([, json]) => JSON.parse(json) as WorkflowData);
    const withPending = workflows.filter((w) => w.pendingTaskIds !== undefined);
    const members = await this.#batch<string[]>(this.#client, (p) => {
      for (const w of withPending) p.smembers(`${k.workflow}${w.id}:pending`);
    });
    withPending.forEach((w, i) => {
      w.pendingTaskIds = members[i]!;
    });
    return workflows;
  }

  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>> {
    if (ids.length === 0) return new Map();
    const unique = [...new Set(ids)];
    const values = await this.#client.hmget(this.#k(queue).workflows, ...unique);
    const entries = unique.flatMap((id, i) => (values[i] ? [[id, values[i]] as const] : []));
    const workflows = await this.#readWorkflows(queue, entries);
    return new Map(workflows.map((w) => [w.id, w]));
  }

  async getAllWorkflows(queue: string): Promise<WorkflowData[]> {
    const all = await this.#client.hgetall(this.#k(queue).workflows);
    return this.#readWorkflows(queue, Object.entries(all));
  }

  async getPendingWorkflows(queue: string): Promise<WorkflowData[]> {
    return (await this.getAllWorkflows(queue)).filter(
      (w) => !w.completed && (w.error ?? null) === null,
    );
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean> {
    const k = this.#k(queue);
    const [[, removed] = [null, 0]] = (await this.#client
      .multi()
      .hdel(k.workflows, id)
      .del(`${k.workflow}${id}:pending`)
      .exec()) ?? [[null, 0]];
    return removed === 1;
  }

  async markWorkflowTaskComplete(
    queue: string,
    workflowId: string,
    taskId: string,
  ): Promise<number> {
    const k = this.#k(queue);
    return (await this.#script(
      "workflowTaskDone",
      [k.workflows, `${k.workflow}${workflowId}:pending`],
      [workflowId, taskId],
    )) as number;
  }

  async acknowledge(queue: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const k = this.#k(queue);
    const multi = this.#client.multi().zrem(k.processing, ...ids);
    for (const id of ids) multi.hdel(`${k.task}${id}`, "owner");
    await multi.exec();
  }

  async heartbeat(queue: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const k = this.#k(queue);
    return (await this.#script(
      "heartbeat",
      [k.processing],
      [k.task, this.consumerId, ...ids],
    )) as string[];
  }

  async reclaimStale(queue: string, idleMs: number): Promise<TaskData[]> {
    const k = this.#k(queue);
    const flat = (await this.#script(
      "reclaim",
      [k.processing],
      [k.task, Math.max(0, Math.floor(idleMs)), this.consumerId, RECLAIM_BATCH],
    )) as string[];
    const now = this.clock.now();
    const records: TaskData[] = [];
    for (let i = 0; i < flat.length; i += 5) {
      const [id, json, status, startedAt, finishedAt] = flat.slice(i, i + 5) as [
        string,
        string,
        string,
        string,
        string,
      ];
      records.push(
        readRecord(
          id,
          json,
          { status: status || null, startedAt: startedAt || null, finishedAt: finishedAt || null },
          now,
        ).record,
      );
    }
    return records;
  }

  async acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    const k = this.#k(queue);
    const base = `${k.rateLimit}${request.key}`;
    const wait = (await this.#script(
      "rateLimit",
      [`${base}:z`, `${base}:h`, k.rateLimitKeys],
      [
        request.maxRate,
        Math.max(1, Math.round(request.periodMs)),
        request.taskId,
        request.strategy,
        request.now ?? this.clock.now(),
      ],
    )) as number;
    return wait < 0 ? null : wait;
  }

  async pruneExpired(queue: string, now = this.clock.now()): Promise<number> {
    const k = this.#k(queue);
    let deleted = 0;
    for (;;) {
      const [count, seen] = (await this.#script(
        "pruneExpired",
        [k.expires, k.all, k.done, k.counts],
        [k.task, now, PRUNE_BATCH],
      )) as [number, number];
      deleted += count;
      if (seen < PRUNE_BATCH) return deleted;
    }
  }
}
