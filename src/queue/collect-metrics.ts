/**
 * @module queue/collect-metrics
 * `collectMetrics(...queues)`: the Prometheus exposition text of this
 * process's task metrics for some queues, with each queue's counts by status
 * read from its backend at that moment — what a `/metrics` endpoint answers.
 * A backend that does not answer leaves only its counts out: the process's
 * own counters are what an outage most needs to show.
 */
import { InvalidOptionError } from "../errors.js";
import {
  defaultTaskMetrics,
  type QueueCountsRead,
  taskMetricsText,
} from "../observability/task-metrics.js";
import { describeGiven } from "../task/describe-value.js";
import { Queue } from "./queue.js";
import { runningWorkerCount } from "./readable-workers.js";

/**
 * Longest a scrape waits for a queue's counts: well inside Prometheus's
 * default scrape timeout (10 s), which would otherwise record the whole
 * scrape as failed.
 */
export const COUNTS_WAIT_MS = 3000;

/** A collection's text, and the queues whose counts it could not read (with why). */
export interface MetricsCollection {
  readonly text: string;
  readonly unread: readonly { readonly queue: string; readonly error: unknown }[];
}

/** A queue's counts, or why they could not be read within `waitMs`. */
async function readCounts(
  queue: Queue,
  waitMs: number,
): Promise<QueueCountsRead & { readonly error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the backend did not answer within ${waitMs} ms`)),
      waitMs,
    );
  });
  try {
    const [counts, paused, latencyMs, workers] = await Promise.race([
      Promise.all([queue.stats(), queue.isPaused(), queue.latency(), runningWorkerCount(queue)]),
      late,
    ]);
    return { queue: queue.name, counts, paused, latencyMs, workers: workers ?? undefined };
  } catch (error) {
    return { queue: queue.name, counts: undefined, error };
  } finally {
    clearTimeout(timer);
  }
}

/** {@link collectMetrics}, telling which queues' counts are missing and why (for a caller that logs it). */
export async function collectMetricsReport(
  queues: readonly Queue[],
  waitMs = COUNTS_WAIT_MS,
): Promise<MetricsCollection> {
  const wrong = queues.findIndex((queue) => !(queue instanceof Queue));
  if (wrong >= 0) {
    throw new InvalidOptionError(
      `collectMetrics() takes Queues (argument ${wrong + 1} is ${describeGiven(queues[wrong])})`,
    );
  }
  // A queue named twice would repeat its series, and Prometheus refuses a scrape that does.
  const byName = new Map(queues.map((queue) => [queue.name, queue]));
  const read = await Promise.all([...byName.values()].map((queue) => readCounts(queue, waitMs)));
  return {
    text: taskMetricsText(defaultTaskMetrics, read),
    unread: read.flatMap(({ queue, counts, error }) =>
      counts === undefined ? [{ queue, error }] : [],
    ),
  };
}

/**
 * The Prometheus text (format 0.0.4) of the task metrics this process
 * recorded for `queues` — adds by its queues, attempts by its workers — and
 * `sheppy_queue_tasks{queue,status}` read now from each queue's backend.
 * A queue whose backend does not answer within 3 s (down, or stalled) has
 * no `sheppy_queue_tasks` in that text and `sheppy_queue_tasks_up{queue}` 0;
 * the counters are there all the same.
 * Without queues: every series the process recorded, and no counts by status.
 * Serve it with the content type `PROMETHEUS_CONTENT_TYPE`.
 * @example
 * const text = await collectMetrics(emails, reports);
 * response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(text);
 */
export async function collectMetrics(...queues: Queue[]): Promise<string> {
  return (await collectMetricsReport(queues)).text;
}
