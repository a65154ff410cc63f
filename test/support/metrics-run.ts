/**
 * A run of known outcomes for the metrics tests, the same on every backend:
 * 5 tasks complete, 2 fail after two retries each, 1 fails once and then
 * completes. What the metrics must say afterwards follows from that alone.
 */
import { type Queue, task, Worker } from "sheppy";
import { expect } from "vitest";
import { defaultTaskMetrics } from "../../src/observability/task-metrics.js";
import { histogramSeries, parseExposition, sampleValue } from "./prometheus.js";

/** Task definitions under a prefix, so each test file registers its own names. */
export function knownOutcomeTasks(prefix: string) {
  const attempts = new Map<string, number>();
  return {
    ok: task({ name: `${prefix}.ok` }, async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return n;
    }),
    bad: task({ name: `${prefix}.bad`, retry: 2, retryDelay: 0 }, (n: number): number => {
      throw new Error(`bad ${n}`);
    }),
    flaky: task({ name: `${prefix}.flaky`, retry: 1, retryDelay: 0 }, (key: string) => {
      const seen = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, seen);
      if (seen === 1) throw new Error("first attempt fails");
      return key;
    }),
  };
}

/** Adds the tasks, runs a worker until all have finished, and returns the worker's summary. */
export async function runKnownOutcomes(queue: Queue, tasks: ReturnType<typeof knownOutcomeTasks>) {
  defaultTaskMetrics.reset();
  const all = [
    ...[1, 2, 3, 4, 5].map((n) => tasks.ok(n)),
    tasks.bad(1),
    tasks.bad(2),
    tasks.flaky(`${queue.name}-flaky`),
  ];
  await queue.add(all.slice(0, 6));
  await queue.add(all[6]!);
  await queue.schedule(all[7]!, 0.05);
  const worker = new Worker(queue, {
    concurrency: 4,
    claimWait: 0.05,
    schedulerInterval: 0.05,
  });
  const working = worker.work();
  const finished = await queue.waitFor(all, { timeout: 30 });
  await worker.close();
  const summary = await working;
  return { finished, summary };
}

/** Checks `text` against the run's outcomes and against `queue.stats()` now. */
export async function expectKnownOutcomeMetrics(text: string, queue: Queue, prefix: string) {
  const parsed = parseExposition(text);
  const labels = (name: string) => ({ queue: queue.name, task: `${prefix}.${name}` });
  const counter = (metric: string, name: string) =>
    sampleValue(parsed, `sheppy_tasks_${metric}_total`, labels(name)) ?? 0;
  expect(parsed.get("sheppy_tasks_added_total")?.type).toBe("counter");
  expect({
    added: [counter("added", "ok"), counter("added", "bad"), counter("added", "flaky")],
    completed: [counter("completed", "ok"), counter("completed", "flaky")],
    failed: [counter("failed", "bad"), counter("failed", "ok"), counter("failed", "flaky")],
    retried: [counter("retried", "bad"), counter("retried", "flaky"), counter("retried", "ok")],
    crashed: counter("crashed", "ok"),
  }).toEqual({
    added: [5, 2, 1],
    completed: [5, 1],
    failed: [2, 0, 0],
    retried: [4, 1, 0],
    crashed: 0,
  });
  // Every attempt ran once and started once: 5 of ok, 3 of each bad, 2 of flaky.
  for (const [name, attempts] of [
    ["ok", 5],
    ["bad", 6],
    ["flaky", 2],
  ] as const) {
    for (const metric of [
      "sheppy_task_run_duration_seconds",
      "sheppy_task_start_latency_seconds",
    ]) {
      const series = histogramSeries(parsed, metric, labels(name));
      expect(parsed.get(metric)?.type).toBe("histogram");
      expect(series?.count, `${metric} ${name}`).toBe(attempts);
      expect(series?.buckets["+Inf"]).toBe(attempts);
      expect(series?.sum).toBeGreaterThanOrEqual(0);
      // Integer-like keys come first in an object: order the buckets by their bound.
      const cumulative = Object.entries(series?.buckets ?? {})
        .map(([le, n]) => [Number(le === "+Inf" ? Number.POSITIVE_INFINITY : le), n] as const)
        .sort(([a], [b]) => a - b)
        .map(([, n]) => n);
      expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
    }
  }
  const okRuns = histogramSeries(parsed, "sheppy_task_run_duration_seconds", labels("ok"));
  // Each ok attempt sleeps 5 ms.
  expect(okRuns!.sum).toBeGreaterThanOrEqual(0.02);
  const stats = await queue.stats();
  expect(stats).toMatchObject({ completed: 6, failed: 2, pending: 0, processing: 0 });
  expect(parsed.get("sheppy_queue_tasks")?.type).toBe("gauge");
  // By status: `held` is a part of `pending`, not a status of its own.
  const { held: _held, ...byStatus } = stats;
  for (const [status, count] of Object.entries(byStatus)) {
    expect(sampleValue(parsed, "sheppy_queue_tasks", { queue: queue.name, status }), status).toBe(
      count,
    );
  }
}
