/**
 * @module worker/worker-context
 * What the parts of a `Worker` share for its whole life: its queues, checked
 * options, concurrency slots, attempts in flight, and the worker itself as the
 * emitter of its events. Claim loops and background loops see their worker
 * only through this.
 */
import type { WorkerEventSink } from "../events.js";
import type { Queue } from "../queue/queue.js";
import type { ClaimGate } from "./claim-gate.js";
import type { DueAlarm } from "./due-alarm.js";
import type { Flights } from "./flights.js";
import type { Slots } from "./slots.js";
import type { HealthBook } from "./worker-health.js";
import type { WorkerMetrics } from "./worker-metrics.js";
import type { ResolvedWorkerOptions } from "./worker-options.js";

/** One per `Worker`, built in its constructor. */
export interface WorkerContext {
  readonly queues: readonly Queue[];
  readonly options: ResolvedWorkerOptions;
  /** Where lifecycle events go (the `Worker`). */
  readonly events: WorkerEventSink;
  readonly slots: Slots;
  readonly flights: Flights;
  /** Counts attempts into the process's task metrics. */
  readonly metrics: WorkerMetrics;
  /** Wakes the scheduler for a task that falls due before its next look. */
  readonly dueAlarm: DueAlarm;
  /** What fails now (`worker.health()`). */
  readonly health: HealthBook;
  /** Closed while the worker is paused (`worker.pause()`): its claim loops claim nothing. */
  readonly gate: ClaimGate;
  /** Wakes the worker's announcement of itself when what it says changes (paused, resumed, stopping). */
  readonly presenceChanged: DueAlarm;
}
