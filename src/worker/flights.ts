/**
 * @module worker/flights
 * The worker's attempts in flight, from start to landing. An attempt takes a
 * slot when it starts and frees it as soon as its function returns: the next
 * task may start while the outcome is being stored (the flight keeps its lease
 * until then). It lands once its outcome is stored — then the summary counts
 * it, its event is emitted and whoever waits for a landing wakes. At shutdown,
 * attempts still running after the grace are interrupted and put back in the
 * queue; attempts only waiting for their write are let land.
 */
import type { EventEmitter } from "node:events";
import { systemClock } from "../clock.js";
import { TaskInterruptedError } from "../errors.js";
import type { WorkerEventMap } from "../events.js";
import {
  type ExecutionEnvironment,
  type RunningAttempt,
  startAttempt,
} from "../execution/execute-task.js";
import { createExecutionEnvironment } from "../execution/execution-environment.js";
import { requeuedRecord } from "../execution/outcome.js";
import type { Queue } from "../queue/queue.js";
import { Task, type TaskData } from "../task/task-record.js";
import type { Slots } from "./slots.js";
import type { WorkRun } from "./work-run.js";
import type { ResolvedWorkerOptions } from "./worker-options.js";

interface Flight {
  readonly queue: Queue;
  readonly data: TaskData;
  readonly attempt: RunningAttempt;
  readonly startedAt: number;
  /** The function has returned; its slot is free while the outcome is being stored. */
  finished: boolean;
  /** Interrupted at shutdown and re-queued: its outcome, if it ever comes, is dropped. */
  abandoned: boolean;
}

/** One queue's attempts in flight (by task id) and the environment they run in. */
interface Lane {
  readonly environment: ExecutionEnvironment;
  readonly flights: Map<string, Flight>;
}

/** Every attempt a worker has started and not yet landed, across its queues. */
export class Flights {
  readonly #lanes = new Map<Queue, Lane>();
  /** Woken at the next landing: a oneshot claim loop waiting for more work, shutdown waiting for the last one. */
  #landingWaiters: (() => void)[] = [];
  #landings = 0;

  constructor(
    queues: readonly Queue[],
    private readonly events: EventEmitter<WorkerEventMap>,
    private readonly slots: Slots,
    private readonly options: ResolvedWorkerOptions,
  ) {
    for (const queue of queues) {
      const environment = createExecutionEnvironment(queue.name, options);
      this.#lanes.set(queue, { environment, flights: new Map() });
    }
  }

  /** Attempts whose function is running right now. */
  get running(): number {
    let count = 0;
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) if (!flight.finished) count++;
    }
    return count;
  }

  /** Attempts not yet landed: running, or finished with their outcome still being stored. */
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

  /** Ids of the tasks of `queue` not yet landed: the leases this worker keeps. */
  idsIn(queue: Queue): string[] {
    return [...(this.#lanes.get(queue)?.flights.keys() ?? [])];
  }

  /**
   * Fires the AbortSignal of `queue`'s attempts `ids`: their lease went to
   * another worker, so their outcome will be refused; a cooperative task stops
   * wasting work (a sandboxed one is stopped outright).
   */
  signalLost(queue: Queue, ids: readonly string[]): void {
    const flights = this.#lanes.get(queue)?.flights;
    for (const id of ids) {
      flights
        ?.get(id)
        ?.attempt.interrupt(
          new TaskInterruptedError("this worker lost the task's lease; another worker runs it now"),
        );
    }
  }

  /** Whether task `id` of `queue` is in flight here. */
  has(queue: Queue, id: string): boolean {
    return this.#lanes.get(queue)?.flights.has(id) ?? false;
  }

  /** Starts an attempt of a claimed task; its slot is already reserved. */
  start(queue: Queue, data: TaskData, run: WorkRun): void {
    const lane = this.#lanes.get(queue)!;
    const attempt = startAttempt(data, lane.environment);
    const flight: Flight = {
      queue,
      data,
      attempt,
      startedAt: this.options.clock.now(),
      finished: false,
      abandoned: false,
    };
    lane.flights.set(data.id, flight);
    if (this.events.listenerCount("task:started") > 0)
      this.events.emit("task:started", { queue: queue.name, task: new Task(data, null) });
    void attempt.outcome.then(async (outcome) => {
      if (flight.abandoned) return;
      // The next task may start while this outcome is stored (the flight keeps its lease until then).
      flight.finished = true;
      this.slots.release(1);
      let stored = false;
      try {
        stored = await run.writer.store(queue, outcome.record, outcome.children);
        if (!stored) {
          this.options.logger.warn(
            { queue: queue.name, taskId: data.id, task: data.name, status: outcome.record.status },
            "this worker lost the task's lease before storing its outcome (another worker holds it now); the outcome was discarded",
          );
        }
      } catch (error) {
        this.options.logger.error(
          { err: error, queue: queue.name, taskId: data.id },
          "could not store a task's outcome",
        );
      }
      if (flight.abandoned) return;
      this.#land(flight, outcome.record, outcome.error, run, stored);
    });
  }

  /** Bookkeeping once an attempt's outcome is stored (or given up: `stored` false, counted nowhere). */
  #land(flight: Flight, record: TaskData, error: unknown, run: WorkRun, stored: boolean): void {
    this.#lanes.get(flight.queue)!.flights.delete(flight.data.id);
    const queue = flight.queue.name;
    const { events } = this;
    if (!stored) {
      // Nothing of this attempt was written: whoever holds the task now reports its outcome.
    } else if (record.status === "completed") {
      run.summary.processed++;
      if (events.listenerCount("task:completed") > 0) {
        const durationMs = this.options.clock.now() - flight.startedAt;
        events.emit("task:completed", { queue, task: new Task(record, record.result), durationMs });
      }
    } else if (record.finishedAt !== null) {
      run.summary.failed++;
      if (events.listenerCount("task:failed") > 0)
        events.emit("task:failed", { queue, task: new Task(record, null), error });
    } else {
      run.summary.retried++;
      if (events.listenerCount("task:retrying") > 0)
        events.emit("task:retrying", { queue, task: new Task(record, null), error });
    }
    this.#landings++;
    for (const wake of this.#landingWaiters.splice(0)) wake();
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
   * interrupts the attempts still running and puts them back in the queue.
   */
  async finishAll(run: WorkRun): Promise<void> {
    const allLanded = () =>
      new Promise<void>((resolve) => {
        const check = () => (this.unlanded === 0 ? resolve() : this.#landingWaiters.push(check));
        check();
      });
    if (!run.stop.signal.aborted) {
      await allLanded();
      return;
    }
    // The grace is real time, whatever clock the tasks see.
    const clock = systemClock;
    const graceMs = Math.max(
      0,
      this.options.shutdownTimeoutMs - (clock.now() - run.stopRequestedAt),
    );
    const grace = new AbortController();
    const landed = await Promise.race([
      allLanded().then(() => true),
      clock.sleep(graceMs, AbortSignal.any([run.force.signal, grace.signal])).then(() => false),
    ]);
    grace.abort();
    this.#landingWaiters = [];
    if (!landed) this.#interruptRunning(run);
  }

  #interruptRunning(run: WorkRun): void {
    const reason = new TaskInterruptedError(
      "the worker shut down before the task finished; it was put back in the queue",
    );
    for (const { flights } of this.#lanes.values()) {
      for (const flight of flights.values()) {
        // A finished attempt is only waiting for its outcome to be written: let the write land.
        if (flight.finished) continue;
        flight.abandoned = true;
        flight.attempt.interrupt(reason);
        flights.delete(flight.data.id);
        this.slots.release(1);
        run.summary.interrupted++;
        void run.writer.store(flight.queue, requeuedRecord(flight.data)).catch(() => undefined);
        this.options.logger.warn(
          { queue: flight.queue.name, taskId: flight.data.id, task: flight.data.name },
          "interrupted a running task at shutdown; it was put back in the queue",
        );
        if (this.events.listenerCount("task:interrupted") > 0) {
          this.events.emit("task:interrupted", {
            queue: flight.queue.name,
            task: new Task(flight.data, null),
          });
        }
      }
    }
  }
}
