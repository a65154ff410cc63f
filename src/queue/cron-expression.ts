/**
 * @module queue/cron-expression
 * Cron expressions, through croner (never a parser of our own): five fields
 * (minute hour day-of-month month day-of-week) or a macro (`@hourly`,
 * `@daily`, `@weekly`, `@monthly`, `@yearly`, `@annually`, `@midnight`).
 * Evaluated in UTC unless the cron names an IANA time zone: never in the
 * machine's own zone, so workers in different places agree on every fire time
 * — the fire time is part of each run's task id.
 */
import { Cron } from "croner";
import { CronExpressionError } from "../errors.js";
import { quoteText } from "../task/describe-value.js";
import { LAST_STORABLE_MS } from "../util/durations.js";
import { TIME_ZONE_ALIASES } from "./time-zone-aliases.js";

/** A checked schedule (cron text in a time zone, or a fixed interval) that can list its fire times. */
export interface CronSchedule {
  /** Cron text as stored: trimmed, runs of whitespace collapsed to one space; `null` for an interval. */
  readonly expression: string | null;
  /** The interval in whole seconds; `null` for cron text. */
  readonly every: number | null;
  /** The IANA zone the text is read in (`"UTC"` by default); `null` for an interval. */
  readonly timezone: string | null;
  /**
   * The first `count` fire times (epoch ms) strictly after `from`, in
   * increasing order; none past the last instant a record can hold (the end
   * of the year 9999), so a cron's runs end there rather than be stored
   * malformed.
   */
  nextRuns(from: number, count: number): number[];
}

/**
 * The canonical name of IANA zone `timezone` (`"utc"`, `"Etc/UTC"` and `"GMT"`
 * give `"UTC"`; `"europe/berlin"` gives `"Europe/Berlin"`; an alias gives the
 * zone it stands for, the same on every Node.js version: `"US/Pacific"` gives
 * `"America/Los_Angeles"`, `"Asia/Calcutta"` gives `"Asia/Kolkata"`). Throws
 * {@link CronExpressionError} naming it and `where` when the zone is unknown
 * (croner itself would accept any text and fail later, at the first fire time).
 */
export function checkTimezone(timezone: unknown, where: string): string {
  if (typeof timezone !== "string" || timezone.trim() === "") {
    throw new CronExpressionError(
      `${where}: timezone must be an IANA time zone name such as 'Europe/Berlin' (got ${JSON.stringify(timezone) ?? String(timezone)})`,
    );
  }
  let resolved: string;
  try {
    // Checks the name and spells it as Intl does (case; on some versions an alias's target).
    resolved = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new CronExpressionError(
      `${where}: unknown time zone '${timezone}'; use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'`,
    );
  }
  const canonical = TIME_ZONE_ALIASES.get(resolved) ?? resolved;
  return canonical === resolved || knownToIntl(canonical) ? canonical : resolved;
}

/** Whether this Node.js's time-zone data has `zone` (an older one may lack a recent rename). */
function knownToIntl(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Macros croner expands (it lower-cases them first); `@reboot` is not one. */
const MACROS = new Set([
  "@hourly",
  "@daily",
  "@midnight",
  "@weekly",
  "@monthly",
  "@yearly",
  "@annually",
]);

/**
 * What is accepted, said once for every refusal: croner's own count message
 * ("five, six, or seven parts") describes its modes, not the one used here.
 */
const ACCEPTED =
  "a cron expression has exactly five fields (minute hour day-of-month month day-of-week; no seconds field) or is a macro: @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually";

/** What each field takes, said when the shape is right but a field is not. */
const FIELD_RANGES =
  "the fields take minute 0–59, hour 0–23, day-of-month 1–31, month 1–12 or JAN–DEC, day-of-week 0–7 or SUN–SAT (each also *, lists a,b, ranges a-b and steps /n)";

/** Why `normalised` does not have the shape of an expression, or `undefined` when it does. */
function shapeProblem(normalised: string): string | undefined {
  if (normalised.startsWith("@")) {
    return MACROS.has(normalised.toLowerCase()) ? undefined : "unknown macro";
  }
  const fields = normalised === "" ? 0 : normalised.split(" ").length;
  return fields === 5 ? undefined : `${fields} field${fields === 1 ? "" : "s"}`;
}

/**
 * croner's refusal in the expression's own terms: croner counts days of the
 * month and months from 0 inside, and its message for an out-of-range one
 * gives that count (`13` in the month field reads "month: 12").
 */
function cronerReason(message: string): string {
  return message
    .replace(/^CronPattern: /, "")
    .replace(/^Invalid value for (day|month): (-?\d+)/, (_all, field: string, value: string) => {
      return `Invalid value for ${field === "day" ? "day-of-month" : "month"}: ${Number(value) + 1}`;
    })
    .replace(/^Invalid value for dayOfWeek:/, "Invalid value for day-of-week:");
}

/** Whitespace carries no meaning: two spaces between fields or one give the same cron. */
function normalise(expression: string): string {
  return expression.trim().split(/\s+/).join(" ");
}

/**
 * Checks `expression` and returns its schedule, read in `timezone` (an IANA
 * name, checked with {@link checkTimezone}; default UTC). Throws
 * {@link CronExpressionError} naming the expression and `where` for anything
 * croner refuses in five-field mode (six-field seconds patterns included), for
 * a non-string, and for an expression that never fires (e.g. `0 0 30 2 *`).
 */
export function parseCronExpression(
  expression: unknown,
  where: string,
  timezone: unknown = "UTC",
): CronSchedule {
  const zone = checkTimezone(timezone, where);
  if (typeof expression !== "string") {
    const got =
      expression === null ? "null" : Array.isArray(expression) ? "an array" : typeof expression;
    throw new CronExpressionError(`${where}: a cron expression must be a string (got ${got})`);
  }
  const normalised = normalise(expression);
  const problem = shapeProblem(normalised);
  if (problem !== undefined) {
    throw new CronExpressionError(
      `${where}: invalid cron expression ${quoteText(expression)}: ${problem}; ${ACCEPTED}`,
    );
  }
  let cron: Cron;
  try {
    // mode "5-part": standard cron, minute precision; domAndDow false: a day-of-month and
    // a day-of-week both given match either (Vixie cron), as crontab users expect.
    // In a zone with daylight saving time croner follows Vixie cron: see docs/scheduling-and-cron.md.
    cron = new Cron(normalised, { mode: "5-part", timezone: zone, domAndDow: false });
  } catch (error) {
    const reason = error instanceof Error ? cronerReason(error.message) : String(error);
    throw new CronExpressionError(
      `${where}: invalid cron expression ${quoteText(expression)}: ${reason}; ${FIELD_RANGES}`,
    );
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw new CronExpressionError(`${where}: cron expression ${quoteText(expression)} never fires`);
  }
  return {
    expression: normalised,
    every: null,
    timezone: zone,
    nextRuns(from, count) {
      if (from >= LAST_STORABLE_MS) return [];
      return cron
        .nextRuns(count, new Date(from))
        .map((date) => date.getTime())
        .filter((at) => at <= LAST_STORABLE_MS);
    },
  };
}
