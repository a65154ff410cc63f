/**
 * @module observability/task-metrics
 * Sheppy's own metrics: what happened to tasks in this process (added,
 * completed, failed, retried, crashed; run time and start latency), and each
 * queue's current counts by status, read from the backend when scraped. The
 * counters are global to the process — the queues that add and the workers
 * that run all count into {@link defaultTaskMetrics} — as a Prometheus client
 * library's default registry is. See docs/observability.md.
 */
import { Counter, Histogram, type SeriesFilter } from "./metrics.js";
import { type GaugeFamily, type MetricFamily, writeExposition } from "./prometheus-text.js";

/** Seconds; from a few milliseconds (an in-memory no-op) to ten minutes (a report). */
export const RUN_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
/** Seconds; a busy queue's backlog can keep tasks waiting for an hour or more. */
export const START_LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

/** The statuses a queue reports counts of (`queue.stats()`), each a `sheppy_queue_tasks` series. */
export const QUEUE_STATUSES = [
  "pending",
  "scheduled",
  "processing",
  "completed",
  "failed",
  "crashed",
  "cancelled",
] as const;

export type QueueStatusCounts = Readonly<Record<(typeof QUEUE_STATUSES)[number], number>>;

/** What a task record says about when its attempt was due and when it started (ISO texts). */
export interface AttemptTimes {
  readonly createdAt: string | Date;
  readonly scheduledAt: string | Date | null;
  readonly nextRetryAt: string | Date | null;
  readonly startedAt: string | Date | null;
}

const TASK_LABELS = ["queue", "task"] as const;

const time = (value: string | Date | null): number =>
  value === null ? Number.NaN : typeof value === "string" ? Date.parse(value) : value.getTime();

/**
 * When an attempt was or is due (epoch ms): the latest of its creation, its
 * scheduled time (a `schedule()` time or a rate-limit slot) and its retry
 * time; `-Infinity` when the record holds none of them readably.
 */
export function attemptDueMs(times: Omit<AttemptTimes, "startedAt">): number {
  // Runs per started attempt: no lists, and NaN (no such time) never wins a comparison.
  const created = time(times.createdAt);
  const scheduled = time(times.scheduledAt);
  const retry = time(times.nextRetryAt);
  let due = Number.NEGATIVE_INFINITY;
  if (created > due) due = created;
  if (scheduled > due) due = scheduled;
  if (retry > due) due = retry;
  return due;
}

/**
 * Seconds from when an attempt was due (`attemptDueMs`) to when it started:
 * a delay the task asked for is not latency, the wait for a free worker is.
 * `null` when the record has not started.
 */
export function startLatencySeconds(times: AttemptTimes): number | null {
  const started = time(times.startedAt);
  if (Number.isNaN(started)) return null;
  const due = attemptDueMs(times);
  return due === Number.NEGATIVE_INFINITY ? null : Math.max(0, (started - due) / 1000);
}

export class TaskMetrics {
  readonly added = new Counter(
    "sheppy_tasks_added_total",
    "Tasks added to the queue by this process (queue.add, queue.schedule).",
    TASK_LABELS,
  );
  readonly completed = new Counter(
    "sheppy_tasks_completed_total",
    "Attempts that completed, run by this process's workers.",
    TASK_LABELS,
  );
  readonly failed = new Counter(
    "sheppy_tasks_failed_total",
    "Attempts that failed with no retry left (the task is failed).",
    TASK_LABELS,
  );
  readonly retried = new Counter(
    "sheppy_tasks_retried_total",
    "Attempts that failed and left the task to retry.",
    TASK_LABELS,
  );
  readonly crashed = new Counter(
    "sheppy_tasks_crashed_total",
    "Tasks reclaimed by this process's workers after their worker stopped renewing its lease.",
    TASK_LABELS,
  );
  readonly discarded = new Counter(
    "sheppy_tasks_discarded_total",
    "Attempts this process's workers ran to an outcome they could not store: the task was no longer theirs (cancelled while it ran, taken over after a missed lease, or lost by a backend that restarted without its data).",
    TASK_LABELS,
  );
  readonly runDuration = new Histogram(
    "sheppy_task_run_duration_seconds",
    "Seconds an attempt ran: from its start until its function returned or threw.",
    TASK_LABELS,
    RUN_DURATION_BUCKETS,
  );
  readonly startLatency = new Histogram(
    "sheppy_task_start_latency_seconds",
    "Seconds from when an attempt was due (created, scheduled time or retry time) to its start.",
    TASK_LABELS,
    START_LATENCY_BUCKETS,
  );

  /** The counter and histogram families, in a stable order. */
  families(filter?: SeriesFilter): MetricFamily[] {
    return [
      this.added.family(filter),
      this.completed.family(filter),
      this.failed.family(filter),
      this.retried.family(filter),
      this.crashed.family(filter),
      this.discarded.family(filter),
      this.runDuration.family(filter),
      this.startLatency.family(filter),
    ];
  }

  /** Forgets every series (tests). */
  reset(): void {
    for (const metric of [
      this.added,
      this.completed,
      this.failed,
      this.retried,
      this.crashed,
      this.discarded,
      this.runDuration,
      this.startLatency,
    ]) {
      metric.reset();
    }
  }
}

/** The process's metrics: every `Queue` and `Worker` counts here. */
export const defaultTaskMetrics = new TaskMetrics();

/** A queue's counts by status as a scrape read them; `undefined` when its backend did not answer. */
export interface QueueCountsRead {
  readonly queue: string;
  readonly counts: QueueStatusCounts | undefined;
  /** Whether the queue is paused, read with its counts; `undefined` when they were not read. */
  readonly paused?: boolean | undefined;
  /** The queue's latency (`queue.latency()`), read with its counts; `undefined` when it was not read. */
  readonly latencyMs?: number | undefined;
  /** Workers running its tasks now (`queue.workers()`); `undefined` when not read or the backend cannot tell. */
  readonly workers?: number | undefined;
}

/** `sheppy_queue_tasks{queue,status}` from the counts of each queue whose backend answered. */
export function queueTasksFamily(stats: readonly QueueCountsRead[]): GaugeFamily {
  return {
    type: "gauge",
    name: "sheppy_queue_tasks",
    help: "Tasks the queue holds now, by status (read from the backend when scraped).",
    samples: stats.flatMap(({ queue, counts }) =>
      counts === undefined
        ? []
        : QUEUE_STATUSES.map((status) => ({ labels: { queue, status }, value: counts[status] })),
    ),
  };
}

/**
 * `sheppy_queue_tasks_up{queue}`: whether this scrape read the queue's counts.
 * A scrape whose backend is down still gives the process's own counters;
 * this says the counts by status are missing from it, rather than zero.
 */
export function queueTasksUpFamily(stats: readonly QueueCountsRead[]): GaugeFamily {
  return {
    type: "gauge",
    name: "sheppy_queue_tasks_up",
    help: "1 when this scrape read the queue's counts by status from its backend, 0 when the backend did not answer in time.",
    samples: stats.map(({ queue, counts }) => ({
      labels: { queue },
      value: counts === undefined ? 0 : 1,
    })),
  };
}

/**
 * `sheppy_queue_paused{queue}`: 1 while the queue is paused (its workers
 * claim nothing), 0 while it runs; left out when the scrape could not read it.
 */
export function queuePausedFamily(stats: readonly QueueCountsRead[]): GaugeFamily {
  return {
    type: "gauge",
    name: "sheppy_queue_paused",
    help: "1 while the queue is paused (workers claim none of its tasks), 0 while it runs (read from the backend when scraped).",
    samples: stats.flatMap(({ queue, paused }) =>
      paused === undefined ? [] : [{ labels: { queue }, value: paused ? 1 : 0 }],
    ),
  };
}

/**
 * `sheppy_queue_latency_seconds{queue}`: how long the next task to be
 * claimed has waited since it was due; left out when the scrape could not
 * read it.
 */
export function queueLatencyFamily(stats: readonly QueueCountsRead[]): GaugeFamily {
  return {
    type: "gauge",
    name: "sheppy_queue_latency_seconds",
    help: "Seconds the next task to be claimed has waited since it was due, 0 when none waits (read from the backend when scraped).",
    samples: stats.flatMap(({ queue, latencyMs }) =>
      latencyMs === undefined ? [] : [{ labels: { queue }, value: latencyMs / 1000 }],
    ),
  };
}

/**
 * `sheppy_queue_workers{queue}`: workers running the queue's tasks now (an
 * alert on 0 while tasks wait catches a queue nothing serves); left out when
 * the scrape could not read it or the backend keeps no list of workers.
 */
export function queueWorkersFamily(stats: readonly QueueCountsRead[]): GaugeFamily {
  return {
    type: "gauge",
    name: "sheppy_queue_workers",
    help: "Workers running the queue's tasks now, as they announce themselves every heartbeat (read from the backend when scraped).",
    samples: stats.flatMap(({ queue, workers }) =>
      workers === undefined ? [] : [{ labels: { queue }, value: workers }],
    ),
  };
}

/**
 * The exposition text: `metrics`' series of the queues in `stats` (every
 * series when `stats` names no queue) and their counts by status.
 */
export function taskMetricsText(metrics: TaskMetrics, stats: readonly QueueCountsRead[]): string {
  const names = new Set(stats.map(({ queue }) => queue));
  const filter =
    names.size === 0
      ? undefined
      : (labels: { queue?: string }) => labels.queue !== undefined && names.has(labels.queue);
  // Without a queue there are no counts to give: no `sheppy_queue_tasks` family, not even its header.
  const counts =
    stats.length === 0
      ? []
      : [
          queueTasksFamily(stats),
          queueTasksUpFamily(stats),
          queuePausedFamily(stats),
          queueLatencyFamily(stats),
          queueWorkersFamily(stats),
        ];
  return writeExposition([...metrics.families(filter), ...counts]);
}

/**
 * Counts an attempt whose outcome was stored, by the status it left the task
 * in, as the worker's `task:completed` / `task:failed` / `task:retrying`
 * events tell them apart; workers and inline processing both count here.
 */
export function countAttemptEnd(
  metrics: TaskMetrics,
  queue: string,
  record: { readonly name: string; readonly status: string; readonly finishedAt: string | null },
  durationMs: number,
): void {
  const labels = { queue, task: record.name };
  if (record.status === "completed") metrics.completed.inc(labels);
  else if (record.finishedAt !== null) metrics.failed.inc(labels);
  else metrics.retried.inc(labels);
  metrics.runDuration.observe(labels, durationMs / 1000);
}
