/**
 * @module events
 * The worker's lifecycle events. Logs, metrics and the dashboard subscribe to
 * these; payloads are typed. Subscribe with `worker.on("task:failed", …)`.
 */
import type { Task, TaskStatus } from "./task/task-record.js";

/** An event about a task; `S` is what its status can be at that event (checking it narrows the task). */
export interface TaskEvent<S extends TaskStatus = TaskStatus> {
  readonly queue: string;
  readonly task: Task<unknown, S>;
}

export interface WorkerEventMap {
  /** The worker connected and its loops are running. */
  "worker:started": [{ readonly queues: readonly string[] }];
  /** `work()` is about to return. */
  "worker:stopped": [{ readonly processed: number; readonly failed: number }];
  /** A backend call in one of the worker's loops failed; the loop backs off and carries on. */
  "worker:error": [{ readonly error: unknown; readonly during: string }];
  /** An attempt started. */
  "task:started": [TaskEvent];
  /** An attempt completed; `task.result` is the stored result, `durationMs` how long it ran. */
  "task:completed": [TaskEvent<"completed"> & { readonly durationMs: number }];
  /** An attempt failed and another one is due at `task.nextRetryAt`; `durationMs` is how long it ran. */
  "task:retrying": [TaskEvent & { readonly error: unknown; readonly durationMs: number }];
  /**
   * An attempt failed and no retry is left (`failed`, `crashed` when its thread or process died,
   * `cancelled` for a step whose workflow had ended); `durationMs` is how long it ran.
   */
  "task:failed": [
    TaskEvent<"failed" | "crashed" | "cancelled"> & {
      readonly error: unknown;
      readonly durationMs: number;
    },
  ];
  /** A task whose worker stopped renewing its lease was reclaimed (status `crashed`, or `retrying` with `retryOnCrash`). */
  "task:crashed": [TaskEvent<"crashed" | "retrying">];
  /** A running attempt was interrupted at shutdown, or handed its task back then, and it was put back in the queue (`task.status` is `pending`, as stored). */
  "task:interrupted": [TaskEvent<"pending">];
  /** A claimed task was over its rate limit: not run, put off to `task.scheduledAt` (not an attempt). */
  "task:deferred": [TaskEvent];
  /** What a running task reported (`task.progress`, `task.logs`) was written to its record. */
  "task:progress": [TaskEvent];
}

/** A listener of the worker's event `K`. */
export type WorkerListener<K extends keyof WorkerEventMap> = (...args: WorkerEventMap[K]) => void;

/**
 * What the worker's loops need of its events: announce one, and learn
 * whether anyone listens (an event nobody hears is not built).
 */
export interface WorkerEventSink {
  emit<K extends keyof WorkerEventMap>(event: K, ...args: WorkerEventMap[K]): boolean;
  listenerCount(event: keyof WorkerEventMap): number;
}
