/**
 * A request the servers cannot make a URL of — a Host header that is not a
 * host, a target like `//` — is answered, and the server goes on serving:
 * the dashboard's and `toNodeHandler`'s listener, and the worker's
 * `/metrics` server. One such request used to end the process serving it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryBackend, Queue, Worker } from "sheppy";
import { createHttpHandler, toNodeHandler } from "sheppy/http";
import { afterEach, describe, expect, it } from "vitest";
import { type MetricsServer, serveMetrics } from "../../src/cli/metrics-server.js";
import { rawStatusLine } from "../support/raw-http.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

const get = (target: string, host: string) =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe("toNodeHandler: requests that make no URL", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function serve(handler: Parameters<typeof toNodeHandler>[0]): Promise<number> {
    server = createServer(toNodeHandler(handler));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  it("answers 400 to a Host header that is not a host, and goes on serving", async () => {
    const port = await serve(createHttpHandler("memory://?instantProcessing=false"));
    for (const host of ["exa mple", "a<b", "[::1", "host:port"]) {
      expect(await rawStatusLine(port, get("/queues", host))).toBe("HTTP/1.1 400 Bad Request");
    }
    expect(await rawStatusLine(port, get("//", "localhost"))).toMatch(/^HTTP\/1\.1 404/);
    // TRACE cannot be carried by a web Request: answered as a method no route takes.
    expect(
      await rawStatusLine(
        port,
        "TRACE /queues HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      ),
    ).toBe("HTTP/1.1 405 Method Not Allowed");
    expect((await fetch(`http://127.0.0.1:${port}/queues`)).status).toBe(200);
  });

  it("a target in absolute form (as sent to a proxy) is served: its own host stands instead of the Host header, its path as sent", async () => {
    const port = await serve(createHttpHandler("memory://?instantProcessing=false"));
    expect(await rawStatusLine(port, get(`http://localhost:${port}/queues`, "localhost"))).toBe(
      "HTTP/1.1 200 OK",
    );
    expect(await rawStatusLine(port, get("http://localhost/queues", "whatever.test"))).toBe(
      "HTTP/1.1 200 OK",
    );
    // The host rule reads the target's host: a name it does not answer is refused, whatever Host says.
    expect(await rawStatusLine(port, get("http://evil.test/queues", "localhost"))).toBe(
      "HTTP/1.1 403 Forbidden",
    );
    // Its path is kept as sent: no route is made of `//evil.test/…`.
    expect(await rawStatusLine(port, get("http://localhost//queues", "localhost"))).toMatch(
      /^HTTP\/1\.1 404/,
    );
    expect(await rawStatusLine(port, get("http://user@localhost/queues", "localhost"))).toBe(
      "HTTP/1.1 400 Bad Request",
    );
  });

  it("a Host header carrying a path, query or fragment is a 400: it would move the path the API acts on away from the one the server's router saw", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "default" });
    const api = createHttpHandler(backend, { allowedHosts: ["127.0.0.1"] });
    const port = await serve(api);
    const post = (target: string, host: string) =>
      `POST ${target} HTTP/1.1\r\nHost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nConnection: close\r\n\r\n{}`;
    for (const host of [
      `127.0.0.1:${port}/default/pause#`,
      `127.0.0.1:${port}/default/pause?`,
      "127.0.0.1/x/..",
      `127.0.0.1:${port}#`,
    ]) {
      expect(await rawStatusLine(port, post("/default/stats", host)), host).toBe(
        "HTTP/1.1 400 Bad Request",
      );
    }
    expect(await queue.isPaused()).toBe(false);
    // The same request with a plain Host pauses it: the refusal above is the Host's.
    expect(await rawStatusLine(port, post("/default/pause", `127.0.0.1:${port}`))).toBe(
      "HTTP/1.1 200 OK",
    );
    expect(await queue.isPaused()).toBe(true);
  });

  it("answers 500 when the handler throws, and goes on serving", async () => {
    let calls = 0;
    const port = await serve(async () => {
      calls += 1;
      if (calls === 1) throw new Error("a defect in the handler");
      return new Response("fine");
    });
    expect(await rawStatusLine(port, get("/", "localhost"))).toBe(
      "HTTP/1.1 500 Internal Server Error",
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("fine");
  });
});

describe("the worker's /metrics server: targets that are not URLs", () => {
  let metrics: MetricsServer | undefined;
  const queue = new Queue("memory://?instantProcessing=false", { name: "metrics-targets" });
  const worker = new Worker(queue);
  afterEach(async () => {
    await metrics?.close();
  });

  it("answers 404 to `//` and other odd targets, and goes on serving /metrics", async () => {
    metrics = await serveMetrics([queue], 0, "127.0.0.1", silent, () => worker.health());
    for (const target of ["//", "///x", "//a:b@c", "/%", "*"]) {
      expect(await rawStatusLine(metrics.port, get(target, "localhost"))).toBe(
        "HTTP/1.1 404 Not Found",
      );
    }
    expect(await rawStatusLine(metrics.port, get("/metrics?x=1", "localhost"))).toBe(
      "HTTP/1.1 200 OK",
    );
  });

  it("on loopback answers loopback host names only: a DNS-rebinding page's Host is refused", async () => {
    metrics = await serveMetrics([queue], 0, "127.0.0.1", silent, () => worker.health());
    for (const host of ["localhost", `127.0.0.1:${metrics.port}`, "[::1]:9", "LOCALHOST:1"]) {
      expect(await rawStatusLine(metrics.port, get("/metrics", host))).toBe("HTTP/1.1 200 OK");
    }
    for (const host of [`rebind.test:${metrics.port}`, "exa mple", "localhost.evil"]) {
      expect(await rawStatusLine(metrics.port, get("/metrics", host))).toBe(
        "HTTP/1.1 403 Forbidden",
      );
    }
  });
});
