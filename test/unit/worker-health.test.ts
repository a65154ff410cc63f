/**
 * `worker.health()`: what a worker says of itself — stopped, starting, ok,
 * failing (which part, of which queue, since when, why), stopping — and the
 * endpoints `sheppy work --metrics-port` serves from it: `/healthz` (200
 * while ok, 503 otherwise), `/livez`, and the worker gauges on `/metrics`.
 */
import {
  BackendUnavailableError,
  MemoryBackend,
  Queue,
  task,
  Worker,
  type WorkerHealth,
} from "sheppy";
import { afterEach, describe, expect, it } from "vitest";
import { type MetricsServer, serveMetrics } from "../../src/cli/metrics-server.js";
import { VERSION } from "../../src/util/version.js";
import { parseExposition, sampleValue } from "../support/prometheus.js";

const nap = task({ name: "worker-health.nap" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A memory backend whose claims fail while `down` is set. */
function flakyBackend() {
  const backend = new MemoryBackend({ instantProcessing: false });
  const state = { down: false };
  const claim = backend.claim.bind(backend);
  backend.claim = (...args: Parameters<typeof claim>) =>
    state.down
      ? Promise.reject(new BackendUnavailableError("claim: the test's backend is down"))
      : claim(...args);
  return { backend, state };
}

describe("worker.health()", () => {
  it("is stopped, then ok with its running tasks, failing while claims fail, ok again, and stopped after close", async () => {
    const { backend, state } = flakyBackend();
    const queue = new Queue(backend, { name: "health" });
    const worker = new Worker(queue, { concurrency: 3, claimWait: 0.05, logger: silent });
    expect(worker.health()).toEqual({
      status: "stopped",
      paused: false,
      running: 0,
      longestRunningMs: 0,
      concurrency: 3,
      problems: [],
    });

    const started = new Promise((resolve) => worker.once("worker:started", resolve));
    const working = worker.work();
    await started;
    expect(worker.health().status).toBe("ok");
    const t = nap(300);
    await queue.add(t);
    await expect.poll(() => worker.health().running).toBe(1);
    // The nap's run so far: it grows while it runs.
    await expect.poll(() => worker.health().longestRunningMs).toBeGreaterThanOrEqual(100);
    expect(worker.health().longestRunningMs).toBeLessThan(60_000);

    const before = Date.now();
    state.down = true;
    await expect.poll(() => worker.health().status).toBe("failing");
    const failing = worker.health();
    expect(failing.problems).toEqual([
      {
        what: "claim",
        queue: "health",
        since: expect.any(String),
        error: "BackendUnavailableError: claim: the test's backend is down",
      },
    ]);
    expect(Date.parse(failing.problems[0]!.since)).toBeGreaterThanOrEqual(before - 5);

    state.down = false;
    await expect.poll(() => worker.health().status).toBe("ok");
    expect(worker.health().problems).toEqual([]);
    expect((await queue.waitFor(t, { timeout: 10 })).result).toBe(300);

    const closing = worker.close();
    expect(worker.health().status).toBe("stopping");
    await closing;
    await working;
    expect(worker.health()).toEqual({
      status: "stopped",
      paused: false,
      running: 0,
      longestRunningMs: 0,
      concurrency: 3,
      problems: [],
    });
    await queue.close();
  });
});

describe("the worker's health endpoints", () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it("/healthz answers the health as JSON, 200 while ok and 503 otherwise; /livez 200; /metrics has the worker gauges", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "health-http" });
    let now: WorkerHealth = {
      status: "ok",
      paused: false,
      running: 2,
      longestRunningMs: 1500,
      concurrency: 8,
      problems: [],
    };
    server = await serveMetrics([queue], 0, "127.0.0.1", silent, () => now);
    const base = `http://127.0.0.1:${server.port}`;

    const ok = await fetch(`${base}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await ok.json()).toEqual(now);
    const gauges = parseExposition(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(gauges, "sheppy_worker_tasks_running", {})).toBe(2);
    expect(sampleValue(gauges, "sheppy_worker_concurrency", {})).toBe(8);
    expect(sampleValue(gauges, "sheppy_worker_longest_running_seconds", {})).toBe(1.5);
    expect(sampleValue(gauges, "sheppy_worker_healthy", {})).toBe(1);
    expect(sampleValue(gauges, "sheppy_build_info", { version: VERSION })).toBe(1);
    // The event loop, blocked for 300 ms between two scrapes, ran that late.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // Synchronous work, as a CPU-bound task without a sandbox does.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const blocked = parseExposition(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(blocked, "sheppy_worker_event_loop_delay_max_seconds", {})).toBeGreaterThan(
      0.2,
    );
    // A new window starts at each scrape.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const calm = parseExposition(await (await fetch(`${base}/metrics`)).text());
    expect(sampleValue(calm, "sheppy_worker_event_loop_delay_max_seconds", {})).toBeLessThan(0.2);

    const problem = {
      what: "settle",
      queue: "health-http",
      since: "2030-01-01T00:00:00.000Z",
      error: "BackendUnavailableError: down",
    };
    for (const status of ["failing", "starting", "stopping", "stopped"] as const) {
      now = {
        status,
        paused: false,
        running: 0,
        longestRunningMs: 0,
        concurrency: 8,
        problems: status === "failing" ? [problem] : [],
      };
      const answer = await fetch(`${base}/healthz`);
      expect(answer.status, status).toBe(503);
      expect(await answer.json()).toEqual(now);
      const scraped = parseExposition(await (await fetch(`${base}/metrics`)).text());
      expect(sampleValue(scraped, "sheppy_worker_healthy", {})).toBe(0);
    }
    // Liveness asks nothing of the worker or the backend.
    const live = await fetch(`${base}/livez`);
    expect([live.status, await live.text()]).toEqual([200, "ok\n"]);
    expect((await fetch(`${base}/healthz`, { method: "HEAD" })).status).toBe(503);
    const missing = await fetch(`${base}/health`);
    expect([missing.status, await missing.text()]).toEqual([
      404,
      "not found: metrics are at /metrics, the worker's health at /healthz, liveness at /livez\n",
    ]);
    await queue.close();
  });
});
