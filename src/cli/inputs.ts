/**
 * @module cli/inputs
 * Checks of per-invocation inputs: a task's `--args` JSON (or `--args -`,
 * `--args-file`), `--delay`
 * durations, `--at` instants, `--status` filters. Each bad value is a
 * `CliUsageError` with one line saying what was expected.
 */
import { readFile } from "node:fs/promises";
import { CliUsageError, InvalidOptionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { parseIsoInstant } from "../queue/instant.js";
import { TASK_STATUSES, type TaskStatus } from "../task/task-record.js";

/** Echoed input is cut to this many characters: a bad 200 KB `--args` must not fill the terminal. */
const ECHO_MAX = 200;

function echo(raw: string): string {
  return raw.length > ECHO_MAX ? `${raw.slice(0, ECHO_MAX)}… (${raw.length} characters)` : raw;
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

/** Parses a task's arguments: a JSON array of the task function's positional arguments. */
export function parseArgsJson(raw: string | undefined, source = "--args"): JsonValue[] {
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CliUsageError(
      `${source} is not valid JSON (${(error as Error).message}): ${echo(raw)}`,
    );
  }
  if (!Array.isArray(value)) {
    throw new CliUsageError(
      `${source} must be a JSON array of the task's arguments, e.g. '["alice@example.com", 3]' (got ${echo(raw)})`,
    );
  }
  return value as JsonValue[];
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Parses `30s`, `5m`, `2h`, `1d`, `500ms` or a bare number of seconds into seconds. */
export function parseDuration(raw: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(raw);
  if (!match) {
    throw new CliUsageError(`${flag} must be a duration such as 30s, 5m, 2h or 1d (got '${raw}')`);
  }
  return Number(match[1]) * UNIT_SECONDS[(match[2] ?? "s").toLowerCase()]!;
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

/** Parses a `--timeout` in seconds (a number ≥ 0 or a duration such as 30s). */
export function parseTimeout(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : parseDuration(raw, "--timeout");
}

/** Parses `--status completed,failed`. */
export function parseStatuses(raw: string | undefined): ReadonlySet<TaskStatus> | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
  for (const item of items) {
    if (!TASK_STATUSES.includes(item as TaskStatus)) {
      throw new CliUsageError(
        `--status '${item}' is not a task status (one of: ${TASK_STATUSES.join(", ")})`,
      );
    }
  }
  return new Set(items as TaskStatus[]);
}
