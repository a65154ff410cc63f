/**
 * @module queue/instant
 * Time arguments (`queue.schedule`, `queue.retry({ at })`) turned into epoch
 * ms: a `Date`, a delay in seconds, or ISO-8601 text. Only text with an
 * explicit UTC offset (`Z` or `±hh:mm`) is accepted: `"2030-01-01T09:00"`
 * would mean a different instant on every machine's time zone, so it is
 * refused rather than guessed. A delay is bounded like every duration
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

const ISO_WITH_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const ISO_FIELDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/;
/** Text such as "1h" or "90 s": how the CLI takes a span of time, which the API takes as seconds. */
const DURATION_TEXT = /^\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w|sec|min|hour|hours|day|days)$/i;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

/**
 * Epoch ms of an ISO-8601 instant with offset; `InvalidOptionError` naming
 * `where` otherwise. `spanHint`: what to say about text such as "1h" where the
 * caller also takes a number of seconds (the API; the CLI takes "1h" itself).
 */
export function parseIsoInstant(text: string, where: string, spanHint?: string): number {
  if (!ISO_WITH_OFFSET.test(text)) {
    const hint = ISO_LOCAL.test(text)
      ? "it has no UTC offset; add Z or ±hh:mm (e.g. 2030-01-01T09:00:00Z)"
      : spanHint !== undefined && DURATION_TEXT.test(text)
        ? spanHint
        : "expected ISO-8601 with an offset, e.g. 2030-01-01T09:00:00Z or 2030-01-01T10:00:00+01:00";
    throw new InvalidOptionError(`${where}: cannot read '${text}' as a time: ${hint}`);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !fieldsInRange(text)) {
    throw new InvalidOptionError(`${where}: '${text}' is not a valid date`);
  }
  return ms;
}

/** `Date.parse` rolls 2030-02-30 over to March 2nd and reads hour 24; refuse both. */
function fieldsInRange(text: string): boolean {
  const [, year, month, day, hour, minute, second] = ISO_FIELDS.exec(text) ?? [];
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second ?? "0"].map(Number);
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h! <= 23 && mi! <= 59 && s! <= 59;
}

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
