/**
 * @module worker/worker
 * `Worker`: claims tasks from one or more queues and runs them, up to a
 * concurrency limit. Inside `work()` run: one claim loop per queue (blocking
 * claims, several tasks per call), the scheduler (due tasks → pending), the
 * cron manager (runs of crons scheduled ahead, declared crons reconciled), and —
 * on backends with leases — one heartbeat/reclaim loop. Outcomes are stored in
 * batches. `close()` stops claiming, lets running tasks finish for
 * `shutdownTimeout`, then interrupts them and puts them back in the queue.
 */
import { EventEmitter } from "node:events";
import { systemClock } from "../clock.js";
import { SheppyError, TaskInterruptedError, WorkerCrashedError } from "../errors.js";
import type { WorkerEventMap } from "../events.js";
import {
  type ExecutionEnvironment,
  type RunningAttempt,
  startAttempt,
} from "../execution/execute-task.js";
import { failedRecord, requeuedRecord } from "../execution/outcome.js";
import { Queue } from "../queue/queue.js";
import { Task, type TaskData } from "../task/task-record.js";
import { Backoff } from "./backoff.js";
import { runCronManager } from "./cron-manager.js";
import { DeclaredCrons } from "./declared-crons.js";
import { runExpirySweeper } from "./expiry-sweeper.js";
import { runLeaseKeeper } from "./lease-keeper.js";
import { gateClaims } from "./rate-gate.js";
import { ResultWriter } from "./result-writer.js";
import { runScheduler } from "./scheduler.js";
import { onShutdownSignals } from "./shutdown-signals.js";
import { Slots } from "./slots.js";
import {
  type ResolvedWorkerOptions,
  resolveWorkerOptions,
  type WorkerOptions,
} from "./worker-options.js";

export interface WorkOptions {
  /** Return after claiming this many tasks (each retry attempt is a claim) and finishing them. */
  maxTasks?: number;
  /** Return once every queue comes back empty (tasks scheduled for later do not keep it running). */
  oneshot?: boolean;
}

/** What one `work()` call did. */
export interface WorkSummary {
  /** Attempts that completed. */
  processed: number;
  /** Attempts that failed with no retry left. */
  failed: number;
  /** Attempts that failed and were re-queued for a retry. */
  retried: number;
  /** Tasks of dead workers this worker reclaimed. */
  reclaimed: number;
  /** Running attempts interrupted at shutdown and put back in the queue. */
  interrupted: number;
}

interface Flight {
  readonly queue: Queue;
  readonly data: TaskData;
  readonly attempt: RunningAttempt;
  readonly startedAt: number;
  /** The function has returned; its slot is free while the outcome is being stored. */
  finished: boolean;
  abandoned: boolean;
}

/** State of one `work()` call. */
class Run {
  /** Aborted by `close()`: claim no more. */
  readonly stop = new AbortController();
  /** Aborted by a forced close: stop waiting for running tasks and writes. */
  readonly force = new AbortController();
  /** Aborted when `work()` winds down: background loops end. */
  readonly background = new AbortController();
  stopRequestedAt = 0;
  remaining: number;
  readonly summary: WorkSummary = {
    processed: 0,
    failed: 0,
    retried: 0,
    reclaimed: 0,
    interrupted: 0,
  };

  constructor(
    maxTasks: number,
    readonly oneshot: boolean,
  ) {
    this.remaining = maxTasks;
  }
}

export class Worker extends EventEmitter<WorkerEventMap> {
  readonly queues: readonly Queue[];
  readonly #options: ResolvedWorkerOptions;
  readonly #slots: Slots;
  readonly #flights = new Map<Queue, Map<string, Flight>>();
  readonly #environments = new Map<Queue, ExecutionEnvironment>();
  #settled: (() => void)[] = [];
  /** Attempts landed so far; a oneshot claim loop compares it across a claim to catch landings it did not wait for. */
  #landings = 0;
  #run: Run | undefined;
  #working: Promise<WorkSummary> | undefined;

  /**
   * @example
   * const worker = new Worker(new Queue("redis://localhost:6379"), { concurrency: 50 });
   * await worker.work(); // until worker.close()
   */
  constructor(queues: Queue | readonly Queue[], options: WorkerOptions = {}) {
    super();
    const list = queues instanceof Queue ? [queues] : [...queues];
    if (list.length === 0 || !list.every((q) => q instanceof Queue)) {
      throw new SheppyError("new Worker() needs a Queue or a non-empty list of Queues");
    }
    const names = new Set(list.map((q) => `${q.name}`));
    if (names.size !== list.length)
      throw new SheppyError("new Worker() was given the same queue name twice");
    this.queues = list;
    this.#options = resolveWorkerOptions(options);
    this.#slots = new Slots(this.#options.concurrency);
    for (const queue of list) this.#flights.set(queue, new Map());
  }

  /** Tasks whose function is running right now. */
  get running(): number {
    let count = 0;
    for (const flights of this.#flights.values()) {
      for (const flight of flights.values()) if (!flight.finished) count++;
    }
    return count;
  }

  /** Attempts not yet landed: running, or finished with their outcome still being stored. */
  #inFlight(): number {
    let count = 0;
    for (const flights of this.#flights.values()) count += flights.size;
    return count;
  }

  /**
   * Runs until `close()` (or `maxTasks` / `oneshot` says stop). Connects the
   * backends first; a backend that cannot connect rejects at once.
   */
  work(options: WorkOptions = {}): Promise<WorkSummary> {
    if (this.#run) return Promise.reject(new SheppyError("worker.work() is already running"));
    const maxTasks = options.maxTasks ?? Number.POSITIVE_INFINITY;
    if (maxTasks !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxTasks) || maxTasks < 1)) {
      return Promise.reject(
        new SheppyError(
          `work(): maxTasks must be an integer ≥ 1 (got ${String(options.maxTasks)})`,
        ),
      );
    }
    const run = new Run(maxTasks, options.oneshot ?? false);
    this.#run = run;
    this.#working = this.#work(run).finally(() => {
      this.#run = undefined;
    });
    return this.#working;
  }

  /**
   * Stops claiming, waits up to `shutdownTimeout` for running tasks, then
   * interrupts the rest and re-queues them. `force` skips the wait.
   * Resolves when `work()` has returned.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    const run = this.#run;
    if (!run) return;
    if (!run.stop.signal.aborted) {
      run.stopRequestedAt = systemClock.now();
      run.stop.abort();
    }
    if (options.force) run.force.abort();
    await this.#working?.catch(() => undefined);
  }

  async #work(run: Run): Promise<WorkSummary> {
    const { logger } = this.#options;
    await Promise.all(this.queues.map((queue) => queue.connect()));
    const removeSignalHandlers = this.#options.handleSignals
      ? onShutdownSignals(
          () => void this.close(),
          () => void this.close({ force: true }),
        )
      : undefined;
    const writer = new ResultWriter(systemClock, logger, run.force.signal);
    try {
      const background: Promise<void>[] = [];
      if (this.#options.scheduler) background.push(this.#startScheduler(run));
      if (this.#options.cronManager) background.push(this.#startCronManager(run));
      background.push(this.#startExpirySweeper(run));
      if (this.#options.processing && this.queues.some((q) => q.backend.capabilities.leases)) {
        background.push(this.#startLeaseKeeper(run, writer));
      }
      this.emit("worker:started", { queues: this.queues.map((q) => q.name) });
      if (this.#options.processing) {
        await Promise.all(this.queues.map((queue) => this.#claimLoop(queue, run, writer)));
      } else {
        await new Promise<void>((resolve) =>
          run.stop.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      }
      await this.#finishFlights(run, writer);
      await writer.drained();
      run.background.abort();
      await Promise.all(background);
      this.emit("worker:stopped", { processed: run.summary.processed, failed: run.summary.failed });
      return { ...run.summary };
    } finally {
      run.background.abort();
      removeSignalHandlers?.();
    }
  }

  #startScheduler(run: Run): Promise<void> {
    const { logger, clock, schedulerIntervalMs } = this.#options;
    return runScheduler({
      queues: this.queues,
      clock,
      intervalMs: schedulerIntervalMs,
      signal: run.background.signal,
      onError: (error, first) => {
        this.emit("worker:error", { error, during: "scheduler" });
        if (first)
          logger.warn({ err: error }, "scheduler cannot reach the backend; retrying with backoff");
      },
      onRecovered: () => logger.info("scheduler reaches the backend again"),
    });
  }

  #startCronManager(run: Run): Promise<void> {
    const { logger, clock, cronIntervalMs, configFile } = this.#options;
    return runCronManager({
      queues: this.queues,
      clock,
      intervalMs: cronIntervalMs,
      signal: run.background.signal,
      declared:
        configFile === null ? undefined : new DeclaredCrons(configFile, this.queues, logger),
      logger,
      onError: (error, first) => {
        this.emit("worker:error", { error, during: "cron manager" });
        if (first)
          logger.warn(
            { err: error },
            "cron manager cannot reach the backend; retrying with backoff",
          );
      },
      onRecovered: () => logger.info("cron manager reaches the backend again"),
    });
  }

  #startExpirySweeper(run: Run): Promise<void> {
    const { logger, clock, expiryIntervalMs } = this.#options;
    return runExpirySweeper({
      queues: this.queues,
      clock,
      intervalMs: expiryIntervalMs,
      signal: run.background.signal,
      onError: (error, first) => {
        this.emit("worker:error", { error, during: "expiry" });
        if (first) logger.warn({ err: error }, "cannot delete expired records; will try again");
      },
    });
  }

  #startLeaseKeeper(run: Run, writer: ResultWriter): Promise<void> {
    const { logger } = this.#options;
    return runLeaseKeeper({
      queues: this.queues.filter((q) => q.backend.capabilities.leases),
      // Leases are a matter of real time (the server's), whatever clock the tasks see.
      clock: systemClock,
      heartbeatMs: this.#options.heartbeatMs,
      reclaimMs: this.#options.reclaimMs,
      leaseMs: this.#options.leaseMs,
      signal: run.background.signal,
      runningIn: (queue) => [...(this.#flights.get(queue)?.keys() ?? [])],
      onLost: (queue, ids) =>
        logger.warn(
          { queue: queue.name, tasks: ids },
          "lost the lease of running tasks; another worker may run them",
        ),
      onStale: (queue, records) => this.#reclaim(queue, records, run, writer),
      onError: (error, during) => {
        this.emit("worker:error", { error, during });
        logger.warn({ err: error, during }, "lease upkeep failed; will try again");
      },
    });
  }

  async #reclaim(queue: Queue, stale: TaskData[], run: Run, writer: ResultWriter): Promise<void> {
    // A lease of our own that went stale (heartbeats failed during an outage) is simply ours again.
    const running = this.#flights.get(queue);
    const records = stale.filter((r) => !running?.has(r.id));
    const alreadyFinished = records.filter((r) => r.finishedAt !== null).map((r) => r.id);
    if (alreadyFinished.length > 0) await queue.backend.acknowledge(queue.name, alreadyFinished);
    const now = this.#options.clock.now();
    await Promise.all(
      records
        .filter((r) => r.finishedAt === null)
        .map(async (data) => {
          const record = failedRecord(data, new WorkerCrashedError(), now, "crash");
          await writer.store(queue, record);
          run.summary.reclaimed++;
          this.#options.logger.warn(
            { queue: queue.name, taskId: data.id, task: data.name, status: record.status },
            "reclaimed a task whose worker stopped",
          );
          if (this.listenerCount("task:crashed") > 0)
            this.emit("task:crashed", { queue: queue.name, task: new Task(record, null) });
        }),
    );
  }

  async #claimLoop(queue: Queue, run: Run, writer: ResultWriter): Promise<void> {
    const { logger, prefetch, claimWaitMs } = this.#options;
    const backoff = new Backoff();
    const stop = run.stop.signal;
    while (!stop.aborted) {
      const want = Math.min(prefetch, run.remaining);
      if (want <= 0) break;
      const reserved = await this.#slots.reserve(want, stop);
      const take = Math.min(reserved, run.remaining);
      this.#slots.release(reserved - take);
      if (take === 0) break;
      run.remaining -= take;
      let held = take;
      const landingsBefore = this.#landings;
      let claimed: TaskData[];
      try {
        if (run.oneshot) {
          claimed = await queue.backend.pop(queue.name, take, 0);
        } else if (this.queues.length === 1) {
          // One queue: nobody else needs the slots, so wait for work holding all of them.
          claimed = await queue.backend.pop(queue.name, take, claimWaitMs);
        } else {
          claimed = await queue.backend.pop(queue.name, take, 0);
          if (claimed.length === 0 && !stop.aborted) {
            // Idle: block holding a single slot, so the other queues keep the rest.
            this.#slots.release(take - 1);
            run.remaining += take - 1;
            held = 1;
            claimed = await queue.backend.pop(queue.name, 1, claimWaitMs);
          }
        }
        if (backoff.succeed()) logger.info({ queue: queue.name }, "claiming tasks works again");
      } catch (error) {
        this.#slots.release(held);
        run.remaining += held;
        const failure = backoff.fail();
        this.emit("worker:error", { error, during: "claim" });
        if (failure.first)
          logger.warn(
            { err: error, queue: queue.name },
            "cannot claim tasks; retrying with backoff",
          );
        await systemClock.sleep(failure.delayMs, stop);
        continue;
      }
      const unused = held - claimed.length;
      this.#slots.release(unused);
      run.remaining += unused;
      if (claimed.length === 0) {
        if (!run.oneshot) continue;
        // An attempt landed during the claim (its retry or children may be pending now): look again.
        if (this.#landings !== landingsBefore) continue;
        if ((this.#flights.get(queue)?.size ?? 0) === 0) break;
        // A running task may still add work (an immediate retry, chained tasks): look again when one ends.
        await this.#nextSettle(stop);
        continue;
      }
      if (stop.aborted) {
        // Claimed while stopping: hand them straight back.
        for (const data of claimed)
          void writer.store(queue, requeuedRecord(data)).catch(() => undefined);
        this.#slots.release(claimed.length);
        break;
      }
      let limited: TaskData[] | undefined;
      for (const data of claimed) {
        // Only tasks with a rate limit pay for the check; the rest start at once.
        if (!data.config.rateLimit) this.#start(queue, data, run, writer);
        else if (limited) limited.push(data);
        else limited = [data];
      }
      if (limited) await this.#startLimited(queue, limited, run, writer);
    }
  }

  /** Starts the claimed rate-limited tasks their limit admits; puts the others off to their slot (RL-2). */
  async #startLimited(
    queue: Queue,
    claimed: TaskData[],
    run: Run,
    writer: ResultWriter,
  ): Promise<void> {
    const { clock, logger } = this.#options;
    let reported = false;
    const { admitted, deferred } = await gateClaims(
      queue.backend,
      queue.name,
      claimed,
      clock.now(),
      (error) => {
        // One report per batch: a backend outage fails every check of it alike.
        if (reported) return;
        reported = true;
        this.emit("worker:error", { error, during: "rate limit" });
        logger.warn({ err: error, queue: queue.name }, "cannot check rate limits; tasks put off");
      },
    );
    for (const data of admitted) this.#start(queue, data, run, writer);
    if (deferred.length === 0) return;
    // A put-off claim is not an attempt: its slot is free at once and it does not count toward maxTasks (RL-9).
    this.#slots.release(deferred.length);
    run.remaining += deferred.length;
    for (const record of deferred) {
      void writer.store(queue, record).catch(() => undefined);
      if (this.listenerCount("task:deferred") > 0)
        this.emit("task:deferred", { queue: queue.name, task: new Task(record, null) });
    }
  }

  #environment(queue: Queue): ExecutionEnvironment {
    let env = this.#environments.get(queue);
    if (!env) {
      const { logger } = this.#options;
      env = {
        queueName: queue.name,
        clock: this.#options.clock,
        middleware: this.#options.middleware,
        dependencyOverrides: this.#options.dependencyOverrides,
        onTeardownError: (error, data) =>
          logger.warn(
            { err: error, taskId: data.id, task: data.name },
            "dependency teardown failed",
          ),
      };
      this.#environments.set(queue, env);
    }
    return env;
  }

  #start(queue: Queue, data: TaskData, run: Run, writer: ResultWriter): void {
    const attempt = startAttempt(data, this.#environment(queue));
    const flight: Flight = {
      queue,
      data,
      attempt,
      startedAt: this.#options.clock.now(),
      finished: false,
      abandoned: false,
    };
    this.#flights.get(queue)!.set(data.id, flight);
    if (this.listenerCount("task:started") > 0)
      this.emit("task:started", { queue: queue.name, task: new Task(data, null) });
    void attempt.outcome.then(async (outcome) => {
      if (flight.abandoned) return;
      // The next task may start while this outcome is stored (the flight keeps its lease until then).
      flight.finished = true;
      this.#slots.release(1);
      try {
        if (outcome.children.length > 0) {
          await queue.backend.append(
            queue.name,
            outcome.children.map((child) => ({ ...child, status: "pending" as const })),
          );
        }
        await writer.store(queue, outcome.record);
      } catch (error) {
        this.#options.logger.error(
          { err: error, queue: queue.name, taskId: data.id },
          "could not store a task's outcome",
        );
      }
      if (flight.abandoned) return;
      this.#land(flight, outcome.record, outcome.error, run);
    });
  }

  /** Bookkeeping once an attempt's outcome is stored. */
  #land(flight: Flight, record: TaskData, error: unknown, run: Run): void {
    this.#flights.get(flight.queue)!.delete(flight.data.id);
    const queue = flight.queue.name;
    const wants = (event: keyof WorkerEventMap) => this.listenerCount(event) > 0;
    if (record.status === "completed") {
      run.summary.processed++;
      if (wants("task:completed")) {
        const durationMs = this.#options.clock.now() - flight.startedAt;
        this.emit("task:completed", { queue, task: new Task(record, record.result), durationMs });
      }
    } else if (record.finishedAt !== null) {
      run.summary.failed++;
      if (wants("task:failed"))
        this.emit("task:failed", { queue, task: new Task(record, null), error });
    } else {
      run.summary.retried++;
      if (wants("task:retrying"))
        this.emit("task:retrying", { queue, task: new Task(record, null), error });
    }
    this.#landings++;
    for (const wake of this.#settled.splice(0)) wake();
  }

  /** Resolves when a running attempt lands, or when `signal` aborts. */
  #nextSettle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#settled.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async #finishFlights(run: Run, writer: ResultWriter): Promise<void> {
    const allDone = () =>
      new Promise<void>((resolve) => {
        const check = () => (this.#inFlight() === 0 ? resolve() : this.#settled.push(check));
        check();
      });
    if (!run.stop.signal.aborted) {
      await allDone();
      return;
    }
    const { shutdownTimeoutMs } = this.#options;
    const clock = systemClock;
    const graceMs = Math.max(0, shutdownTimeoutMs - (clock.now() - run.stopRequestedAt));
    const grace = new AbortController();
    const finished = await Promise.race([
      allDone().then(() => true),
      clock.sleep(graceMs, AbortSignal.any([run.force.signal, grace.signal])).then(() => false),
    ]);
    grace.abort();
    this.#settled = [];
    if (finished) return;
    const reason = new TaskInterruptedError(
      "the worker shut down before the task finished; it was put back in the queue",
    );
    for (const flights of this.#flights.values()) {
      for (const flight of flights.values()) {
        // A finished attempt is only waiting for its outcome to be written: let the write land.
        if (flight.finished) continue;
        flight.abandoned = true;
        flight.attempt.interrupt(reason);
        flights.delete(flight.data.id);
        this.#slots.release(1);
        run.summary.interrupted++;
        void writer.store(flight.queue, requeuedRecord(flight.data)).catch(() => undefined);
        this.#options.logger.warn(
          { queue: flight.queue.name, taskId: flight.data.id, task: flight.data.name },
          "interrupted a running task at shutdown; it was put back in the queue",
        );
        if (this.listenerCount("task:interrupted") > 0) {
          this.emit("task:interrupted", {
            queue: flight.queue.name,
            task: new Task(flight.data, null),
          });
        }
      }
    }
  }
}
