/**
 * Clock helpers for cases that test time: drive a `TestClock` while waiting
 * for an outcome, and a real clock whose reading is shifted (so a minute
 * boundary can be a moment away without waiting for one).
 */
import { type Clock, systemClock } from "sheppy";
import type { TestClock } from "sheppy/testing";
import { until } from "./until.js";

/**
 * Moves `clock` forward `step` seconds at a time until `probe` returns a truthy
 * value (returned). Between steps the real event loop runs, so backend calls
 * started by the worker's loops land before time moves on. With `notAfter`
 * (epoch ms) the clock never passes that instant; the probe keeps being asked.
 */
export function advanceUntil<T>(
  clock: TestClock,
  probe: () => T | Promise<T>,
  options: { step?: number; notAfter?: number; timeoutMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const stepMs = (options.step ?? 1) * 1000;
  return until(
    async () => {
      const value = await probe();
      if (value) return value;
      const target = clock.now() + stepMs;
      if (options.notAfter === undefined || target <= options.notAfter)
        await clock.advanceTo(target);
      return value;
    },
    { timeoutMs: options.timeoutMs ?? 10_000, what: options.what ?? "condition" },
  );
}

/**
 * The real clock, read as if it were `startAt` when created: time passes and
 * timers fire in real time, only the reading is shifted.
 */
export function shiftedClock(startAt: number): Clock {
  const offset = startAt - Date.now();
  return {
    now: () => Date.now() + offset,
    setTimer: (fn, ms, options) => systemClock.setTimer(fn, ms, options),
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
  };
}

/** Epoch ms of the next whole minute after `ms`. */
export function nextMinute(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000 + 60_000;
}
