/**
 * @module backends/memory/memory-backend
 * The in-process backend: everything in Maps, nothing survives the process.
 * With `instantProcessing` (the default) a task runs as soon as it is added,
 * so `new Queue("memory://")` needs no worker. Atomicity comes free: every
 * method runs its changes synchronously, without awaiting in between.
 *
 * This class holds the queues and the instant processor and wakes waiters;
 * the per-queue work lives beside it: `./memory-claims.ts`,
 * `./memory-transitions.ts`, `./memory-reads.ts`, `./memory-results.ts`,
 * `./memory-workflows.ts`, and the state itself in `./memory-queue-state.ts`.
 */
import { type Clock, systemClock } from "../../clock.js";
import { BackendError, InvalidOptionError } from "../../errors.js";
import type { Middleware } from "../../execution/middleware.js";
import type { DependencyOverrides } from "../../execution/run-context.js";
import type { Logger } from "../../observability/logger.js";
import type { TaskData } from "../../task/task-record.js";
import { type RetentionDefaults, resolveRetention } from "../../task/ttl.js";
import { acquireSlot } from "../../worker/rate-limit.js";
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
import { claimPending, claimPendingIds, renewClaims, takeStaleClaims } from "./memory-claims.js";
import { MemoryQueueState } from "./memory-queue-state.js";
import {
  pendingRecords,
  queueStats,
  recordsById,
  scheduledRecords,
  taskPage,
} from "./memory-reads.js";
import { waitForResults } from "./memory-results.js";
import {
  addPending,
  addScheduled,
  cancelTask,
  deleteFinished,
  moveDueToPending,
  storeOutcomes,
} from "./memory-transitions.js";

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

/**
 * The in-process {@link Backend}.
 *
 * @example
 * ```ts
 * const queue = new Queue(new MemoryBackend({ instantProcessing: false }));
 * ```
 */
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

  // Adding and storing (instant processing runs what becomes pending or due)

  async append(queue: string, tasks: readonly TaskData[], unique = true): Promise<boolean[]> {
    const state = this.#state(queue);
    const { results, added } = addPending(state, tasks, unique);
    if (added.length > 0) state.claimable.notify();
    if (this.#instant && added.length > 0) await this.#instant.run(queue, added);
    return results;
  }

  async schedule(queue: string, task: TaskData, at: number, unique = true): Promise<boolean> {
    if (!addScheduled(this.#state(queue), task, at, unique)) return false;
    this.#instant?.wakeAt(queue, at);
    return true;
  }

  async popScheduled(queue: string, now = this.clock.now()): Promise<TaskData[]> {
    const state = this.#state(queue);
    const moved = moveDueToPending(state, now);
    if (moved.length > 0) state.claimable.notify();
    return moved;
  }

  /** @internal Earliest due time in the queue (instant processing sets its wake-up by it). */
  nextDue(queue: string): number | undefined {
    return this.#state(queue).due.nextDue();
  }

  async storeResult(queue: string, tasks: readonly TaskData[]): Promise<string[]> {
    const state = this.#state(queue);
    const { claimable, finished, nextDue, lost } = storeOutcomes(
      state,
      tasks,
      this.retention,
      this.clock.now(),
    );
    if (nextDue !== undefined) this.#instant?.wakeAt(queue, nextDue);
    if (claimable) state.claimable.notify();
    if (finished) state.finished.notify();
    if (claimable && this.#instant) this.#instant.runPendingSoon(queue);
    return lost;
  }

  async cancel(queue: string, id: string): Promise<TaskData | null> {
    const state = this.#state(queue);
    const cancelled = cancelTask(state, id, this.retention, this.clock.now());
    if (cancelled) state.finished.notify();
    return cancelled;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    return deleteFinished(this.#state(queue), id, this.clock.now());
  }

  async clear(queue: string): Promise<number> {
    return this.#state(queue).clear();
  }

  // Claims (./memory-claims.ts)

  async pop(queue: string, limit: number, timeoutMs = 0): Promise<TaskData[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`pop limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const state = this.#state(queue);
    // How long a claim waits is a matter of real time, whatever clock the tasks see.
    const deadline = systemClock.now() + timeoutMs;
    for (;;) {
      const claimed = claimPending(state, limit, this.clock);
      if (claimed.length > 0 || !this.#connected) return claimed;
      const remaining = deadline - systemClock.now();
      if (remaining <= 0) return claimed;
      await state.claimable.wait(systemClock, remaining);
    }
  }

  /** @internal Claims specific pending tasks (instant processing runs exactly what was just added). */
  claimIds(queue: string, ids: readonly string[]): TaskData[] {
    return claimPendingIds(this.#state(queue), ids, this.clock.now());
  }

  async acknowledge(queue: string, ids: readonly string[]): Promise<void> {
    const state = this.#state(queue);
    for (const id of ids) state.processing.delete(id);
  }

  async heartbeat(queue: string, ids: readonly string[]): Promise<string[]> {
    return renewClaims(this.#state(queue), ids, this.clock.now());
  }

  async reclaimStale(queue: string, idleMs: number): Promise<TaskData[]> {
    return takeStaleClaims(this.#state(queue), idleMs, this.clock.now());
  }

  // Reads (./memory-reads.ts, ./memory-results.ts)

  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    return recordsById(this.#state(queue), ids, this.clock.now());
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    return pendingRecords(this.#state(queue), count);
  }

  async getScheduled(queue: string): Promise<TaskData[]> {
    return scheduledRecords(this.#state(queue));
  }

  async size(queue: string): Promise<number> {
    return this.#state(queue).pending.size;
  }

  async getAllTasks(
    queue: string,
    page: { cursor?: string | null; limit?: number } = {},
  ): Promise<TaskPage> {
    return taskPage(this.#state(queue), page, this.clock.now());
  }

  async getStats(queue: string): Promise<QueueStats> {
    return queueStats(this.#state(queue), this.clock.now());
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

  async getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>> {
    return waitForResults(this.#state(queue), ids, timeoutMs, this.clock, () => this.#connected);
  }

  // Crons

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

  // Workflows (./memory-workflows.ts)

  async storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean> {
    this.#state(queue).workflows.store(workflow);
    return true;
  }

  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>> {
    return this.#state(queue).workflows.getMany(ids);
  }

  async getAllWorkflows(queue: string): Promise<WorkflowData[]> {
    return this.#state(queue).workflows.all();
  }

  async getPendingWorkflows(queue: string): Promise<WorkflowData[]> {
    return this.#state(queue).workflows.unfinished();
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean> {
    return this.#state(queue).workflows.delete(id);
  }

  async markWorkflowTaskComplete(
    queue: string,
    workflowId: string,
    taskId: string,
  ): Promise<number> {
    return this.#state(queue).workflows.markTaskComplete(workflowId, taskId);
  }

  // Rate limits and retention

  async acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return acquireSlot(
      this.#state(queue).rateWindow(request.key),
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
