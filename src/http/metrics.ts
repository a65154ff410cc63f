/**
 * @module http/metrics
 * `GET /metrics`: the Prometheus exposition of the handler's queues — every
 * queue its backend lists, or those named by `?queue=a,b` — so a Prometheus
 * server scrapes the same address the API and dashboard are served from.
 */
import { InvalidOptionError } from "../errors.js";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus-text.js";
import { collectMetrics } from "../queue/collect-metrics.js";
import type { Queue } from "../queue/queue.js";

/** Queues one `?queue=` may name. */
const MAX_NAMED_QUEUES = 100;

/** The `/metrics` answer for the queues `names` lists (comma-separated), else every listed queue. */
export async function metricsResponse(
  names: string | undefined,
  queueNamed: (name: string) => Queue,
  listQueues: () => Promise<Record<string, number>>,
): Promise<Response> {
  const given = names?.split(",").map((name) => name.trim());
  if (given?.includes("")) {
    // Metrics of no queue would read as a scrape of queues that hold nothing, and an empty name
    // in a list is most likely a slip. A backend that lists no queue yet is not a mistake: its
    // scrape is simply empty of queue series.
    throw new InvalidOptionError(
      `/metrics: queue must name queues, separated by single commas (got ${JSON.stringify(names)}); leave it out for every queue`,
    );
  }
  const named = given && [...new Set(given)];
  if (named && named.length > MAX_NAMED_QUEUES) {
    // Each name costs the backend reads and the answer a set of series: one URL must not ask for thousands.
    throw new InvalidOptionError(
      `/metrics: queue names at most ${MAX_NAMED_QUEUES} queues (got ${named.length}); leave it out for every queue`,
    );
  }
  const chosen = named ?? Object.keys(await listQueues()).sort();
  const text = await collectMetrics(...chosen.map(queueNamed));
  return new Response(text, {
    headers: {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
