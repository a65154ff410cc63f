/**
 * A worker serving many queues runs them all without Node's listener-leak
 * warning: every queue's claim loop waits on the run's stop signal, which is
 * a bounded number of listeners, not a leak.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { afterEach, describe, expect, it } from "vitest";

const double = task({ name: "many-queues.double" }, (n: number) => n * 2);

describe("worker: many queues", () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  afterEach(() => {
    process.off("warning", onWarning);
  });

  it("25 queues, 2 tasks each: every task runs, and no MaxListenersExceededWarning is emitted", async () => {
    process.on("warning", onWarning);
    const backend = new MemoryBackend({ instantProcessing: false });
    const queues = Array.from({ length: 25 }, (_, i) => new Queue(backend, { name: `q${i}` }));
    const added = queues.map((_, i) => [double(i), double(i + 100)] as const);
    for (const [i, queue] of queues.entries()) await queue.add([...added[i]!]);
    const worker = new Worker(queues, { concurrency: 4, scheduler: false });
    const summary = await worker.work({ maxTasks: 50 });
    expect(summary.processed).toBe(50);
    for (const [i, queue] of queues.entries()) {
      const [first, second] = added[i]!;
      expect((await queue.waitFor(first, { timeout: 0 })).result).toBe(i * 2);
      expect((await queue.waitFor(second, { timeout: 0 })).result).toBe((i + 100) * 2);
    }
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    await backend.disconnect();
  });
});
