/**
 * A task that blocks the event loop (synchronous code, no await) holds every
 * lease renewal of its worker: once the loop turns again, the worker says so
 * in one line, with how long and which tasks it held — the only trace a
 * stalled worker leaves of why another worker took its tasks over. A block
 * longer than the lease is an error (outcomes may be discarded); a shorter
 * one, over half the lease, a warning that nothing was taken over.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "../support/recording-logger.js";

const spin = task({ name: "event-loop-stall.spin" }, (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Busy on purpose: nothing else in the process runs meanwhile.
  }
  return ms;
});

/**
 * Runs one spin of `ms` on a worker with `leaseTimeout` (s) and returns the
 * log line of its block (one of at least `ms` - 500: a loaded machine may
 * add a shorter stall of its own).
 */
async function blockLogged(
  backend: MemoryBackend,
  queueName: string,
  ms: number,
  leaseTimeout: number,
) {
  const queue = new Queue(backend, { name: queueName });
  const { lines, logger } = recordingLogger();
  const t = spin(ms);
  await queue.add(t);
  const worker = new Worker(queue, {
    logger,
    heartbeatInterval: Math.min(0.2, leaseTimeout / 10),
    leaseTimeout,
    claimWait: 0.05,
  });
  const working = worker.work();
  expect((await queue.waitFor(t, { timeout: 15 })).status).toBe("completed");
  const spun = () =>
    lines.find(
      (line) =>
        line.msg.includes("event loop was blocked") &&
        (line.fields.stalledMs as number) >= ms - 500,
    );
  await expect.poll(() => spun()).toBeDefined();
  await worker.close();
  await working;
  await queue.close();
  return { line: spun()!, taskId: t.id };
}

describe("a worker whose event loop was blocked", () => {
  it("logs how long and the tasks it held, once the loop turns again", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    // Outcomes take a network round trip to store, as on a server: the task is still held then.
    const settle = backend.settle.bind(backend);
    backend.settle = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return settle(...args);
    };
    const { line, taskId } = await blockLogged(backend, "event-loop-stall", 1500, 1);
    expect(line.level).toBe("error");
    expect(line.fields.tasks).toEqual([{ queue: "event-loop-stall", taskId }]);
    expect(line.msg).toMatch(/blocked \(or the process paused\) for \d+\.\d s: /);
    expect(line.msg).toMatch(/may have been taken over by another worker/);
  });

  it("a block shorter than the lease is a warning that no claim was taken over", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const { line } = await blockLogged(backend, "within", 2500, 4);
    // A loaded machine may stretch the block past the lease: then it is the error, as above.
    if ((line.fields.stalledMs as number) < 4000) {
      expect(line.level).toBe("warn");
      expect(line.msg).toMatch(/; it stayed within the 4 s lease, so no claim was taken over$/);
    } else {
      expect(line.level).toBe("error");
    }
  });
});
