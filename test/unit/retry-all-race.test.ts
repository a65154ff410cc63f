/**
 * Two redrives racing over the same failed tasks (two Queue objects on one
 * queue): each task is re-queued once, so it counts as retried by exactly one
 * caller (and, when that caller listed it before, as skipped by the other).
 */
import { Queue, task, Worker } from "sheppy";
import { MemoryBackend } from "sheppy/backends/memory";
import { describe, expect, test } from "vitest";

const boom = task({ name: "retry-all-race.boom" }, (n: number) => {
  throw new Error(`boom ${n}`);
});

describe("queue.retryAll() racing another", () => {
  test("each task is retried by one caller and skipped by the other", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const a = new Queue(backend, { name: "retry-all-race" });
    const b = new Queue(backend, { name: "retry-all-race" });
    await a.add(Array.from({ length: 100 }, (_, i) => boom(i)));
    await new Worker(a, { claimWait: 0.05, logTasks: false }).work({ oneshot: true });
    expect((await a.stats()).failed).toBe(100);

    const [first, second] = await Promise.all([
      a.retryAll({ batchSize: 10 }),
      b.retryAll({ batchSize: 10 }),
    ]);
    expect(first.retried + second.retried).toBe(100);
    // A caller counts as skipped what it listed before the other re-queued it; a task
    // re-queued before its page was read is no longer failed, so it is not listed at all.
    for (const counts of [first, second])
      expect(counts.retried + counts.skipped).toBeLessThanOrEqual(100);
    expect((await a.stats()).pending).toBe(100);
  });
});
