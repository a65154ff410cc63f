/**
 * A worker's `/metrics` while its backend does not answer: the scrape still
 * succeeds within a few seconds with the process's own counters, the queue's
 * counts by status are left out and `sheppy_queue_tasks_up` reads 0; the
 * worker says so once, and once more when the counts are back; its
 * `/healthz` answers 503 naming what fails, and 200 again after. A
 * private Redis is paused (SIGSTOP) under the worker and resumed.
 */
import type { WorkerHealth } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { PrivateRedis } from "../support/private-redis.js";
import { parseExposition, sampleValue } from "../support/prometheus.js";
import { REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { until } from "../support/until.js";

const available = await requireService("Redis", REDIS_URL);

describe.skipIf(!available)("sheppy work --metrics-port while the backend does not answer", () => {
  let server: PrivateRedis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });

  afterAll(async () => {
    for (const worker of workers) worker.signal("SIGKILL");
    await server?.destroy();
  });

  it("serves the counters without the counts, says why once, and has the counts again after", async () => {
    const env = { SHEPPY_BACKEND_URL: server.url, SHEPPY_QUEUE: "outage" };
    const worker = new WorkerProcess(["--tasks", TASKS, "--metrics-port", "0"], env);
    workers.push(worker);
    const serving = await worker.waitFor(
      (r) => typeof r.msg === "string" && r.msg.startsWith("serving metrics at "),
      "serving metrics",
    );
    const port = serving.metricsPort as number;
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const healthUrl = `http://127.0.0.1:${port}/healthz`;
    const added = await runCli(
      ["task", "add", `${TASKS}:add`, "--args", "[2, 3]", "--wait", "--timeout", "20s"],
      env,
    );
    expect(added.stdout).toBe("5\n");
    // Working, so started.
    expect((await (await fetch(healthUrl)).json()) as WorkerHealth).toMatchObject({
      status: "ok",
      problems: [],
    });
    const labels = { queue: "outage", task: "cli.add" };
    const scrape = async () => {
      const response = await fetch(metricsUrl);
      expect(response.status).toBe(200);
      return parseExposition(await response.text());
    };
    // The counter moves just after the outcome is stored.
    await until(
      async () => sampleValue(await scrape(), "sheppy_tasks_completed_total", labels) === 1,
      { timeoutMs: 10_000, what: "the completed counter" },
    );

    server.pause();
    try {
      const during = await scrape();
      expect(sampleValue(during, "sheppy_tasks_completed_total", labels)).toBe(1);
      expect(sampleValue(during, "sheppy_queue_tasks_up", { queue: "outage" })).toBe(0);
      expect(during.get("sheppy_queue_tasks")?.samples ?? []).toEqual([]);
      await scrape();
      // The worker's health says what fails once its claims give up waiting on the server.
      const failing = await until(
        async () => {
          const answer = await fetch(healthUrl);
          return answer.status === 503 ? ((await answer.json()) as WorkerHealth) : null;
        },
        { timeoutMs: 30_000, what: "/healthz answering 503" },
      );
      expect(failing.status).toBe("failing");
      // Whichever of its calls gave up first (a claim, the scheduler, a renewal), with why.
      expect(failing.problems.length).toBeGreaterThan(0);
      for (const problem of failing.problems) {
        expect(problem.error).toMatch(/^BackendUnavailableError: /);
        expect(Date.parse(problem.since)).not.toBeNaN();
      }
      expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
    } finally {
      server.resume();
    }
    await until(async () => (await fetch(healthUrl)).status === 200, {
      timeoutMs: 20_000,
      what: "/healthz answering 200 again",
    });
    const after = await until(
      async () => {
        const families = await scrape();
        return sampleValue(families, "sheppy_queue_tasks_up", { queue: "outage" }) === 1
          ? families
          : null;
      },
      { timeoutMs: 20_000, what: "the counts by status again" },
    );
    expect(sampleValue(after, "sheppy_queue_tasks", { queue: "outage", status: "completed" })).toBe(
      1,
    );
    const said = (text: string) =>
      worker.records.filter((r) => typeof r.msg === "string" && r.msg.startsWith(text));
    // Two scrapes without the counts, one line.
    expect(said("metrics are served without the queues' counts by status")).toHaveLength(1);
    // The recovery at the warning's level: a log of warnings shows the outage's end too.
    expect(said("metrics have the queues' counts by status again").map((r) => r.level)).toEqual([
      40,
    ]);
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
  });
});
