/**
 * @module task/task-codec
 * The one encoding of task records, shared by every backend. Reading checks
 * the whole shape — the options too, since a worker computes retry times and
 * rate-limit requests from them — and upgrades records of older versions, so
 * a record written by hand, by an older version, or corrupted is reported as
 * a clear error naming the field instead of crashing whoever reads it. A
 * backend that meets such a record stores and returns a `failed` stand-in
 * ({@link readStoredRecord}) so nothing waits on it forever.
 */
import { isoAt } from "../clock.js";
import { SerializationError } from "../errors.js";
import { type JsonValue, MAX_JSON_DEPTH, nestsDeeperThan } from "../json.js";
import { isStoredBackoff } from "./backoff-options.js";
import {
  COMPACT_RECORD_VERSION,
  CONFIG_DEFAULTS,
  compactTaskData,
  expandCompactRecord,
  INSTANT_FIELD_NAMES,
  type StoredFormOptions,
} from "./compact-record.js";
import { TASK_DATA_VERSION, TASK_STATUSES, type TaskData } from "./task-record.js";

const STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);
/**
 * Deepest stored error accepted: a chain of causes, each with properties
 * whose values nest as deep as any stored value. Errors Sheppy stores stay
 * far below; this only turns away hand-made ones that would overflow a stack.
 */
const MAX_STORED_ERROR_DEPTH = 4 * MAX_JSON_DEPTH;
const STRATEGIES: ReadonlySet<unknown> = new Set(["sliding_window", "fixed_window"]);

/** Text form of a record; `SerializationError` when it has none (too deep, a cycle, a BigInt). */
export function encodeTaskData(data: TaskData): string {
  try {
    return JSON.stringify(data);
  } catch (error) {
    const id = typeof data?.id === "string" ? data.id : "(without an id)";
    throw new SerializationError(
      `cannot encode task record ${id}: ${error instanceof Error ? error.message : "unknown problem"}`,
      { cause: error },
    );
  }
}

/** Text form of a record in the compact stored form (see `./compact-record.ts`); errors as {@link encodeTaskData}. */
export function encodeCompactTaskData(data: TaskData, options?: StoredFormOptions): string {
  try {
    return JSON.stringify(compactTaskData(data, options));
  } catch (error) {
    const id = typeof data?.id === "string" ? data.id : "(without an id)";
    throw new SerializationError(
      `cannot encode task record ${id}: ${error instanceof Error ? error.message : "unknown problem"}`,
      { cause: error },
    );
  }
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

const isInstant = (value: unknown): boolean =>
  value === null || (typeof value === "string" && ISO_INSTANT.test(value));

/** Whether `value` is an instant as records store one (ISO-8601 text) or `null`; what a backend keeps beside a record is checked with it. */
export const isStoredInstant: (value: unknown) => boolean = isInstant;
const isSeconds = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const OPTIONAL_TEXT_FIELDS = ["workflowId", "cronId"] as const;
const TTL_FIELDS = ["ttl", "errorTtl"] as const;

function badField(where: string, field: string, expected: string): never {
  throw new SerializationError(`malformed ${where}: field '${field}' must be ${expected}`);
}

/**
 * Checks that `raw` is a stored record of this version, an older one or the
 * compact form, and returns it typed — the same object when it is current,
 * an upgraded or completed copy otherwise. Throws `SerializationError`
 * naming `where` and the first bad field.
 */
export function checkTaskData(raw: unknown, where = "task record"): TaskData {
  // Runs for every record added, claimed or read: it makes no closure or list of its own.
  if (!isObject(raw)) return badField(where, "(record)", "an object");
  const r = raw.v === COMPACT_RECORD_VERSION ? expandCompactRecord(raw) : raw;
  if (r.v !== TASK_DATA_VERSION && r.v !== 1) {
    const newer = typeof r.v === "number" && Number.isInteger(r.v) && r.v > COMPACT_RECORD_VERSION;
    badField(
      where,
      "v",
      `a known version (1, ${TASK_DATA_VERSION} or ${COMPACT_RECORD_VERSION}; got ${JSON.stringify(r.v) ?? "none"}${newer ? ", written by a newer Sheppy? upgrade sheppy to read it" : ""})`,
    );
  }
  if (typeof r.id !== "string" || r.id === "") badField(where, "id", "a non-empty string");
  if (typeof r.name !== "string" || r.name === "") badField(where, "name", "a non-empty string");
  if (!Array.isArray(r.args)) badField(where, "args", "an array");
  if (typeof r.status !== "string" || !STATUSES.has(r.status))
    badField(where, "status", "a task status");
  if (!("result" in r)) badField(where, "result", "present (null when none)");
  if (r.error !== null && (!isObject(r.error) || typeof r.error.type !== "string")) {
    badField(where, "error", "null or an error record");
  }
  checkConfig(r.config, where);
  if (!Number.isInteger(r.retryCount) || (r.retryCount as number) < 0) {
    badField(where, "retryCount", "an integer ≥ 0");
  }
  if (
    r.manualRetryCount !== undefined &&
    (!Number.isInteger(r.manualRetryCount) || (r.manualRetryCount as number) < 0)
  ) {
    badField(where, "manualRetryCount", "an integer ≥ 0 or absent");
  }
  for (const field of INSTANT_FIELD_NAMES) {
    if (!isInstant(r[field])) badField(where, field, "an ISO-8601 instant or null");
  }
  if (r.createdAt === null) badField(where, "createdAt", "an ISO-8601 instant");
  for (const field of OPTIONAL_TEXT_FIELDS) {
    if (r[field] !== null && typeof r[field] !== "string")
      badField(where, field, "a string or null");
  }
  if (r.v === 1) return upgradeFromV1(r);
  if (typeof r.priority !== "number" || !Number.isFinite(r.priority))
    badField(where, "priority", "a number");
  if (r.concurrencyKey !== null && typeof r.concurrencyKey !== "string") {
    badField(where, "concurrencyKey", "a string or null");
  }
  if (
    r.concurrencyLimit !== undefined &&
    (!Number.isInteger(r.concurrencyLimit) || (r.concurrencyLimit as number) < 1)
  ) {
    badField(where, "concurrencyLimit", "an integer ≥ 1 or absent");
  }
  if (!isObject(r.meta)) badField(where, "meta", "an object");
  if (
    r.logs !== undefined &&
    (!Array.isArray(r.logs) || r.logs.some((line) => typeof line !== "string"))
  ) {
    badField(where, "logs", "a list of strings or absent");
  }
  if (r.dedupeKey !== undefined && (typeof r.dedupeKey !== "string" || r.dedupeKey === "")) {
    badField(where, "dedupeKey", "a non-empty string or absent");
  }
  checkNesting(r, where);
  return r as unknown as TaskData;
}

/**
 * Refuses user data nested deeper than Sheppy stores: such a record was
 * written by something else, and every later step (copying, encoding, a
 * backend's decoder) could fail on it with a bare stack overflow — and fail
 * again each time it is retried. The limits are those applied when the data
 * was first given (an argument list is one level more than an argument).
 * Stored errors are built by Sheppy with bounded causes, well within theirs.
 */
function checkNesting(r: Record<string, unknown>, where: string): void {
  if (nestsDeeperThan(r.args, MAX_JSON_DEPTH + 1))
    badField(where, "args", `nested at most ${MAX_JSON_DEPTH} levels deep in each argument`);
  if (nestsDeeperThan(r.result, MAX_JSON_DEPTH))
    badField(where, "result", `nested at most ${MAX_JSON_DEPTH} levels deep`);
  if (nestsDeeperThan(r.progress, MAX_JSON_DEPTH))
    badField(where, "progress", `nested at most ${MAX_JSON_DEPTH} levels deep`);
  if (nestsDeeperThan(r.meta, MAX_JSON_DEPTH + 1))
    badField(where, "meta", `nested at most ${MAX_JSON_DEPTH} levels deep in each value`);
  if (nestsDeeperThan(r.error, MAX_STORED_ERROR_DEPTH))
    badField(where, "error", `nested at most ${MAX_STORED_ERROR_DEPTH} levels deep`);
}

/** Version 1 had no priority, concurrency key or metadata: they take their defaults. */
function upgradeFromV1(r: Record<string, unknown>): TaskData {
  return {
    ...(r as unknown as TaskData),
    v: TASK_DATA_VERSION,
    priority: 0,
    concurrencyKey: null,
    meta: {},
  };
}

/** The stored options: what the worker computes retries, timeouts and rate-limit requests from. */
function checkConfig(config: unknown, where: string): void {
  if (!isObject(config)) {
    badField(where, "config", "an object");
    return;
  }
  if (!Number.isInteger(config.retry) || (config.retry as number) < 0) {
    badField(where, "config.retry", "an integer ≥ 0");
  }
  const delay = config.retryDelay;
  const delayOk = Array.isArray(delay)
    ? delay.length > 0 && delay.every(isSeconds)
    : isSeconds(delay) || isStoredBackoff(delay);
  if (!delayOk) {
    badField(
      where,
      "config.retryDelay",
      "seconds ≥ 0, a non-empty list of them, or a fixed, exponential or function strategy",
    );
  }
  if (config.timeout !== null && !(isSeconds(config.timeout) && config.timeout > 0)) {
    badField(where, "config.timeout", "seconds > 0 or null");
  }
  if (typeof config.retryOnTimeout !== "boolean")
    badField(where, "config.retryOnTimeout", "true or false");
  if (typeof config.retryOnCrash !== "boolean")
    badField(where, "config.retryOnCrash", "true or false");
  const limit = config.rateLimit;
  if (limit !== null) {
    if (!isObject(limit)) badField(where, "config.rateLimit", "null or a rate limit");
    else {
      if (!Number.isInteger(limit.maxRate) || (limit.maxRate as number) < 1) {
        badField(where, "config.rateLimit.maxRate", "an integer ≥ 1");
      }
      if (!isSeconds(limit.ratePeriod) || limit.ratePeriod === 0) {
        badField(where, "config.rateLimit.ratePeriod", "seconds > 0");
      }
      if (typeof limit.key !== "string" || limit.key === "") {
        badField(where, "config.rateLimit.key", "a non-empty string");
      }
      if (!STRATEGIES.has(limit.strategy)) {
        badField(where, "config.rateLimit.strategy", "sliding_window or fixed_window");
      }
    }
  }
  for (const field of TTL_FIELDS) {
    const value = config[field];
    if (value !== undefined && value !== null && !(isSeconds(value) && value > 0)) {
      badField(where, `config.${field}`, "seconds > 0, null or absent");
    }
  }
}

/** How a backend read one stored record: the record, or a `failed` stand-in when it cannot be used. */
export interface StoredRecord {
  readonly record: TaskData;
  /** The stored data was unusable; `record` is the stand-in to store in its place. */
  readonly malformed: boolean;
}

/**
 * Reads the record a backend holds under `id` — JSON text, or an object the
 * backend kept as it was given — checking it, upgrading an older version, and
 * checking that it is the record of `id`. When it cannot be used, returns a
 * `failed` stand-in whose `SerializationError` says why (and keeps the raw
 * text), finished at `now`, so the backend can store it in place of the
 * unusable one and nothing waits on that task forever.
 */
export function readStoredRecord(
  id: string,
  stored: unknown,
  where: string,
  now: number,
): StoredRecord {
  try {
    const record =
      typeof stored === "string" ? decodeTaskData(stored, where) : checkTaskData(stored, where);
    if (record.id !== id) {
      throw new SerializationError(
        `malformed ${where}: field 'id' must be the id it is stored under (${id}; got ${record.id})`,
      );
    }
    return { record, malformed: false };
  } catch (error) {
    const message =
      error instanceof SerializationError
        ? error.message
        : `malformed ${where}: ${(error as Error).message}`;
    return { record: malformedRecord(id, stored, message, now), malformed: true };
  }
}

/** Keeps the start of whatever was stored, for an operator to look at. */
function rawText(stored: unknown): string {
  let text: string;
  try {
    text = typeof stored === "string" ? stored : (JSON.stringify(stored) ?? String(stored));
  } catch {
    text = "(unprintable)";
  }
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/**
 * Whether `record` is the stand-in {@link malformedRecord} makes for a stored
 * record that could not be read (its arguments are not in it): a retry of it
 * would store the stand-in over what was stored, and run without arguments.
 */
export function isUnreadableStandIn(record: TaskData): boolean {
  const { error } = record;
  return (
    error !== null &&
    error.type === "SerializationError" &&
    record.args.length === 0 &&
    typeof error.props === "object" &&
    error.props !== null &&
    "raw" in error.props
  );
}

/**
 * When an unusable stored record says it was created — ISO text, or epoch ms
 * as compact forms keep instants — so its stand-in lists where the task was
 * (newest first) rather than as created when it was read; `null` if it says
 * nothing usable.
 */
function storedCreation(stored: unknown): string | null {
  const created = isObject(stored) ? stored.createdAt : undefined;
  if (typeof created === "string" && ISO_INSTANT.test(created)) return created;
  if (typeof created === "number" && Number.isInteger(created) && Math.abs(created) <= 8.64e15)
    return isoAt(created);
  return null;
}

/**
 * The `failed` record that stands in for an unusable stored one: its
 * `SerializationError` carries `message` and the start of what was stored.
 */
export function malformedRecord(
  id: string,
  stored: unknown,
  message: string,
  now: number,
): TaskData {
  const at = isoAt(now);
  const name =
    isObject(stored) && typeof stored.name === "string" && stored.name !== ""
      ? stored.name
      : "(malformed record)";
  return {
    v: TASK_DATA_VERSION,
    id,
    name,
    args: [],
    status: "failed",
    result: null,
    error: {
      type: "SerializationError",
      message,
      stack: null,
      cause: null,
      props: { raw: rawText(stored) as JsonValue },
    },
    config: { ...CONFIG_DEFAULTS },
    createdAt: storedCreation(stored) ?? at,
    scheduledAt: null,
    startedAt: null,
    finishedAt: at,
    retryCount: 0,
    lastRetryAt: null,
    nextRetryAt: null,
    workflowId: null,
    cronId: null,
    priority: 0,
    concurrencyKey: null,
    meta: {},
  };
}
