/**
 * @module execution/attempt-deadline
 * A task's `timeout` as the bound of its whole attempt: middleware,
 * dependencies, the function and the dependencies' teardown. At the bound the
 * attempt's signal fires and it fails with `TaskTimeoutError`, whatever is
 * still running: that code goes on unawaited, and what it produces is
 * dropped. A timer cannot fire while synchronous code holds the event loop,
 * so an attempt is also measured when it ends: one that ended past its bound
 * fails the same way, its result or error dropped. Only a sandbox thread is
 * actually stopped at the bound.
 */
import type { Clock, Timer } from "../clock.js";
import { TaskTimeoutError } from "../errors.js";
import { isThenable } from "../util/thenable.js";
import type { AttemptState } from "./run-context.js";

/**
 * The time an attempt has left. A sandboxed function pauses it while it waits
 * for a thread (that wait, the thread's start and the module's import do not
 * count against the task).
 */
export class AttemptDeadline {
  readonly #budgetMs: number;
  /** Milliseconds counted before the current stretch. */
  #spentMs = 0;
  /** When the current stretch started; `null` while paused. */
  #since: number | null;
  #timer: Timer | undefined;
  #expired = false;
  #finished = false;

  constructor(
    readonly seconds: number,
    private readonly clock: Clock,
    private readonly onExpired: () => void,
  ) {
    this.#budgetMs = seconds * 1000;
    this.#since = clock.now();
    this.#arm();
  }

  /** Whether the bound passed while the attempt was still running (the timer fired). */
  get expired(): boolean {
    return this.#expired;
  }

  /** Stops counting until {@link resume}. */
  pause(): void {
    if (this.#since === null || this.#finished) return;
    this.#spentMs += this.clock.now() - this.#since;
    this.#since = null;
    this.#timer?.cancel();
  }

  /** Counts again, with the time left before the pause. */
  resume(): void {
    if (this.#since !== null || this.#finished) return;
    this.#since = this.clock.now();
    this.#arm();
  }

  /** The attempt ended: stops the timer; `true` when it ended within its bound. */
  finish(): boolean {
    if (this.#finished) return !this.#expired;
    const spent = this.#spentMs + (this.#since === null ? 0 : this.clock.now() - this.#since);
    this.#finished = true;
    this.#timer?.cancel();
    return spent <= this.#budgetMs;
  }

  #arm(): void {
    this.#timer = this.clock.setTimer(() => {
      if (this.#finished) return;
      this.#finished = true;
      this.#expired = true;
      this.onExpired();
    }, this.#budgetMs - this.#spentMs);
  }
}

/**
 * Runs `run` within `seconds`, handing it the deadline. Returns what `run`
 * returns (a value, or a promise of it) when it ends within the bound;
 * throws, or rejects with, `TaskTimeoutError` (the attempt's signal fired)
 * when it ended past it; rejects with it at the bound when it is still
 * running then, after calling `onExpired`.
 */
export function runWithinTimeout(
  seconds: number,
  state: AttemptState,
  clock: Clock,
  run: (deadline: AttemptDeadline) => unknown,
  onExpired: () => void,
): unknown {
  let fail: ((error: TaskTimeoutError) => void) | undefined;
  const deadline = new AttemptDeadline(seconds, clock, () => {
    const error = timedOut(seconds, state);
    onExpired();
    // Set before any timer can fire: the sync path below stops the deadline first.
    fail?.(error);
  });
  let result: unknown;
  let pending: boolean;
  try {
    result = run(deadline);
    pending = isThenable(result);
  } catch (error) {
    if (deadline.finish()) throw error;
    throw timedOut(seconds, state);
  }
  if (!pending) {
    if (deadline.finish()) return result;
    throw timedOut(seconds, state);
  }
  return new Promise((resolve, reject) => {
    fail = reject;
    const ended = (settle: () => void) => {
      if (deadline.expired) return;
      if (deadline.finish()) settle();
      else reject(timedOut(seconds, state));
    };
    // Promise.resolve: a thenable of the task's own may throw from its `then`.
    Promise.resolve(result).then(
      (value) => ended(() => resolve(value)),
      (error: unknown) => ended(() => reject(error)),
    );
  });
}

/** The error of an attempt past its bound; its signal fires with it. */
function timedOut(seconds: number, state: AttemptState): TaskTimeoutError {
  const error = new TaskTimeoutError(seconds);
  state.abort(error);
  return error;
}
