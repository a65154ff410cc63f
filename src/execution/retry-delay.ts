/**
 * @module execution/retry-delay
 * How long a failed attempt waits before its retry — a pure computation from
 * the record's stored `retryDelay`, the retry number, and (for a function
 * strategy) the function the task's definition holds in this worker. Never
 * negative, never NaN, never above the longest duration Sheppy accepts.
 */
import { SheppyError } from "../errors.js";
import type { BackoffFunction, BackoffJitter, StoredRetryDelay } from "../task/backoff-options.js";
import { isDuration, MAX_DURATION_SECONDS, MAX_DURATION_TEXT } from "../util/durations.js";
import { isThenable } from "../util/thenable.js";

/**
 * Seconds a function strategy waits when this process does not hold the
 * function (the task is not defined here, e.g. a crashed claim taken over by a
 * worker that does not load its module): the default `retryDelay`.
 */
export const FUNCTION_FALLBACK_SECONDS = 1;

/** What the delay of one retry depends on besides the stored strategy. */
export interface RetryDelayInput {
  /** The task's name, for the message when a function strategy misbehaves. */
  readonly taskName: string;
  /** Which retry this is, from 0 (the first retry). */
  readonly retryIndex: number;
  /** The number of the attempt that failed, from 1 (passed to a function strategy). */
  readonly attempt: number;
  /** What the attempt threw (passed to a function strategy). */
  readonly error: unknown;
  /** The function of a function strategy, when this process defines the task. */
  readonly backoff?: BackoffFunction | undefined;
  /** A number in [0, 1) (default `Math.random`): jitter's randomness, injectable for tests. */
  readonly random?: (() => number) | undefined;
}

/**
 * Seconds to wait before the retry described by `input`. A list is indexed by
 * the retry number and its last value repeats; an exponential strategy waits
 * `delay × factor^retryIndex`, capped at `max`, then jitter spreads the
 * result (full: `[0, d]`; equal: `[d/2, d]`). Throws `SheppyError` only when
 * a function strategy throws or returns anything but seconds in range.
 */
export function retryDelaySeconds(delay: StoredRetryDelay, input: RetryDelayInput): number {
  const index = Number.isInteger(input.retryIndex) && input.retryIndex > 0 ? input.retryIndex : 0;
  if (typeof delay === "number") return bounded(delay);
  if (Array.isArray(delay)) return bounded(delay[Math.min(index, delay.length - 1)] ?? 0);
  switch (delay.type) {
    case "fixed":
      return withJitter(bounded(delay.delay), delay.jitter, input.random);
    case "exponential": {
      const base = bounded(delay.delay);
      // 0 × Infinity would be NaN: a zero first delay stays zero.
      const grown = base === 0 ? 0 : base * delay.factor ** index;
      return withJitter(bounded(Math.min(grown, delay.max)), delay.jitter, input.random);
    }
    case "function":
      return input.backoff ? called(input.backoff, input) : FUNCTION_FALLBACK_SECONDS;
  }
}

/** A stored duration as a usable delay: a record written by hand may hold more than the bound, or garbage. */
function bounded(seconds: number): number {
  if (!(seconds >= 0)) return 0;
  return Math.min(seconds, MAX_DURATION_SECONDS);
}

function withJitter(
  seconds: number,
  jitter: BackoffJitter,
  random: (() => number) | undefined,
): number {
  if (jitter === "none" || seconds === 0) return seconds;
  const drawn = (random ?? Math.random)();
  const r = drawn >= 0 && drawn <= 1 ? drawn : 0;
  if (jitter === "full") return Math.min(seconds * r, seconds);
  // Clamped: half plus a share of half can round a hair past either end.
  const half = seconds / 2;
  return Math.min(Math.max(half + half * r, half), seconds);
}

function called(backoff: BackoffFunction, input: RetryDelayInput): number {
  let seconds: unknown;
  try {
    seconds = backoff(input.attempt, input.error);
  } catch (error) {
    throw new SheppyError(
      `task '${input.taskName}': its retryDelay function threw (${describe(error)})`,
      { cause: error },
    );
  }
  if (!isDuration(seconds, true)) {
    try {
      // Not awaited: a promise it returned must not end the process when it rejects.
      if (isThenable(seconds)) Promise.resolve(seconds).then(undefined, () => undefined);
    } catch {
      // A value whose `then` cannot be read is no promise to leave unhandled.
    }
    throw new SheppyError(
      `task '${input.taskName}': its retryDelay function returned ${describe(seconds)}, not a number of seconds ≥ 0 and ${MAX_DURATION_TEXT}`,
    );
  }
  return seconds;
}

function describe(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    if (typeof value === "string") return `the text '${value}'`;
    if (typeof value === "object" && value !== null && "then" in value) return "a promise";
    return String(value);
  } catch {
    return "an unprintable value";
  }
}
