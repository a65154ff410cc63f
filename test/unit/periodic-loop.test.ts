/**
 * A periodic loop (the worker's scheduler, cron manager, expiry sweeper)
 * ticks every interval counted from when each tick began. A clock moved on
 * while a tick still waited for its backend — a test's `TestClock.advance`
 * during a slow round trip — gets a tick at the new time at once; a sleep
 * counted from the new time would never end unless the clock moved again,
 * and a task due at the new time would stay scheduled. A tick may bring the
 * next one forward, and so may an alarm, but never to a busy loop.
 */
import { TestClock } from "sheppy/testing";
import { describe, expect, it } from "vitest";
import { DueAlarm } from "../../src/worker/due-alarm.js";
import {
  MIN_TICK_GAP_MS,
  RETRY_AFTER_FAILURE_MS,
  runPeriodically,
} from "../../src/worker/periodic-loop.js";

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

  it("a tick that answers a time before the interval ends has the next tick then", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    const seen: number[] = [];
    const loop = runPeriodically(
      { clock, intervalMs: 60_000, signal: stop.signal, onError: () => undefined },
      async () => {
        seen.push(clock.now() - START);
        return seen.length === 1 ? START + 2500 : undefined;
      },
    );
    await clock.advance(3);
    expect(seen).toEqual([0, 2500]);
    stop.abort();
    await loop;
  });

  it("an answer already past (a task that cannot be moved yet) costs a tick per few ms of the clock, not a busy loop", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    let ticks = 0;
    const loop = runPeriodically(
      { clock, intervalMs: 60_000, signal: stop.signal, onError: () => undefined },
      async () => {
        ticks++;
        return START - 1000;
      },
    );
    // Real time passes; the test clock does not: the loop waits for it instead of spinning.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticks).toBe(1);
    await clock.advance(MIN_TICK_GAP_MS / 1000);
    expect(ticks).toBe(2);
    stop.abort();
    await loop;
  });

  it("an alarm for a time before the next tick brings it forward; one after it changes nothing", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    const alarm = new DueAlarm();
    const seen: number[] = [];
    const loop = runPeriodically(
      { clock, intervalMs: 10_000, signal: stop.signal, onError: () => undefined, alarm },
      async () => {
        seen.push(clock.now() - START);
      },
    );
    await clock.advance(1);
    alarm.due(START + 4000);
    alarm.due(START + 7000);
    alarm.due(START + 60_000);
    await clock.advance(5);
    expect(seen).toEqual([0, 4000]);
    // Covered by the tick at 4 s, the later times told wait for the interval: the next tick is at 14 s.
    await clock.advance(10);
    expect(seen).toEqual([0, 4000, 14_000]);
    stop.abort();
    await loop;
  });

  it("after a failed tick, a loop with a long interval tries again within seconds, not at its next interval, and says it recovered once it does; a short interval is still waited out", async () => {
    const clock = new TestClock(START);
    const stop = new AbortController();
    const seen: number[] = [];
    const told: string[] = [];
    const loop = runPeriodically(
      {
        clock,
        intervalMs: 60_000,
        signal: stop.signal,
        onError: (_error, first) => told.push(first ? "failing" : "still failing"),
        onRecovered: () => told.push("recovered"),
      },
      async () => {
        seen.push(clock.now() - START);
        if (seen.length <= 2) throw new Error("backend down");
      },
    );
    await clock.advance((2 * RETRY_AFTER_FAILURE_MS) / 1000);
    expect(seen).toEqual([0, RETRY_AFTER_FAILURE_MS, 2 * RETRY_AFTER_FAILURE_MS]);
    expect(told).toEqual(["failing", "still failing", "recovered"]);
    // Working again: the interval, counted from the tick that worked.
    await clock.advance(60);
    expect(seen.at(-1)).toBe(2 * RETRY_AFTER_FAILURE_MS + 60_000);
    stop.abort();
    await loop;

    const short = new TestClock(START);
    const stopShort = new AbortController();
    const shortSeen: number[] = [];
    const shortLoop = runPeriodically(
      { clock: short, intervalMs: 1000, signal: stopShort.signal, onError: () => undefined },
      async () => {
        shortSeen.push(short.now() - START);
        if (shortSeen.length === 1) throw new Error("backend down");
      },
    );
    await short.advance(0.5);
    expect(shortSeen).toEqual([0]);
    await short.advance(0.5);
    expect(shortSeen).toEqual([0, 1000]);
    stopShort.abort();
    await shortLoop;
  });
});
