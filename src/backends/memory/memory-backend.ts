/**
 * @module backends/memory/memory-backend
 * The in-process backend: everything in Maps, nothing survives the process.
 * With `instantProcessing` (the default) a task runs as soon as it is added,
 * so `new Queue("memory://")` needs no worker. Atomicity comes free: every
 * method runs its changes synchronously, without awaiting in between.
 */
import { type Clock, isoAt, systemClock } from "../../clock.js";
import { BackendError, InvalidOptionError, WaitTimeoutError } from "../../errors.js";
import type { Middleware } from "../../execution/middleware.js";
import type { DependencyOverrides } from "../../execution/run-context.js";
import type { Logger } from "../../observability/logger.js";
import type { TaskData } from "../../task/task-record.js";
import { expiryOf, type RetentionDefaults, resolveRetention } from "../../task/ttl.js";
import { acquireSlot, newRateWindowState } from "../../worker/rate-limit.js";
import type {
  Backend,
  BackendCapabilities,
  CronData,
  QueueStats,
  RateLimitRequest,
  TaskPage,
  WorkflowData,
} from "../backend.js";
import { InstantProcessor } from "./instant-processor.js";
import { MemoryQueueState } from "./memory-queue-state.js";

export interface MemoryBackendOptions {
  /** Run each task in-process as soon as it is added (default `true`). Set `false` to run tasks with a `Worker`. */
  instantProcessing?: boolean;
  /** Dependency replacements used by instant processing. */
  dependencyOverrides?: DependencyOverrides;
  /** Middleware wrapped around every instantly processed task. */
  middleware?: readonly Middleware[];
  /** Time source (tests pass a controllable clock). */
  clock?: Clock;
  /** Where instant processing reports teardown errors. */
  logger?: Logger;
  /** Seconds a completed record is kept unless its task says otherwise; `null` (default) keeps it forever. */
  ttl?: number | null;
  /** Seconds a failed, crashed or cancelled record is kept unless its task says otherwise; default: `ttl`. */
  errorTtl?: number | null;
}

const DEFAULT_PAGE = 1000;

export class MemoryBackend implements Backend {
  readonly capabilities: BackendCapabilities;
  readonly clock: Clock;
  /** Retention defaults for finished records (seconds; `null` keeps forever). */
  readonly retention: RetentionDefaults;
  readonly #queues = new Map<string, MemoryQueueState>();
  readonly #instant: InstantProcessor | undefined;
  #connected = false;

  constructor(options: MemoryBackendOptions = {}) {
    const instant = options.instantProcessing ?? true;
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetention("MemoryBackend", options, null);
    this.capabilities = {
      crossProcess: false,
      durable: false,
      blockingWait: true,
      leases: false,
      instantProcessing: instant,
    };
    this.#instant = instant
      ? new InstantProcessor(this, {
          clock: this.clock,
          middleware: options.middleware ?? [],
          dependencyOverrides: options.dependencyOverrides,
          logger: options.logger,
        })
      : undefined;
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  async connect(): Promise<void> {
    this.#connected = true;
    this.#instant?.resume();
  }

  async disconnect(): Promise<void> {
    this.#connected = false;
    this.#instant?.stop();
    for (const state of this.#queues.values()) {
      state.claimable.notify();
      state.finished.notify();
    }
  }

  #state(queue: string): MemoryQueueState {
    if (!this.#connected)
      throw new BackendError("memory backend is not connected: call connect() first");
    let state = this.#queues.get(queue);
    if (!state) {
      state = new MemoryQueueState();
      this.#queues.set(queue, state);
    }
    return state;
  }

  async append(queue: string, tasks: readonly TaskData[], unique = true): Promise<boolean[]> {
    const state = this.#state(queue);
    const added: string[] = [];
    const results = tasks.map((task) => {
      if (unique && state.tasks.has(task.id)) return false;
      state.unlink(task.id);
      state.tasks.set(task.id, task);
      state.pending.add(task.id);
      added.push(task.id);
      return true;
    });
    if (added.length > 0) state.claimable.notify();
    if (this.#instant && added.length > 0) await this.#instant.run(queue, added);
    return results;
  }

  async pop(queue: string, limit: number, timeoutMs = 0): Promise<TaskData[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`pop limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const state = this.#state(queue);
    // How long a claim waits is a matter of real time, whatever clock the tasks see.
    const deadline = systemClock.now() + timeoutMs;
    for (;;) {
      const claimed = this.#claim(state, limit);
      if (claimed.length > 0 || !this.#connected) return claimed;
      const remaining = deadline - systemClock.now();
      if (remaining <= 0) return claimed;
      await state.claimable.wait(systemClock, remaining);
    }
  }

  #claim(state: MemoryQueueState, limit: number): TaskData[] {
    const claimed: TaskData[] = [];
    if (state.pending.size === 0) return claimed;
    const now = this.clock.now();
    const startedAt = isoAt(now);
    while (claimed.length < limit) {
      const id = state.pending.shift();
      if (id === undefined) break;
      const record = state.tasks.get(id);
      if (!record) continue;
      const running: TaskData = { ...record, status: "processing", startedAt };
      state.tasks.set(id, running);
      state.processing.set(id, now);
      claimed.push(running);
    }
    return claimed;
  }

  /** @internal Claims specific pending tasks (instant processing runs exactly what was just added). */
  claimIds(queue: string, ids: readonly string[]): TaskData[] {
    const state = this.#state(queue);
    const now = this.clock.now();
    const claimed: TaskData[] = [];
    for (const id of ids) {
      const record = state.tasks.get(id);
      if (!record || !state.pending.delete(id)) continue;
      const running: TaskData = { ...record, status: "processing", startedAt: isoAt(now) };
      state.tasks.set(id, running);
      state.processing.set(id, now);
      claimed.push(running);
    }
    return claimed;
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    const state = this.#state(queue);
    const found: TaskData[] = [];
    for (const id of state.pending) {
      if (found.length >= count) break;
      const record = state.tasks.get(id);
      if (record) found.push(record);
    }
    return found;
  }

  async size(queue: string): Promise<number> {
    return this.#state(queue).pending.size;
  }

  async clear(queue: string): Promise<number> {
    const state = this.#state(queue);
    const removed = state.tasks.size + state.crons.size;
    state.tasks.clear();
    state.pending.clear();
    state.due.clear();
    state.processing.clear();
    state.expires.clear();
    state.crons.clear();
    state.rateLimits.clear();
    return removed;
  }

  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    const state = this.#state(queue);
    state.expire(this.clock.now());
    const found = new Map<string, TaskData>();
    for (const id of ids) {
      const record = state.tasks.get(id);
      if (record) found.set(id, record);
    }
    return found;
  }

  async schedule(queue: string, task: TaskData, at: number, unique = true): Promise<boolean> {
    const state = this.#state(queue);
    if (unique && state.tasks.has(task.id)) return false;
    state.unlink(task.id);
    state.tasks.set(task.id, task);
    state.due.add(task.id, at);
    this.#instant?.wakeAt(queue, at);
    return true;
  }

  async popScheduled(queue: string, now = this.clock.now()): Promise<TaskData[]> {
    const state = this.#state(queue);
    const moved: TaskData[] = [];
    for (const id of state.due.takeDue(now)) {
      const record = state.tasks.get(id);
      if (!record) continue;
      const pending: TaskData = { ...record, status: "pending" };
      state.tasks.set(id, pending);
      state.pending.add(id);
      moved.push(pending);
    }
    if (moved.length > 0) state.claimable.notify();
    return moved;
  }

  /** @internal Earliest due time in the queue (instant processing sets its wake-up by it). */
  nextDue(queue: string): number | undefined {
    return this.#state(queue).due.nextDue();
  }

  async storeResult(queue: string, tasks: readonly TaskData[]): Promise<void> {
    const state = this.#state(queue);
    const now = this.clock.now();
    let finished = false;
    let claimable = false;
    for (let record of tasks) {
      state.unlink(record.id);
      const dueText =
        record.status === "retrying"
          ? record.nextRetryAt
          : record.status === "scheduled"
            ? record.scheduledAt
            : null;
      if (dueText !== null) {
        const due = Date.parse(dueText);
        if (due > now) {
          state.due.add(record.id, due);
          this.#instant?.wakeAt(queue, due);
        } else {
          record = { ...record, status: "pending" };
          state.pending.add(record.id);
          claimable = true;
        }
      } else if (record.status === "pending") {
        state.pending.add(record.id);
        claimable = true;
      } else if (record.finishedAt !== null) {
        finished = true;
        const expiresAt = expiryOf(record, this.retention, now);
        if (expiresAt !== null) state.expires.add(record.id, expiresAt);
      }
      state.tasks.set(record.id, record);
    }
    state.expire(now);
    if (claimable) state.claimable.notify();
    if (finished) state.finished.notify();
    if (claimable && this.#instant) this.#instant.runPendingSoon(queue);
  }

  async getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>> {
    const state = this.#state(queue);
    const deadline = timeoutMs === null ? null : this.clock.now() + timeoutMs;
    for (;;) {
      state.expire(this.clock.now());
      const found = new Map<string, TaskData>();
      let missing = 0;
      for (const id of ids) {
        const record = state.tasks.get(id);
        if (record?.finishedAt) found.set(id, record);
        else missing++;
      }
      if (missing === 0 || timeoutMs === 0) return found;
      if (!this.#connected)
        throw new BackendError("memory backend was disconnected while waiting for results");
      const remaining = deadline === null ? null : deadline - this.clock.now();
      if (remaining !== null && remaining <= 0) {
        throw new WaitTimeoutError(
          (timeoutMs ?? 0) / 1000,
          ids.filter((id) => !found.has(id)),
        );
      }
      await state.finished.wait(this.clock, remaining);
    }
  }

  async getStats(queue: string): Promise<QueueStats> {
    const state = this.#state(queue);
    state.expire(this.clock.now());
    const stats: QueueStats = {
      pending: state.pending.size,
      scheduled: state.due.size,
      processing: state.processing.size,
      completed: 0,
      failed: 0,
      crashed: 0,
      cancelled: 0,
    };
    for (const record of state.tasks.values()) {
      if (record.finishedAt === null) continue;
      if (
        record.status === "completed" ||
        record.status === "failed" ||
        record.status === "crashed" ||
        record.status === "cancelled"
      ) {
        stats[record.status]++;
      }
    }
    return stats;
  }

  async getAllTasks(
    queue: string,
    page: { cursor?: string | null; limit?: number } = {},
  ): Promise<TaskPage> {
    const state = this.#state(queue);
    const offset = page.cursor ? Number.parseInt(page.cursor, 10) : 0;
    const limit = page.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(offset) || offset < 0)
      throw new InvalidOptionError(`invalid page cursor '${page.cursor}'`);
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
    const now = this.clock.now();
    // Pruning shifts offsets, so only the first page prunes; later pages skip expired records instead.
    if (offset === 0) state.expire(now);
    const all = [...state.tasks.values()];
    const slice = all.slice(offset, offset + limit);
    const next = offset + slice.length;
    const tasks = slice.filter((record) => !state.isExpired(record.id, now));
    return { tasks, cursor: next < all.length ? String(next) : null };
  }

  async listQueues(): Promise<Map<string, number>> {
    if (!this.#connected)
      throw new BackendError("memory backend is not connected: call connect() first");
    const queues = new Map<string, number>();
    const now = this.clock.now();
    for (const [name, state] of this.#queues) {
      state.expire(now);
      if (state.tasks.size > 0) queues.set(name, state.pending.size);
    }
    return queues;
  }

  async getScheduled(queue: string): Promise<TaskData[]> {
    const state = this.#state(queue);
    return state.due.ordered().flatMap((id) => {
      const record = state.tasks.get(id);
      return record ? [record] : [];
    });
  }

  async cancel(queue: string, id: string): Promise<TaskData | null> {
    const state = this.#state(queue);
    const record = state.tasks.get(id);
    if (!record || record.finishedAt !== null || state.processing.has(id)) return null;
    if (!state.pending.has(id) && !state.due.has(id)) return null;
    state.unlink(id);
    const now = this.clock.now();
    const cancelled: TaskData = { ...record, status: "cancelled", finishedAt: isoAt(now) };
    state.tasks.set(id, cancelled);
    const expiresAt = expiryOf(cancelled, this.retention, now);
    if (expiresAt !== null) state.expires.add(id, expiresAt);
    state.finished.notify();
    return cancelled;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    const state = this.#state(queue);
    state.expire(this.clock.now());
    const record = state.tasks.get(id);
    if (!record || record.finishedAt === null) return false;
    state.unlink(id);
    state.tasks.delete(id);
    return true;
  }

  async addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    const state = this.#state(queue);
    if (state.crons.has(deterministicId)) return false;
    state.crons.set(deterministicId, cron);
    return true;
  }

  async deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    return this.#state(queue).crons.delete(deterministicId);
  }

  async getCrons(queue: string): Promise<CronData[]> {
    return [...this.#state(queue).crons.values()];
  }

  async storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean> {
    this.#state(queue).workflows.set(workflow.id, workflow);
    return true;
  }

  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>> {
    const state = this.#state(queue);
    const found = new Map<string, WorkflowData>();
    for (const id of ids) {
      const workflow = state.workflows.get(id);
      if (workflow) found.set(id, workflow);
    }
    return found;
  }

  async getAllWorkflows(queue: string): Promise<WorkflowData[]> {
    return [...this.#state(queue).workflows.values()];
  }

  async getPendingWorkflows(queue: string): Promise<WorkflowData[]> {
    return [...this.#state(queue).workflows.values()].filter(
      (w) => !w.completed && (w.error ?? null) === null,
    );
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean> {
    return this.#state(queue).workflows.delete(id);
  }

  async markWorkflowTaskComplete(
    queue: string,
    workflowId: string,
    taskId: string,
  ): Promise<number> {
    const state = this.#state(queue);
    const workflow = state.workflows.get(workflowId);
    const pendingIds = workflow?.pendingTaskIds;
    if (!workflow || !pendingIds?.includes(taskId)) return -1;
    const remaining = pendingIds.filter((id) => id !== taskId);
    state.workflows.set(workflowId, { ...workflow, pendingTaskIds: remaining });
    return remaining.length;
  }

  async acknowledge(queue: string, ids: readonly string[]): Promise<void> {
    const state = this.#state(queue);
    for (const id of ids) state.processing.delete(id);
  }

  async heartbeat(queue: string, ids: readonly string[]): Promise<string[]> {
    const state = this.#state(queue);
    const now = this.clock.now();
    const lost: string[] = [];
    for (const id of ids) {
      if (state.processing.has(id)) state.processing.set(id, now);
      else lost.push(id);
    }
    return lost;
  }

  async reclaimStale(queue: string, idleMs: number): Promise<TaskData[]> {
    const state = this.#state(queue);
    const now = this.clock.now();
    const stale: TaskData[] = [];
    for (const [id, seen] of state.processing) {
      if (now - seen <= idleMs) continue;
      state.processing.set(id, now);
      const record = state.tasks.get(id);
      if (record) stale.push(record);
    }
    return stale;
  }

  async acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    const state = this.#state(queue);
    let window = state.rateLimits.get(request.key);
    if (!window) {
      window = newRateWindowState();
      state.rateLimits.set(request.key, window);
    }
    return acquireSlot(
      window,
      request.now ?? this.clock.now(),
      request.maxRate,
      request.periodMs,
      request.strategy,
    );
  }

  async pruneExpired(queue: string, now = this.clock.now()): Promise<number> {
    return this.#state(queue).expire(now);
  }
}
