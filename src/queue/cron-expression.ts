/**
 * @module queue/cron-expression
 * Cron expressions, through croner (never a parser of our own): five fields
 * (minute hour day-of-month month day-of-week) or a macro (`@hourly`,
 * `@daily`, `@weekly`, `@monthly`, `@yearly`, `@annually`, `@midnight`).
 * Evaluated in UTC, so workers in different time zones agree on every fire
 * time — the fire time is part of each run's task id.
 */
import { Cron } from "croner";
import { CronExpressionError } from "../errors.js";

/** A checked expression that can list its fire times. */
export interface CronSchedule {
  /** The expression as stored: trimmed, runs of whitespace collapsed to one space. */
  readonly expression: string;
  /** The first `count` fire times (epoch ms, whole minutes) strictly after `from`. */
  nextRuns(from: number, count: number): number[];
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

/** Why `normalised` does not have the shape of an expression, or `undefined` when it does. */
function shapeProblem(normalised: string): string | undefined {
  if (normalised.startsWith("@")) {
    return MACROS.has(normalised.toLowerCase()) ? undefined : "unknown macro";
  }
  const fields = normalised === "" ? 0 : normalised.split(" ").length;
  return fields === 5 ? undefined : `${fields} field${fields === 1 ? "" : "s"}`;
}

/** Whitespace carries no meaning: two spaces between fields or one give the same cron. */
function normalise(expression: string): string {
  return expression.trim().split(/\s+/).join(" ");
}

/**
 * Checks `expression` and returns its schedule. Throws {@link CronExpressionError}
 * naming the expression and `where` for anything croner refuses in five-field
 * mode (six-field seconds patterns included), for a non-string, and for an
 * expression that never fires (e.g. `0 0 30 2 *`).
 */
export function parseCronExpression(expression: unknown, where: string): CronSchedule {
  if (typeof expression !== "string") {
    const got =
      expression === null ? "null" : Array.isArray(expression) ? "an array" : typeof expression;
    throw new CronExpressionError(`${where}: a cron expression must be a string (got ${got})`);
  }
  const normalised = normalise(expression);
  const problem = shapeProblem(normalised);
  if (problem !== undefined) {
    throw new CronExpressionError(
      `${where}: invalid cron expression '${expression}': ${problem}; ${ACCEPTED}`,
    );
  }
  let cron: Cron;
  try {
    // mode "5-part": standard cron, minute precision; domAndDow false: a day-of-month and
    // a day-of-week both given match either (Vixie cron), as crontab users expect.
    cron = new Cron(normalised, { mode: "5-part", timezone: "UTC", domAndDow: false });
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^CronPattern: /, "") : String(error);
    throw new CronExpressionError(
      `${where}: invalid cron expression '${expression}': ${reason}; ${ACCEPTED}`,
    );
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw new CronExpressionError(`${where}: cron expression '${expression}' never fires`);
  }
  return {
    expression: normalised,
    nextRuns(from, count) {
      return cron.nextRuns(count, new Date(from)).map((date) => date.getTime());
    },
  };
}
