/**
 * @module worker/worker-metrics
 * Feeds a worker's lifecycle events into the process's task metrics. Every
 * `Worker` attaches itself when built, so `collectMetrics()` counts its work
 * with no set-up; the counting lives in listeners, not in the worker's loops,
 * so the loops stay unaware of metrics.
 */
import type { EventEmitter } from "node:events";
import type { TaskEvent, WorkerEventMap } from "../events.js";
import {
  defaultTaskMetrics,
  startLatencySeconds,
  type TaskMetrics,
} from "../observability/task-metrics.js";

/**
 * Counts `worker`'s attempts into `metrics` (the process's by default).
 * Returns a function that stops counting.
 * @example
 * const stop = attachWorkerMetrics(worker);
 */
export function attachWorkerMetrics(
  worker: EventEmitter<WorkerEventMap>,
  metrics: TaskMetrics = defaultTaskMetrics,
): () => void {
  const labels = ({ queue, task }: TaskEvent) => ({ queue, task: task.name });
  const listeners = {
    "task:started": (event: TaskEvent) => {
      const latency = startLatencySeconds(event.task);
      if (latency !== null) metrics.startLatency.observe(labels(event), latency);
    },
    "task:completed": (event: TaskEvent & { durationMs: number }) => {
      metrics.completed.inc(labels(event));
      metrics.runDuration.observe(labels(event), event.durationMs / 1000);
    },
    "task:failed": (event: TaskEvent & { durationMs: number }) => {
      metrics.failed.inc(labels(event));
      metrics.runDuration.observe(labels(event), event.durationMs / 1000);
    },
    "task:retrying": (event: TaskEvent & { durationMs: number }) => {
      metrics.retried.inc(labels(event));
      metrics.runDuration.observe(labels(event), event.durationMs / 1000);
    },
    "task:crashed": (event: TaskEvent) => {
      metrics.crashed.inc(labels(event));
    },
  } as const;
  for (const [name, listener] of Object.entries(listeners)) {
    (worker as EventEmitter).on(name, listener);
  }
  return () => {
    for (const [name, listener] of Object.entries(listeners)) {
      (worker as EventEmitter).off(name, listener);
    }
  };
}
