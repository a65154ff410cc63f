/**
 * @module testing/clock-instants
 * The instants a `TestClock` accepts, checked where the test gives them. A
 * clock past what a `Date` holds would be accepted here and fail later, deep
 * in a backend, as a bare `RangeError: Invalid time value`; so would one so
 * close to the edge that now plus a delay, TTL or period overflows. The range
 * is a `Date`'s less the longest duration Sheppy accepts (10 years).
 */
import { isoAt } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { MAX_DATE_MS, MAX_DURATION_SECONDS } from "../util/durations.js";

/** The farthest a `TestClock` goes from the epoch, either way, in ms. */
export const CLOCK_LIMIT_MS = MAX_DATE_MS - MAX_DURATION_SECONDS * 1000;

const WHY = "a Date's range less 10 years, the longest duration Sheppy accepts";
const RANGE = `${isoAt(-CLOCK_LIMIT_MS)} to ${isoAt(CLOCK_LIMIT_MS)}: ${WHY}`;

/** `value` as an error message shows it: a `Date` as ISO text, epoch ms with theirs, anything else as given. */
export function describeInstant(value: unknown): string {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  if (typeof value === "number" && Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS)
    return `${value} (${isoAt(value)})`;
  return describeGiven(value);
}

/**
 * `value` (a `Date` or epoch ms) as epoch ms, refused with an
 * `InvalidOptionError` starting with `where` when it is neither, or outside
 * the times a `TestClock` holds.
 */
export function instantOf(value: unknown, where: string, what: string): number {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === "number" ? value : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidOptionError(
      `${where}: ${what} must be a Date or epoch milliseconds (got ${describeGiven(value)})`,
    );
  }
  if (!inRange(ms)) {
    throw new InvalidOptionError(
      `${where}: ${what} ${describeGiven(value)} is outside the times a TestClock holds (${RANGE})`,
    );
  }
  return ms;
}

export const inRange = (ms: number): boolean => Math.abs(ms) <= CLOCK_LIMIT_MS;

/** Why moving `seconds` from `now` is refused: past the latest time a `TestClock` holds. */
export function pastRangeMessage(seconds: number, now: number): string {
  return `TestClock.advance(): ${seconds} seconds from ${isoAt(now)} goes past ${isoAt(CLOCK_LIMIT_MS)}, the latest time a TestClock holds (${WHY})`;
}
