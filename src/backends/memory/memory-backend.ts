/**
 * @module backends/memory/memory-backend
 * The in-process backend: everything in Maps, nothing survives the process.
 * Atomicity comes free: every method makes its changes synchronously,
 * without awaiting in between. With `instantProcessing` (the default) it
 * tells the inline runner whenever work appears, so `new Queue("memory://")`
 * runs tasks as they are added, with no worker; the runner itself lives above
 * the backends (`queue/inline-runner.ts`).
 *
 * This class holds the queues and wakes waiters; the per-queue work lives
 * beside it: `./memory-claims.ts`, `./memory-transitions.ts`,
 * `./memory-reads.ts`, and the state itself in `./memory-queue-state.ts`.
 */
import { type Clock, systemClock } from "../../clock.js";
import { BackendError, InvalidOptionError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import type { DependencyOverrides } from "../../task/dependency-types.js";
import type { Middleware } from "../../task/middleware-types.js";
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
  InlineProcessing,
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
  WorkListener,
} from "../backend.js";
import { claimLeaseMs } from "../claim-lease.js";
import {
  checkEventLimit,
  eventPosition,
  keyedEventBody,
  positionAheadError,
} from "../event-positions.js";
import { bodiesOfCurrentHolders, checkHolders } from "../held-events.js";
import { notConnectedError } from "../not-connected.js";
import { acquireSlot } from "../rate-window.js";
import {
  type RetentionOptions,
  resolveEventCap,
  resolveRetentionSettings,
} from "../retention-settings.js";
import {
  claimLeasesOf,
  claimPending,
  claimPendingIds,
  renewClaims,
  takeExpiredClaims,
} from "./memory-claims.js";
import { addDeduplicatedRecords, pruneDedupe } from "./memory-dedupe.js";
import { MemoryEventLog } from "./memory-event-log.js";
import { MemoryQueueState } from "./memory-queue-state.js";
import {
  listPage,
  pendingRecords,
  queueStats,
  recordsById,
  scheduledPage,
  taskPage,
} from "./memory-reads.js";
import {
  addRecords,
  addWorkflow,
  type Changes,
  cancelTask,
  cancelWorkflow,
  deleteFinished,
  noChanges,
  promoteDue,
  promoteIds,
  rescheduleRecord,
  retryWorkflow,
  settleRecords,
} from "./memory-transitions.js";
import { MemoryWorkerDirectory } from "./memory-worker-directory.js";

export interface MemoryBackendOptions extends RetentionOptions {
  /** Run each task in-process as soon as it is added (default `true`). Set `false` to run tasks with a `Worker`. */
  instantProcessing?: boolean;
  /** Dependency replacements used by instant processing. */
  dependencyOverrides?: DependencyOverrides;
  /** Middleware wrapped around every instantly processed task. */
  middleware?: readonly Middleware[];
  /** Time source (tests pass a controllable clock). */
  clock?: Clock;
  /** Where instant processing reports what it cannot hand to a caller (teardown errors). */
  logger?: Logger;
  /** The payload limit (bytes of JSON) of arguments and results in queues that set none (default 16 MiB). */
  maxPayloadBytes?: number;
}

/** Every key of {@link MemoryBackendOptions} (the compiler keeps it complete). */
const MEMORY_OPTION_KEYS = Object.keys({
  instantProcessing: true,
  dependencyOverrides: true,
  middleware: true,
  clock: true,
  logger: true,
  maxPayloadBytes: true,
  ttl: true,
  errorTtl: true,
  maxFinished: true,
  maxFailed: true,
  eventCap: true,
} satisfies Record<keyof MemoryBackendOptions, true>);

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
  readonly retention: RetentionSettings;
  readonly inline: InlineProcessing | undefined;
  readonly maxPayloadBytes: number;
  readonly #queues = new Map<string, MemoryQueueState>();
  /** Paused queues (see `setPaused`). */
  readonly #paused = new Set<string>();
  /** Queue-wide caps on claimed tasks, by queue (kept beside the queues' state, as pauses are). */
  readonly #caps = new Map<string, number>();
  readonly #workListeners = new Set<WorkListener>();
  /** Event logs by queue; they outlive `clear`, so positions never repeat. */
  readonly #eventLogs = new Map<string, MemoryEventLog>();
  readonly #workers = new MemoryWorkerDirectory();
  readonly eventCap: number;
  #connected = false;
  /** Disconnected since it last connected (a call then is told so, not to connect first). */
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    checkOptionKeys(options, MEMORY_OPTION_KEYS, "MemoryBackend");
    const instant = options.instantProcessing ?? true;
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetentionSettings("MemoryBackend", options);
    this.eventCap = resolveEventCap("MemoryBackend", options);
    this.maxPayloadBytes = resolveMaxPayloadBytes(options.maxPayloadBytes, "MemoryBackend");
    this.capabilities = {
      crossProcess: false,
      durable: false,
      blockingWait: true,
      leases: false,
      instantProcessing: instant,
    };
    const listeners = this.#workListeners;
    this.inline = instant
      ? {
          clock: this.clock,
          middleware: options.middleware ?? [],
          dependencyOverrides: options.dependencyOverrides,
          logger: options.logger,
          watchWork(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        }
      : undefined;
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  async connect(): Promise<void> {
    this.#connected = true;
    this.#closed = false;
  }

  async disconnect(): Promise<void> {
    if (this.#connected) this.#closed = true;
    this.#connected = false;
    for (const state of this.#queues.values()) {
      state.claimable.notify();
      state.announceFinished([]);
    }
    for (const listener of [...this.#workListeners]) listener.disconnected();
    for (const log of this.#eventLogs.values()) log.appended.notify();
  }

  #events(queue: string): MemoryEventLog {
    let log = this.#eventLogs.get(queue);
    if (!log) {
      log = new MemoryEventLog(this.eventCap);
      this.#eventLogs.set(queue, log);
    }
    return log;
  }

  #state(queue: string): MemoryQueueState {
    if (!this.#connected) throw notConnectedError("memory backend", this.#closed);
    let state = this.#queues.get(queue);
    if (!state) {
      state = new MemoryQueueState();
      this.#queues.set(queue, state);
    }
    return state;
  }

  /** Wakes claimers, finished-listeners and the inline runner for what a change did. */
  #announce(queue: string, state: MemoryQueueState, changes: Changes): void {
    // A settle or cancel that freed a concurrency key's slot made a held task claimable.
    const claimable = state.takeAdmitted() || changes.claimable;
    if (claimable) state.claimable.notify();
    if (changes.finished.length > 0) state.announceFinished(changes.finished);
    if (this.#workListeners.size === 0) return;
    for (const listener of [...this.#workListeners]) {
      if (claimable) listener.claimable(queue);
      if (changes.nextDue !== undefined) listener.due(queue, changes.nextDue);
    }
  }

  // Storing and settling (./memory-transitions.ts)

  async add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode = "unique",
    options: AddOptions = {},
  ) {
    const state = this.#state(queue);
    const { results, changes } = addRecords(state, records, mode, this.clock.now());
    const { events } = options;
    if (events)
      this.#events(queue).append(results.map((stored, i) => (stored ? events[i] : undefined)));
    this.#announce(queue, state, changes);
    return results;
  }

  async addDeduplicated(
    queue: string,
    entries: readonly DedupeEntry[],
    now: number,
  ): Promise<DedupeResult[]> {
    const state = this.#state(queue);
    const { results, changes } = addDeduplicatedRecords(state, entries, now);
    this.#events(queue).append(
      results.map((result, i) => {
        const { event } = entries[i]!;
        return result.outcome === "ignored" || event === undefined
          ? undefined
          : keyedEventBody(result.id, event);
      }),
    );
    this.#announce(queue, state, changes);
    return results;
  }

  async settle(
    queue: string,
    settlements: readonly Settlement[],
    now: number,
  ): Promise<SettleResult[]> {
    const state = this.#state(queue);
    const { results, changes, events } = settleRecords(state, settlements, now, this.retention);
    if (events.length > 0) this.#events(queue).append(events);
    // Under a queue-wide cap a settle frees room: a waiting claim looks again.
    if (this.#caps.has(queue)) changes.claimable = true;
    this.#announce(queue, state, changes);
    return results;
  }

  async cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      workflowStep?: WorkflowStepEnd | undefined;
      event?: string | undefined;
      running?: boolean | undefined;
    },
  ): Promise<TaskData | null> {
    const state = this.#state(queue);
    const changes = noChanges();
    const resumed = { added: false };
    const cancelled = cancelTask(
      state,
      id,
      cancellation.at,
      cancellation.expiresAt,
      changes,
      cancellation,
      resumed,
    );
    const resumeEvent = resumed.added ? cancellation.workflowStep?.resumeEvent : undefined;
    if (cancelled && (cancellation.event || resumeEvent))
      this.#events(queue).append([cancellation.event, resumeEvent]);
    this.#announce(queue, state, changes);
    return cancelled;
  }

  async reschedule(queue: string, read: TaskData, next: TaskData): Promise<boolean> {
    const state = this.#state(queue);
    const changes = noChanges();
    const done = rescheduleRecord(state, read, next, this.clock.now(), changes);
    this.#announce(queue, state, changes);
    return done;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    return deleteFinished(this.#state(queue), id, this.clock.now());
  }

  async clear(queue: string): Promise<number> {
    const removed = this.#state(queue).clear();
    this.#eventLogs.get(queue)?.clear();
    return removed;
  }

  // The event log (./memory-event-log.ts)

  async appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    checkHolders(bodies, holders);
    const { claims } = this.#state(queue);
    this.#events(queue).append(
      bodiesOfCurrentHolders(
        bodies,
        holders,
        (holder) => claims.get(holder.id)?.claimFence === holder.fence,
      ),
    );
  }

  async readEvents(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    this.#state(queue);
    const after = eventPosition(request.after);
    checkEventLimit(request.limit);
    const log = this.#events(queue);
    if (this.eventCap === 0) return [];
    if (after > log.last)
      throw positionAheadError(String(after), log.last === 0 ? null : String(log.last));
    // How long a read waits is a matter of real time, whatever clock the tasks see.
    const deadline = systemClock.now() + (request.waitMs ?? 0);
    for (;;) {
      const events = log.read(after, request.limit);
      if (events.length > 0 || !this.#connected) return events;
      const remaining = deadline - systemClock.now();
      if (remaining <= 0 || request.signal?.aborted) return events;
      await log.appended.wait(systemClock, remaining, request.signal);
    }
  }

  async lastEventId(queue: string): Promise<string | null> {
    this.#state(queue);
    const last = this.#events(queue).last;
    return last === 0 ? null : String(last);
  }

  async pruneExpired(queue: string, now: number): Promise<number> {
    const state = this.#state(queue);
    const expired = state.expire(now) + state.workflows.expire(now);
    // What cancels left over the bound (a cancel does not trim; a settle or this sweep does).
    state.bound(this.retention);
    pruneDedupe(state, now);
    return expired;
  }

  // Workflows (./memory-workflows.ts)

  async addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ): Promise<boolean> {
    const state = this.#state(queue);
    const now = this.clock.now();
    const result = addWorkflow(state, record, steps, expiresAt, now, events?.steps);
    if (result.added && events) this.#events(queue).append([...events.workflow, ...result.events]);
    this.#announce(queue, state, result.changes);
    return result.added;
  }

  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    return this.#state(queue).workflows.read(ids, this.clock.now());
  }

  async runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const workflows = this.#state(queue).workflows;
    const now = this.clock.now();
    return new Set(ids.filter((id) => workflows.get(id, now)?.record.status === "running"));
  }

  async listWorkflows(
    queue: string,
    page: PageRequest & { readonly running?: boolean | undefined } = {},
  ): Promise<WorkflowPage> {
    return this.#state(queue).workflows.page(page, this.clock.now());
  }

  async cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null> {
    const state = this.#state(queue);
    const { result, changes, events } = cancelWorkflow(state, id, cancellation, this.clock.now());
    if (typeof result === "object" && result !== null && cancellation.event !== undefined)
      events.push(cancellation.event);
    if (events.length > 0) this.#events(queue).append(events);
    this.#announce(queue, state, changes);
    return result;
  }

  async retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null> {
    const state = this.#state(queue);
    const { retried, changes, events } = retryWorkflow(state, id, retry, this.clock.now());
    if (events.length > 0) this.#events(queue).append(events);
    this.#announce(queue, state, changes);
    return retried;
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean | "running"> {
    return this.#state(queue).workflows.delete(id, this.clock.now());
  }

  // Claims (./memory-claims.ts)

  async claim(
    queue: string,
    limit: number,
    waitMs = 0,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`claim limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const lease = claimLeaseMs(leaseMs) ?? 0;
    const state = this.#state(queue);
    // How long a claim waits is a matter of real time, whatever clock the tasks see.
    const deadline = systemClock.now() + waitMs;
    const now = () => this.clock.now();
    for (;;) {
      const room = this.#room(queue, state, limit);
      const claimed = room > 0 ? claimPending(state, room, now, lease) : [];
      if (claimed.length > 0 || !this.#connected) return claimed;
      const remaining = deadline - systemClock.now();
      if (remaining <= 0 || signal?.aborted) return claimed;
      await state.claimable.wait(systemClock, remaining, signal);
    }
  }

  /**
   * @internal Claims specific claimable tasks (a test queue runs exactly the tasks it
   * promoted), as many as a claim may take now: none while the queue is paused, at most its
   * cap less the claims held.
   */
  claimIds(queue: string, ids: readonly string[]): ClaimedTask[] {
    const state = this.#state(queue);
    const room = this.#room(queue, state, ids.length);
    return room > 0 ? claimPendingIds(state, ids, this.clock.now(), room) : [];
  }

  async promoteDue(queue: string, now: number): Promise<string[]> {
    const state = this.#state(queue);
    const moved = promoteDue(state, now);
    this.#announce(queue, state, { claimable: moved.length > 0, nextDue: undefined, finished: [] });
    return moved;
  }

  async nextDueAt(queue: string): Promise<number | null> {
    return this.#state(queue).due.nextAt() ?? null;
  }

  /** @internal Makes waiting records claimable whatever their time (a test queue runs retries at once). */
  promoteNow(queue: string, ids: readonly string[]): string[] {
    const state = this.#state(queue);
    const moved = promoteIds(state, ids);
    this.#announce(queue, state, { claimable: moved.length > 0, nextDue: undefined, finished: [] });
    return moved;
  }

  async renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    return renewClaims(this.#state(queue), claims, this.clock.now());
  }

  async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    const entry = this.#state(queue).claims.get(claim.id);
    if (!entry || entry.claimFence !== claim.fence) return false;
    const { status, startedAt } = entry.record;
    entry.record = { ...record, status, startedAt };
    return true;
  }

  async reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    return takeExpiredClaims(this.#state(queue), window, this.clock.now());
  }

  async claimLeases(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>> {
    return claimLeasesOf(this.#state(queue), ids, this.clock.now());
  }

  // Which workers serve a queue (./memory-worker-directory.ts)

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

  // Reads (./memory-reads.ts)

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

  async getScheduled(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    return scheduledPage(this.#state(queue), page);
  }

  async getAllTasks(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    return taskPage(this.#state(queue), page, this.clock.now());
  }

  async listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage> {
    return listPage(this.#state(queue), request, this.clock.now());
  }

  async size(queue: string): Promise<number> {
    return this.#state(queue).pending.size;
  }

  async getStats(queue: string): Promise<QueueStats> {
    return queueStats(this.#state(queue), this.clock.now());
  }

  async listQueues(): Promise<Map<string, number>> {
    if (!this.#connected) throw notConnectedError("memory backend", this.#closed);
    const queues = new Map<string, number>();
    const now = this.clock.now();
    for (const [name, state] of this.#queues) {
      state.expire(now);
      if (state.entries.size > 0) queues.set(name, state.pending.size);
    }
    return queues;
  }

  async watchFinished(
    queue: string,
    listener: (ids: readonly string[]) => void,
  ): Promise<() => void> {
    const listeners = this.#state(queue).finishedListeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
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

  async listCronQueues(): Promise<string[]> {
    if (!this.#connected)
      throw new BackendError("memory backend is not connected: call connect() first");
    return [...this.#queues]
      .flatMap(([name, state]) => (state.crons.size > 0 ? [name] : []))
      .sort();
  }

  // Pausing (kept beside the queues' state, so clearing a queue keeps it)

  async setPaused(queue: string, paused: boolean): Promise<void> {
    const state = this.#state(queue);
    if (paused === this.#paused.has(queue)) return;
    if (paused) {
      this.#paused.add(queue);
      return;
    }
    this.#paused.delete(queue);
    this.#announce(queue, state, { claimable: true, nextDue: undefined, finished: [] });
  }

  async isPaused(queue: string): Promise<boolean> {
    this.#state(queue);
    return this.#paused.has(queue);
  }

  /** How many tasks a claim of `limit` may take now: none while paused, at most the room under the queue's cap. */
  #room(queue: string, state: MemoryQueueState, limit: number): number {
    if (this.#paused.has(queue)) return 0;
    const cap = this.#caps.get(queue);
    return cap === undefined ? limit : Math.min(limit, cap - state.claims.size);
  }

  async setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    const state = this.#state(queue);
    if (limit === null) this.#caps.delete(queue);
    else this.#caps.set(queue, limit);
    this.#announce(queue, state, { claimable: true, nextDue: undefined, finished: [] });
  }

  async getConcurrencyLimit(queue: string): Promise<number | null> {
    this.#state(queue);
    return this.#caps.get(queue) ?? null;
  }

  async listPaused(): Promise<string[]> {
    if (!this.#connected)
      throw new BackendError("memory backend is not connected: call connect() first");
    return [...this.#paused].sort();
  }

  // Rate limits

  async acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null> {
    return acquireSlot(this.#state(queue).rateWindow(request.key), request);
  }
}
