/**
 * @module queue/collect-metrics
 * `collectMetrics(...queues)`: the Prometheus exposition text of this
 * process's task metrics for some queues, with each queue's counts by status
 * read from its backend at that moment — what a `/metrics` endpoint answers.
 */
import { InvalidOptionError } from "../errors.js";
import { defaultTaskMetrics, taskMetricsText } from "../observability/task-metrics.js";
import { describeGiven } from "../task/describe-value.js";
import { Queue } from "./queue.js";

/**
 * The Prometheus text (format 0.0.4) of the task metrics this process
 * recorded for `queues` — adds by its queues, attempts by its workers — and
 * `sheppy_queue_tasks{queue,status}` read now from each queue's backend.
 * Without queues: every series the process recorded, and no counts by status.
 * Serve it with the content type `PROMETHEUS_CONTENT_TYPE`.
 * @example
 * const text = await collectMetrics(emails, reports);
 * response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(text);
 */
export async function collectMetrics(...queues: Queue[]): Promise<string> {
  const wrong = queues.findIndex((queue) => !(queue instanceof Queue));
  if (wrong >= 0) {
    throw new InvalidOptionError(
      `collectMetrics() takes Queues (argument ${wrong + 1} is ${describeGiven(queues[wrong])})`,
    );
  }
  // A queue named twice would repeat its series, and Prometheus refuses a scrape that does.
  const byName = new Map(queues.map((queue) => [queue.name, queue]));
  const stats = await Promise.all(
    [...byName.values()].map(async (queue) => ({ queue: queue.name, counts: await queue.stats() })),
  );
  return taskMetricsText(defaultTaskMetrics, stats);
}
