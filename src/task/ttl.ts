/**
 * @module task/ttl
 * How long a finished record is kept — pure resolution of the TTL chain,
 * shared by every backend so they agree.
 *
 * - Unfinished records (`finishedAt` null or absent) never expire, whatever their status says.
 * - A record without `config` inherits at the task levels.
 * - completed (and any other non-error status): task `ttl` → backend `ttl`.
 * - failed, crashed, cancelled: task `errorTtl` → task `ttl` → backend
 *   `errorTtl` → backend `ttl`.
 * The first level that says something wins; `undefined` (absent) means
 * "inherit" and passes on to the next level; `null` means "keep forever".
 * If every level inherits, the record is kept forever.
 */
import { InvalidOptionError } from "../errors.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";
import { describeGiven } from "./describe-value.js";
import { ERROR_STATUSES, type TaskData } from "./task-record.js";

/** A backend's retention defaults, in seconds. `undefined` inherits (errorTtl → ttl); `null` keeps forever. */
export interface RetentionDefaults {
  readonly ttl?: number | null | undefined;
  readonly errorTtl?: number | null | undefined;
}

const NO_TASK_OPTIONS: Partial<TaskData["config"]> = Object.freeze({});

/** Seconds `record` is kept once stored, or `null` to keep it forever. */
export function resolveTtl(
  record: Pick<TaskData, "status" | "finishedAt" | "config">,
  defaults: RetentionDefaults,
): number | null {
  // Called with records from anywhere (it is exported to backend authors): an absent
  // `finishedAt` is unfinished, an absent config inherits every level.
  if (record.finishedAt === null || record.finishedAt === undefined) return null;
  const config: Partial<TaskData["config"]> = record.config ?? NO_TASK_OPTIONS;
  // Written out rather than as a list of levels: backends call this for every finished record.
  if (ERROR_STATUSES.has(record.status)) {
    if (config.errorTtl !== undefined) return config.errorTtl;
    if (config.ttl !== undefined) return config.ttl;
    if (defaults.errorTtl !== undefined) return defaults.errorTtl;
  } else if (config.ttl !== undefined) {
    return config.ttl;
  }
  return defaults.ttl ?? null;
}

/**
 * Epoch ms at which `record`, stored at `now`, expires — `null` when it is kept
 * forever. Backends index finished records by this.
 */
export function expiryOf(
  record: Pick<TaskData, "status" | "finishedAt" | "config">,
  defaults: RetentionDefaults,
  now: number,
): number | null {
  const ttl = resolveTtl(record, defaults);
  return ttl === null ? null : now + Math.round(ttl * 1000);
}

/**
 * Checks a backend's retention options (seconds > 0 and within the duration bound, or `null`; absent
 * inherits) and returns them with `fallbackTtl` for an absent `ttl`.
 * Throws `InvalidOptionError` naming the backend and option.
 */
export function resolveRetention(
  backend: string,
  options: RetentionDefaults,
  fallbackTtl: number | null,
): RetentionDefaults {
  const check = (name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (!isDuration(value, false)) {
      throw new InvalidOptionError(
        `${backend} option ${name} must be a number of seconds > 0 and ${MAX_DURATION_TEXT}, or null to keep forever (got ${describeGiven(value)})`,
      );
    }
  };
  check("ttl", options.ttl);
  check("errorTtl", options.errorTtl);
  return {
    ttl: options.ttl === undefined ? fallbackTtl : options.ttl,
    errorTtl: options.errorTtl,
  };
}
