/**
 * @module cli/metrics-server
 * The endpoints `sheppy work --metrics-port` serves beside its worker: plain
 * `node:http`, GET (and HEAD) only. `/metrics` is the Prometheus text with
 * the worker's own gauges (running tasks, concurrency, healthy) added;
 * `/healthz` is the worker's health as JSON, 200 while it is `ok` and 503
 * otherwise (a readiness probe, an uptime check); `/livez` answers 200 while
 * the process answers at all (a liveness probe: restarting a worker does not
 * bring a database back, so it does not look at the backend). It listens on
 * loopback unless told otherwise, as the dashboard does — counts by queue
 * and task name are not for everyone to read.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../observability/logger.js";
import { PROMETHEUS_CONTENT_TYPE, writeExposition } from "../observability/prometheus-text.js";
import { collectMetricsReport, type MetricsCollection } from "../queue/collect-metrics.js";
import type { Queue } from "../queue/queue.js";
import { VERSION } from "../util/version.js";
import type { WorkerHealth } from "../worker/worker-health.js";
import { watchEventLoopDelay } from "./event-loop-delay.js";
import { listenOrExplain } from "./listen.js";
import { hostNameOf, LOOPBACK, LOOPBACK_HOST_NAMES } from "./loopback-hosts.js";
import { refusedUnlessRead, replyHealth, replyLive } from "./probe-replies.js";

export interface MetricsServer {
  /** The port it listens on (the one picked, for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** The worker gauges of `/metrics`, from its health now and its event loop since the last scrape. */
function workerGauges(health: WorkerHealth, loopDelayMaxSeconds: number): string {
  return writeExposition([
    {
      type: "gauge",
      name: "sheppy_build_info",
      help: "1, labelled with the version of Sheppy this process runs.",
      samples: [{ labels: { version: VERSION }, value: 1 }],
    },
    {
      type: "gauge",
      name: "sheppy_worker_event_loop_delay_max_seconds",
      help: "The longest this process's event loop ran late since the previous scrape: synchronous work that blocks it delays lease renewals, and a block longer than the lease loses the worker's tasks to another.",
      samples: [{ labels: {}, value: loopDelayMaxSeconds }],
    },
    {
      type: "gauge",
      name: "sheppy_worker_tasks_running",
      help: "Tasks whose function this worker process is running now.",
      samples: [{ labels: {}, value: health.running }],
    },
    {
      type: "gauge",
      name: "sheppy_worker_longest_running_seconds",
      help: "Seconds the task this worker process has been running longest has run so far (0 when none runs): a task that hangs grows it.",
      samples: [{ labels: {}, value: health.longestRunningMs / 1000 }],
    },
    {
      type: "gauge",
      name: "sheppy_worker_concurrency",
      help: "The most tasks this worker process runs at once (its concurrency).",
      samples: [{ labels: {}, value: health.concurrency }],
    },
    {
      type: "gauge",
      name: "sheppy_worker_healthy",
      help: "1 while this worker's health is ok (its /healthz answers 200), 0 while a part of its work fails, or it starts or stops.",
      samples: [{ labels: {}, value: health.status === "ok" ? 1 : 0 }],
    },
  ]);
}

const PATHS = "metrics are at /metrics, the worker's health at /healthz, liveness at /livez";

/** Serves `/metrics`, `/healthz` and `/livez` for `queues` and the worker's `health` on `host:port` until closed. */
export async function serveMetrics(
  queues: readonly Queue[],
  port: number,
  host: string,
  logger: Logger,
  health: () => WorkerHealth,
): Promise<MetricsServer> {
  const answered = LOOPBACK.has(host) ? new Set(LOOPBACK_HOST_NAMES) : undefined;
  const loop = watchEventLoopDelay();
  const server = createServer((request, response) => {
    const named = request.headers.host;
    if (answered && named !== undefined && !answered.has(hostNameOf(named))) {
      response.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
      response.end(
        "forbidden: on loopback, metrics answer localhost, 127.0.0.1 and [::1] only (--metrics-host to serve another address)\n",
      );
      return;
    }
    // The target as sent, up to its query: not parsed as a URL, which a target like `//` is not,
    // and a listener that throws ends the worker with it.
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics" && path !== "/healthz" && path !== "/livez") {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end(`not found: ${PATHS}\n`);
      return;
    }
    if (refusedUnlessRead(request, response)) return;
    if (path === "/livez") return replyLive(request, response);
    if (path === "/healthz") return replyHealth(request, response, health());
    const head = request.method === "HEAD";
    collectMetricsReport(queues).then(
      ({ text, unread }) => {
        noteUnread(unread);
        response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
        response.end(head ? undefined : text + workerGauges(health(), loop.readMaxSeconds()));
      },
      (error: unknown) => {
        // A scrape that fails is a gap in the graphs, not a reason to stop working.
        logger.warn({ err: error }, "could not collect metrics for a scrape");
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end("metrics are unavailable: see the worker's log\n");
      },
    );
  });
  // Said once when the counts go missing and once when they are back, not at every scrape.
  let missing = false;
  const noteUnread = (unread: MetricsCollection["unread"]) => {
    if (unread.length > 0 && !missing) {
      logger.warn(
        { err: unread[0]!.error, queues: unread.map(({ queue }) => queue) },
        "metrics are served without the queues' counts by status: the backend did not answer (sheppy_queue_tasks_up is 0)",
      );
    } else if (unread.length === 0 && missing) {
      // At the level of the warning it ends, so a log of warnings only tells the whole story.
      logger.warn("metrics have the queues' counts by status again");
    }
    missing = unread.length > 0;
  };
  // A scraper needs one connection; slow or idle ones must not take the worker's file descriptors.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  try {
    await listenOrExplain(server, port, host, "metrics", "--metrics-port, --metrics-host");
  } catch (error) {
    loop.stop();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  logger.info(
    { metricsPort: bound, metricsHost: host },
    `serving metrics at http://${shown}:${bound}/metrics`,
  );
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        loop.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
