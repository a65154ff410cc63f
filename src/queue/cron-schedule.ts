/**
 * @module queue/cron-schedule
 * What a cron's schedule may be — cron text (read in UTC or in a named IANA
 * zone) or `{ every: seconds }` — checked once, with the two forms it takes
 * elsewhere: its part of the cron's deterministic id, and its stored fields.
 *
 * An interval fires at the multiples of its length since the Unix epoch
 * (`every: 30` at :00 and :30 of every minute, `every: 3600` on the hour UTC).
 * The fire times then depend on the interval alone — not on when or where the
 * cron was added — so every worker computes the same ones with no stored
 * state, a cron deleted and added again keeps its run ids, and round
 * intervals land on round clock times.
 *
 * Compatibility: cron text in UTC keeps exactly the id and stored shape it had
 * before zones and intervals existed, so crons stored by older versions load
 * and keep their ids. The new kinds are stored with `expression: null` and a
 * `schedule` object: an older worker cannot read such a record and skips it
 * with a warning, rather than run a zoned cron at UTC times.
 */

import { CronExpressionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { LAST_STORABLE_MS } from "../util/durations.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { type CronSchedule, checkTimezone, parseCronExpression } from "./cron-expression.js";

/** `addCron(task, { every: 30 })`: the task runs every `every` seconds. */
export interface CronEvery {
  /** Whole seconds, 1 to {@link MAX_EVERY_SECONDS}. */
  readonly every: number;
}

/** Options of `addCron` / `deleteCron`. */
export interface CronOptions {
  /** IANA time zone the cron text is read in (default `"UTC"`); not for `{ every }`. */
  readonly timezone?: string | undefined;
}

/** The longest interval `{ every }` takes: 366 days, in seconds. */
export const MAX_EVERY_SECONDS = 366 * 86_400;

/** How a schedule other than cron text in UTC is stored (see the module header). */
export type StoredSchedule =
  | { readonly every: number }
  | { readonly expression: string; readonly timezone: string };

/** The schedule of an interval of `every` seconds, checked; `where` names the call in errors. */
export function everySchedule(every: unknown, where: string): CronSchedule {
  if (
    typeof every !== "number" ||
    !Number.isInteger(every) ||
    every < 1 ||
    every > MAX_EVERY_SECONDS
  ) {
    const got =
      typeof every === "number" ? String(every) : (JSON.stringify(every) ?? String(every));
    throw new CronExpressionError(
      `${where}: 'every' must be a whole number of seconds from 1 to ${MAX_EVERY_SECONDS} (got ${got})`,
    );
  }
  const step = every * 1000;
  return {
    expression: null,
    every,
    timezone: null,
    nextRuns(from, count) {
      const first = (Math.floor(from / step) + 1) * step;
      const left = Math.floor((LAST_STORABLE_MS - first) / step) + 1;
      return Array.from({ length: Math.max(0, Math.min(count, left)) }, (_, i) => first + i * step);
    },
  };
}

/**
 * Checks what `addCron` / `deleteCron` / the config file were given:
 * cron text (with `options.timezone`, default UTC) or `{ every }`. Throws
 * {@link CronExpressionError} naming `where` and what was wrong.
 */
export function parseCronSchedule(input: unknown, options: unknown, where: string): CronSchedule {
  const timezone = timezoneOption(options, where);
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    const extra = Object.keys(input).find((key) => key !== "every");
    if (extra !== undefined) {
      const hint =
        extra === "timezone"
          ? " (a time zone is an option: addCron(task, expression, { timezone }))"
          : "";
      throw new CronExpressionError(
        `${where}: a schedule object takes only 'every' (got '${extra}')${hint}`,
      );
    }
    if (timezone !== undefined) {
      throw new CronExpressionError(
        `${where}: 'timezone' applies to cron text, not to { every } (an interval is the same in every zone)`,
      );
    }
    return everySchedule((input as { every?: unknown }).every, where);
  }
  return parseCronExpression(input, where, timezone ?? "UTC");
}

/** The `timezone` of an options argument, unchecked; `undefined` when absent. */
function timezoneOption(options: unknown, where: string): unknown {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new CronExpressionError(
      `${where}: options must be an object such as { timezone: 'Europe/Berlin' }`,
    );
  }
  // Every refusal of a cron's schedule is a CronExpressionError (an InvalidOptionError too).
  const unknown = unknownKeysMessage(options, ["timezone"]);
  if (unknown !== null) throw new CronExpressionError(`${where}: ${unknown}`);
  return (options as CronOptions).timezone;
}

/**
 * The schedule's part of the cron's deterministic id: the text alone for cron
 * text in UTC (the id older versions computed), otherwise an object.
 */
export function scheduleKey(schedule: CronSchedule): JsonValue {
  if (schedule.every !== null) return { every: schedule.every };
  if (schedule.timezone === "UTC") return schedule.expression;
  return { expression: schedule.expression, timezone: schedule.timezone };
}

/** The stored fields of a schedule: `expression` alone for cron text in UTC, as older versions stored it. */
export function storedScheduleFields(schedule: CronSchedule): {
  expression: string | null;
  schedule?: StoredSchedule;
} {
  if (schedule.every !== null) return { expression: null, schedule: { every: schedule.every } };
  if (schedule.timezone === "UTC") return { expression: schedule.expression };
  return {
    expression: null,
    schedule: { expression: schedule.expression!, timezone: schedule.timezone! },
  };
}

/**
 * The schedule of stored fields. Throws {@link CronExpressionError} when they
 * do not describe one (a record written by hand or by another version).
 */
export function scheduleFromStored(
  expression: unknown,
  schedule: unknown,
  where: string,
): CronSchedule {
  if (schedule === undefined || schedule === null) return parseCronExpression(expression, where);
  const s = schedule as Partial<{ every: unknown; expression: unknown; timezone: unknown }>;
  if (s.every !== undefined) return everySchedule(s.every, where);
  return parseCronExpression(s.expression, where, checkTimezone(s.timezone, where));
}

/** A schedule as one line: `0 9 * * 1-5`, `30 2 * * * (Europe/Berlin)` or `every 30 s` (UTC is not named). */
export function describeSchedule(schedule: {
  readonly every: number | null;
  readonly expression: string | null;
  readonly timezone: string | null;
}): string {
  if (schedule.every !== null) return `every ${schedule.every} s`;
  const text = schedule.expression ?? "?";
  return schedule.timezone === null || schedule.timezone === "UTC"
    ? text
    : `${text} (${schedule.timezone})`;
}

/** A stored cron's schedule as one line for logs (see {@link describeSchedule}). */
export function scheduleText(stored: {
  readonly expression: string | null;
  readonly schedule?: StoredSchedule | undefined;
}): string {
  const schedule = stored.schedule;
  if (schedule === undefined)
    return describeSchedule({ every: null, expression: stored.expression, timezone: null });
  if ("every" in schedule)
    return describeSchedule({ every: schedule.every, expression: null, timezone: null });
  return describeSchedule({ every: null, ...schedule });
}
