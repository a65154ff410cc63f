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
import type { BackoffFunction } from "../task/backoff-options.js";
import { errorToData } from "../task/stored-error.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";
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

/**
 * The record of a failed attempt: `retrying` with retries left, else `failed`
 * (or `crashed`). Never throws: if the thrown value cannot be stored as it is
 * or the retry time cannot be computed (a stored record's options out of
 * range, or a `retryDelay` function that throws or returns a bad value), the
 * attempt ends `failed` with an error that says so.
 * @param backoff the task definition's `retryDelay` function, when it has one
 */
export function failedRecord(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff?: BackoffFunction | undefined,
): TaskData {
  try {
    return failureOutcome(data, thrown, now, kind, backoff);
  } catch (problem) {
    return finalFailure(data, thrown, problem, now);
  }
}

function failureOutcome(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff: BackoffFunction | undefined,
): TaskData {
  const error = errorToData(thrown);
  if (kind === "crash") error.stack = null;
  if (shouldRetry(data, kind)) {
    const delaySeconds = retryDelaySeconds(data.config.retryDelay, {
      taskName: data.name,
      retryIndex: data.retryCount,
      attempt: attemptNumber(data),
      error: thrown,
      backoff,
    });
    return {
      ...data,
      status: "retrying",
      result: null,
      error,
      finishedAt: null,
      retryCount: data.retryCount + 1,
      lastRetryAt: isoAt(now),
      nextRetryAt: isoAt(now + delaySeconds * 1000),
    };
  }
  return {
    ...data,
    status: kind === "crash" ? "crashed" : "failed",
    result: null,
    error,
    finishedAt: isoAt(now),
  };
}

/** The last resort when the normal failure record cannot be built: `failed`, with an error built here (always storable). */
function finalFailure(data: TaskData, thrown: unknown, problem: unknown, now: number): TaskData {
  const describe = (value: unknown, fallback: string): string => {
    try {
      return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
    } catch {
      return fallback;
    }
  };
  const error = errorToData(
    new SheppyError(
      `the attempt failed (${describe(thrown, "an unprintable value was thrown")}), and its outcome could not be recorded as usual: ${describe(problem, "unknown problem")}`,
    ),
  );
  error.stack = null;
  return { ...data, status: "failed", result: null, error, finishedAt: isoAt(now) };
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
