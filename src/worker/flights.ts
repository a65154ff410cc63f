/**
 * @module worker/flights
 * The worker's attempts in flight, from start to landing; each runs through
 * its queue's attempt pipeline (`execution/attempt-pipeline`). An attempt
 * takes a slot when it starts and frees it as soon as its function returns:
 * the next task may start while the outcome is being settled (the claim is
 * kept, and renewed, until then). It lands once its outcome has reached the
 * backend — then the summary counts it, its event is emitted and whoever
 * waits for a landing wakes. At shutdown, attempts still running after the
 * grace are abandoned and put back in the queue; attempts only waiting for
 * their settle are let land.
 */

import type { ClaimedTask, ClaimRef } from "../backends/backend.js";
import { dueTimeOf } from "../backends/record-route.js";
import { systemClock } from "../clock.js";
import { TaskCancelledError, TaskInterruptedError } from "../errors.js";
import type { WorkerEventSink } from "../events.js";
import { type Attempt, type AttemptEnd, AttemptPipeline } from "../execution/attempt-pipeline.js";
import type { ExecutionEnvironment } from "../execution/execute-task.js";
import { createExecutionEnvironment } from "../execution/execution-environment.js";
import { requeuedRecord } from "../execution/outcome.js";
import type { Queue } from "../queue/queue.js";
import { Task, type TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { isSleepStep } from "../task/workflow-sleep.js";
import type { DueAlarm } from "./due-alarm.js";
import type { Slots } from "./slots.js";
import { logCompleted, logFailed, logStarted } from "./task-log.js";
import { UnknownTaskLog } from "./unknown-task-log.js";
import type { WorkRun } from "./work-run.js";
import type { WorkerMetrics } from "./worker-metrics.js";
import type { ResolvedWorkerOptions } from "./worker-options.js";

interface Flight {
  readonly queue: Queue;
  readonly claim: ClaimedTask;
  readonly attempt: Attempt;
  /** The function has returned; its slot is free while the outcome is being settled. */
  finished: boolean;
  /** Interrupted at shutdown and put back: its outcome, if it ever comes, is dropped. */
  abandoned: boolean;
  /** Its claim went to another worker: no longer renewed, and reported lost once. */
  lost: boolean;
  /** Whether its claim ended because the task was cancelled while it ran; unknown until a renewal found it lost. */
  cancelled?: boolean;
  /** What waits for it to land: the start of the task's next attempt, told after this one's end. */
  readonly afterLanding: (() => void)[];
}

/**
 * One queue's attempts in flight, and the pipeline of the current run. Keyed
 * by claim, not task id: a task settled back as claimable (a retry due at
 * once) can be claimed again while its previous attempt is still landing.
 */
interface Lane {
  readonly environment: ExecutionEnvironment;
  readonly flights: Map<ClaimedTask, Flight>;
  /** Claims waiting for a free slot before they start (see `waitForSlot`); `lost` once no longer this worker's. */
  readonly waiting: Set<{ readonly claim: ClaimedTask; lost: boolean }>;
  pipeline: AttemptPipeline | undefined;
}

/** Every attempt a worker has started and not yet landed, across its queues. */
export class Flights {
  readonly #lanes = new Map<Queue, Lane>();
  /** Woken at the next landing: a oneshot claim loop waiting for more work, shutdown waiting for the last one. */
  #landingWaiters: (() => void)[] = [];
  /** Told when running attempts are found lost (a shutdown stops waiting for them); a set, as a check is listed again each time it looks. */
  readonly #lossWaiters = new Set<() => void>();
  #landings = 0;
  /** Whether the last write of a task's reports failed: its warning is said once until one works again. */
  #progressFailing = false;
  /** Put-backs of tasks whose name is unknown here, said once a minute per name. */
  readonly #unknownTaskLog: UnknownTaskLog;

  constructor(
    queues: readonly Queue[],
    private readonly events: WorkerEventSink,
    private readonly slots: Slots,
    private readonly options: ResolvedWorkerOptions,
    private readonly metrics: WorkerMetrics,
    private readonly dueAlarm: DueAlarm,
  ) {
    this.#unknownTaskLog = new UnknownTaskLog(options.logger, options.unknownTaskGraceMs);
    for (const queue of queues) {
      const environment = createExecutionEnvironment(queue.name, {
        ...options,
        maxPayloadBytes: queue.maxPayloadBytes,
        workflows: queue.backend,
      });
      this.#lanes.set(queue, {
        environment,
        flights: new Map(),
        waiting: new Set(),
        pipeline: undefined,
      });
    }
  }

  /** Binds a `work()` run: outcomes settle through its writer and count into its summary. */
  begin(run: WorkRun): void {
    for (const [queue, lane] of this.#lanes) {
      lane.pipeline = new AttemptPipeline({
        queue: queue.name,
        store: queue.backend,
        environment: lane.environment,
        settle: (settlement, now) => run.writer.settle(queue, settlement, now),
        hooks: {
          started: (claim) => {
            // A retry due at once can start here before its previous attempt's `task:retrying`
            // was told (that settle's answer still on its way): told in order, after it.
            const previous = settlingAttemptOf(lane, claim);
            if (previous) previous.afterLanding.push(() => this.#announceStarted(queue, claim));
            else this.#announceStarted(queue, claim);
          },
          executed: (claim) => {
            const flight = lane.flights.get(claim);
            if (!flight || flight.abandoned) return;
            // The next task may start while this outcome is settled (the claim is kept until then).
            flight.finished = true;
            this.slots.release(1);
          },
          settled: (claim, end) => {
            if (end.result === "settled") this.#tellDue(end.record);
            const flight = lane.flights.get(claim);
            if (flight && !flight.abandoned) this.#land(flight, end, run);
          },
          handedBack: (claim, end) => {
            const flight = lane.flights.get(claim);
            if (flight && !flight.abandoned) this.#land(flight, end, run, "handed back");
          },
          progressed: (_claim, record) => {
            if (this.#progressFailing) {
              this.#progressFailing = false;
              this.options.logger.warn("writing tasks' progress works again");
            }
            if (this.events.listenerCount("task:progress") > 0)
              this.events.emit("task:progress", {
                queue: queue.name,
                task: new Task(record, null),
              });
          },
          deferred: (_claim, record, result) => {
            // A task put back because its name is unknown here is not this worker's to wake for:
            // woken at the very moment it comes due, this worker would claim it again before one
            // that knows it, at every put-back. The schedulers' rounds make it claimable.
            if (result === "settled" && findTask(record.name)) this.#tellDue(record);
            // At debug: a busy rate limit puts off many tasks, each one a line.
            this.options.logger.debug(
              {
                queue: queue.name,
                taskId: record.id,
                task: record.name,
                until: record.scheduledAt,
              },
              isSleepStep(record)
                ? "workflow's sleep step put off to its wake time"
                : findTask(record.name)
                  ? "task put off to its rate-limit slot"
                  : "task put off (its name is not defined here)",
            );
            if (this.events.listenerCount("task:deferred") > 0)
              this.events.emit("task:deferred", {
                queue: queue.name,
                task: new Task(record, null),
              });
          },
          cancelled: (_claim, record, result) => {
            if (result !== "settled") return;
            this.options.logger.info(
              {
                queue: queue.name,
                taskId: record.id,
                task: record.name,
                workflowId: record.workflowId,
              },
              "a step of a workflow that has ended was cancelled instead of run",
            );
          },
        },
        onProgressError: (error) => {
          // Once per outage, not once per report of every running task; the recovery is said too.
          if (this.#progressFailing) return;
          this.#progressFailing = true;
          this.options.logger.warn(
            { err: error, queue: queue.name },
            "writing a task's progress failed; its outcome will carry it (said once until writing works again)",
          );
        },
        unknownTaskGraceMs: this.options.unknownTaskGraceMs,
        onUnknownTask: (record, delayMs, unknownForMs) =>
          this.#unknownTaskLog.putBack(queue.name, record, delayMs, unknownForMs),
        onWorkflowCheckError: (error) => {
          this.events.emit("worker:error", { error, during: "workflow check" });
          this.options.logger.warn(
            { err: error, queue: queue.name },
            "cannot read whether workflows still run; their steps start all the same",
          );
        },
        onRateCheckError: (error) => {
          this.events.emit("worker:error", { error, during: "rate limit" });
          this.options.logger.warn(
            { err: error, queue: queue.name },
            "cannot check rate limits; tasks put off",
          );
        },
        onHookError: (error, stage) =>
          this.options.logger.error(
            { err: error, queue: queue.name, stage },
            "a worker event listener threw; the task was not affected",
          ),
      });
    }
  }

  #pipeline(queue: Queue): AttemptPipeline {
    const pipeline = this.#lanes.get(queue)?.pipeline;
    if (!pipeline) throw new Error("Flights.begin() was not called for this run");
    return pipeline;
  }

  /** Attempts whose function is running right now. */
  get running(): number {
    let count = 0;
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) if (!flight.finished) count++;
    }
    return count;
  }

  /** How long (ms) the attempt running longest has run by `now`; 0 when none runs. */
  longestRunningMs(now: number): number {
    let earliest = now;
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) {
        if (flight.finished) continue;
        const started = Date.parse(flight.claim.record.startedAt ?? "");
        if (started < earliest) earliest = started;
      }
    }
    return now - earliest;
  }

  /** Attempts not yet landed: running, or finished with their outcome still being settled. */
  get unlanded(): number {
    let count = 0;
    for (const { flights } of this.#lanes.values()) count += flights.size;
    return count;
  }

  /** Attempts landed so far; a oneshot claim loop compares it across a claim to catch landings it did not wait for. */
  get landings(): number {
    return this.#landings;
  }

  /** Attempts of `queue` not yet landed. */
  unlandedIn(queue: Queue): number {
    return this.#lanes.get(queue)?.flights.size ?? 0;
  }

  /** The claims this worker keeps in `queue`: every attempt not yet landed whose claim is still its own. */
  claimsIn(queue: Queue): ClaimRef[] {
    const claims: ClaimRef[] = [];
    const lane = this.#lanes.get(queue);
    for (const flight of lane?.flights.values() ?? []) {
      if (!flight.lost) claims.push({ id: flight.attempt.id, fence: flight.attempt.fence });
    }
    for (const { claim, lost } of lane?.waiting ?? []) {
      if (!lost) claims.push({ id: claim.record.id, fence: claim.fence });
    }
    return claims;
  }

  /**
   * Holds `claim` of `queue` — claimed while every slot was busy — until a
   * slot is free, its claim renewed meanwhile, and reserves that slot: `true`
   * then. `false`, with no slot reserved, when the run stopped first or the
   * claim was lost meanwhile (a cancel); the caller hands a stopped one back.
   * Handing it back at once instead would cost a task of a concurrency key
   * its place in the key's line.
   */
  async waitForSlot(queue: Queue, claim: ClaimedTask, signal: AbortSignal): Promise<boolean> {
    const lane = this.#lanes.get(queue)!;
    const entry = { claim, lost: false };
    lane.waiting.add(entry);
    try {
      if ((await this.slots.reserve(1, signal)) === 0) return false;
      if (!entry.lost) return true;
      this.slots.release(1);
      return false;
    } finally {
      lane.waiting.delete(entry);
    }
  }

  /**
   * Marks `queue`'s attempts of `claims` lost: their claim is not this
   * worker's any more, so their outcome will be refused. A lost claim is not
   * renewed again, so each is reported once, not at every heartbeat while its
   * function goes on. Returns the records of those still running, as claimed.
   */
  markLost(queue: Queue, claims: readonly ClaimRef[]): TaskData[] {
    const lost = new Set(claims.map((claim) => claimKey(claim.id, claim.fence)));
    const running: TaskData[] = [];
    const lane = this.#lanes.get(queue);
    for (const flight of lane?.flights.values() ?? []) {
      const { id, fence } = flight.attempt;
      if (flight.lost || !lost.has(claimKey(id, fence))) continue;
      flight.lost = true;
      if (!flight.finished) running.push(flight.claim.record);
    }
    // One waiting for a slot never starts.
    for (const entry of lane?.waiting ?? []) {
      if (lost.has(claimKey(entry.claim.record.id, entry.claim.fence))) entry.lost = true;
    }
    // A shutdown waiting for its running tasks need not wait for these any more.
    if (running.length > 0) {
      const waiting = [...this.#lossWaiters];
      this.#lossWaiters.clear();
      for (const wake of waiting) wake();
    }
    return running;
  }

  /**
   * Fires the AbortSignal of `queue`'s lost attempts of `records` that still
   * run, so a cooperative task stops wasting work (a sandboxed one is stopped
   * outright): with a `TaskCancelledError` for the ids in `cancelled` (the
   * task was cancelled while it ran), else a `TaskInterruptedError` (another
   * worker runs it now, or it is gone).
   */
  interruptLost(queue: Queue, records: readonly TaskData[], cancelled: ReadonlySet<string>): void {
    const lost = new Set(records);
    for (const flight of this.#lanes.get(queue)?.flights.values() ?? []) {
      const { id } = flight.attempt;
      if (!flight.lost || !lost.has(flight.claim.record)) continue;
      flight.cancelled = cancelled.has(id);
      if (flight.finished) continue;
      flight.attempt.interrupt(
        cancelled.has(id)
          ? new TaskCancelledError(id)
          : new TaskInterruptedError(
              "this worker lost the task's claim; another worker runs it now",
            ),
      );
    }
  }

  /** When `claim` (just reclaimed) is one of this worker's own attempts, it keeps running under the new fence; `true` then. */
  adopt(queue: Queue, claim: ClaimedTask): boolean {
    for (const flight of this.#lanes.get(queue)?.flights.values() ?? []) {
      if (flight.attempt.id !== claim.record.id) continue;
      flight.attempt.adopt(claim.fence);
      flight.lost = false;
      return true;
    }
    return false;
  }

  /** Whether `claim` must pass the pipeline's gates (a rate limit, an unknown name) before it starts. */
  needsAdmission(queue: Queue, claim: ClaimedTask): boolean {
    return this.#pipeline(queue).needsAdmission(claim);
  }

  /** Sorts claims through the pipeline's gates: the admitted may start; the others are settled back for later. */
  admit(queue: Queue, claims: readonly ClaimedTask[]) {
    return this.#pipeline(queue).admit(claims);
  }

  /** Starts an attempt of an admitted claim; its slot is already reserved. */
  start(queue: Queue, claim: ClaimedTask): void {
    const lane = this.#lanes.get(queue)!;
    const pipeline = this.#pipeline(queue);
    // In the map before it starts: the pipeline's hooks look the flight up by its claim.
    const flight = {
      queue,
      claim,
      finished: false,
      abandoned: false,
      lost: false,
      afterLanding: [] as (() => void)[],
    } as Flight;
    lane.flights.set(claim, flight);
    (flight as { attempt: Attempt }).attempt = pipeline.start(claim);
  }

  /** A settled record that waits for a time (a retry, a put-off start) wakes the scheduler then. */
  #tellDue(record: TaskData): void {
    if (record.finishedAt !== null) return;
    const at = dueTimeOf(record);
    if (at !== null) this.dueAlarm.due(at);
  }

  /** Settles claims back as pending without running them (claimed while stopping). */
  release(queue: Queue, claims: readonly ClaimedTask[]): void {
    for (const claim of claims) void this.#pipeline(queue).release(claim);
  }

  /** Ends a claim taken over from a worker that stopped renewing it. */
  crash(queue: Queue, claim: ClaimedTask): Promise<AttemptEnd> {
    return this.#pipeline(queue).crash(claim);
  }

  /** Counts, logs and tells (`task:started`) that an attempt of `claim` started. */
  #announceStarted(queue: Queue, claim: ClaimedTask): void {
    this.metrics.started(queue.name, claim.record);
    if (this.options.logTasks === true) logStarted(this.options.logger, queue.name, claim.record);
    if (this.events.listenerCount("task:started") > 0)
      this.events.emit("task:started", { queue: queue.name, task: new Task(claim.record, null) });
  }

  /** Bookkeeping once an attempt's outcome, or its task handed back at shutdown, reached the backend (or could not). */
  #land(flight: Flight, end: AttemptEnd, run: WorkRun, how: "ran" | "handed back" = "ran"): void {
    this.#lanes.get(flight.queue)!.flights.delete(flight.claim);
    try {
      if (how === "ran") this.#tellLanded(flight, end, run);
      else this.#tellHandedBack(flight, end, run);
    } finally {
      // Whatever a listener or the logger threw above (it reaches the hook's error log), the
      // landing counts: a oneshot run and the bound on held tasks wait for it.
      this.#landings++;
      for (const wake of this.#landingWaiters.splice(0)) wake();
      for (const told of flight.afterLanding.splice(0)) told();
    }
  }

  /**
   * Counts, logs and tells (`task:interrupted`) that an attempt's function
   * handed its task back at shutdown, as an interrupted one is.
   */
  #tellHandedBack(flight: Flight, end: AttemptEnd, run: WorkRun): void {
    const { record } = end;
    const fields = { queue: flight.queue.name, taskId: record.id, task: record.name };
    if (end.result !== "settled") {
      this.options.logger.error(
        fields,
        notPutBack("the task that handed itself back at shutdown", end.result),
      );
      return;
    }
    run.summary.handedBack++;
    this.options.logger.info(
      fields,
      "a running task handed itself back at shutdown; it is back in the queue",
    );
    this.#tellInterrupted(flight, record);
  }

  /** Tells `task:interrupted` of `flight`'s task, put back as `pending` (the record as stored back). */
  #tellInterrupted(flight: Flight, pending: TaskData): void {
    if (this.events.listenerCount("task:interrupted") === 0) return;
    this.events.emit("task:interrupted", {
      queue: flight.queue.name,
      task: new Task(pending, null) as Task<unknown, "pending">,
    });
  }

  /** Counts, logs and tells (`task:completed`, `task:failed`, `task:retrying`) how an attempt landed. */
  #tellLanded(flight: Flight, end: AttemptEnd, run: WorkRun): void {
    const { record } = end;
    const queue = flight.queue.name;
    const { events } = this;
    const about = { queue, taskId: record.id, task: record.name, status: record.status };
    if (end.result === "settled") this.metrics.landed(queue, record, end.durationMs);
    if (end.result === "lost") {
      this.metrics.discarded(queue, record);
      void this.#reportLost(flight, about);
    } else if (end.result === "unsettled") {
      this.options.logger.error(
        { ...about, err: end.settleError },
        "could not store a task's outcome; the task will be reclaimed once its lease expires",
      );
    } else if (record.status === "completed") {
      run.summary.processed++;
      if (this.options.logTasks === true)
        logCompleted(this.options.logger, queue, record, end.durationMs);
      if (events.listenerCount("task:completed") > 0) {
        events.emit("task:completed", {
          queue,
          // This branch is the completed one: the event's type says so.
          task: new Task(record, record.result) as Task<unknown, "completed">,
          durationMs: end.durationMs,
        });
      }
    } else if (record.finishedAt !== null) {
      run.summary.failed++;
      if (this.options.logTasks !== false)
        logFailed(this.options.logger, queue, record, end.error, end.durationMs);
      if (events.listenerCount("task:failed") > 0)
        events.emit("task:failed", {
          queue,
          // Finished and not completed: an attempt ends failed, crashed, or cancelled (a step of an ended workflow).
          task: new Task(record, null) as Task<unknown, "failed" | "crashed" | "cancelled">,
          error: end.error,
          durationMs: end.durationMs,
        });
    } else {
      run.summary.retried++;
      if (this.options.logTasks !== false)
        logFailed(this.options.logger, queue, record, end.error, end.durationMs);
      if (events.listenerCount("task:retrying") > 0)
        events.emit("task:retrying", {
          queue,
          task: new Task(record, null),
          error: end.error,
          durationMs: end.durationMs,
        });
    }
  }

  /** Logs an outcome the backend refused: at info when the task was cancelled while it ran (asked of the backend when the renewals did not tell), else a warning. */
  async #reportLost(flight: Flight, about: Record<string, unknown>): Promise<void> {
    const { logger } = this.options;
    const id = flight.attempt.id;
    const cancelled =
      flight.cancelled ?? (await cancelledAmong(flight.queue, [flight.claim.record])).has(id);
    if (cancelled) {
      logger.info(about, "this task was cancelled while it ran; its outcome was discarded");
      return;
    }
    logger.warn(
      about,
      "this task was no longer this worker's when its outcome was to be stored (another worker took it over, it was deleted or its queue cleared, or the backend lost what it held: a server restarted without its data); the outcome was discarded",
    );
  }

  /** Resolves when an attempt lands, or when `signal` aborts. */
  nextLanding(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#landingWaiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * Resolves once every attempt has landed. When the run is stopping, waits
   * only for what is left of the shutdown grace (nothing when forced), then
   * abandons the attempts still running and puts them back in the queue.
   */
  async finishAll(run: WorkRun): Promise<void> {
    const allLanded = () =>
      new Promise<void>((resolve) => {
        const check = () => (this.unlanded === 0 ? resolve() : this.#landingWaiters.push(check));
        check();
      });
    if (!run.stop.signal.aborted) {
      // The run ended by itself (maxTasks reached) and waits for its last tasks, unless a close
      // comes meanwhile: that close gets its grace and then interrupts them, as any close does.
      const listening = new AbortController();
      const stopped = new Promise<false>((resolve) =>
        run.stop.signal.addEventListener("abort", () => resolve(false), {
          once: true,
          signal: listening.signal,
        }),
      );
      const landedFirst = await Promise.race([allLanded().then(() => true), stopped]);
      listening.abort();
      if (landedFirst) return;
    }
    // Told now, not when the grace ends: a long task can save where it is and return within it.
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) if (!flight.finished) flight.attempt.requestStop();
    }
    // The grace is real time, whatever clock the tasks see.
    const clock = systemClock;
    const graceMs = Math.max(
      0,
      this.options.shutdownTimeoutMs - (clock.now() - run.stopRequestedAt),
    );
    // A stopping worker waits only for attempts still its own: one whose task was deleted,
    // cancelled or taken over while it ran has no outcome to store, so its body (one that
    // ignores its signal) is left to itself instead of holding the shutdown for the whole grace.
    const ownLanded = () =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (this.#unlandedOwn === 0) return resolve();
          this.#landingWaiters.push(check);
          this.#lossWaiters.add(check);
        };
        check();
      });
    const grace = new AbortController();
    const landed = await Promise.race([
      ownLanded().then(() => true),
      clock.sleep(graceMs, AbortSignal.any([run.force.signal, grace.signal])).then(() => false),
    ]);
    grace.abort();
    this.#landingWaiters = [];
    this.#lossWaiters.clear();
    if (landed) {
      this.#dropLost(
        new TaskInterruptedError(
          "the worker shut down while the task, no longer this worker's, still ran",
        ),
      );
    } else this.#abandonRunning(run);
  }

  /** Attempts not yet landed that are still this worker's: running, or finished and being settled. */
  get #unlandedOwn(): number {
    let count = 0;
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) if (flight.finished || !flight.lost) count++;
    }
    return count;
  }

  /** Lets go of attempts still running whose claims are no longer this worker's: nothing to put back, nor to count. */
  #dropLost(reason: Error): void {
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) {
        if (flight.finished || !flight.lost) continue;
        flights.delete(flight.claim);
        this.slots.release(1);
        flight.attempt.drop(reason);
      }
    }
  }

  #abandonRunning(run: WorkRun): void {
    const reason = new TaskInterruptedError(
      "the worker shut down before the task finished; it is put back in the queue",
    );
    this.#dropLost(reason);
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) {
        // A finished attempt is only waiting for its outcome to be settled: let it land.
        if (flight.finished) continue;
        flight.abandoned = true;
        flights.delete(flight.claim);
        this.slots.release(1);
        run.summary.interrupted++;
        const { record } = flight.claim;
        const fields = { queue: flight.queue.name, taskId: record.id, task: record.name };
        const putting = flight.attempt.abandon(reason).then((put) => {
          if (put === "settled") return;
          // Said only when it did not happen: the line above promised it.
          flight.attempt.inContext(() =>
            this.options.logger.error(fields, notPutBack("the task interrupted at shutdown", put)),
          );
        });
        // The worker's stop waits for it (within its grace), not only for the writer.
        run.puttingBack.push(putting);
        // In the attempt's span context, as its other lines are: they name the attempt's trace.
        flight.attempt.inContext(() => {
          this.options.logger.warn(
            fields,
            "interrupted a running task at shutdown; putting it back in the queue",
          );
          // The record as it is stored back (pending), not as it was claimed.
          this.#tellInterrupted(flight, requeuedRecord(record));
        });
      }
    }
  }
}

/** The error line for a task that was to be put back at shutdown and was not: its claim lost, or the backend silent. */
function notPutBack(what: string, result: "lost" | "unsettled"): string {
  return result === "lost"
    ? `${what} was not put back: its claim was no longer this worker's (taken over, or cancelled)`
    : `${what} could not be put back (the backend did not answer): it stays claimed until its lease runs out, then another worker takes it over (crashed, or retried with retryOnCrash)`;
}

/**
 * Whether the claim of an attempt of `claimed` ended because its task was
 * cancelled while it ran, judged by the record as it is now: cancelled, or
 * re-run by hand since (only a finished task is re-run, and a running one
 * finishes out of its worker's hands only by a cancel).
 */
function endedByCancel(claimed: TaskData, now: TaskData | undefined): boolean {
  if (now === undefined) return false;
  return (
    now.status === "cancelled" || (now.manualRetryCount ?? 0) > (claimed.manualRetryCount ?? 0)
  );
}

/** A claim as one text: its task's id and its fence. */
const claimKey = (id: string, fence: number) => `${id}\u0000${fence}`;

/** The ids of `claimed` whose claims ended by a cancel, as the backend's records tell (none, when they cannot be read). */
export async function cancelledAmong(
  queue: Queue,
  claimed: readonly TaskData[],
): Promise<Set<string>> {
  try {
    const records = await queue.backend.getTasks(
      queue.name,
      claimed.map((r) => r.id),
    );
    return new Set(claimed.filter((r) => endedByCancel(r, records.get(r.id))).map((r) => r.id));
  } catch {
    return new Set();
  }
}

/** Another attempt of `claim`'s task in `lane` whose function has returned and whose outcome is being settled. */
function settlingAttemptOf(lane: Lane, claim: ClaimedTask): Flight | undefined {
  // A task's first attempt has none before it: no look through the lane on the common path.
  const { retryCount, manualRetryCount } = claim.record;
  if (retryCount === 0 && !manualRetryCount) return undefined;
  for (const flight of lane.flights.values()) {
    if (
      flight.claim !== claim &&
      flight.finished &&
      !flight.lost &&
      flight.claim.record.id === claim.record.id
    )
      return flight;
  }
  return undefined;
}
