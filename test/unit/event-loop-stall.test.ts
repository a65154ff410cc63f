/**
 * A task that blocks the event loop (synchronous code, no await) holds every
 * lease renewal of its worker: once the loop turns again, the worker says so
 * in one error line, with how long and which tasks it held — the only trace
 * a stalled worker leaves of why another worker took its tasks over.
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

describe("a worker whose event loop was blocked", () => {
  it("logs how long and the tasks it held, once the loop turns again", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    // Outcomes take a network round trip to store, as on a server: the task is still held then.
    const settle = backend.settle.bind(backend);
    backend.settle = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return settle(...args);
    };
    const queue = new Queue(backend, { name: "event-loop-stall" });
    const { lines, logger } = recordingLogger();
    const t = spin(1500);
    await queue.add(t);
    const worker = new Worker(queue, {
      logger,
      heartbeatInterval: 0.1,
      leaseTimeout: 1,
      claimWait: 0.05,
    });
    const working = worker.work();
    expect((await queue.waitFor(t, { timeout: 15 })).status).toBe("completed");
    // The spin's stall (a loaded machine may add a shorter one of its own).
    const spun = () =>
      lines.find(
        (line) =>
          line.msg.includes("event loop was blocked") && (line.fields.stalledMs as number) >= 1000,
      );
    await expect.poll(() => spun()).toBeDefined();
    await worker.close();
    await working;
    expect(spun()!.level).toBe("error");
    expect(spun()!.fields.tasks).toEqual([{ queue: "event-loop-stall", taskId: t.id }]);
    expect(spun()!.msg).toMatch(/blocked \(or the process paused\) for \d+\.\d s: /);
    await queue.close();
  });

  it("a block shorter than the lease is a warning that no claim was taken over", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "within" });
    const { lines, logger } = recordingLogger();
    const t = spin(2500);
    await queue.add(t);
    const worker = new Worker(queue, {
      logger,
      heartbeatInterval: 0.2,
      leaseTimeout: 4,
      claimWait: 0.05,
    });
    const working = worker.work();
    expect((await queue.waitFor(t, { timeout: 15 })).status).toBe("completed");
    const spun = () =>
      lines.find(
        (line) =>
          line.msg.includes("event loop was blocked") && (line.fields.stalledMs as number) >= 2000,
      );
    await expect.poll(() => spun()).toBeDefined();
    await worker.close();
    await working;
    // A loaded machine may stretch the block past the lease: then it is the error, as above.
    if ((spun()!.fields.stalledMs as number) < 4000) {
      expect(spun()!.level).toBe("warn");
      expect(spun()!.msg).toMatch(/; it stayed within the 4 s lease, so no claim was taken over$/);
    } else {
      expect(spun()!.level).toBe("error");
    }
    await queue.close();
  });
});
