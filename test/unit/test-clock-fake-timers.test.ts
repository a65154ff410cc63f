/**
 * TestClock under vitest's fake timers: `advance()` waits for the work a timer
 * starts on the real `setImmediate`, taken when `sheppy/testing` loads, so a
 * fake one installed later cannot hang it. Loaded while the timers are fake,
 * it uses the global once it is real again, and fails at once while it is not.
 */
import { task } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { afterEach, describe, expect, it, vi } from "vitest";

const stamp = task({ name: "test-clock-fake-timers.stamp" }, () => "ran");
const start = Date.parse("2030-01-01T00:00:00Z");

afterEach(() => {
  vi.useRealTimers();
});

describe("TestClock under vi.useFakeTimers()", () => {
  it("advance() resolves and fires the clock's timers", async () => {
    vi.useFakeTimers();
    const clock = new TestClock(start);
    const fired: number[] = [];
    clock.setTimer(() => fired.push(clock.now()), 1000);
    await clock.advance(1);
    await clock.advanceTo(start + 2000);
    expect(fired).toEqual([start + 1000]);
    expect(clock.now()).toBe(start + 2000);
  });

  it("a TestQueue on the clock runs a scheduled task once the clock passes it", async () => {
    vi.useFakeTimers();
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    const t = stamp();
    await queue.schedule(t, 60);
    await clock.advance(60);
    const [done] = await queue.processScheduled();
    expect([done?.id, done?.result]).toEqual([t.id, "ran"]);
  });

  it("loaded while the timers were fake: fails at once with a one-line reason, works once they are real", async () => {
    vi.useFakeTimers();
    vi.resetModules();
    const late = await import("sheppy/testing");
    const clock = new late.TestClock(start);
    await expect(clock.advance(1)).rejects.toThrow(
      "TestClock: setImmediate was already faked when sheppy/testing loaded, and is faked now; import sheppy/testing before calling vi.useFakeTimers()",
    );
    vi.useRealTimers();
    await clock.advance(1);
    expect(clock.now()).toBe(start + 1000);
  });
});
