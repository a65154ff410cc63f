/**
 * @module worker/periodic-loop
 * The shape every periodic worker loop shares (scheduler, cron manager, expiry
 * sweeper): run a tick now, then every `intervalMs` on the loop's clock
 * (counted from when a tick that worked began), until `signal` aborts. A
 * tick that throws (the backend is down) is reported and the loop waits
 * longer — at least the interval, more as failures repeat — so an outage is
 * survived and reported once, not once per tick.
 */
import type { Clock } from "../clock.js";
import { Backoff } from "./backoff.js";

/** When and how a periodic loop runs, and whom it tells about backend failures. */
export interface PeriodicLoopOptions {
  clock: Clock;
  intervalMs: number;
  signal: AbortSignal;
  /** A tick failed; `first` is true for the first failure of an outage. */
  onError: (error: unknown, first: boolean) => void;
  /** A tick succeeded after failures. */
  onRecovered?: (() => void) | undefined;
}

/** Runs `tick` now and then every `intervalMs` until `signal` aborts; failures back off. */
export async function runPeriodically(
  options: PeriodicLoopOptions,
  tick: () => Promise<void>,
): Promise<void> {
  const { clock, intervalMs, signal } = options;
  const backoff = new Backoff();
  while (!signal.aborted) {
    // After a tick that worked, the next is due an interval after this one began, not after it
    // ended: a clock moved on while a tick waited for its backend (a test's TestClock.advance,
    // say) then gets a tick at the new time at once, where a sleep from the new time would never
    // end unless the clock moved again. After a failure, the whole back-off is waited out.
    const began = clock.now();
    let waitMs: number;
    try {
      await tick();
      if (backoff.succeed()) options.onRecovered?.();
      waitMs = began + intervalMs - clock.now();
    } catch (error) {
      const failure = backoff.fail();
      options.onError(error, failure.first);
      waitMs = Math.max(intervalMs, failure.delayMs);
    }
    if (waitMs > 0) await clock.sleep(waitMs, signal);
    else await new Promise((resolve) => setImmediate(resolve));
  }
}
