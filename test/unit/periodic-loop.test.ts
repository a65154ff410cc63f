/**
 * A periodic loop (the worker's scheduler, cron manager, expiry sweeper)
 * ticks every interval counted from when each tick began. A clock moved on
 * while a tick still waited for its backend — a test's `TestClock.advance`
 * during a slow round trip — gets a tick at the new time at once; a sleep
 * counted from the new time would never end unless the clock moved again,
 * and a task due at the new time would stay scheduled.
 */
import { TestClock } from "sheppy/testing";
import { describe, expect, it } from "vitest";
import { runPeriodically } from "../../src/worker/periodic-loop.js";

const START = Date.parse("2030-01-01T08:00:00Z");

describe("runPeriodically", () => {
  it("a clock moved on during a tick gets a tick at its new time, without moving again", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    const seen: number[] = [];
    let release!: () => void;
    const slowFirst = new Promise<void>((resolve) => {
      release = resolve;
    });
    const loop = runPeriodically(
      { clock, intervalMs: 1000, signal: stop.signal, onError: () => undefined },
      async () => {
        seen.push(clock.now());
        // The first tick's round trip is still out when the test moves the clock.
        if (seen.length === 1) await slowFirst;
      },
    );
    await clock.advance(60);
    release();
    for (let i = 0; i < 20 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([START, START + 60_000]);
    stop.abort();
    await loop;
  });

  it("otherwise ticks once per interval of the clock", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    const seen: number[] = [];
    const loop = runPeriodically(
      { clock, intervalMs: 1000, signal: stop.signal, onError: () => undefined },
      async () => {
        seen.push(clock.now() - START);
      },
    );
    await clock.advance(3);
    expect(seen).toEqual([0, 1000, 2000, 3000]);
    stop.abort();
    await loop;
  });
});
