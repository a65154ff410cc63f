/**
 * @module cli/inputs
 * Checks of per-invocation inputs: a task's `--args` JSON, `--delay`
 * durations, `--at` instants, `--status` filters. Each bad value is a
 * `CliUsageError` with one line saying what was expected.
 */
import { CliUsageError, InvalidOptionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { parseIsoInstant } from "../queue/instant.js";
import { TASK_STATUSES, type TaskStatus } from "../task/task-record.js";

/** Parses `--args`: a JSON array of the task function's positional arguments. */
export function parseArgsJson(raw: string | undefined): JsonValue[] {
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CliUsageError(`--args is not valid JSON (${(error as Error).message}): ${raw}`);
  }
  if (!Array.isArray(value)) {
    throw new CliUsageError(
      `--args must be a JSON array of the task's arguments, e.g. '["alice@example.com", 3]' (got ${raw})`,
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
