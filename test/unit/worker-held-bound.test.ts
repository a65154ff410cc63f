/**
 * A worker frees a task's slot when its function returns, before the outcome
 * is stored. If the store is slow, outcomes on their way would pile up while
 * new tasks run — and every task held (running, or its outcome not stored)
 * runs again if the worker dies. So a worker holds at most four times its
 * concurrency: its running tasks plus three times as many outcomes not yet
 * stored.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import type { Settlement } from "sheppy/backend";
import { describe, expect, it } from "vitest";

const quick = task({ name: "worker-held-bound.quick" }, (n: number) => n);

describe("a worker with a slow store", () => {
  it("holds at most four times its concurrency: running tasks plus outcomes not yet stored", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const settle = backend.settle.bind(backend);
    const claim = backend.claim.bind(backend);
    let claimed = 0;
    let stored = 0;
    let mostHeld = 0;
    Object.assign(backend, {
      // Each claim's tasks count as held from the moment it answers.
      claim: async (...args: Parameters<MemoryBackend["claim"]>) => {
        const tasks = await claim(...args);
        claimed += tasks.length;
        mostHeld = Math.max(mostHeld, claimed - stored);
        return tasks;
      },
      // A store that takes 50 ms a call, while each task runs in no time.
      settle: async (queue: string, settlements: readonly Settlement[], now: number) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const results = await settle(queue, settlements, now);
        stored += settlements.length;
        return results;
      },
    });
    const queue = new Queue(backend, { name: "held" });
    await queue.add(Array.from({ length: 200 }, (_, i) => quick(i)));
    const worker = new Worker(queue, { concurrency: 4, handleSignals: false, logger: silent });
    const summary = await worker.work({ oneshot: true });
    expect(summary.processed).toBe(200);
    expect(stored).toBe(200);
    expect(mostHeld).toBeGreaterThan(4);
    expect(mostHeld).toBeLessThanOrEqual(16);
    await queue.close();
  });
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };
