/**
 * `currentTask().now()`: a task reads the time by the clock it runs under —
 * a `TestClock` in tests — so one that computes with the time follows the
 * clock a test advances, under a `TestQueue` and under a worker alike.
 */
import { currentTask, Queue, task, Worker } from "sheppy";
import { MemoryBackend } from "sheppy/backends/memory";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, it } from "vitest";

const START = Date.parse("2030-01-01T12:00:00Z");
const cutoff = task({ name: "now.cutoff" }, () =>
  new Date(currentTask().now().getTime() - 14 * 86_400_000).toISOString(),
);

describe("currentTask().now()", () => {
  it("is the TestQueue's clock, as it is advanced", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    const first = cutoff();
    await queue.add(first);
    await clock.advance(15 * 3600);
    const [ran] = await queue.processAll();
    expect(ran?.result).toBe("2029-12-19T03:00:00.000Z");
  });

  it("is the worker's clock", async () => {
    const clock = new TestClock(START);
    const queue = new Queue(new MemoryBackend({ instantProcessing: false, clock }), {
      name: "now",
      clock,
    });
    const t = cutoff();
    await queue.add(t);
    await new Worker(queue, { clock, handleSignals: false, logTasks: false }).work({
      maxTasks: 1,
    });
    expect((await queue.getTask(t))?.result).toBe("2029-12-18T12:00:00.000Z");
    await queue.close();
  });
});
