/**
 * Clock helpers for cases that test time.
 *
 * Driving a `TestClock` against a networked backend: a worker loop on the test
 * clock (the scheduler, the cron manager) sets its next timer only after its
 * backend call returns; on Redis that is a real round trip, which `advance()`
 * does not wait for. So these helpers move time in steps with a real pause
 * between them, letting every loop keep up with the fake time — tests then
 * behave the same on every backend.
 *
 * Also: a real clock whose reading is shifted (so a minute boundary can be a
 * moment away without waiting for one).
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { type Clock, systemClock } from "../../index.js";
import type { TestClock } from "../../testing/index.js";
import { until } from "./until.js";

/** Step of {@link advanceInSteps}: 50 ms of fake time. */
const STEP_MS = 50;
/** Real pause after each step of {@link advanceInSteps}: long enough for a local round trip to land. */
const SETTLE_MS = 3;

/** Moves `clock` forward by `seconds`, in steps of 50 ms of fake time. */
export async function advanceInSteps(clock: TestClock, seconds: number): Promise<void> {
  const target = clock.now() + Math.round(seconds * 1000);
  while (clock.now() < target) {
    await clock.advanceTo(Math.min(target, clock.now() + STEP_MS));
    await sleepFor(SETTLE_MS);
  }
}

export interface AdvanceUntilOptions {
  /** Seconds of fake time per step (default 1); small steps keep timing assertions precise. */
  step?: number;
  /** Epoch ms the clock never passes; the probe keeps being asked. */
  notAfter?: number;
  /** Fail once this many seconds of fake time have passed without the probe succeeding. */
  maxSeconds?: number;
  /** Fail after this much real time (default 10,000 ms). */
  timeoutMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/**
 * Moves `clock` forward `step` seconds at a time until `probe` returns a truthy
 * value (returned). Between steps the real event loop runs, so backend calls
 * started by the worker's loops land before time moves on.
 */
export function advanceUntil<T>(
  clock: TestClock,
  probe: () => T | Promise<T>,
  options: AdvanceUntilOptions = {},
): Promise<NonNullable<T>> {
  const stepMs = Math.round((options.step ?? 1) * 1000);
  const what = options.what ?? "condition";
  const fakeLimit =
    options.maxSeconds === undefined
      ? Number.POSITIVE_INFINITY
      : clock.now() + options.maxSeconds * 1000;
  return until(
    async () => {
      const value = await probe();
      if (value) return value;
      if (clock.now() >= fakeLimit) {
        throw new Error(`advanceUntil(): ${what} not reached within ${options.maxSeconds} s`);
      }
      const target = clock.now() + stepMs;
      if (options.notAfter === undefined || target <= options.notAfter)
        await clock.advanceTo(target);
      return value;
    },
    { timeoutMs: options.timeoutMs ?? 10_000, what },
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
