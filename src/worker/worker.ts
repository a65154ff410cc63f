/**
 * @module worker/worker
 * `Worker`: claims tasks from one or more queues and runs them, up to a
 * concurrency limit. Inside `work()` run: one claim loop per queue (blocking
 * claims, several tasks per call; see `worker/claim-loop`), the scheduler
 * (due tasks → pending), the cron manager (runs of crons scheduled ahead,
 * declared crons reconciled), the expiry sweeper and — on backends with
 * leases — one heartbeat/reclaim loop (see `worker/background-loops`).
 * Outcomes are stored in batches. `close()` stops claiming, lets running tasks
 * finish for `shutdownTimeout`, then interrupts them and puts them back in
 * the queue (see `worker/flights`). With `handleSignals`, a signal that
 * interrupted tasks also ends the process (see `worker/shutdown-signals`).
 */
import { EventEmitter } from "node:events";
import type { Backend } from "../backends/backend.js";
import { type Clock, systemClock } from "../clock.js";
import { BackendUnavailableError, InvalidOptionError, SheppyError } from "../errors.js";
import type { WorkerEventMap, WorkerListener } from "../events.js";
import { inSandboxThread } from "../execution/sandbox-thread-mark.js";
import type { Logger } from "../observability/logger.js";
import { useBackend } from "../queue/backend-users.js";
import { Queue } from "../queue/queue.js";
import { describeGiven, describeValue } from "../task/describe-value.js";
import { userTaskNames } from "../task/workflow-resume-task.js";
import { maskUrl } from "../util/mask-url.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { ABORTED, unlessAborted } from "../util/unless-aborted.js";
import { startBackgroundLoops } from "./background-loops.js";
import { ClaimGate } from "./claim-gate.js";
import { runClaimLoop } from "./claim-loop.js";
import { DueAlarm } from "./due-alarm.js";
import { warnIfTimersFaked } from "./fake-timers.js";
import { Flights } from "./flights.js";
import { onShutdownSignals } from "./shutdown-signals.js";
import { Slots } from "./slots.js";
import { warnIfUnknowing } from "./unknowing-worker.js";
import { resolveWorkOptions, type WorkOptions } from "./work-options.js";
import { WorkRun, type WorkSummary } from "./work-run.js";
import { workerClock } from "./worker-clock.js";
import type { WorkerContext } from "./worker-context.js";
import { HealthBook, type WorkerHealth, type WorkerStatus } from "./worker-health.js";
import { workerMetrics } from "./worker-metrics.js";
import { resolveWorkerOptions, type WorkerOptions } from "./worker-options.js";

export type { WorkOptions } from "./work-options.js";
export type { WorkSummary } from "./work-run.js";

/**
 * When closing, the longest the worker waits — beyond `shutdownTimeout` — for
 * outcomes to be stored and its loops to end, so `close()` finishes in bounded
 * time even while the backend cannot be reached.
 */
export const STOP_GRACE_MS = 5000;
/** The same, for a forced close. */
export const FORCED_GRACE_MS = 500;

/** Waits until `signal` aborts (at once when it has), or `promise` settles, when given. */
function untilAborted(signal: AbortSignal, promise?: Promise<void>): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    void promise?.then(done, done);
  });
}

/** Whether `promise` settles within `ms` (it is not cancelled either way). */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  if (ms <= 0) return Promise.race([promise.then(() => true), Promise.resolve(false)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The listener methods whose event names the worker types (the rest stay as Node types them). */
type TypedListenerMethods =
  | "on"
  | "once"
  | "off"
  | "addListener"
  | "removeListener"
  | "prependListener"
  | "prependOnceListener"
  | "emit"
  | "listenerCount"
  | "listeners"
  | "rawListeners"
  | "removeAllListeners";

/**
 * Whether the backend lets this worker do its work (see `Backend.checkWorkerAccess`):
 * a refusal stops the start. Not being able to ask (an outage just now) does not:
 * the claims that follow retry as they do through any outage.
 */
async function checkAccess(backend: Backend, logger: Logger): Promise<void> {
  try {
    await backend.checkWorkerAccess?.();
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    logger.warn(
      { err: error },
      "could not check this worker's rights on the backend; starting all the same",
    );
  }
}

/**
 * An `EventEmitter` that takes the worker's events only. Node's typed
 * `EventEmitter<Map>` also accepts any other event name (its listener then
 * takes `any`), so a misspelt event would compile and never fire; and
 * overriding its methods with narrower ones is refused by the `@types/node`
 * of some versions when a project checks library declarations. So the
 * worker extends Node's `EventEmitter` at run time, typed as this.
 */
interface WorkerEmitter
  extends Omit<EventEmitter, TypedListenerMethods | typeof EventEmitter.captureRejectionSymbol> {
  on<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  once<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  off<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  addListener<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  removeListener<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  prependListener<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  prependOnceListener<K extends keyof WorkerEventMap>(event: K, listener: WorkerListener<K>): this;
  emit<K extends keyof WorkerEventMap>(event: K, ...args: WorkerEventMap[K]): boolean;
  listenerCount(event: keyof WorkerEventMap): number;
  listeners<K extends keyof WorkerEventMap>(event: K): WorkerListener<K>[];
  rawListeners<K extends keyof WorkerEventMap>(event: K): WorkerListener<K>[];
  removeAllListeners(event?: keyof WorkerEventMap): this;
}

const WorkerEmitterBase = EventEmitter as unknown as new (options: {
  captureRejections: boolean;
}) => WorkerEmitter;

export class Worker extends WorkerEmitterBase {
  readonly queues: readonly Queue[];
  readonly #context: WorkerContext;
  #run: WorkRun | undefined;
  #working: Promise<WorkSummary> | undefined;

  /**
   * @example
   * const worker = new Worker(new Queue("redis://localhost:6379"), { concurrency: 50 });
   * await worker.work(); // until worker.close()
   */
  constructor(queues: Queue | readonly Queue[], options: WorkerOptions = {}) {
    // An async listener that throws (an alert whose call fails) rejects its promise: caught below,
    // not left to end the process as an unhandled rejection with the worker's tasks held.
    super({ captureRejections: true });
    if (inSandboxThread()) {
      throw new SheppyError(
        "new Worker() in a sandbox thread: the thread imports the module that defines its sandboxed task, and that module starts a worker at its top level (the program's entry script, most likely) — a worker there would start again in every thread; define sandboxed tasks in a module of their own, or start workers only where isMainThread (node:worker_threads) is true",
      );
    }
    const list =
      queues instanceof Queue ? [queues] : Array.isArray(queues) ? [...(queues as Queue[])] : [];
    if (list.length === 0 || !list.every((q) => q instanceof Queue)) {
      // A URL given where its queue belongs: shown with its password masked.
      const given = typeof queues === "string" ? maskUrl(queues) : describeValue(queues, 80);
      const hint =
        typeof queues === "string" ? ` — make one with new Queue(${describeGiven(given)})` : "";
      throw new InvalidOptionError(
        `new Worker() needs a Queue or a non-empty list of Queues (got ${given})${hint}`,
      );
    }
    const names = new Set(list.map((q) => `${q.name}`));
    if (names.size !== list.length)
      throw new SheppyError("new Worker() was given the same queue name twice");
    this.queues = list;
    // Options that are no object are the option check's to name.
    const given = typeof options === "object" && options !== null ? options.clock : undefined;
    const clock = workerClock(list, given);
    const resolved = resolveWorkerOptions(
      clock === undefined || clock === given ? options : { ...options, clock: clock as Clock },
    );
    const slots = new Slots(resolved.concurrency);
    const metrics = workerMetrics();
    const dueAlarm = new DueAlarm();
    this.#context = {
      queues: list,
      options: resolved,
      events: this,
      slots,
      flights: new Flights(list, this, slots, resolved, metrics, dueAlarm),
      metrics,
      dueAlarm,
      health: new HealthBook(),
      gate: new ClaimGate(),
      presenceChanged: new DueAlarm(),
    };
  }

  /**
   * Stops this worker claiming tasks, on every queue it serves, until
   * `resume()`: tasks already running go on and their outcomes are stored; a
   * claim waiting for work stops waiting, and what it still brings goes back
   * unstarted. Other workers go on — `queue.pause()` pauses a queue for every
   * worker, and is stored with the queue. Lasts across `work()` runs of this
   * worker, and takes effect at the call; the promise resolves once no claim
   * of this worker is in flight any more (a task added from then on is not
   * touched by this worker until `resume()`). Idempotent.
   * @example
   * downstream.on("down", () => void worker.pause());
   * downstream.on("up", () => worker.resume());
   */
  pause(): Promise<void> {
    const { gate, options, flights } = this.#context;
    if (gate.close()) {
      this.#context.presenceChanged.due(systemClock.now());
      options.logger.info(
        { running: flights.running },
        "worker paused: it claims no task until resume(); running tasks go on",
      );
    }
    return gate.whenQuiet();
  }

  /** Lets this worker claim tasks again after `pause()`; nothing happens when it is not paused. */
  resume(): void {
    if (this.#context.gate.open()) {
      this.#context.presenceChanged.due(systemClock.now());
      this.#context.options.logger.info("worker resumed");
    }
  }

  /** Whether this worker is paused (`pause()`): it claims no task until `resume()`. */
  get isPaused(): boolean {
    return this.#context.gate.paused;
  }

  /**
   * Where the emitter sends an async listener's rejected promise: logged as a
   * listener that throws is; the task and the work go on.
   */
  [EventEmitter.captureRejectionSymbol](error: unknown, event: string | symbol): void {
    try {
      this.#context.options.logger.error(
        { err: error, event: String(event) },
        "a worker event listener's promise rejected; the task was not affected",
      );
    } catch {
      // A logger that fails has nothing better to be told.
    }
  }

  /**
   * How this worker is doing now: `ok`, `failing` (a part of its work —
   * claiming a queue's tasks, storing outcomes, renewing leases, the
   * scheduler — fails now; `problems` says which, since when and why),
   * `starting`, `stopping` or `stopped`, with the tasks running and the
   * concurrency. What a health endpoint answers (`sheppy work
   * --metrics-port` serves it at `/healthz`).
   */
  health(): WorkerHealth {
    const run = this.#run;
    const { health, options, flights } = this.#context;
    const status: WorkerStatus =
      run === undefined
        ? "stopped"
        : run.stop.signal.aborted
          ? "stopping"
          : !run.started
            ? "starting"
            : health.failingNow
              ? "failing"
              : "ok";
    return {
      status,
      paused: this.#context.gate.paused,
      running: flights.running,
      longestRunningMs: flights.longestRunningMs(options.clock.now()),
      concurrency: options.concurrency,
      problems: run === undefined ? [] : health.problems(),
    };
  }

  /** Tasks whose function is running right now. */
  get running(): number {
    return this.#context.flights.running;
  }

  /**
   * Runs until `close()` (or `maxTasks` / `oneshot` says stop). Connects the
   * backends first; a backend that cannot connect rejects at once.
   */
  work(options: WorkOptions = {}): Promise<WorkSummary> {
    if (this.#run) return Promise.reject(new SheppyError("worker.work() is already running"));
    let resolved: Required<WorkOptions>;
    try {
      resolved = resolveWorkOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#context.health.clear();
    const run = new WorkRun(
      resolved.maxTasks,
      resolved.oneshot,
      this.#context.options.logger,
      this.#context.health,
    );
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
    // A misspelt `force` would wait out the whole shutdown timeout without a word.
    checkOptionKeys(options, ["force"], "worker.close()");
    if (options.force !== undefined && typeof options.force !== "boolean") {
      throw new InvalidOptionError(
        `worker.close(): force must be true or false (got ${describeGiven(options.force)})`,
      );
    }
    const run = this.#run;
    if (!run) return;
    if (!run.stop.signal.aborted) {
      run.stopRequestedAt = systemClock.now();
      run.stop.abort();
      this.#context.presenceChanged.due(systemClock.now());
    }
    if (options.force) run.force.abort();
    await this.#working?.catch(() => undefined);
  }

  async #work(run: WorkRun): Promise<WorkSummary> {
    const context = this.#context;
    const { options } = context;
    if (options.processing) warnIfUnknowing(options.logger, options.unknownTaskGraceMs);
    warnIfTimersFaked(options.logger, options.clock);
    // A close() while a first connect hangs (a paused server) ends the start now: nothing was claimed.
    const connecting = Promise.all(this.queues.map((queue) => queue.connect()));
    if ((await unlessAborted(connecting, run.stop.signal)) === ABORTED) return { ...run.summary };
    await Promise.all(
      [...new Set(this.queues.map((queue) => queue.backend))].map((backend) =>
        checkAccess(backend, options.logger),
      ),
    );
    const signalHandlers = options.handleSignals
      ? onShutdownSignals(
          (signal) => {
            run.signal = signal;
            void this.close();
          },
          () => void this.close({ force: true }),
        )
      : undefined;
    context.flights.begin(run);
    // A queue closed while this worker runs stops it first (see queue/backend-users).
    const stopOnClose = () => this.close();
    const releases = this.queues.map((queue) => useBackend(queue.backend, stopOnClose));
    try {
      const background = startBackgroundLoops(context, run);
      if (options.processing) {
        // Outcome counters from 0: an alert on `increase(sheppy_tasks_failed_total[5m])` then sees
        // a process's first failure of a task too, not only the ones after it.
        const tasks = userTaskNames();
        for (const queue of this.queues) context.metrics.serving(queue.name, tasks);
      }
      // Listed before it says it has started, so a tool asked right after sees it.
      await untilAborted(run.stop.signal, background.announced);
      run.started = true;
      this.emit("worker:started", { queues: this.queues.map((q) => q.name) });
      if (options.processing) {
        await untilAborted(run.stop.signal, background.firstLook);
        await Promise.all(this.queues.map((queue) => runClaimLoop(context, queue, run)));
      } else {
        // A close() during the start (the backends' connect and checks) aborted already: no event comes.
        await untilAborted(run.stop.signal);
      }
      await context.flights.finishAll(run);
      // One grace for the writes and the loops together; a forced stop waits for nothing but a moment.
      const graceEnds = Date.now() + (run.force.signal.aborted ? FORCED_GRACE_MS : STOP_GRACE_MS);
      if (!run.stop.signal.aborted) {
        await run.writer.drained();
      } else {
        // Tasks a late claim answers with are put back through the writer: wait for the claims first.
        // So are tasks put back at the end of the shutdown timeout, which may reach it late.
        const done = run.late
          .settled()
          .then(() => Promise.all(run.puttingBack))
          .then(() => run.writer.drained());
        if (!(await within(graceEnds - Date.now(), done))) {
          // Closing while the backend does not answer: what is still unwritten is left to lease expiry.
          run.giveUpWrites.abort();
          if (run.late.unanswered > 0)
            options.logger.warn(
              "stopped waiting for the backend to answer a claim; tasks it claimed go back to the queue if it answers, or are taken over when their leases expire",
            );
          if (run.writer.pending)
            options.logger.warn(
              "stopped waiting to store task outcomes; the tasks will be taken over when their leases expire",
            );
        }
      }
      run.background.abort();
      await within(Math.max(0, graceEnds - Date.now()), Promise.all(background.loops));
      this.emit("worker:stopped", { processed: run.summary.processed, failed: run.summary.failed });
      if (signalHandlers && run.signal && run.summary.interrupted > 0) {
        await signalHandlers.endProcess(options.logger, run.signal, run.summary.interrupted);
      }
      return { ...run.summary };
    } finally {
      run.background.abort();
      signalHandlers?.remove();
      for (const release of releases) release();
    }
  }
}
