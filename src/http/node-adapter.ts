/**
 * @module http/node-adapter
 * `toNodeHandler`: the fetch handler as a Node `http` request listener, so it
 * serves from `http.createServer` and mounts in Express:
 * `app.use("/sheppy", toNodeHandler(createHttpHandler(url, { basePath: "/sheppy" })))`.
 * Express strips the mount path from `req.url` but keeps it in
 * `req.originalUrl`, which the adapter reads when it is there — so the
 * handler's `basePath` is the mount path.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { HttpHandler } from "./handler.js";

/** A Node request listener that answers with `handler`. */
export function toNodeHandler(
  handler: HttpHandler,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    const path = (request as { originalUrl?: string }).originalUrl ?? request.url ?? "/";
    const host = request.headers.host ?? "localhost";
    const protocol = (request.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    const answer = await handler(
      new Request(`${protocol}://${host}${path}`, {
        method: request.method ?? "GET",
        headers,
        ...(hasBody
          ? { body: Readable.toWeb(request) as unknown as ReadableStream, duplex: "half" }
          : {}),
      } as RequestInit),
    );
    response.statusCode = answer.status;
    for (const [name, value] of answer.headers) response.setHeader(name, value);
    response.end(Buffer.from(await answer.arrayBuffer()));
  };
}
