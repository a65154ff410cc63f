/**
 * @module cli/probe-replies
 * The answers `/livez` and `/healthz` give, shared by the worker's metrics
 * server and the dashboard, so that a probe configured for one reads the
 * other alike: `GET`/`HEAD` only, `ok` while the process answers, the
 * health as JSON (200 while `ok`, 503 otherwise) never cached.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Answers 405 to a request that is not a `GET` or a `HEAD` (`true`: answered); leaves a read alone. */
export function refusedUnlessRead(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === "GET" || request.method === "HEAD") return false;
  response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
  response.end("use GET\n");
  return true;
}

/** `/livez`: the process answers. */
export function replyLive(request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  response.end(request.method === "HEAD" ? undefined : "ok\n");
}

/** `/healthz`: `health` as JSON, 200 while its status is `ok` and 503 otherwise. */
export function replyHealth(
  request: IncomingMessage,
  response: ServerResponse,
  health: { readonly status: string },
): void {
  response.writeHead(health.status === "ok" ? 200 : 503, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
  });
  response.end(request.method === "HEAD" ? undefined : `${JSON.stringify(health)}\n`);
}
