/**
 * @module execution/outcome
 * The record an attempt leaves behind — pure functions, no I/O. The retry
 * decision lives here: a failure with retries left becomes `retrying` (due at
 * `nextRetryAt`, computed by `retry-delay.ts`); a timeout or a crash is final
 * unless the task opted in with `retryOnTimeout` / `retryOnCrash`; an
 * `UnrecoverableError` (or any error flagged `unrecoverable: true`) is final
 * at once.
 */

import { isoAt } from "../clock.js";
import {
  InvalidOptionError,
  SerializationError,
  SheppyError,
  TaskTimeoutError,
  UnrecoverableError,
  WorkerCrashedError,
} from "../errors.js";
import type { JsonValue } from "../json.js";
import type { BackoffFunction, StoredRetryDelay } from "../task/backoff-options.js";
import { errorToData } from "../task/stored-error.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { withoutUnknownSince } from "../task/unknown-since.js";
import { retryDelaySeconds } from "./retry-delay.js";

/**
 * Why an attempt did not complete. `fatal` failures (an unknown task name, an
 * `UnrecoverableError`) are never retried.
 */
export type FailureKind = "error" | "timeout" | "crash" | "fatal";

/** The record of a completed attempt. */
export function completedRecord(
  data: TaskData,
  result: JsonValue,
  now: number,
  resultKind?: "task" | "tasks",
): TaskData {
  const record: TaskData = {
    ...data,
    status: "completed",
    result,
    error: null,
    finishedAt: isoAt(now),
    // A retry that ran is not "next" any more (`lastRetryAt` keeps when it was decided).
    nextRetryAt: null,
  };
  if (resultKind) record.resultKind = resultKind;
  // `delete` would turn every record into a slow dictionary object; only strip a stale marker.
  else if (record.resultKind !== undefined) delete record.resultKind;
  return record;
}

/** Whether a failure of this kind leads to another automatic attempt. */
export function shouldRetry(data: TaskData, kind: FailureKind): boolean {
  if (kind === "fatal" || data.retryCount >= data.config.retry) return false;
  if (kind === "timeout") return data.config.retryOnTimeout;
  if (kind === "crash") return data.config.retryOnCrash;
  return true;
}

/** A failed attempt's record, with the error it stores. */
export interface Failure {
  readonly record: TaskData;
  /** What the record stores: what the attempt threw, or the error that says why it could not be kept as it was. */
  readonly error: unknown;
}

/**
 * The record of a failed attempt: `retrying` with retries left, else `failed`
 * (or `crashed`). Never throws: if the task's `retryDelay` function throws or
 * returns a bad value, the attempt ends `failed` without a retry, with an
 * error that says so; if the record cannot be built at all, `failed` with an
 * error made here. Report {@link Failure.error}, not `thrown`: it is the one
 * stored.
 * @param backoff the task definition's `retryDelay` function, when it has one
 */
export function failure(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff?: BackoffFunction | undefined,
): Failure {
  try {
    return failureOutcome(data, thrown, now, kind, backoff);
  } catch (problem) {
    return finalFailure(data, thrown, problem, now);
  }
}

/** The record of {@link failure}, for callers that report no error. */
export function failedRecord(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff?: BackoffFunction | undefined,
): TaskData {
  return failure(data, thrown, now, kind, backoff).record;
}

function failureOutcome(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff: BackoffFunction | undefined,
): Failure {
  if (shouldRetry(data, kind)) {
    let delaySeconds: number;
    try {
      delaySeconds = retryDelaySeconds(retryDelayOf(data, backoff), {
        taskName: data.name,
        retryIndex: data.retryCount,
        attempt: attemptNumber(data),
        error: thrown,
        backoff,
      });
    } catch (fault) {
      return ended(
        data,
        faultyRetryDelay(thrown, fault),
        now,
        kind === "crash" ? "crashed" : "failed",
      );
    }
    const error = errorToData(thrown);
    if (kind === "crash") error.stack = null;
    const record: TaskData = {
      // It ran here, so its name is known: an old worker that meets the retry counts a grace anew.
      ...withoutUnknownSince(data),
      status: "retrying",
      result: null,
      error,
      finishedAt: null,
      retryCount: data.retryCount + 1,
      lastRetryAt: isoAt(now),
      nextRetryAt: isoAt(now + delaySeconds * 1000),
    };
    return { record, error: thrown };
  }
  return ended(data, thrown, now, kind === "crash" ? "crashed" : "failed");
}

/**
 * The retry strategy of `data`: the stored one, except a stored function
 * strategy whose function this worker does not hold while it defines the
 * task with a strategy of another kind — a deploy replaced the function by
 * a number, a list or an exponential strategy, and the new definition says
 * how long to wait better than the one-second fallback does.
 */
function retryDelayOf(data: TaskData, backoff: BackoffFunction | undefined): StoredRetryDelay {
  const stored = data.config.retryDelay;
  if (backoff || typeof stored !== "object" || Array.isArray(stored) || stored.type !== "function")
    return stored;
  const current = findTask(data.name)?.config.retryDelay;
  return current === undefined ? stored : current;
}

/** A final failure storing `error`. */
function ended(data: TaskData, error: unknown, now: number, status: "failed" | "crashed"): Failure {
  const stored = errorToData(error);
  // A crash happened in another process: no stack here says anything about it.
  if (status === "crashed") stored.stack = null;
  return {
    // No retry comes: the time the last one was due is not "next" any more.
    record: {
      ...data,
      status,
      result: null,
      error: stored,
      finishedAt: isoAt(now),
      nextRetryAt: null,
    },
    error,
  };
}

/**
 * The error of an attempt whose retry the task's own `retryDelay` function
 * could not time (`fault` says how): no retry on a delay made up here, which
 * would hide the bug. What the attempt threw is kept as its cause.
 */
function faultyRetryDelay(thrown: unknown, fault: unknown): SheppyError {
  // retryDelaySeconds words its faults as a sentence naming the task.
  const what = fault instanceof SheppyError ? fault.message : describe(fault, "unknown problem");
  return new SheppyError(
    `${what}, so the task failed without a retry (its attempt failed with ${describe(thrown, "an unprintable value")})`,
    { cause: thrown },
  );
}

/** The last resort when the failure record cannot be built as usual: `failed`, with an error built here (always storable). */
function finalFailure(data: TaskData, thrown: unknown, problem: unknown, now: number): Failure {
  const error = new SheppyError(
    `the attempt failed (${describe(thrown, "an unprintable value was thrown")}), and its failure could not be recorded with its own error (${describe(problem, "unknown problem")}); the task failed without a retry`,
  );
  const stored = errorToData(error);
  stored.stack = null;
  return {
    record: {
      ...data,
      status: "failed",
      result: null,
      error: stored,
      finishedAt: isoAt(now),
      nextRetryAt: null,
    },
    error,
  };
}

/** One line about a thrown value; never throws. */
function describe(value: unknown, fallback: string): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return fallback;
  }
}

/**
 * The failure kind of something an attempt threw (a value whose prototype
 * cannot be read is an error): an unrecoverable error is `fatal`.
 */
export function failureKindOf(thrown: unknown): FailureKind {
  try {
    if (thrown instanceof TaskTimeoutError) return "timeout";
    if (thrown instanceof WorkerCrashedError) return "crash";
  } catch {
    // `instanceof` asks a Proxy for its prototype, which may throw.
  }
  return isUnrecoverable(thrown) ? "fatal" : "error";
}

/**
 * Whether a thrown value asks not to be retried: an `UnrecoverableError`, or
 * an object with an own property `unrecoverable` that is `true`. Reading a
 * hostile value never throws here (it is then not unrecoverable).
 */
export function isUnrecoverable(thrown: unknown): boolean {
  try {
    if (thrown instanceof UnrecoverableError) return true;
    if (typeof thrown !== "object" || thrown === null) return false;
    const own = Object.getOwnPropertyDescriptor(thrown, "unrecoverable");
    return own !== undefined && "value" in own && own.value === true;
  } catch {
    return false;
  }
}

/**
 * Whether a settle was refused because of the record itself, not the
 * backend's state: it could not be encoded or routed. Sending the same
 * record again would fail again.
 */
export function isUnstorable(error: unknown): boolean {
  return error instanceof SerializationError || error instanceof InvalidOptionError;
}

/**
 * The record stored when the backend refused an attempt's own record as
 * unstorable (it cannot be encoded or routed): `failed`, with the arguments,
 * result and metadata — whatever made it unstorable — dropped, and an error
 * that says so. Without it the task would be reclaimed, fail to store again,
 * and go round for ever.
 */
export function unstorableRecord(data: TaskData, problem: unknown, now: number): TaskData {
  let reason: string;
  try {
    reason = problem instanceof Error ? problem.message : String(problem);
  } catch {
    reason = "the backend refused it";
  }
  return {
    ...data,
    args: [],
    status: "failed",
    result: null,
    meta: {},
    error: {
      type: "SerializationError",
      message: `the outcome of this attempt could not be stored (${reason}); its arguments and result were dropped`,
      stack: null,
      cause: null,
    },
    finishedAt: isoAt(now),
    nextRetryAt: null,
  };
}

/** A claimed task whose attempt was interrupted (shutdown): back to pending, no attempt spent. */
export function requeuedRecord(data: TaskData): TaskData {
  return { ...data, status: "pending", startedAt: null };
}

/**
 * The record of a claimed task put off for `waitMs` by its rate limit:
 * `scheduled` at `now + waitMs`, not started. Nothing else changes — a
 * deferral is not an attempt.
 */
export function deferredRecord(data: TaskData, now: number, waitMs: number): TaskData {
  return { ...data, status: "scheduled", scheduledAt: isoAt(now + waitMs), startedAt: null };
}
