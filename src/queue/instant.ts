/**
 * @module queue/instant
 * Time arguments (`queue.schedule`, `queue.retry({ at })`) turned into epoch
 * ms: a `Date`, a delay in seconds, or ISO-8601 text with an explicit UTC
 * offset (see `util/iso-instant`). A delay is bounded like every duration
 * ({@link MAX_DURATION_SECONDS}), and a due time must be one a record can
 * hold: it is stored as ISO text with a four-digit year, so at the latest
 * the last moment of the year 9999.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import {
  isDuration,
  isRepresentableInstant,
  LAST_STORABLE_MS,
  MAX_DURATION_SECONDS,
  MAX_DURATION_TEXT,
} from "../util/durations.js";
import { parseIsoInstant } from "../util/iso-instant.js";

/**
 * The time a `Date` holds, read from the object itself: a subclass may override
 * `getTime()` to return any number, and an object merely inheriting from
 * `Date.prototype` holds none (NaN).
 */
function dateValueOf(date: Date): number {
  try {
    return Date.prototype.getTime.call(date);
  } catch {
    return Number.NaN;
  }
}

/**
 * How far in the past a time may be and still mean "now": `new Date()`
 * passed on, or computed a moment before the call, is a few ms old by the
 * time it is checked. Anything older is more likely a mistake (a wrong time
 * zone, a stale value) and is refused.
 */
export const PAST_GRACE_MS = 1000;

/**
 * Epoch ms of a time argument (`queue.schedule(task, at)`, `queue.retry(task, { at })`):
 * a `Date`, ISO-8601 text with an offset, or a delay in seconds from `now`.
 * A time less than {@link PAST_GRACE_MS} past is due now. An older or invalid
 * date, or a delay that is negative or above {@link MAX_DURATION_SECONDS},
 * is an `InvalidOptionError` naming `where`.
 */
export function resolveDueTime(at: Date | number | string, now: number, where: string): number {
  if (typeof at === "string")
    at = new Date(
      parseIsoInstant(
        at,
        where,
        "a delay is a number of seconds (e.g. 3600 for an hour), not text",
      ),
    );
  if (at instanceof Date) {
    const time = dateValueOf(at);
    if (!isRepresentableInstant(time)) throw new InvalidOptionError(`${where}: invalid Date`);
    if (now - time >= PAST_GRACE_MS) {
      throw new InvalidOptionError(
        `${where}: ${new Date(time).toISOString()} is in the past (it is ${new Date(now).toISOString()} now)`,
      );
    }
    if (time > LAST_STORABLE_MS) {
      throw new InvalidOptionError(
        `${where}: ${new Date(time).toISOString()} is after ${new Date(LAST_STORABLE_MS).toISOString()}, the last time a task can be due`,
      );
    }
    return Math.max(time, now);
  }
  if (!isDuration(at, true)) {
    throw new InvalidOptionError(
      `${where}: expected a Date or a delay in seconds ≥ 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(at)})`,
    );
  }
  const due = now + at * 1000;
  if (!isRepresentableInstant(due) || due > LAST_STORABLE_MS) {
    throw new InvalidOptionError(
      `${where}: a delay of ${at} seconds from ${new Date(now).toISOString()} ends after ${new Date(LAST_STORABLE_MS).toISOString()}, the last time a task can be due`,
    );
  }
  return due;
}
