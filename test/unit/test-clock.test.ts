/** TestClock: time moves only when the test says so; timers fire in order as it passes them. */

import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { TestClock } from "sheppy/testing";
import { describe, expect, it } from "vitest";

const stamp = task({ name: "test-clock.stamp" }, () => "ran");

describe("TestClock", () => {
  it("starts where told and moves only on advance()", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    expect(clock.now()).toBe(Date.parse("2030-01-01T00:00:00Z"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(clock.now()).toBe(Date.parse("2030-01-01T00:00:00Z"));
    await clock.advance(1.5);
    expect(clock.now()).toBe(Date.parse("2030-01-01T00:00:01.500Z"));
  });

  it("fires timers in due order at their own time, including timers set by earlier ones", async () => {
    const clock = new TestClock(0);
    const fired: [string, number][] = [];
    clock.setTimer(() => fired.push(["b", clock.now()]), 2000);
    clock.setTimer(() => {
      fired.push(["a", clock.now()]);
      clock.setTimer(() => fired.push(["a2", clock.now()]), 500);
    }, 1000);
    const cancelled = clock.setTimer(() => fired.push(["never", clock.now()]), 1200);
    cancelled.cancel();
    await clock.advance(1.6);
    expect(fired).toEqual([
      ["a", 1000],
      ["a2", 1500],
    ]);
    await clock.advance(10);
    expect(fired.at(-1)).toEqual(["b", 2000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("sleep resolves when the clock passes it, or at once when its signal aborts", async () => {
    const clock = new TestClock(0);
    let woke = false;
    const sleeping = clock.sleep(3000).then(() => {
      woke = true;
    });
    await clock.advance(2.9);
    expect(woke).toBe(false);
    await clock.advance(0.1);
    await sleeping;
    expect(woke).toBe(true);
    const abort = new AbortController();
    const aborted = clock.sleep(60_000, abort.signal);
    abort.abort();
    await aborted;
  });

  it("rejects negative or non-finite advances", async () => {
    const clock = new TestClock(0);
    await expect(clock.advance(-1)).rejects.toThrow(/seconds must be a number ≥ 0/);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(/seconds must be a number ≥ 0/);
  });

  it("drives a worker: a task scheduled 30 minutes ahead runs only after the clock passes it", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    const queue = new Queue(new MemoryBackend({ instantProcessing: false, clock }), {
      name: "clocked",
      clock,
    });
    const worker = new Worker(queue, { clock, claimWait: 0.05 });
    const working = worker.work();
    const t = stamp();
    await queue.schedule(t, 30 * 60);
    await clock.advance(29 * 60);
    expect((await queue.getTask(t))?.status).toBe("scheduled");
    await clock.advance(61);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.result).toBe("ran");
    expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse("2030-01-01T00:30:00Z"));
    await worker.close();
    await working;
  });
});
