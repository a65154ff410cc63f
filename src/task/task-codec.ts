/**
 * @module task/task-codec
 * The one JSON encoding of task records, shared by every backend that stores
 * text. Decoding checks the shape, so a malformed record (written by hand, by
 * an older version, or corrupted) is reported as a clear error naming the field
 * instead of crashing whoever reads it.
 */
import { SerializationError } from "../errors.js";
import { TASK_DATA_VERSION, TASK_STATUSES, type TaskData } from "./task-record.js";

const STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);

/** Text form of a record. */
export function encodeTaskData(data: TaskData): string {
  return JSON.stringify(data);
}

/** Parses and checks a stored record; throws `SerializationError` ("malformed task record …") otherwise. */
export function decodeTaskData(text: string, where = "task record"): TaskData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SerializationError(`malformed ${where}: not JSON (${(error as Error).message})`);
  }
  return checkTaskData(raw, where);
}

/** `2026-11-27T21:05:01.123Z` — the shape `toISOString()` writes (checked without parsing: this runs for every claimed record). */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function isInstant(value: unknown): boolean {
  return value === null || (typeof value === "string" && ISO_INSTANT.test(value));
}

/** Checks that `raw` has the shape of {@link TaskData}; returns it typed. */
export function checkTaskData(raw: unknown, where = "task record"): TaskData {
  const bad = (field: string, expected: string): never => {
    throw new SerializationError(`malformed ${where}: field '${field}' must be ${expected}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("(record)", "an object");
  const r = raw as Record<string, unknown>;
  if (r.v !== TASK_DATA_VERSION) bad("v", `${TASK_DATA_VERSION} (this version's encoding)`);
  if (typeof r.id !== "string" || r.id === "") bad("id", "a non-empty string");
  if (typeof r.name !== "string" || r.name === "") bad("name", "a non-empty string");
  if (!Array.isArray(r.args)) bad("args", "an array");
  if (typeof r.status !== "string" || !STATUSES.has(r.status)) bad("status", "a task status");
  if (!("result" in r)) bad("result", "present (null when none)");
  if (
    r.error !== null &&
    (typeof r.error !== "object" || typeof (r.error as { type?: unknown }).type !== "string")
  ) {
    bad("error", "null or an error record");
  }
  const config = r.config as Record<string, unknown> | null;
  if (typeof config !== "object" || config === null) bad("config", "an object");
  else if (typeof config.retry !== "number") bad("config.retry", "a number");
  if (typeof r.retryCount !== "number") bad("retryCount", "a number");
  for (const field of [
    "createdAt",
    "scheduledAt",
    "startedAt",
    "finishedAt",
    "lastRetryAt",
    "nextRetryAt",
  ]) {
    if (!isInstant(r[field])) bad(field, "an ISO-8601 instant or null");
  }
  if (r.createdAt === null) bad("createdAt", "an ISO-8601 instant");
  return raw as TaskData;
}
