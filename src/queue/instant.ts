/**
 * @module queue/instant
 * Time arguments (`queue.schedule`, `queue.retry({ at })`) turned into epoch
 * ms: a `Date`, a delay in seconds, or ISO-8601 text. Only text with an
 * explicit UTC offset (`Z` or `±hh:mm`) is accepted: `"2030-01-01T09:00"`
 * would mean a different instant on every machine's time zone, so it is
 * refused rather than guessed.
 */
import { InvalidOptionError } from "../errors.js";

const ISO_WITH_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const ISO_FIELDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

/** Epoch ms of an ISO-8601 instant with offset; `InvalidOptionError` naming `where` otherwise. */
export function parseIsoInstant(text: string, where: string): number {
  if (!ISO_WITH_OFFSET.test(text)) {
    const hint = ISO_LOCAL.test(text)
      ? "it has no UTC offset; add Z or ±hh:mm (e.g. 2030-01-01T09:00:00Z)"
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
 * Epoch ms of a time argument (`queue.schedule(task, at)`, `queue.retry(task, { at })`):
 * a `Date`, ISO-8601 text with an offset, or a delay in seconds from `now`.
 * A past or invalid date, or a negative delay, is an `InvalidOptionError` naming `where`.
 */
export function resolveDueTime(at: Date | number | string, now: number, where: string): number {
  if (typeof at === "string") at = new Date(parseIsoInstant(at, where));
  if (at instanceof Date) {
    const time = at.getTime();
    if (Number.isNaN(time)) throw new InvalidOptionError(`${where}: invalid Date`);
    if (time < now) throw new InvalidOptionError(`${where}: ${at.toISOString()} is in the past`);
    return time;
  }
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0) {
    throw new InvalidOptionError(
      `${where}: expected a Date or a delay in seconds ≥ 0 (got ${String(at)})`,
    );
  }
  return now + at * 1000;
}
