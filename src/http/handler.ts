/**
 * @module http/handler
 * `createHttpHandler`: the HTTP API as a web-standard
 * `(request: Request) => Promise<Response>`, which Hono, Next.js route
 * handlers, Bun and Deno mount as it is (`toNodeHandler` adapts it to Node's
 * `http`, and so to Express). Routes come from `./routes.ts`; every request
 * is authorised first; routes that change anything are refused in read-only
 * mode and need a JSON body sent from the same origin (so a page on another
 * site cannot make a browser post to it); answers are JSON, and a server error
 * carries no stack or message unless told to.
 */

import { z } from "zod";
import type { Backend } from "../backends/backend.js";
import { MAX_JSON_DEPTH } from "../json.js";
import { knownQueues } from "../queue/known-queues.js";
import { workersIfReadable } from "../queue/readable-workers.js";
import { describeGiven } from "../task/describe-value.js";
import { nestsDeeperThan } from "./body-depth.js";
// A URL given to the handler may name either built-in backend, even when "sheppy" itself is not imported.
import "../backends/builtin.js";
import { backendFromUrl } from "../backends/registry.js";
import { BackendUnavailableError, InvalidOptionError } from "../errors.js";
import { defaultLogger, type Logger } from "../observability/logger.js";
import { Queue } from "../queue/queue.js";
import { queueNameProblem } from "../queue/queue-name.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { errorResponseBody, HttpError } from "./api-error.js";
import { dashboardPageWithoutSlash, dashboardResponse, isDashboardPath } from "./dashboard.js";
import { issuesInOneLine } from "./issue-line.js";
import { mountHint } from "./mount-hint.js";
import { openApiDocument } from "./openapi.js";
import { ROUTES, type Route } from "./routes.js";

export interface HttpHandlerOptions {
  /** Path the API is mounted under, e.g. `"/sheppy"` (default: the root). */
  basePath?: string | undefined;
  /**
   * Runs before every route (and the dashboard's files); anything but `true`
   * answers 403. A throw or a rejected promise — a broken check, such as a
   * session store down — answers 500 and is logged. A `Response` is sent as the answer
   * instead — a 401 with `WWW-Authenticate` so a browser asks for a login, or
   * a redirect to the application's sign-in page. `basicAuth` and
   * `bearerAuth` are ready-made ones. A check that rests on nothing the
   * browser keeps for this site alone (an address allow-list, `() => true`)
   * needs `allowedHosts` too, or a DNS-rebinding page gets through.
   */
  authorize?: ((request: Request) => boolean | Response | Promise<boolean | Response>) | undefined;
  /** Refuse every route that changes something (403). */
  readOnly?: boolean | undefined;
  /**
   * Origins besides the request's own that may send changes from a browser,
   * e.g. `["https://app.example.com"]`. A page on the API's own host is its
   * own origin whatever the scheme (behind a proxy that ends TLS the server
   * sees `http://` requests for an `https://` page), and so is a request its
   * browser says is same-origin (`Sec-Fetch-Site`).
   */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * Host names (as the `Host` header gives them, without the port) this API
   * answers to; a request naming another is refused (403): a web page whose
   * own domain resolves to this server (DNS rebinding) would otherwise reach
   * the API as if it were on it. Absent: with `authorize`, any host;
   * without it, only `localhost` names and IP addresses — so a server
   * reached under a domain name (behind a proxy that does the sign-in, say)
   * lists that name here. `["*"]`: any host.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Event streams (`GET /{queue}/events`) open at once at most (default 100); one more is answered 503. */
  maxEventStreams?: number | undefined;
  /** The largest request body read, in bytes (default 17 MiB: the payload limit and some room); over it: 413. */
  maxBodyBytes?: number | undefined;
  /**
   * Put a server error's message and stack in its 500 answer, and the
   * backend's own message (which names the server) in a 503's (development,
   * and operators' own tools such as `sheppy dashboard`).
   */
  exposeErrors?: boolean | undefined;
  /**
   * Where a server error (a 500) is logged with its stack, the request's
   * method and path — its answer says only "internal error" — and, while
   * errors are not exposed, why the backend was out of reach (default: the
   * shared default logger; the CLI's under `sheppy dashboard`).
   */
  logger?: Logger | undefined;
  /** Serve the dashboard at the base path (default `true`); `false` serves the API alone. */
  dashboard?: boolean | undefined;
  /**
   * Query parameters the application's own code reads — e.g. an access token
   * that `authorize` takes from the URL for an `EventSource`, which cannot send
   * headers. A route refuses (400) any other parameter it does not take, so a
   * misspelt filter is never silently ignored.
   */
  extraQueryParameters?: readonly string[] | undefined;
  /**
   * The tasks a caller may add (and give crons) by name, and the workflows it
   * may start or run again: a list of names, or a check of the name and the
   * request. Absent: any task and workflow this process defines — internal
   * ones included, so list the ones meant for callers.
   */
  addableTasks?: readonly string[] | ((name: string, request: Request) => boolean) | undefined;
  /**
   * The queues this API serves, each listed by `GET /queues` (with 0 when it
   * holds nothing); a request about any other queue — a read, a change, an
   * add — answers 404, so a mistyped name never gets tasks no worker serves.
   * Absent: every queue.
   */
  queues?: readonly string[] | undefined;
}

/** The `queues` option, checked now: the set of names served, or `undefined` for every queue. */
function servedQueues(option: HttpHandlerOptions["queues"]): ReadonlySet<string> | undefined {
  if (option === undefined) return undefined;
  if (!Array.isArray(option) || option.length === 0) {
    throw new InvalidOptionError(
      `createHttpHandler() option queues must be a non-empty list of queue names (got ${Array.isArray(option) ? "an empty list" : describeGiven(option)}); leave it out to serve every queue`,
    );
  }
  for (const name of option) {
    const problem = typeof name === "string" ? queueNameProblem(name) : "a queue name is text";
    if (problem !== null) {
      throw new InvalidOptionError(
        `createHttpHandler() option queues: ${describeGiven(name)} is no queue name: ${problem}`,
      );
    }
  }
  return new Set(option);
}

/**
 * The `addableTasks` option, checked now, as a check of a name and its
 * request: `true` when the caller may add the task, else `false`, or the
 * names it may add when the option lists them.
 */
function addableCheck(
  option: HttpHandlerOptions["addableTasks"],
): (name: string, request: Request) => boolean | readonly string[] {
  if (option === undefined) return () => true;
  if (typeof option === "function") return (name, request) => option(name, request) === true;
  if (!Array.isArray(option) || option.some((name) => typeof name !== "string" || name === "")) {
    throw new InvalidOptionError(
      `createHttpHandler() option addableTasks must be a list of task names or a function (name, request) => boolean (got ${JSON.stringify(option)})`,
    );
  }
  const names: readonly string[] = [...option];
  return (name) => names.includes(name) || names;
}

/** The API as a fetch handler. */
export type HttpHandler = ((request: Request) => Promise<Response>) & {
  /**
   * Disconnects the backend the handler made from a URL, whose connection
   * would otherwise keep the process alive after your server closed. A
   * backend passed in is yours: `close()` leaves it alone.
   */
  close(): Promise<void>;
};

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Routes with more fixed segments win over ones that read a parameter there. */
  readonly fixed: number;
  /** The query parameters the route takes, by name. */
  readonly queryNames: ReadonlySet<string>;
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  let fixed = 0;
  const source = route.path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) {
        if (segment !== "") fixed++;
        return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      }
      names.push(param[1]!);
      return "([^/]+)";
    })
    .join("/");
  const queryNames = new Set(route.query ? schemaFields(route.query) : []);
  // Exactly the route's path, no closing slash: an `authorize` rule on the raw path must see the
  // path the API acts on, and `…/pause/` acting as `…/pause` would slip past a rule on the end.
  return { route, pattern: new RegExp(`^${source}$`), names, fixed, queryNames };
}

const COMPILED = ROUTES.map(compile).sort((a, b) => b.fixed - a.fixed);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    // What a queue holds is of the moment, and often behind authorize: no cache keeps a copy.
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      // Text a caller chose (an argument, an error message) is never read as a page or script.
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

/** Every key of {@link HttpHandlerOptions} (the compiler keeps it complete). */
const HANDLER_OPTION_KEYS = Object.keys({
  basePath: true,
  authorize: true,
  readOnly: true,
  allowedOrigins: true,
  allowedHosts: true,
  maxEventStreams: true,
  maxBodyBytes: true,
  exposeErrors: true,
  logger: true,
  dashboard: true,
  extraQueryParameters: true,
  addableTasks: true,
  queues: true,
} satisfies Record<keyof HttpHandlerOptions, true>);

/**
 * The HTTP API over `backend` (a backend instance, or a URL such as
 * `redis://…`); task routes that add tasks by name find them among the task
 * definitions loaded in this process.
 * @example
 * const handler = createHttpHandler("redis://127.0.0.1:6379", { basePath: "/sheppy" });
 * export default { fetch: handler }; // Bun, Deno, Hono…
 */
export function createHttpHandler(
  backend: Backend | string,
  options: HttpHandlerOptions = {},
): HttpHandler {
  // A misspelt `readOnly` would leave the API open to changes.
  checkOptionKeys(options, HANDLER_OPTION_KEYS, "createHttpHandler()");
  const store = typeof backend === "string" ? backendFromUrl(backend) : backend;
  const basePath = (options.basePath ?? "").replace(/\/+$/, "");
  const hosts = hostsOf(options.allowedHosts);
  const maxStreams = streamLimitOf(options.maxEventStreams);
  let openStreams = 0;
  // The queues asked about lately; a request naming a new queue each time must not grow it without end.
  const queues = new Map<string, Queue>();
  const served = servedQueues(options.queues);
  const queueNamed = (name: string): Queue => {
    if (served !== undefined && !served.has(name)) {
      throw new HttpError(
        404,
        `this API serves no queue named '${name}' (it serves ${[...served].map((q) => `'${q}'`).join(", ")})`,
      );
    }
    let queue = queues.get(name);
    if (queue) queues.delete(name);
    else queue = new Queue(store, { name });
    queues.set(name, queue);
    if (queues.size > MAX_CACHED_QUEUES) queues.delete(queues.keys().next().value!);
    return queue;
  };
  // The queues an operator looks for, as `sheppy queue list` shows them (see queue/known-queues).
  const listQueues = async () => {
    if (!store.isConnected) await store.connect();
    const known = await knownQueues(store);
    if (served === undefined) return Object.fromEntries(known);
    return Object.fromEntries([...served].sort().map((name) => [name, known.get(name) ?? 0]));
  };
  const expose = options.exposeErrors ?? false;
  // Checked now: otherwise every request would be a 500 ("authorize is not a function").
  if (options.authorize !== undefined && typeof options.authorize !== "function") {
    throw new InvalidOptionError(
      `createHttpHandler(): authorize must be a function (request) => boolean | Response (got ${describeGiven(options.authorize)})`,
    );
  }
  if (options.logger !== undefined && typeof options.logger?.error !== "function") {
    throw new InvalidOptionError(
      "createHttpHandler(): logger must be a pino-style logger (an object with an error() method)",
    );
  }
  const logger = options.logger ?? defaultLogger();
  const unavailable = new UnavailableReport(logger);
  const extraQuery = new Set(checkedNames(options.extraQueryParameters));
  const addable = addableCheck(options.addableTasks);

  /** Whether the handler answers `path` (under its base path): a route, its OpenAPI document or the dashboard. */
  const answers = (path: string) =>
    path === "/openapi.json" ||
    COMPILED.some((compiled) => compiled.pattern.test(path)) ||
    (options.dashboard !== false && isDashboardPath(path));

  const handle = async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      checkHosts(request, url, hosts, options.authorize !== undefined);
      // The base path is whole segments: `/sheppy` holds `/sheppy/…`, not `/sheppyx/…`.
      const inBase =
        url.pathname === basePath || url.pathname.startsWith(`${basePath}/`) || basePath === "";
      if (!inBase)
        throw new HttpError(
          404,
          `no route ${url.pathname}${mountHint(url.pathname, basePath, answers)}`,
        );
      const path = url.pathname.slice(basePath.length) || "/";
      if (options.authorize) {
        const verdict = await authorization(options.authorize, request);
        if (verdict instanceof Response) return verdict;
        if (!verdict) throw new HttpError(403, "forbidden");
      }
      if (path === "/openapi.json") {
        if (request.method !== "GET") throw methodNotAllowed(request.method, path, ["GET"]);
        const unknown = [...new Set(url.searchParams.keys())].filter(
          (name) => !extraQuery.has(name),
        );
        if (unknown.length > 0) throw unknownQuery(unknown, "GET /openapi.json", []);
        return json(200, openApiDocument(ROUTES));
      }
      if (options.dashboard !== false && isDashboardPath(path)) {
        if (request.method !== "GET") throw methodNotAllowed(request.method, path, ["GET"]);
        const config = { readOnly: options.readOnly ?? false };
        if (url.pathname === basePath) return dashboardPageWithoutSlash(url, config);
        return dashboardResponse(path, config, request)!;
      }
      const matches = COMPILED.flatMap((compiled) => {
        const found = compiled.pattern.exec(path);
        return found ? [{ compiled, values: found.slice(1) }] : [];
      });
      if (matches.length === 0) {
        const bare = path.replace(/\/+$/, "");
        const slashed = bare !== path && COMPILED.some((compiled) => compiled.pattern.test(bare));
        throw new HttpError(
          404,
          slashed
            ? `no route ${url.pathname} (the API's paths end without a slash: ${url.pathname.replace(/\/+$/, "")})`
            : `no route ${url.pathname}${mountHint(url.pathname, basePath, answers)}`,
        );
      }
      // The path is its most specific route's: `/q/tasks/clear` is the clear route's, whatever
      // the method, not a task named `clear` (task ids are UUIDs, never a fixed segment's word).
      const most = Math.max(...matches.map((m) => m.compiled.fixed));
      const specific = matches.filter((m) => m.compiled.fixed === most);
      const match = specific.find((m) => m.compiled.route.method === request.method);
      if (!match) {
        throw methodNotAllowed(
          request.method,
          path,
          specific.map((m) => m.compiled.route.method),
        );
      }
      const { route } = match.compiled;
      const params = Object.fromEntries(
        match.compiled.names.map((name, i) => [name, decodeSegment(match.values[i]!)]),
      );
      // A queue name never needs encoding: an encoded one would slip past a rule on the raw path
      // (authorize's, or the application's own router's) that the decoded name should meet.
      const queueAt = match.compiled.names.indexOf("queue");
      if (queueAt >= 0 && match.values[queueAt]!.includes("%")) {
        // A name that would need encoding (`ümlaut`, `a b`) is no queue name at all: say the rule.
        const problem = queueNameProblem(params.queue!);
        if (problem !== null) throw new HttpError(400, problem);
        throw new HttpError(
          400,
          `a queue name in the path is written as it is, not percent-encoded: '${match.values[queueAt]!}'`,
        );
      }
      if (route.mutating) checkMutation(request, url, options);
      const query = parse(
        route.query,
        queryValues(match.compiled, url.searchParams, extraQuery),
        "query",
      );
      const body = route.mutating
        ? parseBody(route, await readJson(request, options.maxBodyBytes ?? MAX_BODY_BYTES))
        : undefined;
      const queue =
        params.queue === undefined ? (undefined as unknown as Queue) : queueNamed(params.queue);
      const readsHeld = (!route.mutating || route.onHeld) && !route.anyQueue;
      if (queue && readsHeld && !(await holdsAnything(queue))) {
        throw new HttpError(404, `no queue named '${params.queue}' holds anything`);
      }
      let streamClosed: (() => void) | undefined;
      if (route.stream) {
        if (openStreams >= maxStreams) {
          throw new HttpError(
            503,
            `${maxStreams} event streams are open, the most this API serves at once (maxEventStreams)`,
            {},
            { "retry-after": "5" },
          );
        }
        openStreams++;
        let closed = false;
        streamClosed = () => {
          if (!closed) {
            closed = true;
            openStreams--;
          }
        };
      }
      let result: unknown;
      try {
        result = await route.handle({
          queue,
          params,
          query,
          body,
          listQueues,
          queueNamed,
          signal: request.signal,
          headers: request.headers,
          streamClosed: streamClosed ?? (() => undefined),
          addable: (name) => addable(name, request),
        });
      } catch (error) {
        streamClosed?.();
        throw error;
      }
      if (route.stream || route.media) return result as Response;
      return json(route.status ?? 200, result);
    } catch (error) {
      const { status, body } = errorResponseBody(error, expose);
      // A change the backend did not answer in time may be made all the same: a client that
      // follows Retry-After must look first (or add with an id) rather than make it twice.
      if (status === 503 && request.method !== "GET" && !(error instanceof HttpError)) {
        body.error = `${String(body.error)} — the change may have been made all the same; look before sending it again`;
        body.mayHaveApplied = true;
      }
      if (status === 503 && !expose && error instanceof BackendUnavailableError) {
        unavailable.report(error, request);
      }
      if (status === 500) {
        // The answer hides the cause from the caller; the operator reads it here. A logger that
        // fails must not turn the 500 into a rejected handler (a server's own crash page).
        try {
          logger.error(
            { err: error, method: request.method, path: pathOf(request) },
            "HTTP API: a request failed with an internal error",
          );
        } catch {
          // Nothing better to tell it to.
        }
      }
      const headers: Record<string, string> =
        error instanceof HttpError
          ? error.headers
          : // Out of reach: say when to ask again, as a client's retry logic reads it.
            status === 503
            ? { "retry-after": String(RETRY_UNAVAILABLE_AFTER_S) }
            : {};
      return json(status, body, headers);
    }
  };
  // HEAD answers what GET would, without the body (uptime checks send it).
  const handler = (request: Request) =>
    request.method === "HEAD" ? headOf(handle, request) : handle(request);
  const madeHere = typeof backend === "string";
  return Object.assign(handler, {
    close: async () => {
      if (madeHere) await store.disconnect();
    },
  });
}

/**
 * Logs why the backend was out of reach when the answer did not say it: once
 * per cause and half minute, so an outage under a polling dashboard or an
 * uptime check is one line per cause, not one per request.
 */
class UnavailableReport {
  /** When each cause was last logged: causes that alternate are each logged once per period, not at each switch. */
  readonly #logged = new Map<string, number>();
  constructor(private readonly logger: Logger) {}

  report(error: BackendUnavailableError, request: Request): void {
    const now = Date.now();
    const at = this.#logged.get(error.message);
    if (at !== undefined && now - at < UNAVAILABLE_LOG_EVERY_MS) return;
    for (const [cause, when] of this.#logged) {
      if (now - when >= UNAVAILABLE_LOG_EVERY_MS) this.#logged.delete(cause);
    }
    // Bounded however many distinct causes come within one period.
    if (this.#logged.size >= UNAVAILABLE_CAUSES_KEPT) this.#logged.clear();
    this.#logged.set(error.message, now);
    const log = typeof this.logger.warn === "function" ? this.logger.warn : this.logger.error;
    try {
      log.call(
        this.logger,
        { err: error, method: request.method, path: pathOf(request) },
        "HTTP API: the backend is out of reach, answered 503",
      );
    } catch {
      // A logger that fails must not turn the 503 into a rejected handler.
    }
  }
}

const UNAVAILABLE_LOG_EVERY_MS = 30_000;

/** Causes remembered at once; more within one period start the count again. */
const UNAVAILABLE_CAUSES_KEPT = 64;

/** Seconds a client is told to wait before it asks again while the backend is out of reach. */
const RETRY_UNAVAILABLE_AFTER_S = 5;

async function headOf(
  handle: (request: Request) => Promise<Response>,
  request: Request,
): Promise<Response> {
  const response = await handle(new Request(request, { method: "GET" }));
  // A stream (the events route) is opened by the GET: close it at once.
  await response.body?.cancel().catch(() => undefined);
  return new Response(null, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The request's path for a log line, or its raw URL when that does not parse. */
function pathOf(request: Request): string {
  try {
    return new URL(request.url).pathname;
  } catch {
    return request.url;
  }
}

/** Queues kept for reuse between requests (the ones asked about most lately). */
const MAX_CACHED_QUEUES = 1000;

/**
 * Refuses a request sent to a host name this API does not answer to. Both
 * names a request carries are checked: `Host`, and `X-Forwarded-Host` when a
 * proxy passed it on — which the same-origin check of changes trusts, and
 * which a page rebinding its own name may set on its requests too. Listed
 * names (`allowedHosts`) are answered; so is a `localhost` name or an IP
 * address as the `Host` of a request a proxy passed on (what a proxy sends
 * when it connects by address), whose forwarded name must then be listed. An
 * IP address cannot be rebound, and a browser sends one only when pointed at
 * it. Told no names
 * and no `authorize`, the API answers this machine's names and addresses
 * only: a rebinding page sends its own name, and a browser on a plain-http
 * page sends nothing else that tells it from a script.
 */
function checkHosts(
  request: Request,
  url: URL,
  hosts: Set<string> | "any" | undefined,
  authorized: boolean,
): void {
  if (hosts === "any" || (!hosts && authorized)) return;
  const forwarded = forwardedHost(request);
  // [how the message names it, the name, whether this machine's names pass for it without a list]
  const names: [string, string, boolean][] = [["", url.hostname, !hosts || forwarded !== null]];
  if (forwarded !== null) names.push([" (X-Forwarded-Host)", hostnameOf(forwarded), !hosts]);
  for (const [header, name, local] of names) {
    if ((local && isLocalName(name)) || hosts?.has(bareName(name))) continue;
    throw new HttpError(
      403,
      hosts
        ? `host ${name}${header} is not one this API answers to (see allowedHosts)`
        : `host ${name}${header} is not one this API answers to: with neither allowedHosts nor authorize it answers only localhost and IP addresses (a page rebinding its own name to this server would send the same); set allowedHosts to the names it is reached by (sheppy dashboard: --allowed-hosts), or authorize`,
    );
  }
}

/** The name of an `X-Forwarded-Host` value (`host[:port]`); one that is not a host is a 400. */
function hostnameOf(value: string): string {
  try {
    const url = new URL(`http://${value}`);
    const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
    if (bare && !/[/?#@\\]/.test(value)) return url.hostname;
  } catch {
    // Said below.
  }
  throw new HttpError(400, `X-Forwarded-Host '${value}' is not a host and port`);
}

/** A host name as names are compared: lower case, without the closing dot of a fully qualified one. */
function bareName(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, "");
}

/** `localhost` (and names under it), or an IP address: names no other site can take. */
function isLocalName(hostname: string): boolean {
  const name = bareName(hostname);
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  // The URL parser has written any address in its canonical form: dotted IPv4, bracketed IPv6.
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || /^\[[0-9a-f:.]+\]$/.test(name);
}

/**
 * The host names of `allowedHosts`, lower-cased; `undefined` when it is
 * absent; `"any"` when it holds `*` (every host, browsers' too).
 */
function hostsOf(given: readonly string[] | undefined): Set<string> | "any" | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given) || given.some((host) => typeof host !== "string" || host === "")) {
    throw new InvalidOptionError(
      'createHttpHandler(): allowedHosts must be a list of host names, e.g. ["localhost", "127.0.0.1"]',
    );
  }
  if (given.includes("*")) return "any";
  // A name with a port or a wildcard is compared with none of the names a request carries.
  const never = given.find((host) => !/^(?:[a-z0-9_-]+\.?)+$|^\[[0-9a-f:.]+\]$/i.test(host));
  if (never !== undefined) {
    throw new InvalidOptionError(
      `createHttpHandler(): allowedHosts entry '${never}' is not a host name (names are matched without a port, and "*" alone is the only wildcard)`,
    );
  }
  return new Set(given.map(bareName));
}

/** `maxEventStreams`, checked (default 100). */
function streamLimitOf(given: number | undefined): number {
  if (given === undefined) return 100;
  if (!Number.isInteger(given) || given < 1) {
    throw new InvalidOptionError(
      `createHttpHandler(): maxEventStreams must be an integer ≥ 1 (got ${String(given)})`,
    );
  }
  return given;
}

/** 16 MiB of payload (the default limit) and room for the request's envelope. */
const MAX_BODY_BYTES = 17 * 1024 * 1024;

/**
 * Levels a request body may nest: a stored value's (arguments, each nesting
 * as deep as a result) and the few of the request around it (the body
 * object, its `args` list). Deeper is refused before the body is parsed.
 */
const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 4;

async function authorization(
  authorize: NonNullable<HttpHandlerOptions["authorize"]>,
  request: Request,
): Promise<boolean | Response> {
  let verdict: boolean | Response;
  try {
    verdict = await authorize(request);
  } catch (error) {
    // Refused all the same, but as what it is: a broken check (a session store down) is a 500
    // the operator finds in the log, not a 403 that reads as a wrong password.
    throw new Error(`authorize threw: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  return verdict instanceof Response ? verdict : verdict === true;
}

/** A 405 for a path that exists, naming the methods it takes in `Allow`. */
function methodNotAllowed(method: string, path: string, methods: readonly string[]): HttpError {
  // HEAD is answered wherever GET is: the list says so.
  const taken = methods.includes("GET") ? [...methods, "HEAD"] : methods;
  const allow = [...new Set(taken)].join(", ");
  return new HttpError(405, `${method} ${path} is not allowed: it takes ${allow}`, {}, { allow });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path: '${segment}'`);
  }
}

/**
 * Whether `queue` is one the backend knows: it holds tasks, or at least a
 * cron or a workflow (a queue of crons alone holds no task until one fires),
 * or it is paused (so that a paused queue that holds nothing can be resumed).
 * Asked in that order, each only when the one before says no: most reads
 * are of a queue that holds tasks.
 */
async function holdsAnything(queue: Queue): Promise<boolean> {
  if ((await queue.size()) > 0) return true;
  if (queue.name in (await queue.listQueues())) return true;
  if ((await queue.getCrons()).length > 0) return true;
  if (await queue.isPaused()) return true;
  const backend = await queue.connect();
  if ((await backend.listWorkflows(queue.name, { limit: 1 })).workflows.length > 0) return true;
  // A queue a worker serves is one, even before its first task.
  return ((await workersIfReadable(queue)) ?? []).length > 0;
}

/** Refuses a change in read-only mode, without a JSON body, or sent from another origin. */
function checkMutation(request: Request, url: URL, options: HttpHandlerOptions): void {
  if (options.readOnly) throw new HttpError(403, "this API is read-only");
  const type = request.headers.get("content-type") ?? "";
  // A browser sends a DELETE from another origin only after a preflight this API never answers,
  // so one without a body (fetch's and axios's default) needs no JSON type to prove it is not a form.
  const bodiless = request.method === "DELETE" && declaresNoBody(request);
  if (!bodiless && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, "send a JSON body (content-type: application/json), even an empty {}");
  }
  // A browser's own word that the page is this origin: no page's script can set or change it.
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin") return;
  const origin = request.headers.get("origin");
  const host = origin === null ? null : originHost(origin);
  const allowed =
    origin !== null &&
    host !== null &&
    (host === url.host ||
      host === forwardedHost(request) ||
      (options.allowedOrigins ?? []).includes(origin));
  if (origin !== null && !allowed) {
    throw new HttpError(
      403,
      `cross-origin request from ${origin} refused (allow it with allowedOrigins, or sheppy dashboard --allowed-origins)`,
    );
  }
  if (!allowed && site !== null && site !== "none") {
    throw new HttpError(403, `cross-site request refused (sec-fetch-site: ${site})`);
  }
}

/**
 * The host a proxy says the request was sent to, when it rewrote `Host`
 * (nginx's default) and passed the original on. Safe to trust for this
 * check: a page of another site cannot set the header without a preflight,
 * which this API never answers.
 */
function forwardedHost(request: Request): string | null {
  const value = request.headers.get("x-forwarded-host");
  if (value === null) return null;
  return value.split(",")[0]!.trim().toLowerCase() || null;
}

/**
 * The host (and port) of an `Origin` header, scheme aside: behind a proxy that
 * ends TLS, a page of `https://host` sends requests the server sees as
 * `http://host`. `null` for an origin that is not a URL (`null`).
 */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/**
 * Whether `request` comes without a body: none at all, or — as some
 * frameworks hand every request a body stream, an empty one too — headers
 * that declare none (no length, or 0, no chunked transfer, no type).
 */
function declaresNoBody(request: Request): boolean {
  if (request.body === null) return true;
  const { headers } = request;
  const length = headers.get("content-length");
  return (
    (length === null || length.trim() === "0") &&
    !headers.has("transfer-encoding") &&
    !headers.has("content-type")
  );
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `the body is over ${maxBytes} bytes`);
  const text = await readText(request, maxBytes);
  if (text.trim() === "") return undefined;
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
    throw new HttpError(
      400,
      `the body's arrays and objects nest deeper than ${MAX_BODY_DEPTH} levels; task arguments and results may nest at most ${MAX_JSON_DEPTH}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The body as text, read only up to `maxBytes`: a body without a length
 * (chunked) is counted as it arrives, so one sent endlessly is refused at the
 * limit instead of being held in memory whole. The rest is left unread (not
 * cancelled: over Node's http, cancelling would close the connection before
 * the 413 is written; the server discards what follows).
 */
async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      // The client went away before its body was whole: its mistake (or its network's), not
      // the server's, and nobody is left to read the answer.
      throw new HttpError(
        400,
        "the request's body ended before it was whole (the client went away)",
        {},
        {},
        error,
      );
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.releaseLock();
      throw new HttpError(413, `the body is over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, "the body is not valid UTF-8");
  }
}

function parse<T>(
  schema:
    | { safeParse(value: unknown): { success: boolean; data?: T; error?: { issues: unknown[] } } }
    | undefined,
  value: unknown,
  where: string,
): T {
  if (!schema) return value as T;
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error?.issues ?? [];
    throw new HttpError(400, `invalid ${where}: ${issuesInOneLine(issues, value)}`, { issues });
  }
  return result.data as T;
}

/**
 * The body of a change, as its route takes it. A field the route does not
 * know is refused by name, whatever else is wrong: it is most often a
 * misspelt one, and the client must not believe it was honoured.
 */
function parseBody(route: Route, value: unknown): unknown {
  const result = route.body!.safeParse(value);
  if (result.success) return result.data;
  const { issues } = result.error;
  const unknown = issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => [...issue.path, key].join("."))
      : [],
  );
  if (unknown.length === 0) {
    throw new HttpError(400, `invalid body: ${issuesInOneLine(issues, value)}`, { issues });
  }
  const names = unknown.map((name) => `'${name}'`).join(", ");
  const known = schemaFields(route.body!);
  throw new HttpError(
    400,
    `unknown field${unknown.length === 1 ? "" : "s"} ${names} in the body of ${route.method} ${route.path} (it takes ${known.length === 0 ? "none" : known.join(", ")})`,
    { issues },
  );
}

function checkedNames(names: unknown): readonly string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names) || !names.every((name) => typeof name === "string" && name !== "")) {
    throw new InvalidOptionError(
      `createHttpHandler() option extraQueryParameters must be a list of parameter names (got ${JSON.stringify(names)})`,
    );
  }
  return names;
}

/** The member names of a flat object schema (a route's body or query). */
function schemaFields(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return Object.keys(json.properties ?? {});
}

/**
 * The query's values by name. A parameter the route does not take (nor the
 * application, see {@link HttpHandlerOptions.extraQueryParameters}) is refused
 * by name — most often it is a misspelt filter, and the client must not
 * believe it was applied — and so is one given twice, which has no one value.
 */
function queryValues(
  compiled: CompiledRoute,
  search: URLSearchParams,
  extra: ReadonlySet<string>,
): Record<string, string> {
  const values: Record<string, string> = {};
  const unknown: string[] = [];
  for (const [name, value] of search) {
    if (extra.has(name)) continue;
    if (!compiled.queryNames.has(name)) {
      if (!unknown.includes(name)) unknown.push(name);
      continue;
    }
    if (Object.hasOwn(values, name)) {
      throw new HttpError(400, `query parameter '${name}' is given more than once`);
    }
    values[name] = value;
  }
  if (unknown.length > 0) {
    const { route } = compiled;
    throw unknownQuery(unknown, `${route.method} ${route.path}`, [...compiled.queryNames]);
  }
  return values;
}

/** The 400 for query parameters `where` (`GET /{queue}/tasks`) does not take, listing those it does. */
function unknownQuery(
  unknown: readonly string[],
  where: string,
  takes: readonly string[],
): HttpError {
  const names = unknown.map((name) => `'${name}'`).join(", ");
  return new HttpError(
    400,
    `unknown query parameter${unknown.length === 1 ? "" : "s"} ${names} in ${where} (it takes ${takes.length === 0 ? "none" : takes.join(", ")})`,
  );
}
