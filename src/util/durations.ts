/**
 * @module util/durations
 * The one upper bound on every duration a user may give in seconds (retry
 * delays, timeouts, TTLs, rate-limit periods, worker intervals, schedule
 * delays). Sheppy turns durations into instants (`now + seconds`) and stores
 * them as ISO text; an instant beyond what a `Date` can hold (±8.64e15 ms)
 * makes `toISOString()` throw, so a huge duration would be accepted when a
 * task is defined and then fail far from that line, at its first retry. Ten
 * years is far more than any real delay or retention needs, while `now` plus
 * it stays a valid `Date` by a margin of some 270,000 years. Long waits are no
 * problem below the bound: timers past 24.8 days are re-armed in steps by
 * `setLongTimer` (src/clock.ts).
 */

/** Ten years of 365 days, in seconds: the longest duration any option accepts. */
export const MAX_DURATION_SECONDS = 10 * 365 * 24 * 60 * 60;

/** How the bound reads in error messages: `≤ 315360000 (10 years)`. */
export const MAX_DURATION_TEXT = `≤ ${MAX_DURATION_SECONDS} (10 years)`;

/**
 * Whether `value` is a number of seconds in range: finite, not above
 * {@link MAX_DURATION_SECONDS}, and `> 0` (or `≥ 0` with `allowZero`).
 */
export function isDuration(value: unknown, allowZero: boolean): value is number {
  return (
    typeof value === "number" &&
    (allowZero ? value >= 0 : value > 0) &&
    value <= MAX_DURATION_SECONDS
  );
}

/** The largest epoch-ms value a `Date` can hold; beyond it a `Date` is invalid. */
export const MAX_DATE_MS = 8.64e15;

/** Whether `ms` is an epoch-ms instant a `Date` can hold (and so format as ISO text). */
export function isRepresentableInstant(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/** The last instant a record can hold: records keep instants as ISO text with a four-digit year. */
export const LAST_STORABLE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
