/**
 * @module testing/test-queue
 * `TestQueue`: a `Queue` on a private memory backend whose tasks run only when
 * the test says so — `processNext()`, `processAll()`, `processScheduled()` —
 * in the test's own process, through the same attempt pipeline a worker uses
 * (rate limits, fences and the settle included). It differs from a worker
 * only in where claims come from: the test picks them, and a retry is
 * claimable at once (its record keeps its real `nextRetryAt`), so tests
 * never wait for a retry delay. Rate limits hold, counted on the queue's
 * clock: an over-limit task is settled back as `scheduled` for its slot, and
 * with a `TestClock`, `advance()` then `processScheduled()` runs it.
 * Finished records are kept for the life of the queue (no retention limits).
 */
import type { ClaimedTask } from "../backends/backend.js";
import { MemoryBackend } from "../backends/memory/memory-backend.js";
import { InvalidOptionError, WorkflowNotFoundError } from "../errors.js";
import { type Attempt, AttemptPipeline } from "../execution/attempt-pipeline.js";
import { createExecutionEnvironment } from "../execution/execution-environment.js";
import { CRON_RUNS_AHEAD } from "../queue/cron-runs.js";
import { decodeTask } from "../queue/decode-task.js";
import { type AddWorkflowOptions, Queue } from "../queue/queue.js";
import { describeGiven } from "../task/describe-value.js";
import type { Task } from "../task/task-record.js";
import type { Workflow } from "../task/workflow-record.js";
import { isResumeTaskName } from "../task/workflow-resume-task.js";
import { scheduleCronRuns } from "../worker/cron-manager.js";
import { DEFAULT_CRON_INTERVAL_S } from "../worker/worker-options.js";
import { resolveTestQueueOptions, type TestQueueOptions } from "./test-queue-options.js";

/** What a `waitFor` that timed out on tasks nothing ran says to do: a TestQueue has no worker to start. */
const IDLE_HINT =
  "nothing has run them — a TestQueue has no worker: run them with processAll() or processNext() (processScheduled() for scheduled ones) before waiting";

/** What a `waitForWorkflow` that timed out on workflows none of whose steps ran says to do. */
const IDLE_WORKFLOW_HINT =
  "none of their steps has run — a TestQueue has no worker: run them with processAll() before waiting, or add and run a workflow in one call with processWorkflow()";

export class TestQueue extends Queue {
  /** Every attempt processed, in order (a retried task appears once per attempt). */
  readonly processedTasks: Task[] = [];
  /** Every attempt that ended with an error, including attempts followed by a retry. */
  readonly failedTasks: Task[] = [];
  /** Errors thrown by dependency teardown (they do not change an attempt's outcome). */
  readonly teardownErrors: { taskId: string; error: unknown }[] = [];
  readonly #memory: MemoryBackend;
  /** Attempts run so far, workflow resumes included. */
  #attempts = 0;
  readonly #pipeline: AttemptPipeline;
  /** The attempts running now, by task id: a forced cancel fires their signal, as inline processing does. */
  readonly #running = new Map<string, Attempt>();

  /**
   * @example
   * const queue = new TestQueue();
   * await queue.add(sendEmail("a@example.com", "Hi"));
   * const [done] = await queue.processAll();
   */
  constructor(options: TestQueueOptions = {}) {
    const { clock, middleware, dependencyOverrides } = resolveTestQueueOptions(options);
    const memory = new MemoryBackend({
      instantProcessing: false,
      clock,
      ttl: null,
      errorTtl: null,
      maxFinished: null,
      maxFailed: null,
    });
    super(memory, {
      name: options.name ?? "test-queue",
      clock,
      ...(options.maxPayloadBytes === undefined
        ? {}
        : { maxPayloadBytes: options.maxPayloadBytes }),
    });
    this.#memory = memory;
    const name = this.name;
    this.#pipeline = new AttemptPipeline({
      queue: name,
      store: memory,
      environment: createExecutionEnvironment(name, {
        clock,
        middleware,
        dependencyOverrides,
        maxPayloadBytes: this.maxPayloadBytes,
        workflows: memory,
        onTeardownError: (error, data) => {
          this.teardownErrors.push({ taskId: data.id, error });
        },
      }),
      settle: async (settlement, now) => (await memory.settle(name, [settlement], now))[0]!,
    });
  }

  /**
   * Runs the oldest pending task; returns the attempt's record, or `null` when nothing is pending.
   * A task its rate limit puts off is scheduled for its slot and the next pending one runs instead.
   */
  async processNext(): Promise<Task | null> {
    await this.connect();
    for (;;) {
      const [claim] = await this.#memory.claim(this.name, 1);
      if (!claim) return null;
      const task = await this.#process(claim);
      if (task) return task;
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
   * the highest priority first and the earliest due within one, as a worker
   * claims them, and returns their attempts. One its rate limit puts off is
   * scheduled again. On a paused queue, or while its concurrency cap is taken
   * (by a `processAll()` running meanwhile), a due task becomes pending and
   * waits, as it would for a worker. What they add — retries, chained tasks —
   * is pending: `processAll()` runs it. Cron runs are followed as a worker
   * running all along would have: after the runs due by `cutoff`, a tick of
   * the cron manager at the last one's time schedules the next ones, and those
   * due by `cutoff` run too — so one `advance(3600)` runs all sixty runs of a
   * cron `every: 60` once `scheduleCronRuns()` has scheduled its first.
   */
  async processScheduled(cutoff?: Date | number): Promise<Task[]> {
    await this.connect();
    const at = this.#cutoff(cutoff);
    const processed: Task[] = [];
    for (;;) {
      const lastCronRun = await this.#processDue(at, processed);
      if (lastCronRun === null) return processed;
      if ((await this.#tickCrons(lastCronRun, CRON_RUNS_AHEAD)) === 0) return processed;
    }
  }

  /**
   * Runs the scheduled tasks due by `at` (into `processed`); returns when the
   * latest cron run among them was due, or `null` when none was a cron's run.
   */
  async #processDue(at: number, processed: Task[]): Promise<number | null> {
    const moved = await this.#memory.promoteDue(this.name, at);
    const records = await this.#memory.getTasks(this.name, moved);
    const order = moved
      .map((id, due) => ({ id, due, priority: records.get(id)?.priority ?? 0 }))
      .sort((a, b) => b.priority - a.priority || a.due - b.due);
    let lastCronRun: number | null = null;
    for (const { id } of order) {
      const record = records.get(id);
      if (record?.cronId != null && record.scheduledAt !== null) {
        lastCronRun = Math.max(lastCronRun ?? 0, Date.parse(record.scheduledAt));
      }
      // One at a time, so a cap is judged as the ones before end.
      const [claim] = this.#memory.claimIds(this.name, [id]);
      if (!claim) continue;
      const task = await this.#process(claim);
      if (task) processed.push(task);
    }
    return lastCronRun;
  }

  /** One tick of a worker's cron manager at `now`; how many runs it added. */
  #tickCrons(now: number, count: number): Promise<number> {
    return scheduleCronRuns(this, now, count, undefined, 2 * DEFAULT_CRON_INTERVAL_S * 1000);
  }

  /** A `waitFor` timeout on tasks nothing has run says to run them: no worker ever will. */
  /** @internal A forced cancel of a task this queue is running fires its signal at once. */
  override interruptInline(id: string, reason: Error): void {
    this.#running.get(id)?.interrupt(reason);
  }

  protected override idleWaitHint(): string {
    return IDLE_HINT;
  }

  /** Likewise for a `waitForWorkflow` timeout on workflows none of whose steps has run. */
  protected override idleWorkflowWaitHint(): string {
    return IDLE_WORKFLOW_HINT;
  }

  /**
   * Does what one tick of a worker's cron manager does: schedules the next
   * `count` runs (default 3) of every cron of this queue after the clock's
   * now — and, as a worker with the default `cronInterval` (10 s) does, every
   * later run due before the tick after next, so a cron of a shorter interval
   * (`every: 2`) leaves no gap — skipping runs already scheduled. Returns how
   * many runs it added. With a `TestClock`, advance past a run and
   * `processScheduled()` runs it.
   * @example
   * await queue.addCron(report(), "0 * * * *");
   * await queue.scheduleCronRuns();
   * await clock.advance(3600);
   * const [run] = await queue.processScheduled();
   */
  async scheduleCronRuns(count = CRON_RUNS_AHEAD): Promise<number> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `scheduleCronRuns(): count must be an integer ≥ 1 (got ${describeGiven(count)})`,
      );
    }
    await this.connect();
    return this.#tickCrons(this.clock.now(), count);
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
        `processScheduled(): expected a Date or seconds from now (got ${describeGiven(cutoff)})`,
      );
    }
    return now + cutoff * 1000;
  }

  /**
   * Starts a workflow and runs it to its end in this process — its steps,
   * their retries (without waiting) and its resumes — and returns it
   * completed, failed or cancelled; or as it stands when nothing is left to
   * run now (a step waiting for a time: advance the clock, `processScheduled()`).
   * It runs the queue as `processAll()` does: other pending tasks run too.
   * `options` are `addWorkflow`'s (an `id` of your own).
   * @example const done = await queue.processWorkflow(onboard("u1")); if (done.status === "completed") done.result
   */
  async processWorkflow<R>(
    workflow: Workflow<R>,
    options?: AddWorkflowOptions,
  ): Promise<Workflow<R>> {
    const added = await this.addWorkflow(workflow, options);
    for (;;) {
      const current = await this.getWorkflow(added);
      if (!current) throw new WorkflowNotFoundError(added.id, this.name);
      const before = this.#attempts;
      if (current.isFinished) return current;
      await this.processAll();
      if (this.#attempts === before) return current;
    }
  }

  /**
   * Runs one claim through the pipeline; `null` when its rate limit put it
   * off, or when it was a workflow's resume (not a task of the user's:
   * not listed, and not returned).
   */
  async #process(claim: ClaimedTask): Promise<Task | null> {
    const id = claim.record.id;
    const end = await this.#pipeline.process(claim, this.#running);
    if (!end) return null;
    this.#attempts++;
    if (end.result === "lost") {
      // Its outcome was discarded (cancelled while it ran): the attempt is what the queue holds.
      const stored = (await this.#memory.getTasks(this.name, [id])).get(id);
      if (stored) {
        const task = await decodeTask(stored);
        this.processedTasks.push(task);
        return task;
      }
    }
    if (isResumeTaskName(end.record.name)) {
      if (end.record.status === "retrying") this.#memory.promoteNow(this.name, [end.record.id]);
      return null;
    }
    // Retries run at once here: the record keeps its real delay, the test queue does not wait for it.
    if (end.record.status === "retrying") this.#memory.promoteNow(this.name, [end.record.id]);
    const task = await decodeTask(end.record);
    this.processedTasks.push(task);
    if (end.record.error !== null) this.failedTasks.push(task);
    return task;
  }
}
