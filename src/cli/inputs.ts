/**
 * @module cli/inputs
 * Checks of per-invocation inputs: a task's `--args` JSON (or `--args -`,
 * `--args-file`), `--delay`
 * durations, `--at` instants, `--status` filters. Each bad value is a
 * `CliUsageError` with one line saying what was expected.
 */

import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { CliUsageError, InvalidOptionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { PAST_GRACE_MS } from "../queue/instant.js";
import { MAX_PRIORITY, MIN_PRIORITY } from "../task/priority.js";
import { TASK_STATUSES, type TaskStatus } from "../task/task-record.js";
import { MAX_DURATION_SECONDS } from "../util/durations.js";
import { parseIsoInstant } from "../util/iso-instant.js";
import { joinLines } from "./output.js";

/** Echoed input is cut to this many characters: a bad 200 KB `--args` must not fill the terminal. */
const ECHO_MAX = 200;

/** The text given, as an error line quotes it: cut to its first characters, line breaks as ` ⏎ `. */
function echo(raw: string): string {
  return joinLines(
    raw.length > ECHO_MAX ? `${raw.slice(0, ECHO_MAX)}… (${raw.length} characters)` : raw,
  );
}

/**
 * The text of a task's arguments: `--args <json>`, `--args -` (read from
 * standard input) or `--args-file <path>` (for arguments too large for a
 * command line). Returns the text and the flag it came from, for errors.
 */
export async function readArgsText(
  args: string | undefined,
  argsFile: string | undefined,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ text: string | undefined; source: string }> {
  if (argsFile !== undefined) {
    if (args !== undefined && args !== "[]") {
      throw new CliUsageError("use either --args or --args-file, not both");
    }
    try {
      return { text: await readFile(argsFile, "utf8"), source: `--args-file ${argsFile}` };
    } catch (error) {
      throw new CliUsageError(`cannot read --args-file ${argsFile}: ${(error as Error).message}`);
    }
  }
  if (args === "-") {
    let text = "";
    for await (const chunk of stdin) text += String(chunk);
    return { text, source: "--args - (standard input)" };
  }
  return { text: args, source: "--args" };
}

/** Parses a task's (or workflow's: `of`) arguments: a JSON array of its function's positional arguments. */
export function parseArgsJson(
  raw: string | undefined,
  source = "--args",
  of: "task" | "workflow" = "task",
): JsonValue[] {
  if (raw === undefined) return [];
  // JSON.parse would say only "Unexpected end of JSON input", with nothing to echo.
  if (raw.trim() === "") {
    throw new CliUsageError(
      `${source} is empty: it must be a JSON array of the ${of}'s arguments, e.g. '["alice@example.com", 3]' or '[]'`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CliUsageError(
      `${source} is not valid JSON (${joinLines((error as Error).message)}): ${echo(raw)}`,
    );
  }
  if (!Array.isArray(value)) {
    throw new CliUsageError(
      `${source} must be a JSON array of the ${of}'s arguments, e.g. '["alice@example.com", 3]' (got ${echo(raw)})`,
    );
  }
  return value as JsonValue[];
}

/** Units of a duration, largest first: the order components of a compound duration must follow. */
const UNITS = ["d", "h", "m", "s", "ms"] as const;
const UNIT_SECONDS: Record<(typeof UNITS)[number], number> = {
  d: 86_400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};
const BARE_SECONDS = /^\d+(?:\.\d+)?$/;
/** One `<number><unit>` component (sticky: read where the previous one ended); `ms` before `m`. */
const COMPONENT = /(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*/iy;

/**
 * Parses a duration into seconds: a bare number of seconds (`90`, `1.5`), one
 * component (`30s`, `5m`, `2h`, `1d`, `500ms`, `1.5h`) or a compound of them
 * (`1h30m`, `2m30s`, `1d12h`, `1h 30m`): units largest first, each at most
 * once; only the last component may have decimals.
 */
export function parseDuration(raw: string, flag: string): number {
  const text = raw.trim();
  if (BARE_SECONDS.test(text)) return Number(text);
  const component = new RegExp(COMPONENT);
  let seconds = 0;
  let rank = -1;
  let decimals = false;
  for (let position = 0; position < text.length || rank === -1; position = component.lastIndex) {
    component.lastIndex = position;
    const match = component.exec(text);
    const unitRank = match ? UNITS.indexOf(match[2]!.toLowerCase() as (typeof UNITS)[number]) : -1;
    if (!match || unitRank <= rank || decimals) {
      throw new CliUsageError(
        `${flag} must be a duration such as 30s, 5m, 2h, 1d or 1h30m (units d, h, m, s, ms, largest first, each at most once; a bare number is seconds) (got '${raw}')`,
      );
    }
    rank = unitRank;
    decimals = match[1]!.includes(".");
    seconds += Number(match[1]) * UNIT_SECONDS[UNITS[unitRank]!];
  }
  return seconds;
}

/**
 * Parses `--at` with the API's rule (`queue.schedule`'s parser): ISO-8601 with
 * an explicit offset, no impossible dates. `new Date(raw)` would read text
 * without an offset in this machine's time zone and roll 2030-02-30 over to March.
 */
export function parseInstant(raw: string, flag: string): Date {
  try {
    return new Date(parseIsoInstant(raw, flag));
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new CliUsageError(error.message);
    throw error;
  }
}

/**
 * Parses `--at` as {@link parseInstant} does and refuses a time the API would
 * refuse (more than a moment past, see `PAST_GRACE_MS`) here, naming the
 * flag: `queue.schedule()` would refuse it too, but in the API's words,
 * after the task module was loaded and the backend connected.
 */
export function parseFutureInstant(raw: string, flag: string, now = Date.now()): Date {
  const at = parseInstant(raw, flag);
  if (now - at.getTime() >= PAST_GRACE_MS) {
    throw new CliUsageError(
      `${flag}: ${raw} is in the past (it is ${new Date(now).toISOString()} now)`,
    );
  }
  return at;
}

/** Parses a `--timeout` in seconds (a number ≥ 0 or a duration such as 30s). */
export function parseTimeout(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = parseDuration(raw, "--timeout");
  // A wait of no time gives up before any worker could claim the task, and would say none runs.
  if (seconds <= 0)
    throw new CliUsageError(
      `--timeout must be longer than 0 (got ${JSON.stringify(raw)}); leave out --wait to add without waiting`,
    );
  return seconds;
}

/** Parses `--name emails.send,reports.build`: task names (as `task()` gave them, so case kept). */
export function parseTaskNames(
  raw: string | undefined,
  what: "task" | "workflow" = "task",
): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = [...new Set(raw.split(",").map((item) => item.trim()))].filter(Boolean);
  // An empty list would match nothing and print "no tasks", as if the queue held none.
  if (names.length === 0) {
    throw new CliUsageError(
      `--name names no ${what}; give one or more ${what} names, comma-separated (or leave the flag out for every ${what})`,
    );
  }
  return names;
}

/**
 * Adds the `--concurrency-key <key>` filter to `command`: repeatable, each
 * key matched whole (a key may hold commas, so they do not separate keys).
 */
export function addConcurrencyKeyFilter(command: Command, which: string): Command {
  return command.option(
    "-k, --concurrency-key <key>",
    `${which} with this concurrency key, e.g. a tenant's (repeatable; matched whole, commas included)`,
    (key: string, earlier: string[] | undefined) => [...(earlier ?? []), key],
  );
}

/** The keys of `--concurrency-key` (see {@link addConcurrencyKeyFilter}); `undefined` when not given. */
export function parseConcurrencyKeys(given: readonly string[] | undefined): string[] | undefined {
  if (given === undefined) return undefined;
  if (given.some((key) => key === "")) {
    throw new CliUsageError("--concurrency-key needs a key: non-empty text");
  }
  return [...new Set(given)];
}

/** Parses `--status completed,failed`: task statuses, or those of `known` (`what`: "task", "workflow"). */
export function parseStatuses(raw: string | undefined): ReadonlySet<TaskStatus> | undefined;
export function parseStatuses<S extends string>(
  raw: string | undefined,
  known: readonly S[],
  what: string,
): ReadonlySet<S> | undefined;
export function parseStatuses(
  raw: string | undefined,
  known: readonly string[] = TASK_STATUSES,
  what = "task",
): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
  // An empty list would match nothing and print "no tasks", as if the queue held none.
  if (items.length === 0)
    throw new CliUsageError(
      `--status names no status; give one or more of: ${known.join(", ")} (or leave the flag out for every ${what})`,
    );
  for (const item of items) {
    if (!known.includes(item)) {
      throw new CliUsageError(
        `--status '${item}' is not a ${what} status (one of: ${known.join(", ")})`,
      );
    }
  }
  return new Set(items);
}

const SINCE_FORMATS =
  "an ISO-8601 instant with a UTC offset (e.g. 2030-01-01T09:00:00Z or 2030-01-01T10:00:00+01:00) or a duration back from now (e.g. 90s, 1h, 2d)";

/** `--since` (or `flag`): ISO-8601 text with an offset, or a duration back from now (`1h`: the last hour). */
export function parseSince(raw: string, flag = "--since"): Date | number {
  const text = raw.trim();
  let at: Date | number;
  try {
    at = /^\d{4}-/.test(text) ? parseInstant(text, flag) : parseDuration(raw, flag);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    // Either reading fails in its own terms; the user needs both accepted forms.
    const reason = /not a valid date/.test(error.message)
      ? "is not a valid date"
      : /no UTC offset/.test(error.message)
        ? "has no UTC offset"
        : "cannot be read";
    throw new CliUsageError(`${flag}: '${raw}' ${reason}; expected ${SINCE_FORMATS}`);
  }
  // A span of nothing is now: --before 0 would take every task, --since 0 none.
  if (at === 0) {
    throw new CliUsageError(
      `${flag}: '${raw}' is no time back from now; give a span such as 10m or 1h, or a time`,
    );
  }
  return at;
}

/** `--error`: text a stored error mentions; only spaces, or nothing, is refused naming the flag. */
export function parseErrorText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === "") {
    throw new CliUsageError(
      "--error needs text (not only spaces) that the stored error's type or message contains, case-sensitive",
    );
  }
  return raw;
}

/** `--priority`: a whole number, checked again by the queue (range). */
export function parsePriority(raw: string): number {
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || value < MIN_PRIORITY || value > MAX_PRIORITY) {
    throw new CliUsageError(
      `--priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, e.g. 10 or -5 (got '${raw}')`,
    );
  }
  return value;
}

/** `--delay` in seconds, within what `schedule` takes, refused here so the message names the flag. */
export function boundedDelay(raw: string): number {
  const seconds = parseDuration(raw, "--delay");
  if (seconds > MAX_DURATION_SECONDS) {
    throw new CliUsageError(
      `--delay must be at most 10 years (${MAX_DURATION_SECONDS} s) (got '${raw}', ${seconds} s)`,
    );
  }
  return seconds;
}
