/**
 * Rate-limit arithmetic (RL-6, RL-7, RL-10): `acquireSlot` with sliding and
 * fixed windows and the staggering of refused requests. Pure: times are
 * explicit milliseconds, no clock involved.
 */
import { describe, expect, test } from "vitest";
import {
  acquireSlot,
  MIN_RATE_WAIT_MS,
  newRateWindowState,
  type RateWindowState,
} from "../../src/backends/rate-window.js";

const SECOND = 1000;

function sliding(state: RateWindowState, now: number, maxRate = 2, period = SECOND) {
  return acquireSlot(state, {
    now: now,
    maxRate: maxRate,
    periodMs: period,
    strategy: "sliding_window",
  });
}

function fixed(state: RateWindowState, now: number, maxRate = 2, period = SECOND) {
  return acquireSlot(state, {
    now: now,
    maxRate: maxRate,
    periodMs: period,
    strategy: "fixed_window",
  });
}

describe("sliding window (RL-7)", () => {
  test("admits maxRate starts, then tells the next one when the oldest leaves the window", () => {
    const state = newRateWindowState();
    expect(sliding(state, 0)).toBeNull();
    expect(sliding(state, 200)).toBeNull();
    expect(sliding(state, 300)).toBe(700); // oldest (0) leaves at 1000
    expect(state.admitted).toEqual([0, 200]);
  });

  test("admissions older than the period no longer count", () => {
    const state = newRateWindowState();
    expect(sliding(state, 0)).toBeNull();
    expect(sliding(state, 200)).toBeNull();
    expect(sliding(state, 1000)).toBeNull(); // 0 is exactly one period old: out
    expect(state.admitted).toEqual([200, 1000]);
    expect(sliding(state, 1100)).not.toBeNull();
    expect(sliding(state, 1200)).toBeNull(); // 200 is out now
  });

  test("a start counted at an earlier time (a caller whose clock is behind) is the oldest", () => {
    const state = newRateWindowState();
    expect(sliding(state, 1000)).toBeNull();
    expect(sliding(state, 500)).toBeNull();
    expect(state.admitted).toEqual([500, 1000]);
    expect(sliding(state, 1000)).toBe(500); // the start at 500 leaves at 1500
    expect(sliding(state, 1500)).toBeNull();
    expect(state.admitted).toEqual([1000, 1500]);
  });

  test("in any trailing period at most maxRate starts are admitted", () => {
    const state = newRateWindowState();
    const admitted: number[] = [];
    for (let now = 0; now < 5000; now += 50) {
      if (sliding(state, now, 3, SECOND) === null) admitted.push(now);
    }
    for (const start of admitted) {
      const inWindow = admitted.filter((t) => t >= start && t < start + SECOND);
      expect(inWindow.length).toBeLessThanOrEqual(3);
    }
    expect(admitted.length).toBeGreaterThanOrEqual(15);
  });
});

describe("fixed window (RL-7)", () => {
  test("the window opens at the first admission and allows maxRate until the period has passed", () => {
    const state = newRateWindowState();
    expect(fixed(state, 100)).toBeNull();
    expect(state.windowStart).toBe(100);
    expect(fixed(state, 900)).toBeNull();
    expect(fixed(state, 1000)).toBe(100); // window 100..1100
    expect(fixed(state, 1100)).toBeNull(); // new window
    expect(state.windowStart).toBe(1100);
    expect(state.windowCount).toBe(1);
  });

  test("a fixed window does not slide: a burst at the end of one window and the start of the next is allowed", () => {
    const state = newRateWindowState();
    expect(fixed(state, 0)).toBeNull();
    expect(fixed(state, 950)).toBeNull();
    expect(fixed(state, 1000)).toBeNull();
    expect(fixed(state, 1010)).toBeNull();
    // Sliding would refuse this pattern: 3 starts within 1000..1010 + the one at 950.
    const slide = newRateWindowState();
    expect(sliding(slide, 0)).toBeNull();
    expect(sliding(slide, 950)).toBeNull();
    expect(sliding(slide, 1000)).toBeNull();
    expect(sliding(slide, 1010)).not.toBeNull();
  });
});

describe("staggering refused requests (RL-6)", () => {
  test.each(["sliding_window", "fixed_window"] as const)(
    "%s: a burst of refusals gets slots period / maxRate apart",
    (strategy) => {
      const state = newRateWindowState();
      const waits = Array.from({ length: 6 }, () =>
        acquireSlot(state, { now: 0, maxRate: 2, periodMs: SECOND, strategy: strategy }),
      );
      expect(waits).toEqual([null, null, 1000, 1500, 2000, 2500]);
    },
  );

  test("refused requests told to come back at their slot are admitted then", () => {
    const state = newRateWindowState();
    expect(sliding(state, 0)).toBeNull();
    expect(sliding(state, 0)).toBeNull();
    const wait = sliding(state, 0);
    expect(wait).toBe(1000);
    expect(sliding(state, wait!)).toBeNull();
  });

  test("a slot already in the past does not delay a later refusal", () => {
    const state = newRateWindowState();
    sliding(state, 0);
    sliding(state, 0);
    expect(sliding(state, 0)).toBe(1000); // next slot now 1500
    expect(sliding(state, 10_000)).toBeNull();
    expect(sliding(state, 10_000)).toBeNull();
    expect(sliding(state, 10_000)).toBe(1000); // free at 11000; stale slot 1500 ignored
  });
});

describe("RL-10 minimum wait", () => {
  test("a refused request never gets a wait below the minimum", () => {
    const state = newRateWindowState();
    expect(sliding(state, 0)).toBeNull();
    expect(sliding(state, 0)).toBeNull();
    state.nextSlot = 0;
    expect(sliding(state, 998)).toBe(MIN_RATE_WAIT_MS); // free at 1000, 2 ms away
    expect(MIN_RATE_WAIT_MS).toBe(10);
  });

  test("waits are whole milliseconds, rounded up (Redis answers the same)", () => {
    const state = newRateWindowState();
    expect(
      acquireSlot(state, { now: 0, maxRate: 3, periodMs: SECOND, strategy: "sliding_window" }),
    ).toBeNull();
    expect(
      acquireSlot(state, { now: 0, maxRate: 3, periodMs: SECOND, strategy: "sliding_window" }),
    ).toBeNull();
    expect(
      acquireSlot(state, { now: 0, maxRate: 3, periodMs: SECOND, strategy: "sliding_window" }),
    ).toBeNull();
    expect(
      acquireSlot(state, { now: 0, maxRate: 3, periodMs: SECOND, strategy: "sliding_window" }),
    ).toBe(1000);
    expect(
      acquireSlot(state, { now: 0, maxRate: 3, periodMs: SECOND, strategy: "sliding_window" }),
    ).toBe(1334); // slot at 1333.3…
  });

  test("a fresh state admits at once", () => {
    expect(newRateWindowState()).toEqual({
      admitted: [],
      windowStart: 0,
      windowCount: 0,
      nextSlot: 0,
    });
    expect(fixed(newRateWindowState(), 0)).toBeNull();
    expect(sliding(newRateWindowState(), 0, 1)).toBeNull();
  });
});

describe("a task back at its slot and refused again", () => {
  test.each(["sliding_window", "fixed_window"] as const)(
    "%s: is told when the window may have room, and the slots handed out since stay as they are",
    (strategy) => {
      const state = newRateWindowState();
      const ask = (now: number, atSlot = false) =>
        acquireSlot(state, { now, maxRate: 2, periodMs: SECOND, strategy, atSlot });
      expect(ask(0)).toBeNull();
      expect(ask(0)).toBeNull();
      // Eight refused together: slots 1000, 1500, … 4500.
      const slots = Array.from({ length: 8 }, () => ask(0));
      expect(slots).toEqual([1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500]);
      // The first two back a little late (a worker's wake-up): both admitted.
      expect(ask(1010, true)).toBeNull();
      expect(ask(1500, true)).toBeNull();
      // At 2000 the start counted at 1010 still fills the window: told 1010 + 1000.
      expect(ask(2000, true)).toBe(MIN_RATE_WAIT_MS);
      // A first ask goes after every slot handed out, none of which moved: 4500 + 500.
      expect(ask(2000)).toBe(3000);
      expect(ask(2010, true)).toBeNull();
    },
  );
});
