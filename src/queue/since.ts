/**
 * @module queue/since
 * A point in the past as the bulk operations take it (`since`, `before`): a
 * `Date`, ISO-8601 text with an offset, or seconds before now.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { isDuration, isRepresentableInstant, MAX_DURATION_TEXT } from "../util/durations.js";
import { parseIsoInstant } from "../util/iso-instant.js";

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
