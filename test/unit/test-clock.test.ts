/** TestClock: time moves only when the test says so; timers fire in order as it passes them. */

import { InvalidOptionError, MemoryBackend, Queue, task, Worker } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
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

describe("TestClock inputs", () => {
  const start = Date.parse("2030-01-01T00:00:00Z");

  it("refuses a target before its now, a Date or epoch ms alike, naming both", async () => {
    const clock = new TestClock(start);
    await expect(clock.advanceTo(new Date("2020-01-01T00:00:00Z"))).rejects.toThrow(
      "TestClock.advanceTo(): the target 2020-01-01T00:00:00.000Z is before the clock's now (2030-01-01T00:00:00.000Z); a TestClock only moves forward",
    );
    // Seconds typed where epoch ms are meant: said so, with the instant they stand for.
    await expect(clock.advanceTo(60)).rejects.toThrow(
      "TestClock.advanceTo(): the target 60 (1970-01-01T00:00:00.060Z) is before the clock's now (2030-01-01T00:00:00.000Z); a TestClock only moves forward; to move by seconds, use advance(seconds)",
    );
    await expect(clock.advanceTo(60)).rejects.toThrow(InvalidOptionError);
    expect(clock.now()).toBe(start);
    // Its own now is no move at all, and allowed.
    await clock.advanceTo(start);
    expect(clock.now()).toBe(start);
  });

  it("overlapping advances add up, each starting where the previous one left the clock", async () => {
    const clock = new TestClock(start);
    const fired: number[] = [];
    for (const at of [5, 15, 25]) clock.setTimer(() => fired.push(clock.now() - start), at * 1000);
    await Promise.all([clock.advance(10), clock.advance(10)]);
    expect(clock.now()).toBe(start + 20_000);
    expect(fired).toEqual([5000, 15_000]);
    // A forgotten await: the next advance still starts after it.
    void clock.advance(3);
    await clock.advance(2);
    expect(clock.now()).toBe(start + 25_000);
    expect(fired).toEqual([5000, 15_000, 25_000]);
  });

  it("an advance refused in the line does not stop the ones after it", async () => {
    const clock = new TestClock(start);
    const [first, passed, last] = await Promise.allSettled([
      clock.advance(10),
      // Valid when called, behind the clock once the advance before it has run.
      clock.advanceTo(start + 5000),
      clock.advance(1),
    ]);
    expect(first.status).toBe("fulfilled");
    expect(passed.status === "rejected" && String(passed.reason)).toContain(
      "is before the clock's now (2030-01-01T00:00:10.000Z)",
    );
    expect(last.status).toBe("fulfilled");
    expect(clock.now()).toBe(start + 11_000);
  });

  it("refuses times a Date cannot hold at the call, not later as a RangeError in a backend", async () => {
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    await expect(clock.advance(1e13)).rejects.toThrow(
      "TestClock.advance(): 10000000000000 seconds from 2030-01-01T00:00:00.000Z goes past +275750-09-16T00:00:00.000Z, the latest time a TestClock holds",
    );
    await expect(clock.advanceTo(8.64e15)).rejects.toThrow(
      "TestClock.advanceTo(): the target 8640000000000000 is outside the times a TestClock holds (-271811-04-17T00:00:00.000Z to +275750-09-16T00:00:00.000Z",
    );
    expect(clock.now()).toBe(start);
    await queue.add(stamp());
    expect((await queue.processAll()).map((t) => t.status)).toEqual(["completed"]);
    expect(() => new TestClock(1e20)).toThrow(
      "new TestClock(): the start 100000000000000000000 is outside the times a TestClock holds",
    );
    expect(() => new TestClock(new Date(8.64e15))).toThrow(InvalidOptionError);
  });

  it("error messages show a bad value as given, strings quoted, and what is expected", async () => {
    const clock = new TestClock(start);
    await expect(clock.advance("5" as never)).rejects.toThrow(
      'TestClock.advance(): seconds must be a number ≥ 0 (got "5")',
    );
    await expect(clock.advanceTo("2030-01-02T00:00:00Z" as never)).rejects.toThrow(
      'TestClock.advanceTo(): the target must be a Date or epoch milliseconds (got "2030-01-02T00:00:00Z")',
    );
    await expect(clock.advanceTo(new Date("soon"))).rejects.toThrow(
      "TestClock.advanceTo(): the target must be a Date or epoch milliseconds (got Invalid Date)",
    );
    expect(() => new TestClock("2030-01-01T00:00:00Z" as never)).toThrow(
      'new TestClock(): the start must be a Date or epoch milliseconds (got "2030-01-01T00:00:00Z")',
    );
    await expect(new TestQueue().scheduleCronRuns("3" as never)).rejects.toThrow(
      'scheduleCronRuns(): count must be an integer ≥ 1 (got "3")',
    );
    await expect(new TestQueue().processScheduled("10" as never)).rejects.toThrow(
      'processScheduled(): expected a Date or seconds from now (got "10")',
    );
  });
});
