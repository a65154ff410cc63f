/**
 * @module testing/test-queue
 * `TestQueue`: a `Queue` on a private memory backend whose tasks run only when
 * the test says so — `processNext()`, `processAll()`, `processScheduled()` —
 * in the test's own process, through the same executor a worker uses. Retries
 * are due at once, so tests never wait for a retry delay. Rate limits hold, as
 * on a worker, counted on the queue's clock: an over-limit task is stored back
 * as `scheduled` for its slot, and with a `TestClock` `advance()` then
 * `processScheduled()` runs it.
 */
import { MemoryBackend } from "../backends/memory/memory-backend.js";
import { type Clock, isoAt, systemClock } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { appendChildren } from "../execution/chained-tasks.js";
import { type ExecutionEnvironment, startAttempt } from "../execution/execute-task.js";
import { createExecutionEnvironment } from "../execution/execution-environment.js";
import type { Middleware } from "../execution/middleware.js";
import type { DependencyOverrides } from "../execution/run-context.js";
import { decodeTask } from "../queue/decode-task.js";
import { Queue } from "../queue/queue.js";
import type { Task, TaskData } from "../task/task-record.js";
import { CRON_RUNS_AHEAD, scheduleCronRuns } from "../worker/cron-manager.js";
import { passRateLimit } from "../worker/rate-gate.js";

export interface TestQueueOptions {
  /** Queue name (default `"test-queue"`). */
  name?: string;
  /** Dependency replacements for every task this queue runs. */
  dependencyOverrides?: DependencyOverrides;
  /** Worker-level middleware around every task this queue runs. */
  middleware?: readonly Middleware[];
  /** Time source (default: the system clock). */
  clock?: Clock;
}

export class TestQueue extends Queue {
  /** Every attempt processed, in order (a retried task appears once per attempt). */
  readonly processedTasks: Task[] = [];
  /** Every attempt that ended with an error, including attempts followed by a retry. */
  readonly failedTasks: Task[] = [];
  /** Errors thrown by dependency teardown (they do not change an attempt's outcome). */
  readonly teardownErrors: { taskId: string; error: unknown }[] = [];
  readonly #memory: MemoryBackend;
  readonly #environment: ExecutionEnvironment;

  /**
   * @example
   * const queue = new TestQueue();
   * await queue.add(sendEmail("a@example.com", "Hi"));
   * const [done] = await queue.processAll();
   */
  constructor(options: TestQueueOptions = {}) {
    const clock = options.clock ?? systemClock;
    const memory = new MemoryBackend({ instantProcessing: false, clock });
    super(memory, { name: options.name ?? "test-queue", clock });
    this.#memory = memory;
    this.#environment = createExecutionEnvironment(this.name, {
      clock,
      middleware: options.middleware ?? [],
      dependencyOverrides: options.dependencyOverrides,
      onTeardownError: (error, data) => {
        this.teardownErrors.push({ taskId: data.id, error });
      },
    });
  }

  /**
   * Runs the oldest pending task; returns the attempt's record, or `null` when nothing is pending.
   * A task its rate limit puts off is scheduled for its slot and the next pending one runs instead.
   */
  async processNext(): Promise<Task | null> {
    await this.connect();
    for (;;) {
      const [data] = await this.#memory.pop(this.name, 1);
      if (!data) return null;
      if (!(await this.#deferredByRateLimit(data))) return this.#process(data);
    }
  }

  /** Runs pending tasks until none is left (retries and chained tasks included); returns every attempt in order. */
  async processAll(): Promise<Task[]> {
    const processed: Task[] = [];
    for (let task = await this.processNext(); task; task = await this.processNext())
      processed.push(task);
    return processed;
  }

  /**
   * Runs every scheduled task due by `cutoff` (a `Date`, or seconds from now; default now),
   * earliest first, and returns their attempts. One its rate limit puts off is scheduled again.
   */
  async processScheduled(cutoff?: Date | number): Promise<Task[]> {
    await this.connect();
    const at = this.#cutoff(cutoff);
    const moved = await this.#memory.popScheduled(this.name, at);
    const processed: Task[] = [];
    for (const data of this.#memory.claimIds(
      this.name,
      moved.map((m) => m.id),
    )) {
      if (!(await this.#deferredByRateLimit(data))) processed.push(await this.#process(data));
    }
    return processed;
  }

  /**
   * Does what one tick of a worker's cron manager does: schedules the next
   * `count` runs (default 3) of every cron of this queue after the clock's now,
   * skipping runs already scheduled. Returns how many runs it added. With a
   * `TestClock`, advance past a run and `processScheduled()` runs it.
   * @example
   * await queue.addCron(report(), "0 * * * *");
   * await queue.scheduleCronRuns();
   * await clock.advance(3600);
   * const [run] = await queue.processScheduled();
   */
  async scheduleCronRuns(count = CRON_RUNS_AHEAD): Promise<number> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `scheduleCronRuns(): count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    await this.connect();
    return scheduleCronRuns(this, this.clock.now(), count);
  }

  #cutoff(cutoff: Date | number | undefined): number {
    const now = this.clock.now();
    if (cutoff === undefined) return now;
    if (cutoff instanceof Date) {
      if (Number.isNaN(cutoff.getTime()))
        throw new InvalidOptionError("processScheduled(): invalid Date");
      return cutoff.getTime();
    }
    if (typeof cutoff !== "number" || !Number.isFinite(cutoff)) {
      throw new InvalidOptionError(
        `processScheduled(): expected a Date or seconds from now (got ${String(cutoff)})`,
      );
    }
    return now + cutoff * 1000;
  }

  /**
   * The rate-limit check a worker makes before a claimed task runs (RL-2), at the
   * queue's clock, so a `TestClock` drives the window. `true` when the task is over
   * its limit: it has been stored back as `scheduled` for its slot, not run.
   */
  async #deferredByRateLimit(data: TaskData): Promise<boolean> {
    const deferred = await passRateLimit(this.#memory, this.name, data, this.clock.now());
    if (deferred) await this.#memory.storeResult(this.name, [deferred]);
    return deferred !== null;
  }

  async #process(data: TaskData): Promise<Task> {
    const outcome = await startAttempt(data, this.#environment).outcome;
    if (outcome.children.length > 0)
      await appendChildren(this.#memory, this.name, outcome.children);
    let stored = outcome.record;
    // Retries are due at once here: the record keeps its real delay, the queue ignores it.
    if (stored.status === "retrying") stored = { ...stored, nextRetryAt: isoAt(this.clock.now()) };
    await this.#memory.storeResult(this.name, [stored]);
    const task = await decodeTask(outcome.record);
    this.processedTasks.push(task);
    if (outcome.record.error !== null) this.failedTasks.push(task);
    return task;
  }
}
