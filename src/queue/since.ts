/**
 * @module queue/since
 * A point in the past as the bulk operations take it (`since`, `before`): a
 * `Date`, ISO-8601 text with an offset, or seconds before now — and the
 * window of finish times two of them bound.
 */
import { isoAt } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { isDuration, isRepresentableInstant, MAX_DURATION_TEXT } from "../util/durations.js";
import { parseIsoInstant } from "../util/iso-instant.js";

/** How far ahead of this process's clock a `since` may be (another host's clock) before it counts as a mistake. */
const CLOCK_SKEW_MS = 60_000;

/** Epoch ms of `since` (or of the `option` so named, written the same way); `null` for none. */
export function sinceMsOf(
  since: Date | number | string | undefined,
  now: number,
  where: string,
  option = "since",
): number | null {
  if (since === undefined) return null;
  if (typeof since === "string")
    return parseIsoInstant(
      since,
      where,
      "a span back from now is a number of seconds (e.g. 3600 for the last hour), not text",
    );
  if (since instanceof Date) {
    const time = Date.prototype.getTime.call(since);
    if (!isRepresentableInstant(time))
      throw new InvalidOptionError(`${where}: ${option} is an invalid Date`);
    return time;
  }
  if (!isDuration(since, true)) {
    throw new InvalidOptionError(
      `${where}: ${option} must be a Date, ISO-8601 text with an offset, or seconds before now ≥ 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(since)})`,
    );
  }
  return now - since * 1000;
}

/**
 * The window of finish times `since` and `before` select (epoch ms, `null`
 * for an open end). A window no task can have finished in is a mistake
 * (swapped bounds, a year typed wrong), not a request that matches nothing.
 */
export function finishedWindowOf(
  options: {
    readonly since?: Date | number | string | undefined;
    readonly before?: Date | number | string | undefined;
  },
  now: number,
  where: string,
): { sinceMs: number | null; beforeMs: number | null } {
  const sinceMs = sinceMsOf(options.since, now, where);
  const beforeMs = sinceMsOf(options.before, now, where, "before");
  if (sinceMs !== null && sinceMs > now + CLOCK_SKEW_MS) {
    throw new InvalidOptionError(
      `${where}: since ${isoAt(sinceMs)} is in the future: no task has finished since then`,
    );
  }
  if (sinceMs !== null && beforeMs !== null && sinceMs >= beforeMs) {
    throw new InvalidOptionError(
      `${where}: the window is empty: since ${isoAt(sinceMs)} is not before before ${isoAt(beforeMs)} (a span back from now: since the longer one, before the shorter)`,
    );
  }
  return { sinceMs, beforeMs };
}
