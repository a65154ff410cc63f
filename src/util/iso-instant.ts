/**
 * @module util/iso-instant
 * ISO-8601 text read as an instant. Only text with an explicit UTC offset
 * (`Z` or `±hh:mm`) is accepted: `"2030-01-01T09:00"` would mean a different
 * instant in every machine's time zone, so it is refused rather than guessed,
 * and so is a date `Date.parse` would roll over (February 30th, hour 24).
 */
import { InvalidOptionError } from "../errors.js";

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
