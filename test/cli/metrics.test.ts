/**
 * The built CLI's metrics: `sheppy work --metrics-port` serves `/metrics`
 * while it works (read with a real Prometheus parser), `sheppy metrics`
 * prints the queues' exposition once, and bad ports are one-line errors.
 * SQLite carries the tasks between processes, so no server is needed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, fail } from "../fixtures/cli/tasks.js";
import { expectOneLineError, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { parseExposition, sampleValue } from "../support/prometheus.js";
import { until } from "../support/until.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-metrics-"));
const url = `sqlite://${join(dir, "metrics.db")}`;
const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "metrics-cli" };

describe("sheppy work --metrics-port, sheppy metrics", () => {
  const workers: WorkerProcess[] = [];

  afterAll(() => {
    for (const worker of workers) worker.signal("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the worker's counters and the queue's counts at /metrics while it works", async () => {
    const queue = new Queue(url, { name: "metrics-cli" });
    const tasks = [add(1, 2), add(3, 4), add(5, 6), fail("boom")];
    await queue.add(tasks);
    const worker = new WorkerProcess(["--tasks", TASKS, "--metrics-port", "0"], env);
    workers.push(worker);
    const serving = await worker.waitFor(
      (r) => typeof r.msg === "string" && r.msg.startsWith("serving metrics at "),
      "serving metrics",
    );
    const base = `http://127.0.0.1:${serving.metricsPort as number}`;
    expect(serving.msg).toBe(`serving metrics at ${base}/metrics`);
    await queue.waitFor(tasks, { timeout: 20 });

    const labels = (task: string) => ({ queue: "metrics-cli", task });
    // The counters move when an outcome lands, just after it is stored.
    const parsed = await until(
      async () => {
        const response = await fetch(`${base}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe(
          "text/plain; version=0.0.4; charset=utf-8",
        );
        const families = parseExposition(await response.text());
        const done = sampleValue(families, "sheppy_tasks_failed_total", labels("cli.fail")) === 1;
        return done &&
          sampleValue(families, "sheppy_tasks_completed_total", labels("cli.add")) === 3
          ? families
          : null;
      },
      { timeoutMs: 10_000, what: "the worker's counters" },
    );
    // The worker did not add them: this process did.
    expect(sampleValue(parsed, "sheppy_tasks_added_total", labels("cli.add"))).toBeUndefined();
    expect(parsed.get("sheppy_task_run_duration_seconds")?.series).toContainEqual(
      expect.objectContaining({ labels: labels("cli.add"), count: 3 }),
    );
    expect(
      sampleValue(parsed, "sheppy_queue_tasks", { queue: "metrics-cli", status: "completed" }),
    ).toBe(3);
    expect(
      sampleValue(parsed, "sheppy_queue_tasks", { queue: "metrics-cli", status: "failed" }),
    ).toBe(1);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);

    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
    await queue.close();
  });

  it("`sheppy metrics` prints the queues' exposition once", async () => {
    const result = await runCli(["metrics", "-q", "metrics-cli,other"], env);
    // A queue that holds nothing is said on stderr (a mistyped name?); the exposition is unchanged.
    expect(result.stderr).toBe(
      "warning: queue other holds no tasks or crons: is the name right? (queues this backend knows: metrics-cli)\n",
    );
    expect(result.code).toBe(0);
    const parsed = parseExposition(result.stdout);
    expect(
      sampleValue(parsed, "sheppy_queue_tasks", { queue: "metrics-cli", status: "completed" }),
    ).toBe(3);
    expect(sampleValue(parsed, "sheppy_queue_tasks", { queue: "other", status: "pending" })).toBe(
      0,
    );
    expect(parsed.get("sheppy_tasks_completed_total")?.samples).toEqual([]);
  });

  it("`sheppy metrics` without -q prints every queue the backend knows, as /metrics does", async () => {
    const result = await runCli(["metrics"], { SHEPPY_BACKEND_URL: url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const parsed = parseExposition(result.stdout);
    expect(
      sampleValue(parsed, "sheppy_queue_tasks", { queue: "metrics-cli", status: "completed" }),
    ).toBe(3);
    const queues = new Set(
      parsed.get("sheppy_queue_tasks_up")?.samples.map((sample) => sample.labels.queue),
    );
    expect(queues).toEqual(new Set(["metrics-cli"]));
  });

  it("refuses a port that is not one, or is taken, with one line", async () => {
    for (const port of ["70000", "abc", "-1"]) {
      const line = expectOneLineError(
        await runCli(["work", "--tasks", TASKS, "--metrics-port", port], env),
      );
      expect(line).toContain("--metrics-port");
      expect(line).toContain("port number from 0 to 65535");
    }
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const line = expectOneLineError(
        await runCli(["work", "--tasks", TASKS, "--metrics-port", String(port)], env),
        1,
      );
      expect(line).toBe(
        `error: cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE (see --metrics-port, --metrics-host)`,
      );
    } finally {
      taken.close();
    }
  });
});
