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
import { rawPathProblem } from "./raw-path.js";

/** A Node request listener that answers with `handler`. */
export function toNodeHandler(
  handler: (request: Request) => Promise<Response>,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return (request, response) => answerWith(handler, request, response);
}

/**
 * Answers `request` with `handler`, and never rejects: a listener's rejection
 * is an unhandled one, which ends the process serving it. A request whose
 * Host header and target make no URL (`Host: exa mple`) is answered 400; a
 * handler that throws (it answers its own errors, so only a defect would) 500.
 */
export async function answerWith(
  handler: (request: Request) => Promise<Response>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  // Methods a web Request cannot carry: no route takes them, so they are a 405, not a malformed request.
  if (UNCARRIED_METHODS.has(request.method ?? "")) {
    plainAnswer(response, 405, `method ${request.method} is not allowed\n`);
    return;
  }
  const problem = rawPathProblem(rawTarget(request));
  if (problem !== null) {
    const body = JSON.stringify({ error: problem });
    response.writeHead(400, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "x-content-type-options": "nosniff",
    });
    response.end(body);
    return;
  }
  let webRequest: Request;
  try {
    webRequest = toRequest(request, response);
  } catch (error) {
    plainAnswer(
      response,
      400,
      error instanceof UnwritableBodyError
        ? `bad request: ${error.message}\n`
        : "bad request: the Host header and the request target do not form a URL\n",
    );
    return;
  }
  let answer: Response;
  try {
    answer = await handler(webRequest);
  } catch {
    plainAnswer(response, 500, "internal error: the request could not be answered\n");
    return;
  }
  await writeResponse(answer, response);
}

/** Methods the fetch standard forbids in a `Request` (the constructor throws on them). */
const UNCARRIED_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);

function plainAnswer(response: ServerResponse, status: number, text: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
  });
  response.end(text);
}

/** A Host header: a name or an IPv4 address, or a bracketed IPv6 address, and an optional port. */
const HOST_HEADER = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The request target as the server received it (Express keeps it whole in `originalUrl`). */
function rawTarget(request: IncomingMessage): string {
  return (request as { originalUrl?: string }).originalUrl ?? request.url ?? "/";
}

/** A target in absolute form (`http://host:port/path`, as sent to a proxy): its authority, and the rest as sent. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([\s\S]*)$/;

/**
 * The host and the path of a request. A target in absolute form names its
 * own host, which stands instead of the Host header (RFC 9112, 3.2.2); its
 * path is kept as sent, not normalised, as a router saw it.
 */
function hostAndPath(request: IncomingMessage): { host: string; path: string } {
  const target = rawTarget(request);
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) return { host: request.headers.host ?? "localhost", path: target };
  const rest = absolute[2]!;
  return { host: absolute[1]!, path: rest === "" || !rest.startsWith("/") ? `/${rest}` : rest };
}

/**
 * `request` as a web `Request`. Its signal aborts when the client goes away
 * (the response closes before it was finished), which ends streams.
 */
export function toRequest(request: IncomingMessage, response: ServerResponse): Request {
  const { host, path } = hostAndPath(request);
  // Only a host and a port: Node takes `/`, `?` and `#` in a Host header, which would move the
  // URL's path away from the one the server (and a router's rule on it) saw.
  if (!HOST_HEADER.test(host)) throw new Error("the request's host is not a host name and port");
  const protocol = (request.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  const left = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) left.abort();
  });
  // A request without a body is handed on without one (a bodiless DELETE needs no JSON type).
  const hasBody =
    request.method !== "GET" &&
    request.method !== "HEAD" &&
    (request.headers["transfer-encoding"] !== undefined ||
      Number(request.headers["content-length"] ?? 0) > 0 ||
      (request as { body?: unknown }).body !== undefined);
  return new Request(`${protocol}://${host}${path}`, {
    method: request.method ?? "GET",
    headers,
    signal: left.signal,
    ...(hasBody ? bodyOf(request) : {}),
  } as RequestInit);
}

/** A body an app's parser read that cannot be handed on as JSON. */
class UnwritableBodyError extends Error {}

/**
 * The body to hand on: the request's stream — or, when a body parser of the
 * app (`express.json()`) has read it already, what that parser made of it.
 */
function bodyOf(request: IncomingMessage): RequestInit & { duplex?: "half" } {
  const parsed = (request as { body?: unknown }).body;
  if (parsed !== undefined && request.readableEnded) {
    if (typeof parsed === "string" || Buffer.isBuffer(parsed)) return { body: parsed };
    try {
      return { body: JSON.stringify(parsed) };
    } catch {
      // Nested past what the stack holds (the API refuses past 64 levels anyway).
      throw new UnwritableBodyError(
        "the body, as the app's body parser read it, cannot be written back as JSON (nested too deeply?)",
      );
    }
  }
  return { body: Readable.toWeb(request) as unknown as ReadableStream, duplex: "half" };
}

/** Writes `answer` to `response`, streaming its body as it comes. */
export async function writeResponse(answer: Response, response: ServerResponse): Promise<void> {
  response.statusCode = answer.status;
  for (const [name, value] of answer.headers) response.setHeader(name, value);
  if (!answer.body) {
    response.end();
    return;
  }
  response.flushHeaders();
  const reader = answer.body.getReader();
  response.once("close", () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A client slower than the body (an event stream during a burst) holds the body back, so
      // what it has not taken waits in the body's bounded queue, not in this socket's buffer.
      if (!response.write(value)) await drained(response);
    }
  } catch {
    // The client went away mid-stream: nothing left to write to.
  }
  response.end();
}

/** Resolves once `response` can take more (or is gone). */
function drained(response: ServerResponse): Promise<void> {
  if (response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}
