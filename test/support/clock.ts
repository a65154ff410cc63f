/**
 * Driving a `TestClock` against a networked backend. A worker loop on the
 * test clock (the scheduler) sets its next timer only after its backend call
 * returns; on Redis that is a real round trip, which `advance()` does not wait
 * for. Moving time in small steps, with a real pause between them, lets every
 * loop keep up with the fake time, so tests behave the same on every backend.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import type { TestClock } from "sheppy/testing";

const STEP_MS = 50;
/** Real pause after each step: long enough for a local round trip to land. */
const SETTLE_MS = 3;

/** Moves `clock` forward by `seconds`, in steps of 50 ms of fake time. */
export async function advanceInSteps(clock: TestClock, seconds: number): Promise<void> {
  const target = clock.now() + Math.round(seconds * 1000);
  while (clock.now() < target) {
    await clock.advanceTo(Math.min(target, clock.now() + STEP_MS));
    await sleepFor(SETTLE_MS);
  }
}

/**
 * Moves `clock` forward step by step until `probe` returns a truthy value
 * (returned), failing once `maxSeconds` of fake time have passed.
 */
export async function advanceUntil<T>(
  clock: TestClock,
  probe: () => T | Promise<T>,
  options: { maxSeconds?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const limit = clock.now() + (options.maxSeconds ?? 60) * 1000;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (clock.now() >= limit) {
      throw new Error(`advanceUntil(): ${options.what ?? "condition"} not reached in time`);
    }
    await clock.advanceTo(clock.now() + STEP_MS);
    await sleepFor(SETTLE_MS);
  }
}
