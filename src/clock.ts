/**
 * @module clock
 * The one source of time for everything that waits: retry delays, the
 * scheduler, timeouts, leases. Code never calls `Date.now()` or `setTimeout`
 * for task timing directly, so tests can swap in a controllable clock.
 */

/** A cancellable timer handle returned by {@link Clock.setTimer}. */
export interface Timer {
  cancel(): void;
}

/** Time as Sheppy sees it. All values are milliseconds since the Unix epoch / milliseconds. */
export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`. `unref` timers do not keep the process alive. */
  setTimer(fn: () => void, ms: number, options?: { unref?: boolean }): Timer;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The longest delay Node's `setTimeout` honours: 2^31 − 1 ms (about 24.8 days).
 * A longer one fires after 1 ms, with only a `TimeoutOverflowWarning`.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `setTimeout` for any delay. Delays past {@link MAX_TIMER_MS} are waited in
 * steps of at most `maxStepMs`, re-armed until the whole delay has passed, so a
 * 30-day task timeout or far-future wake-up does not fire at once. `cancel()`
 * clears whichever step is armed. `maxStepMs` is a parameter only for tests.
 */
export function setLongTimer(
  fn: () => void,
  ms: number,
  options: { unref?: boolean } = {},
  maxStepMs: number = MAX_TIMER_MS,
): Timer {
  let handle: ReturnType<typeof setTimeout>;
  const arm = (remaining: number) => {
    const last = !(remaining > maxStepMs);
    handle = setTimeout(last ? fn : () => arm(remaining - maxStepMs), last ? remaining : maxStepMs);
    if (options.unref) handle.unref();
  };
  arm(Math.max(0, ms));
  return { cancel: () => clearTimeout(handle) };
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms, options) {
    return setLongTimer(fn, ms, options);
  },
  sleep(ms, signal) {
    return sleepWith(this, ms, signal);
  },
};

/**
 * A new record's creation time on `clock`. Task and workflow factories stamp
 * their records by the system clock, before any queue (or its clock) is known;
 * a queue on another clock (a test clock) stamps them again as they are added,
 * so every time a record holds follows that one clock.
 */
export function createdOn(clock: Clock, createdAt: string): string {
  return clock === systemClock ? createdAt : isoAt(clock.now());
}

/** `sleep` for any clock, built on its `setTimer`. */
export function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

let lastMs = Number.NaN;
let lastIso = "";
/** The instant `lastIso` names (`lastMs` as a `Date` holds it: whole milliseconds). */
let lastTime = Number.NaN;

/** ISO-8601 text of an epoch-millisecond instant, the form stored in task records. */
export function isoAt(ms: number): string {
  // Busy workers stamp many records within the same millisecond; formatting is the costly part.
  if (ms !== lastMs) {
    const date = new Date(ms);
    lastIso = date.toISOString();
    lastTime = date.getTime();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * The epoch milliseconds of `text` as `Date.parse` reads it (NaN when it
 * names no instant). The text {@link isoAt} wrote last is answered without
 * parsing: a record made now is read back at once, by the store that writes
 * its instants as numbers and by the listing order.
 */
export function msOfIso(text: string): number {
  return text === lastIso ? lastTime : Date.parse(text);
}
