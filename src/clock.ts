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

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms, options) {
    const handle = setTimeout(fn, Math.max(0, ms));
    if (options?.unref) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(ms, signal) {
    return sleepWith(this, ms, signal);
  },
};

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

/** ISO-8601 text of an epoch-millisecond instant, the form stored in task records. */
export function isoAt(ms: number): string {
  // Busy workers stamp many records within the same millisecond; formatting is the costly part.
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
