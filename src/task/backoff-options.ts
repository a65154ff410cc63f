/**
 * @module task/backoff-options
 * The forms `retryDelay` takes — seconds, a list of seconds, a fixed or
 * exponential strategy (optionally with jitter), or a function — and their
 * stored form. A function cannot be stored in a record: the record stores
 * `{ type: "function" }` and the task's definition in the worker holds the
 * function itself (see `execution/retry-delay.ts`, where the delay is
 * computed).
 */
import { TaskDefinitionError } from "../errors.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { describeGiven } from "./describe-value.js";

/**
 * Random spread added to a strategy's delay `d`, so that tasks that failed
 * together do not retry together: `"full"` waits a random time in `[0, d]`,
 * `"equal"` one in `[d/2, d]`; `"none"` (the default) waits exactly `d`.
 */
export type BackoffJitter = "none" | "full" | "equal";

/** The same delay before every retry. */
export interface FixedBackoff {
  type: "fixed";
  /** Seconds before each retry (≥ 0). */
  delay: number;
  /** Random spread (default `"none"`). */
  jitter?: BackoffJitter;
}

/** `delay × factor^(n−1)` seconds before retry `n`, never more than `max`. */
export interface ExponentialBackoff {
  type: "exponential";
  /** Seconds before the first retry (≥ 0). */
  delay: number;
  /** Growth per retry (≥ 1; default 2). */
  factor?: number;
  /** The cap, in seconds (≥ `delay`): no retry waits longer (before jitter). */
  max: number;
  /** Random spread, applied to the capped delay (default `"none"`). */
  jitter?: BackoffJitter;
}

/**
 * Seconds to wait before the next retry, decided in the worker after a failed
 * attempt: `attempt` is the number of the attempt that failed (from 1, as
 * `currentTask().attempt` read it), `error` what it threw (a
 * `WorkerCrashedError` for a crash retried with `retryOnCrash`). It must
 * return seconds ≥ 0, synchronously; if it throws or returns anything else,
 * the task fails with an error that says so.
 */
export type BackoffFunction = (attempt: number, error: unknown) => number;

/** Every form `retryDelay` accepts. */
export type RetryDelay =
  | number
  | readonly number[]
  | FixedBackoff
  | ExponentialBackoff
  | BackoffFunction;

/** A strategy as stored in a record: defaults filled in, a function reduced to its marker. */
export type StoredBackoff =
  | { type: "fixed"; delay: number; jitter: BackoffJitter }
  | { type: "exponential"; delay: number; factor: number; max: number; jitter: BackoffJitter }
  | { type: "function" };

/** The stored form of `retryDelay`. */
export type StoredRetryDelay = number | number[] | StoredBackoff;

const JITTERS: ReadonlySet<unknown> = new Set(["none", "full", "equal"]);
const FIXED_KEYS = ["type", "delay", "jitter"];
const EXPONENTIAL_KEYS = ["type", "delay", "factor", "max", "jitter"];
/** The largest `factor`: beyond it the second retry already waits ten years after a 1 ms first. */
const MAX_FACTOR = 1e12;

function fail(taskName: string, message: string): never {
  throw new TaskDefinitionError(`task '${taskName}': ${message}`);
}

const SECONDS = `a number of seconds ≥ 0 and ${MAX_DURATION_TEXT}`;

function seconds(taskName: string, option: string, value: unknown): number {
  if (!isDuration(value, true))
    fail(taskName, `${option} must be ${SECONDS} (got ${describeGiven(value)})`);
  return value;
}

function jitterOf(taskName: string, value: unknown): BackoffJitter {
  if (value === undefined) return "none";
  if (!JITTERS.has(value))
    fail(
      taskName,
      `retryDelay.jitter must be "none", "full" or "equal" (got ${describeGiven(value)})`,
    );
  return value as BackoffJitter;
}

/** Checks `retryDelay` as a user wrote it; returns its stored form. Throws `TaskDefinitionError` naming the task. */
export function normaliseRetryDelay(taskName: string, raw: unknown): StoredRetryDelay {
  if (raw === undefined) return 1;
  if (typeof raw === "function") return { type: "function" };
  if (Array.isArray(raw)) {
    if (raw.length === 0) fail(taskName, "retryDelay list must not be empty");
    if (!raw.every((value) => isDuration(value, true))) {
      fail(
        taskName,
        `retryDelay values must be numbers of seconds ≥ 0 and ${MAX_DURATION_TEXT} (got [${raw.map(String).join(", ")}])`,
      );
    }
    return [...(raw as number[])];
  }
  if (typeof raw === "object" && raw !== null) return normaliseStrategy(taskName, raw);
  if (!isDuration(raw, true)) {
    fail(
      taskName,
      `retryDelay must be ${SECONDS}, a list of them (one per retry), a strategy ({ type: "fixed" | "exponential", delay, … }) or a function (attempt, error) => seconds (got ${describeGiven(raw)})`,
    );
  }
  return raw;
}

function normaliseStrategy(taskName: string, raw: object): StoredBackoff {
  const strategy = raw as Record<string, unknown>;
  const type = strategy.type;
  if (type !== "fixed" && type !== "exponential") {
    fail(taskName, `retryDelay.type must be "fixed" or "exponential" (got ${describeGiven(type)})`);
  }
  const unknown = unknownKeysMessage(
    strategy,
    type === "fixed" ? FIXED_KEYS : EXPONENTIAL_KEYS,
    "retryDelay option",
  );
  if (unknown) fail(taskName, unknown);
  const delay = seconds(taskName, "retryDelay.delay", strategy.delay);
  const jitter = jitterOf(taskName, strategy.jitter);
  if (type === "fixed") return { type, delay, jitter };
  if (strategy.max === undefined) {
    fail(
      taskName,
      'retryDelay.max is required with type "exponential": the longest wait, in seconds',
    );
  }
  const max = seconds(taskName, "retryDelay.max", strategy.max);
  if (max < delay) fail(taskName, `retryDelay.max (${max}) must be ≥ retryDelay.delay (${delay})`);
  const factor = strategy.factor ?? 2;
  if (typeof factor !== "number" || !(factor >= 1 && factor <= MAX_FACTOR)) {
    fail(
      taskName,
      `retryDelay.factor must be a number ≥ 1 and ≤ ${MAX_FACTOR} (got ${describeGiven(factor)})`,
    );
  }
  return { type, delay, factor, max, jitter };
}

/**
 * Whether a stored record's strategy object has a stored form (for the record
 * codec; numbers and lists are checked there as before). Durations are only
 * checked to be seconds ≥ 0: the delay computed from them is capped anyway.
 */
export function isStoredBackoff(value: unknown): value is StoredBackoff {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const s = value as Record<string, unknown>;
  if (s.type === "function") return true;
  if (!isSeconds(s.delay) || !JITTERS.has(s.jitter)) return false;
  if (s.type === "fixed") return true;
  return (
    s.type === "exponential" &&
    isSeconds(s.max) &&
    typeof s.factor === "number" &&
    s.factor >= 1 &&
    s.factor <= MAX_FACTOR
  );
}

const isSeconds = (value: unknown): boolean =>
  typeof value === "number" && Number.isFinite(value) && value >= 0;
