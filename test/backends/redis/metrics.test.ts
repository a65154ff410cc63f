/**
 * Task metrics on Redis: the run of known outcomes gives exact counters and
 * histogram counts, and `sheppy_queue_tasks` matches the queue's stats as
 * Redis reports them.
 */
import { collectMetrics, Queue } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import {
  expectKnownOutcomeMetrics,
  knownOutcomeTasks,
  runKnownOutcomes,
} from "../../support/metrics-run.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const PREFIX = "redis-metrics";
const tasks = knownOutcomeTasks(PREFIX);

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
});
