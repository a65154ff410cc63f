/**
 * @module task/task-options
 * What a task definition may say about how it runs, and its normalised,
 * stored form ({@link TaskConfig}). Every duration here is in **seconds**, at
 * most {@link MAX_DURATION_SECONDS} (10 years), so every instant computed from
 * one stays a valid date.
 */

import { TaskDefinitionError } from "../errors.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";
import { loneSurrogateProblem } from "../util/lone-surrogate.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { normaliseRetryDelay, type RetryDelay, type StoredRetryDelay } from "./backoff-options.js";
import { MAX_CONCURRENCY_KEY_LENGTH } from "./concurrency.js";
import { describeGiven } from "./describe-value.js";
import { warnOfMillisecondDurations } from "./milliseconds-warning.js";

/** How often a task may start, counted per queue and key across all workers of a backend. */
export interface RateLimitOptions {
  /** Starts allowed per period (integer ≥ 1). */
  maxRate: number;
  /** Period length in seconds (> 0). */
  ratePeriod: number;
  /** Bucket name; tasks with the same key share a limit. Defaults to the task name. */
  key?: string;
  /** `sliding_window` (default) counts starts in the trailing period; `fixed_window` resets the count per window. */
  strategy?: "sliding_window" | "fixed_window";
}

/**
 * `rateLimit` as `task()` takes it: the key may also be a function of the
 * task's arguments, so each tenant (say) has a limit of its own:
 * `{ maxRate: 10, ratePeriod: 60, key: (tenantId) => tenantId }`.
 */
export interface TaskRateLimitOptions<Args extends readonly unknown[] = unknown[]>
  extends Omit<RateLimitOptions, "key"> {
  /** Bucket name, or a function of the task's arguments giving it; defaults to the task name. */
  key?: string | ((...args: Args) => string);
}

/** Task options as written by users (all optional). */
export interface TaskBehaviourOptions {
  /** Extra attempts after a failure (integer ≥ 0, default 0). */
  retry?: number | undefined;
  /**
   * Seconds before each retry (default 1): one number; a list, one per retry,
   * whose last value repeats; `{ type: "fixed", delay, jitter? }`;
   * `{ type: "exponential", delay, factor?, max, jitter? }`; or a function
   * `(attempt, error) => seconds` run in the worker.
   */
  retryDelay?: RetryDelay | undefined;
  /** Seconds an attempt may run; then its AbortSignal fires and it fails with `TaskTimeoutError`. */
  timeout?: number | undefined;
  /** Retry attempts that timed out (default false: a timeout is final). */
  retryOnTimeout?: boolean | undefined;
  /** Retry attempts whose worker died (default false: a crash is final). */
  retryOnCrash?: boolean | undefined;
  /** Start rate limit, shared by every worker of the backend. */
  rateLimit?: RateLimitOptions | undefined;
  /** Seconds a completed record is kept; `null` keeps it forever; absent inherits the backend's. */
  ttl?: number | null | undefined;
  /** Seconds a failed, crashed or cancelled record is kept; `null` forever; absent inherits. */
  errorTtl?: number | null | undefined;
}

/** Every key of {@link TaskBehaviourOptions}, in documentation order (the compiler keeps it complete). */
export const TASK_BEHAVIOUR_KEYS = Object.keys({
  retry: true,
  retryDelay: true,
  timeout: true,
  retryOnTimeout: true,
  retryOnCrash: true,
  rateLimit: true,
  ttl: true,
  errorTtl: true,
} satisfies Record<keyof TaskBehaviourOptions, true>);

const RATE_LIMIT_KEYS = Object.keys({
  maxRate: true,
  ratePeriod: true,
  key: true,
  strategy: true,
} satisfies Record<keyof RateLimitOptions, true>);

/** The stored, normalised form of a task's options, carried by every task record. */
export interface TaskConfig {
  retry: number;
  /** A function given as `retryDelay` is stored as `{ type: "function" }`; the definition holds it. */
  retryDelay: StoredRetryDelay;
  timeout: number | null;
  retryOnTimeout: boolean;
  retryOnCrash: boolean;
  rateLimit: Required<RateLimitOptions> | null;
  ttl?: number | null;
  errorTtl?: number | null;
}

function fail(taskName: string, message: string): never {
  throw new TaskDefinitionError(`task '${taskName}': ${message}`);
}

/** A boolean option (absent: `false`); anything else is refused rather than read as truthy or falsy. */
function checkFlag(taskName: string, option: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean")
    fail(taskName, `${option} must be true or false (got ${describeGiven(value)})`);
  return value;
}

function checkTtl(taskName: string, option: string, value: unknown): number | null {
  if (value === null) return null;
  if (!isDuration(value, false)) {
    fail(
      taskName,
      `${option} must be a number of seconds > 0 and ${MAX_DURATION_TEXT}, or null to keep forever (got ${describeGiven(value)})`,
    );
  }
  return value;
}

/** Checks user options and returns the stored config. Throws `TaskDefinitionError` naming the task and option. */
export function normaliseTaskConfig(taskName: string, options: TaskBehaviourOptions): TaskConfig {
  const retry = options.retry ?? 0;
  if (!Number.isInteger(retry) || retry < 0) {
    fail(taskName, `retry must be an integer ≥ 0 (got ${describeGiven(retry)})`);
  }
  const retryDelay = normaliseRetryDelay(taskName, options.retryDelay);
  const timeout = options.timeout ?? null;
  if (timeout !== null && !isDuration(timeout, false)) {
    fail(
      taskName,
      `timeout must be a number of seconds > 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(timeout)})`,
    );
  }
  const config: TaskConfig = {
    retry,
    retryDelay,
    timeout,
    retryOnTimeout: checkFlag(taskName, "retryOnTimeout", options.retryOnTimeout),
    retryOnCrash: checkFlag(taskName, "retryOnCrash", options.retryOnCrash),
    rateLimit: options.rateLimit ? normaliseRateLimit(taskName, options.rateLimit) : null,
  };
  // Either flag only chooses which failures use the retries `retry` allows: with none, it would do nothing.
  for (const flag of ["retryOnTimeout", "retryOnCrash"] as const) {
    if (config[flag] && retry === 0) {
      fail(
        taskName,
        `${flag} needs retry ≥ 1: it retries such a failure while retries are left, and with retry 0 (the default) none are (e.g. { retry: 3, ${flag}: true })`,
      );
    }
  }
  if (options.ttl !== undefined) config.ttl = checkTtl(taskName, "ttl", options.ttl);
  if (options.errorTtl !== undefined)
    config.errorTtl = checkTtl(taskName, "errorTtl", options.errorTtl);
  // Once every option passed its checks: a refused one says its own error, not this.
  warnOfMillisecondDurations(taskName, options);
  return config;
}

function normaliseRateLimit(taskName: string, limit: RateLimitOptions): Required<RateLimitOptions> {
  if (typeof limit !== "object") {
    fail(
      taskName,
      `rateLimit must be an object { maxRate, ratePeriod } (got ${describeGiven(limit)})`,
    );
  }
  const unknown = unknownKeysMessage(limit, RATE_LIMIT_KEYS, "rateLimit option");
  if (unknown) fail(taskName, unknown);
  if (!Number.isInteger(limit.maxRate) || limit.maxRate < 1) {
    fail(
      taskName,
      `rateLimit.maxRate must be an integer ≥ 1 (got ${describeGiven(limit.maxRate)})`,
    );
  }
  if (!isDuration(limit.ratePeriod, false)) {
    fail(
      taskName,
      `rateLimit.ratePeriod must be a number of seconds > 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(limit.ratePeriod)})`,
    );
  }
  const strategy = limit.strategy ?? "sliding_window";
  if (strategy !== "sliding_window" && strategy !== "fixed_window") {
    fail(
      taskName,
      `rateLimit.strategy must be "sliding_window" or "fixed_window" (got ${describeGiven(strategy)})`,
    );
  }
  // Tasks with the same key share a limit: an empty key would be a bucket no one meant.
  if (limit.key !== undefined && (typeof limit.key !== "string" || limit.key.trim() === "")) {
    const got = typeof limit.key === "string" ? `'${limit.key}'` : String(limit.key);
    fail(
      taskName,
      `rateLimit.key must be a non-empty string or a function of the task's arguments (got ${got})`,
    );
  }
  // The bound a key function's keys are held to, for a key given as it is too.
  if (limit.key !== undefined && [...limit.key].length > MAX_CONCURRENCY_KEY_LENGTH) {
    fail(
      taskName,
      `rateLimit.key must be at most ${MAX_CONCURRENCY_KEY_LENGTH} characters (got ${[...limit.key].length})`,
    );
  }
  const halves = typeof limit.key === "string" ? loneSurrogateProblem(limit.key) : null;
  if (halves !== null) fail(taskName, `rateLimit.key ${halves}`);
  return {
    maxRate: limit.maxRate,
    ratePeriod: limit.ratePeriod,
    key: limit.key ?? taskName,
    strategy,
  };
}
