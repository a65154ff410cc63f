/**
 * @module backends/rate-window
 * Rate-limit arithmetic, pure and shared by backends that keep the window
 * state in process (memory) and as the reference the Redis and SQL versions
 * follow. Times are milliseconds.
 *
 * - sliding window: at most `maxRate` admissions in any trailing `period`.
 * - fixed window: a window opens at the first admission and allows `maxRate`
 *   admissions until `period` has passed since it opened.
 * Refused requests get staggered slots `period / maxRate` apart, so a burst
 * spreads out instead of waking all at once.
 */
import type { RateLimitRequest } from "./backend.js";

/** Window state of one queue + key. */
export interface RateWindowState {
  /** Admission times inside the sliding window, oldest first. */
  admitted: number[];
  /** Start and count of the current fixed window. */
  windowStart: number;
  windowCount: number;
  /** Earliest time the next refused request may be told to come back. */
  nextSlot: number;
}

export function newRateWindowState(): RateWindowState {
  return { admitted: [], windowStart: 0, windowCount: 0, nextSlot: 0 };
}

/** Smallest wait returned, so a refused request never spins. */
export const MIN_RATE_WAIT_MS = 10;

/**
 * Admits (returns `null`, recording the start) or returns milliseconds to
 * wait. Mutates `state`. A request `atSlot` — its task back at the slot an
 * earlier refusal gave it, and still refused (a start it waited on was
 * itself counted a little late) — is told the moment the window may have
 * room, and moves no later slot: the slots handed out since are not its to
 * take, and sending it behind them would let a steady line of new
 * refusals put it off again and again.
 */
export function acquireSlot(
  state: RateWindowState,
  request: Pick<RateLimitRequest, "now" | "maxRate" | "periodMs" | "strategy" | "atSlot">,
): number | null {
  const { now, maxRate, periodMs, strategy } = request;
  let freeAt: number;
  if (strategy === "fixed_window") {
    // A fresh state has no window yet: the first admission opens one (even at a small `now`).
    if (state.windowCount === 0 || now >= state.windowStart + periodMs) {
      state.windowStart = now;
      state.windowCount = 0;
    }
    if (state.windowCount < maxRate) {
      state.windowCount++;
      return null;
    }
    freeAt = state.windowStart + periodMs;
  } else {
    const admitted = state.admitted;
    while (admitted.length > 0 && admitted[0]! <= now - periodMs) admitted.shift();
    if (admitted.length < maxRate) {
      // Sorted insert, not a push: callers' clocks may disagree (`now` is the
      // caller's), and pruning and `freeAt` rely on the oldest coming first,
      // as Redis's sorted set keeps it.
      let at = admitted.length;
      while (at > 0 && admitted[at - 1]! > now) at--;
      admitted.splice(at, 0, now);
      return null;
    }
    freeAt = admitted[0]! + periodMs;
  }
  let slot = freeAt;
  if (request.atSlot !== true) {
    slot = Math.max(freeAt, state.nextSlot);
    state.nextSlot = slot + periodMs / maxRate;
  }
  // Whole milliseconds, as Redis answers (rate-limit.lua), so backends agree exactly.
  return Math.max(MIN_RATE_WAIT_MS, Math.ceil(slot - now));
}

/** How long a stored window is kept once idle (caller ms), generously: as Redis keeps its keys. */
export function rateWindowKeptUntil(state: RateWindowState, now: number, periodMs: number): number {
  const keep = Math.max(60_000, periodMs * 2 + 1000);
  return Math.ceil(Math.max(now, state.nextSlot) + keep);
}

/** A window stored as JSON text, or a fresh one when there is none or it cannot be read. */
export function parseRateWindowState(text: string | undefined): RateWindowState {
  if (text === undefined || text === "") return newRateWindowState();
  try {
    const state = JSON.parse(text) as RateWindowState;
    const numbers = (list: unknown) =>
      Array.isArray(list) && list.every((n) => typeof n === "number" && Number.isFinite(n));
    if (
      numbers(state.admitted) &&
      numbers([state.windowStart, state.windowCount, state.nextSlot])
    ) {
      return state;
    }
  } catch {
    // A damaged row starts a fresh window.
  }
  return newRateWindowState();
}
