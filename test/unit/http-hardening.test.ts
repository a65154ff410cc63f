/**
 * What the HTTP API does against requests from a hostile network neighbour:
 * a Host it was not told to answer (a DNS-rebinding page), a queue name
 * percent-encoded past a path rule, more event streams than it serves at
 * once, and a body that is not UTF-8.
 */
import { BackendUnavailableError, type Logger, Queue, task } from "sheppy";
import { MemoryBackend } from "sheppy/backends/memory";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const noop = task({ name: "http-hardening.noop" }, () => null);

async function backendWithTask(): Promise<MemoryBackend> {
  const backend = new MemoryBackend({ instantProcessing: false });
  await new Queue(backend, { name: "payments" }).add(noop());
  return backend;
}

describe("HTTP API hardening", () => {
  it("with neither allowedHosts nor authorize, the API answers under local names and addresses only (DNS rebinding), browsers and scripts alike", async () => {
    const backend = await backendWithTask();
    const handler = createHttpHandler(backend);
    const get = (host: string, headers: Record<string, string> = {}) =>
      handler(new Request(`http://${host}/payments/stats`, { headers }));
    for (const host of [
      "localhost:8080",
      "localhost.",
      "app.localhost",
      "127.0.0.1:8080",
      "[::1]:8080",
      "10.0.0.5",
    ]) {
      expect((await get(host)).status, host).toBe(200);
    }
    // A rebinding page on plain http sends no Sec-Fetch-* headers: only the name tells it.
    for (const headers of [{}, { "sec-fetch-site": "same-origin" }]) {
      const rebound = await get("attacker.test:8080", headers);
      expect(rebound.status).toBe(403);
      expect(((await rebound.json()) as { error: string }).error).toBe(
        "host attacker.test is not one this API answers to: with neither allowedHosts nor authorize it answers only localhost and IP addresses (a page rebinding its own name to this server would send the same); set allowedHosts to the names it is reached by (sheppy dashboard: --allowed-hosts), or authorize",
      );
    }
    const pause = await handler(
      new Request("http://attacker.test:8080/payments/pause", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://attacker.test:8080" },
        body: "{}",
      }),
    );
    expect(pause.status).toBe(403);
    expect(await new Queue(backend, { name: "payments" }).isPaused()).toBe(false);
    // Told the names (`*`: any), or given authorize: those decide.
    for (const options of [
      { allowedHosts: ["queues.example"] },
      { allowedHosts: ["*"] },
      { authorize: () => true },
    ]) {
      const told = createHttpHandler(await backendWithTask(), options);
      const answer = await told(new Request("http://queues.example/payments/stats"));
      expect(answer.status, JSON.stringify(Object.keys(options))).toBe(200);
    }
  });

  it("every answer says nosniff: JSON, errors, metrics and the event stream are never read as a page", async () => {
    const handler = createHttpHandler(await backendWithTask());
    for (const path of [
      "/payments/stats",
      "/payments/tasks",
      "/nope/stats",
      "/metrics",
      "/openapi.json",
    ]) {
      const answer = await handler(new Request(`http://localhost${path}`));
      expect(answer.headers.get("x-content-type-options"), path).toBe("nosniff");
      await answer.body?.cancel();
    }
    const stop = new AbortController();
    const stream = await handler(
      new Request("http://localhost/payments/events", { signal: stop.signal }),
    );
    expect(stream.headers.get("x-content-type-options")).toBe("nosniff");
    stop.abort();
    await stream.body?.cancel();
  });

  it("a body the client abandons halfway is its own 400, not a server error logged with a stack", async () => {
    const errors: unknown[] = [];
    const logger = {
      error: (...args: unknown[]) => errors.push(args),
      warn() {},
      info() {},
      debug() {},
    };
    const handler = createHttpHandler(await backendWithTask(), {
      logger: logger as unknown as Logger,
    });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":'));
        controller.error(new Error("aborted"));
      },
    });
    const answer = await handler(
      new Request("http://localhost/payments/tasks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit),
    );
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toBe(
      "the request's body ended before it was whole (the client went away)",
    );
    expect(errors).toEqual([]);
  });

  it("acts only on a route's exact path: with a closing slash (past an authorize rule on the path's end) it is a 404 that changes nothing", async () => {
    const backend = await backendWithTask();
    const queue = new Queue(backend, { name: "payments" });
    const seen: string[] = [];
    const handler = createHttpHandler(backend, {
      // A rule on the raw path: no pausing over HTTP.
      authorize: (request) => {
        const path = new URL(request.url).pathname;
        seen.push(path);
        return !path.endsWith("/pause");
      },
    });
    const post = (path: string) =>
      handler(
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }),
      );
    expect((await post("/payments/pause")).status).toBe(403);
    for (const path of ["/payments/pause/", "/payments/pause//", "/payments/tasks/clear/"]) {
      const answer = await post(path);
      expect(answer.status, path).toBe(404);
      expect(((await answer.json()) as { error: string }).error).toBe(
        `no route ${path} (the API's paths end without a slash: ${path.replace(/\/+$/, "")})`,
      );
    }
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.size()).toBe(1);
    const read = await handler(new Request("http://localhost/payments/stats/"));
    expect(read.status).toBe(404);
    expect((await handler(new Request("http://localhost/payments/stats"))).status).toBe(200);
    expect(seen).toContain("/payments/pause/");
  });

  it("answers only the hosts allowedHosts names: another Host (a DNS-rebinding page) is a 403, reads and changes alike", async () => {
    const handler = createHttpHandler(await backendWithTask(), {
      allowedHosts: ["localhost", "127.0.0.1", "[::1]"],
    });
    for (const host of ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST"]) {
      const answer = await handler(new Request(`http://${host}/payments/stats`));
      expect(answer.status).toBe(200);
    }
    const read = await handler(new Request("http://attacker.test:8080/payments/tasks"));
    expect(read.status).toBe(403);
    expect(((await read.json()) as { error: string }).error).toBe(
      "host attacker.test is not one this API answers to (see allowedHosts)",
    );
    const change = await handler(
      new Request("http://attacker.test:8080/payments/pause", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://attacker.test:8080" },
        body: "{}",
      }),
    );
    expect(change.status).toBe(403);
    expect(() => createHttpHandler("memory://", { allowedHosts: [""] })).toThrow(
      /allowedHosts must be a list of host names/,
    );
    // Entries that no request's name could ever be.
    for (const entry of ["example.org:3000", "*.x.com", "::1", "http://a.test"]) {
      expect(() => createHttpHandler("memory://", { allowedHosts: [entry] }), entry).toThrow(
        `createHttpHandler(): allowedHosts entry '${entry}' is not a host name (names are matched without a port, and "*" alone is the only wildcard)`,
      );
    }
    expect(() =>
      createHttpHandler("memory://", { allowedHosts: ["a.test.", "[::1]", "10.0.0.1"] }),
    ).not.toThrow();
    expect(() => createHttpHandler("memory://", { authorize: "X" as never })).toThrow(
      'createHttpHandler(): authorize must be a function (request) => boolean | Response (got "X")',
    );
  });

  it("the host a proxy passes on (X-Forwarded-Host) is held to the host rule too: a rebinding page behind a proxy is refused, a listed name behind one is answered", async () => {
    const backend = await backendWithTask();
    const send = (
      handler: (request: Request) => Promise<Response>,
      host: string,
      headers: Record<string, string>,
    ) =>
      handler(
        new Request(`http://${host}/payments/pause`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        }),
      );
    // No allowedHosts, no authorize: a proxy on this machine (Host 127.0.0.1) passing on the
    // name a rebinding page was reached by; the page's origin matches that name.
    const local = createHttpHandler(backend);
    const rebound = await send(local, "127.0.0.1:4101", {
      "x-forwarded-host": "evil.test",
      origin: "http://evil.test",
    });
    expect(rebound.status).toBe(403);
    expect(((await rebound.json()) as { error: string }).error).toMatch(
      /^host evil\.test \(X-Forwarded-Host\) is not one this API answers to: with neither allowedHosts nor authorize/,
    );
    expect(await backend.isPaused("payments")).toBe(false);
    expect(
      (await send(local, "127.0.0.1:4101", { "x-forwarded-host": "localhost:4101" })).status,
    ).toBe(200);
    // A listed name behind a proxy that sends its own address as Host.
    const listed = createHttpHandler(backend, { allowedHosts: ["Dash.Example.com."] });
    for (const name of ["dash.example.com", "DASH.example.com.", "dash.example.com:8443"]) {
      const answer = await send(listed, "127.0.0.1:4101", {
        "x-forwarded-host": name,
        origin: `https://${name.toLowerCase()}`,
      });
      expect(answer.status, name).toBe(200);
    }
    const other = await send(listed, "127.0.0.1:4101", { "x-forwarded-host": "evil.test" });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toBe(
      "host evil.test (X-Forwarded-Host) is not one this API answers to (see allowedHosts)",
    );
    // A Host the list does not hold is refused whatever the forwarded name says.
    expect((await send(listed, "evil.test", { "x-forwarded-host": "localhost" })).status).toBe(403);
    const malformed = await send(listed, "127.0.0.1", { "x-forwarded-host": "a/b" });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toBe(
      "X-Forwarded-Host 'a/b' is not a host and port",
    );
  });

  it("a change from a browser: its own host whatever the scheme (a proxy that ends TLS), or what the browser calls same-origin; never another site", async () => {
    const handler = createHttpHandler(await backendWithTask(), {
      allowedHosts: ["dash.example.com"],
    });
    const pause = (headers: Record<string, string>) =>
      handler(
        new Request("http://dash.example.com/payments/pause", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        }),
      );
    // The server sees http://; the page is https:// behind the proxy.
    expect((await pause({ origin: "https://dash.example.com" })).status).toBe(200);
    expect(
      (await pause({ origin: "https://proxy.internal:8443", "sec-fetch-site": "same-origin" }))
        .status,
    ).toBe(200);
    for (const headers of [
      { origin: "https://dash.example.com.attacker.test" },
      { origin: "https://dash.example.com:8443" },
      { origin: "null" },
      { origin: "https://attacker.test", "x-forwarded-host": "dash.example.com" },
      { origin: "https://attacker.test", "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ]) {
      const answer = await pause(headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(((await answer.json()) as { error: string }).error).toMatch(
        /^cross-(origin|site) request (from \S+ )?refused/,
      );
    }
    const named = createHttpHandler(await backendWithTask(), {
      allowedOrigins: ["https://admin.example.com"],
      allowedHosts: ["dash.example.com"],
    });
    const fromAdmin = await named(
      new Request("http://dash.example.com/payments/pause", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://admin.example.com" },
        body: "{}",
      }),
    );
    expect(fromAdmin.status).toBe(200);
  });

  it("a backend out of reach is a 503 that says when to ask again", async () => {
    const backend = await backendWithTask();
    let calls = 0;
    const unreachable = new Proxy(backend, {
      get(target, property) {
        if (property === "listQueues") {
          // After the first three calls, two causes alternate.
          return () =>
            Promise.reject(
              new BackendUnavailableError(
                calls++ >= 3 && calls % 2 === 0
                  ? "the backend refused the login"
                  : "the backend is out of reach",
              ),
            );
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const logged: { args: unknown[]; level: string }[] = [];
    const logger = Object.fromEntries(
      ["fatal", "error", "warn", "info", "debug", "trace"].map((level) => [
        level,
        (...args: unknown[]) => logged.push({ level, args }),
      ]),
    ) as unknown as Logger;
    const handler = createHttpHandler(unreachable, { logger });
    for (let i = 0; i < 3; i++) {
      const answer = await handler(new Request("http://localhost/queues"));
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("5");
      // The backend's own message names the server: it goes to the log, not to the caller.
      expect(await answer.json()).toEqual({
        error: "the backend did not answer: ask again later (the server's log says why)",
      });
    }
    for (let i = 0; i < 6; i++) {
      expect((await handler(new Request("http://localhost/queues"))).status).toBe(503);
    }
    // One line per cause, however often it is asked meanwhile, causes alternating too.
    expect(logged.map((entry) => entry.level)).toEqual(["warn", "warn"]);
    expect(logged.map((entry) => String((entry.args[0] as { err: Error }).err.message))).toEqual([
      "the backend is out of reach",
      "the backend refused the login",
    ]);
    const shown = await createHttpHandler(unreachable, { exposeErrors: true })(
      new Request("http://localhost/queues"),
    );
    expect(shown.status).toBe(503);
    expect(((await shown.json()) as { error: string }).error).toMatch(
      /^the backend (is out of reach|refused the login)$/,
    );
  });

  it("a queue name that would need encoding is said to break the name's rule", async () => {
    const handler = createHttpHandler(await backendWithTask());
    for (const [path, name] of [
      ["/%C3%BCmlaut/stats", '"ümlaut"'],
      ["/a%20b/stats", "'a b'"],
    ]) {
      const answer = await handler(new Request(`http://localhost${path}`));
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: string }).error).toBe(
        `Invalid queue name ${name}: use 1–128 ASCII letters, digits, '_', '.', ':' or '-' (not '.' or '..' alone)`,
      );
    }
  });

  it("refuses a percent-encoded queue name, which would slip past a rule on the raw path", async () => {
    const handler = createHttpHandler(await backendWithTask(), {
      authorize: (request) => !new URL(request.url).pathname.startsWith("/payments/"),
    });
    expect((await handler(new Request("http://localhost/payments/tasks"))).status).toBe(403);
    const encoded = await handler(new Request("http://localhost/%70ayments/tasks"));
    expect(encoded.status).toBe(400);
    expect(((await encoded.json()) as { error: string }).error).toBe(
      "a queue name in the path is written as it is, not percent-encoded: '%70ayments'",
    );
  });

  it("serves at most maxEventStreams event streams at once; one more is a 503 until one closes", async () => {
    const handler = createHttpHandler(await backendWithTask(), { maxEventStreams: 2 });
    const open = async () => {
      const controller = new AbortController();
      const answer = await handler(
        new Request("http://localhost/payments/events", { signal: controller.signal }),
      );
      return { answer, controller };
    };
    const first = await open();
    const second = await open();
    expect([first.answer.status, second.answer.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.answer.status).toBe(503);
    expect(third.answer.headers.get("retry-after")).toBe("5");
    first.controller.abort();
    await first.answer.body?.cancel().catch(() => undefined);
    const fourth = await open();
    expect(fourth.answer.status).toBe(200);
    second.controller.abort();
    fourth.controller.abort();
    await second.answer.body?.cancel().catch(() => undefined);
    await fourth.answer.body?.cancel().catch(() => undefined);
    expect(() => createHttpHandler("memory://", { maxEventStreams: 0 })).toThrow(
      "createHttpHandler(): maxEventStreams must be an integer ≥ 1 (got 0)",
    );
  });

  it("answers 400 to a body that is not UTF-8 instead of storing replacement characters", async () => {
    const handler = createHttpHandler(await backendWithTask());
    const body = Buffer.concat([
      Buffer.from('{"name":"http-hardening.noop","args":["'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"]}'),
    ]);
    const answer = await handler(
      new Request("http://localhost/payments/tasks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
    );
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toBe("the body is not valid UTF-8");
  });

  it("keeps answering for queue names asked once each, beyond the queues it keeps", async () => {
    const handler = createHttpHandler(await backendWithTask());
    for (let i = 0; i < 1_100; i++) {
      const answer = await handler(new Request(`http://localhost/q${i}/stats`));
      expect(answer.status).toBe(404);
    }
    expect((await handler(new Request("http://localhost/payments/stats"))).status).toBe(200);
  });
});
