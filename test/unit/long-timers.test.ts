/**
 * Timers longer than Node's `setTimeout` limit (2^31 − 1 ms, about 24.8 days):
 * Node fires those after 1 ms with a `TimeoutOverflowWarning`. The system
 * clock waits in steps no longer than the limit and re-arms until the real
 * due time, so a task `timeout`, a far-future scheduled task's wake-up on the
 * memory backend, a shutdown grace or a wait of 30 days waits 30 days.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { type Clock, MemoryBackend, Queue, systemClock, task } from "sheppy";
import { afterEach, describe, expect, test, vi } from "vitest";
import { MAX_TIMER_MS, setLongTimer } from "../../src/clock.js";

const DAY_MS = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

describe("setLongTimer (the system clock's timers)", () => {
  test("a delay longer than one step is waited in steps and fires at its due time, not before", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    setLongTimer(fn, 250, {}, 100);
    vi.advanceTimersByTime(249);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test("cancel() works after the timer has re-armed", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const timer = setLongTimer(fn, 250, {}, 100);
    vi.advanceTimersByTime(150); // one re-arm done
    timer.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a delay within one step is a single timer", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    setLongTimer(fn, 100, {}, 100);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test("the step is Node's limit, 2^31 − 1 ms", () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });

  test("systemClock.setTimer(30 days) fires after 30 days, not after 1 ms (the fake timers model Node's overflow)", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    systemClock.setTimer(fn, 30 * DAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_MS - 2);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe("memory backend, instant processing, a task scheduled 30 days ahead", () => {
  const later = task({ name: "long-timers.later" }, () => "ran");

  test("no timer fires early and Node emits no TimeoutOverflowWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    // The system clock, recording which timers fired.
    const fired: number[] = [];
    const clock: Clock = {
      now: () => systemClock.now(),
      setTimer: (fn, ms, options) =>
        systemClock.setTimer(
          () => {
            fired.push(ms);
            fn();
          },
          ms,
          options,
        ),
      sleep: (ms, signal) => systemClock.sleep(ms, signal),
    };
    const queue = new Queue(new MemoryBackend({ clock }), { name: "long-timers", clock });
    try {
      const t = later();
      expect(await queue.schedule(t, 30 * 86_400)).toBe(true);
      await sleepFor(100);
      expect(fired.filter((ms) => ms > DAY_MS)).toEqual([]);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
      expect(warnings.filter((w) => w.name === "TimeoutOverflowWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await queue.close();
    }
  });
});
