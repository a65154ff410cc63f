/**
 * Task metrics on Redis: the run of known outcomes gives exact counters and
 * histogram counts, and `sheppy_queue_tasks` matches the queue's stats as
 * Redis reports them; a task reclaimed from a dead worker counts as crashed
 * in the worker that reclaimed it.
 */
import { collectMetrics, Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import {
  expectKnownOutcomeMetrics,
  knownOutcomeTasks,
  runKnownOutcomes,
} from "../../support/metrics-run.js";
import { parseExposition, sampleValue } from "../../support/prometheus.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const PREFIX = "redis-metrics";
const tasks = knownOutcomeTasks(PREFIX);
const abandoned = task({ name: `${PREFIX}.abandoned` }, (n: number) => n);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: task metrics", () => {
  afterAll(() => deleteRedisPrefix(prefix));

  it("count a worker's run of known outcomes exactly; gauges match stats", async () => {
    await deleteRedisPrefix(prefix);
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "metrics" });
    try {
      const { summary } = await runKnownOutcomes(queue, tasks);
      expect(summary).toMatchObject({ processed: 6, failed: 2, retried: 5 });
      await expectKnownOutcomeMetrics(await collectMetrics(queue), queue, PREFIX);
    } finally {
      await queue.close();
    }
  });

  it("count a task reclaimed from a worker that stopped as crashed", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "crash" });
    try {
      const t = abandoned(1);
      await queue.add(t);
      // A worker that claims and then dies: its claim is never renewed.
      expect(await (await queue.connect()).claim("crash", 1)).toHaveLength(1);
      const worker = new Worker(queue, {
        claimWait: 0.05,
        heartbeatInterval: 0.2,
        leaseTimeout: 1,
        reclaimInterval: 0.2,
      });
      const working = worker.work();
      expect((await queue.waitFor(t, { timeout: 20 })).status).toBe("crashed");
      await worker.close();
      await working;
      const parsed = parseExposition(await collectMetrics(queue));
      const labels = { queue: "crash", task: `${PREFIX}.abandoned` };
      expect(sampleValue(parsed, "sheppy_tasks_crashed_total", labels)).toBe(1);
      // There from the worker's start, at 0: the crash is not a failure.
      expect(sampleValue(parsed, "sheppy_tasks_failed_total", labels)).toBe(0);
      expect(sampleValue(parsed, "sheppy_queue_tasks", { queue: "crash", status: "crashed" })).toBe(
        1,
      );
    } finally {
      await queue.close();
    }
  });
});
