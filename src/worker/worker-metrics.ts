/**
 * @module worker/worker-metrics
 * What a worker counts into the process's task metrics, called at the very
 * points where it emits `task:started`, `task:completed`, `task:failed`,
 * `task:retrying` and `task:crashed`, from the same records. It does not
 * listen to those events: a listener makes the worker build a `Task` object
 * per event, which halved memory:// throughput when measured; counting from
 * the record costs a map lookup.
 */

import {
  countAttemptEnd,
  defaultTaskMetrics,
  startLatencySeconds,
  type TaskMetrics,
} from "../observability/task-metrics.js";
import type { TaskData } from "../task/task-record.js";

/** A worker's feed into the task metrics. */
export interface WorkerMetrics {
  /** The worker starts running `tasks` of `queue`: their outcome counters exist from now on, at 0. */
  serving(queue: string, tasks: readonly string[]): void;
  /** An attempt started (`task:started`). */
  started(queue: string, record: TaskData): void;
  /** An attempt's outcome was stored (`task:completed`, `task:failed` or `task:retrying`). */
  landed(queue: string, record: TaskData, durationMs: number): void;
  /** A claim taken over from a worker that stopped was settled (`task:crashed`). */
  crashed(queue: string, record: TaskData): void;
  /** An attempt's outcome could not be stored: its claim was no longer this worker's. */
  discarded(queue: string, record: TaskData): void;
}

/** The feed into `metrics` (the process's by default). */
export function workerMetrics(metrics: TaskMetrics = defaultTaskMetrics): WorkerMetrics {
  return {
    serving(queue, tasks) {
      for (const task of tasks) {
        const labels = { queue, task };
        metrics.completed.touch(labels);
        metrics.failed.touch(labels);
        metrics.retried.touch(labels);
        metrics.crashed.touch(labels);
        metrics.discarded.touch(labels);
      }
    },
    started(queue, record) {
      const latency = startLatencySeconds(record);
      if (latency !== null) metrics.startLatency.observe({ queue, task: record.name }, latency);
    },
    landed(queue, record, durationMs) {
      countAttemptEnd(metrics, queue, record, durationMs);
    },
    crashed(queue, record) {
      metrics.crashed.inc({ queue, task: record.name });
    },
    discarded(queue, record) {
      metrics.discarded.inc({ queue, task: record.name });
    },
  };
}
