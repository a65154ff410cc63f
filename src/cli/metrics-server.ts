/**
 * @module cli/metrics-server
 * The `/metrics` endpoint `sheppy work --metrics-port` serves beside its
 * worker: plain `node:http`, GET only, no other route. It listens on loopback
 * unless told otherwise, as the dashboard does — counts by queue and task
 * name are not for everyone to read.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../observability/logger.js";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus-text.js";
import { collectMetricsReport, type MetricsCollection } from "../queue/collect-metrics.js";
import type { Queue } from "../queue/queue.js";
import { listenOrExplain } from "./listen.js";
import { hostNameOf, LOOPBACK, LOOPBACK_HOST_NAMES } from "./loopback-hosts.js";

export interface MetricsServer {
  /** The port it listens on (the one picked, for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` for `queues` on `host:port` until closed. */
export async function serveMetrics(
  queues: readonly Queue[],
  port: number,
  host: string,
  logger: Logger,
): Promise<MetricsServer> {
  const answered = LOOPBACK.has(host) ? new Set(LOOPBACK_HOST_NAMES) : undefined;
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
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("not found: metrics are at /metrics\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      response.end("use GET\n");
      return;
    }
    collectMetricsReport(queues).then(
      ({ text, unread }) => {
        noteUnread(unread);
        response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
        response.end(request.method === "HEAD" ? undefined : text);
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
  await listenOrExplain(server, port, host, "metrics", "--metrics-port, --metrics-host");
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
