/**
 * Task metrics on memory://: a worker's run of known outcomes gives exact
 * counters and histogram counts, `sheppy_queue_tasks` matches `queue.stats()`,
 * inline processing counts like a worker, and series of other queues stay out
 * of a queue's exposition.
 */
import { collectMetrics, MemoryBackend, Queue, task, Worker } from "sheppy";
import { TestClock } from "sheppy/testing";
import { describe, expect, it, vi } from "vitest";
import { until } from "../../src/contract/support/until.js";
import { defaultTaskMetrics, startLatencySeconds } from "../../src/observability/task-metrics.js";
import { collectMetricsReport } from "../../src/queue/collect-metrics.js";
import {
  expectKnownOutcomeMetrics,
  knownOutcomeTasks,
  runKnownOutcomes,
} from "../support/metrics-run.js";
import { parseExposition, sampleValue } from "../support/prometheus.js";

const PREFIX = "task-metrics";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const tasks = knownOutcomeTasks(PREFIX);
const latencyJob = task({ name: `${PREFIX}.latency` }, () => null);
/** Ignores its signal: it runs to its end after a forced cancel, and its outcome is discarded. */
const stubborn = task({ name: `${PREFIX}.stubborn` }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});
const inlineTask = task({ name: `${PREFIX}.inline` }, (n: number) => n + 1);
const slowFail = task({ name: `${PREFIX}.slow-fail`, retry: 1, retryDelay: 0 }, async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  throw new Error("no");
});

describe("task metrics on memory://", () => {
  it("count a worker's run of known outcomes exactly", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "metrics" });
    const { summary } = await runKnownOutcomes(queue, tasks);
    expect(summary).toMatchObject({ processed: 6, failed: 2, retried: 5 });
    await expectKnownOutcomeMetrics(await collectMetrics(queue), queue, PREFIX);
    await queue.close();
  });

  it("count inline processing (memory:// by default) as a worker's attempts", async () => {
    defaultTaskMetrics.reset();
    const queue = new Queue("memory://", { name: "inline" });
    await queue.add([inlineTask(1), inlineTask(2)]);
    const parsed = parseExposition(await collectMetrics(queue));
    const labels = { queue: "inline", task: `${PREFIX}.inline` };
    expect(sampleValue(parsed, "sheppy_tasks_added_total", labels)).toBe(2);
    expect(sampleValue(parsed, "sheppy_tasks_completed_total", labels)).toBe(2);
    expect(
      sampleValue(parsed, "sheppy_queue_tasks", { queue: "inline", status: "completed" }),
    ).toBe(2);
    await queue.close();
  });

  it("count a list of entries' adds, not the ones a resend ignores", async () => {
    defaultTaskMetrics.reset();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "entries" });
    const entries = [
      { task: inlineTask(1), id: "one" },
      { task: inlineTask(2), dedupe: { key: "two" } },
    ];
    await queue.add(entries);
    await queue.add(entries);
    const parsed = parseExposition(await collectMetrics(queue));
    const labels = { queue: "entries", task: `${PREFIX}.inline` };
    expect(sampleValue(parsed, "sheppy_tasks_added_total", labels)).toBe(2);
    await queue.close();
  });

  it("keep other queues' series out, name a queue once; without queues, give every series and no counts", async () => {
    defaultTaskMetrics.reset();
    const backend = new MemoryBackend();
    const a = new Queue(backend, { name: "a" });
    const b = new Queue(backend, { name: "b" });
    await a.add(inlineTask(1));
    await b.add(inlineTask(2));
    const ofA = parseExposition(await collectMetrics(a, new Queue(backend, { name: "a" })));
    expect(ofA.get("sheppy_tasks_added_total")?.samples.map((s) => s.labels.queue)).toEqual(["a"]);
    expect(ofA.get("sheppy_queue_tasks")?.samples.every((s) => s.labels.queue === "a")).toBe(true);
    expect(ofA.get("sheppy_queue_tasks")?.samples).toHaveLength(7);
    const all = parseExposition(await collectMetrics());
    expect(all.get("sheppy_tasks_added_total")?.samples.map((s) => s.labels.queue)).toEqual([
      "a",
      "b",
    ]);
    // No queue named: no counts, and no header of their family either.
    expect(all.has("sheppy_queue_tasks")).toBe(false);
    expect(await collectMetrics()).not.toContain("sheppy_queue_tasks");
    // Something other than a Queue is named with its place.
    await expect(collectMetrics(a, "b" as never)).rejects.toThrow(
      'collectMetrics() takes Queues (argument 2 is "b")',
    );
    await backend.disconnect();
  });

  it("leave out only the counts of a queue whose backend fails or does not answer in time", async () => {
    const backend = new MemoryBackend();
    const up = new Queue(backend, { name: "up" });
    const failing = new Queue(backend, { name: "failing" });
    const stalled = new Queue(backend, { name: "stalled" });
    await failing.add(inlineTask(1));
    const broken = new Error("backend down");
    vi.spyOn(failing, "stats").mockRejectedValue(broken);
    vi.spyOn(stalled, "stats").mockReturnValue(new Promise(() => undefined));
    const { text, unread } = await collectMetricsReport([up, failing, stalled], 50);
    expect(unread.map(({ queue }) => queue)).toEqual(["failing", "stalled"]);
    expect(unread[0]!.error).toBe(broken);
    expect(String(unread[1]!.error)).toContain("did not answer within 50 ms");
    const parsed = parseExposition(text);
    // The process's own counters are there all the same.
    expect(
      sampleValue(parsed, "sheppy_tasks_added_total", { queue: "failing", task: inlineTask.name }),
    ).toBe(1);
    expect(parsed.get("sheppy_queue_tasks")?.samples.map((s) => s.labels.queue)).toEqual(
      Array(7).fill("up"),
    );
    for (const [queue, value] of [
      ["up", 1],
      ["failing", 0],
      ["stalled", 0],
    ] as const)
      expect(sampleValue(parsed, "sheppy_queue_tasks_up", { queue })).toBe(value);
    await backend.disconnect();
  });

  it("do not count an add the queue ignored (an id it already holds)", async () => {
    defaultTaskMetrics.reset();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "dupes" });
    const t = inlineTask(5);
    await queue.add(t);
    expect(await queue.add(t)).toBe(false);
    expect((await queue.add(inlineTask(6), { id: t.id })).outcome).toBe("ignored");
    const parsed = parseExposition(await collectMetrics(queue));
    const labels = { queue: "dupes", task: `${PREFIX}.inline` };
    expect(sampleValue(parsed, "sheppy_tasks_added_total", labels)).toBe(1);
    await queue.close();
  });

  it("task:retrying and task:failed carry how long the attempt ran, as the histogram saw it", async () => {
    defaultTaskMetrics.reset();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "timed" });
    const worker = new Worker(queue, { claimWait: 0.05, schedulerInterval: 0.05 });
    const durations: [string, number][] = [];
    worker.on("task:retrying", ({ durationMs }) => durations.push(["retrying", durationMs]));
    worker.on("task:failed", ({ durationMs }) => durations.push(["failed", durationMs]));
    const t = slowFail();
    await queue.add(t);
    const working = worker.work();
    await queue.waitFor(t, { timeout: 10 });
    await worker.close();
    await working;
    expect(durations.map(([event]) => event)).toEqual(["retrying", "failed"]);
    for (const [, ms] of durations) expect(ms).toBeGreaterThanOrEqual(15);
    const parsed = parseExposition(await collectMetrics(queue));
    const series = parsed
      .get("sheppy_task_run_duration_seconds")
      ?.series.find((s) => s.labels.task === `${PREFIX}.slow-fail`);
    expect(series?.count).toBe(2);
    expect(series?.sum).toBeCloseTo((durations[0]![1] + durations[1]![1]) / 1000, 6);
    await queue.close();
  });

  it("measure start latency from when the attempt was due", () => {
    const base = { createdAt: "2030-01-01T00:00:00.000Z", nextRetryAt: null };
    expect(
      startLatencySeconds({ ...base, scheduledAt: null, startedAt: "2030-01-01T00:00:01.500Z" }),
    ).toBe(1.5);
    expect(
      startLatencySeconds({
        ...base,
        scheduledAt: "2030-01-01T00:01:00.000Z",
        startedAt: "2030-01-01T00:01:00.250Z",
      }),
    ).toBe(0.25);
    expect(
      startLatencySeconds({
        createdAt: "2030-01-01T00:00:00.000Z",
        scheduledAt: null,
        nextRetryAt: "2030-01-01T00:00:10.000Z",
        startedAt: "2030-01-01T00:00:10.100Z",
      }),
    ).toBeCloseTo(0.1);
    expect(startLatencySeconds({ ...base, scheduledAt: null, startedAt: null })).toBeNull();
  });
});

describe("outcome counters of a worker's tasks", () => {
  it("exist at 0 from the worker's start, so a first failure is an increase a scrape can see", async () => {
    defaultTaskMetrics.reset();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "metrics-zero",
    });
    const worker = new Worker(queue, { logTasks: false });
    const started = new Promise((resolve) => worker.once("worker:started", resolve));
    const working = worker.work();
    await started;
    const before = parseExposition(await collectMetrics(queue));
    const labels = { queue: "metrics-zero", task: `${PREFIX}.slow-fail` };
    for (const name of [
      "sheppy_tasks_completed_total",
      "sheppy_tasks_failed_total",
      "sheppy_tasks_retried_total",
      "sheppy_tasks_crashed_total",
      "sheppy_tasks_discarded_total",
    ]) {
      expect(sampleValue(before, name, labels), name).toBe(0);
    }
    // A workflow's resume task is not one of the user's: no series of its own.
    const names = (before.get("sheppy_tasks_failed_total")?.samples ?? []).map(
      (sample) => sample.labels.task,
    );
    expect(names.some((name) => name?.startsWith("workflow:"))).toBe(false);
    await queue.add(slowFail());
    await expect
      .poll(async () =>
        sampleValue(
          parseExposition(await collectMetrics(queue)),
          "sheppy_tasks_failed_total",
          labels,
        ),
      )
      .toBe(1);
    await worker.close();
    await working;
    await queue.close();
  });
});

describe("sheppy_queue_paused", () => {
  it("reads 1 while the queue is paused and 0 while it runs; left out with the counts when the backend does not answer", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "metrics-paused",
    });
    const paused = async () =>
      sampleValue(parseExposition(await collectMetrics(queue)), "sheppy_queue_paused", {
        queue: "metrics-paused",
      });
    expect(await paused()).toBe(0);
    await queue.pause();
    expect(await paused()).toBe(1);
    await queue.resume();
    expect(await paused()).toBe(0);
    const silent = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "metrics-paused-down",
    });
    const backend = await silent.connect();
    backend.isPaused = () => new Promise(() => undefined);
    const { text, unread } = await collectMetricsReport([silent], 50);
    expect(unread.map(({ queue }) => queue)).toEqual(["metrics-paused-down"]);
    expect(parseExposition(text).get("sheppy_queue_paused")?.samples ?? []).toEqual([]);
    await Promise.all([queue.close(), silent.close()]);
  });
});

describe("sheppy_queue_workers", () => {
  it("counts the workers running the queue's tasks, not those that only schedule; 0 once they stop; left out where the backend keeps no list", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "metrics-workers" });
    const workers = async () =>
      sampleValue(parseExposition(await collectMetrics(queue)), "sheppy_queue_workers", {
        queue: "metrics-workers",
      });
    expect(await workers()).toBe(0);
    const running = new Worker(queue, { handleSignals: false, logTasks: false });
    const scheduling = new Worker(queue, {
      handleSignals: false,
      processing: false,
      cronManager: false,
    });
    const runs = [running.work(), scheduling.work()];
    await until(async () => ((await queue.workers()) ?? []).length === 2);
    expect(await workers()).toBe(1);
    await Promise.all([running.close(), scheduling.close()]);
    await Promise.all(runs);
    expect(await workers()).toBe(0);
    const untracked = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "metrics-workers-untracked",
    });
    const plain = await untracked.connect();
    (plain as { listWorkers?: unknown }).listWorkers = undefined;
    const text = await collectMetrics(untracked);
    expect(parseExposition(text).get("sheppy_queue_workers")?.samples ?? []).toEqual([]);
    await Promise.all([queue.close(), untracked.close()]);
  });
});

describe("sheppy_queue_latency_seconds", () => {
  it("is how long the next task to be claimed has waited since it was due, 0 on an empty queue; left out when the backend does not answer", async () => {
    const clock = new TestClock(Date.parse("2030-01-01T00:00:00Z"));
    const queue = new Queue(new MemoryBackend({ instantProcessing: false, clock }), {
      name: "metrics-latency",
    });
    const latency = async () =>
      sampleValue(parseExposition(await collectMetrics(queue)), "sheppy_queue_latency_seconds", {
        queue: "metrics-latency",
      });
    expect(await latency()).toBe(0);
    await queue.add(latencyJob());
    await clock.advance(90);
    expect(await latency()).toBe(90);
    const silent = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "metrics-latency-down",
    });
    const backend = await silent.connect();
    backend.getPending = () => new Promise(() => undefined);
    const { text, unread } = await collectMetricsReport([silent], 50);
    expect(unread.map(({ queue }) => queue)).toEqual(["metrics-latency-down"]);
    expect(parseExposition(text).get("sheppy_queue_latency_seconds")?.samples ?? []).toEqual([]);
    await Promise.all([queue.close(), silent.close()]);
  });
});

describe("sheppy_tasks_discarded_total", () => {
  it("counts an attempt whose outcome was discarded: cancelled while it ran, it ran to its end anyway", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "metrics-discarded" });
    const worker = new Worker(queue, { logTasks: false, heartbeatInterval: 0.1, logger: quiet });
    const working = worker.work();
    const labels = { queue: "metrics-discarded", task: `${PREFIX}.stubborn` };
    const discarded = async () =>
      sampleValue(
        parseExposition(await collectMetrics(queue)),
        "sheppy_tasks_discarded_total",
        labels,
      );
    const t = stubborn(400);
    await queue.add(t);
    await until(async () => (await queue.getTask(t))?.status === "processing", {
      what: "the task to start",
    });
    expect(await discarded()).toBe(0);
    await queue.cancel(t, { force: true });
    await expect.poll(discarded, { timeout: 5000 }).toBe(1);
    expect((await queue.getTask(t))?.status).toBe("cancelled");
    await worker.close();
    await working;
    await queue.close();
  });
});
