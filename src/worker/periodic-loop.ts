/**
 * @module worker/periodic-loop
 * The shape every periodic worker loop shares (scheduler, cron manager, expiry
 * sweeper): run a tick now, then every `intervalMs` on the loop's clock
 * (counted from when a tick that worked began), until `signal` aborts. A
 * tick that throws (the backend is down) is reported once per outage, and
 * the loop tries again after a back-off that grows as failures repeat: at
 * least its interval when that is short, but within {@link RETRY_AFTER_FAILURE_MS}
 * when it is long (the expiry sweeper's minute), so the outage's end — and
 * the worker's health with it — is found within seconds, not at the next
 * interval. A tick may ask for the next
 * one sooner (the scheduler, when a task falls due before the interval
 * ends), and an alarm may cut a sleep short (see `./due-alarm.ts`).
 */
import type { Clock } from "../clock.js";
import { Backoff } from "./backoff.js";
import type { DueAlarm } from "./due-alarm.js";

/**
 * The least time between the start of two ticks when a tick asks for the next
 * sooner than its interval: a time already past (a task the backend could not
 * move yet, say) then costs a tick every few ms, not a busy loop.
 */
export const MIN_TICK_GAP_MS = 5;

/** The longest a loop with a long interval waits to try again after a failed tick (its back-off aside). */
export const RETRY_AFTER_FAILURE_MS = 5000;

/** When and how a periodic loop runs, and whom it tells about backend failures. */
export interface PeriodicLoopOptions {
  clock: Clock;
  intervalMs: number;
  signal: AbortSignal;
  /** A tick failed; `first` is true for the first failure of an outage. */
  onError: (error: unknown, first: boolean) => void;
  /** A tick succeeded after failures. */
  onRecovered?: (() => void) | undefined;
  /** Times told here that fall before the next tick bring it forward. */
  alarm?: DueAlarm | undefined;
  /** Called once, when the first tick has ended (whether it worked or not). */
  onFirstTick?: (() => void) | undefined;
}

/**
 * Runs `tick` now and then every `intervalMs` until `signal` aborts; failures
 * back off. A tick that answers a time (on the loop's clock) has the next one
 * then, when that comes before the interval ends — but never sooner than
 * {@link MIN_TICK_GAP_MS} after it began.
 */
export async function runPeriodically(
  options: PeriodicLoopOptions,
  tick: () => Promise<number | undefined> | Promise<void>,
): Promise<void> {
  const { clock, intervalMs, signal, alarm } = options;
  const backoff = new Backoff();
  let firstTick = options.onFirstTick;
  while (!signal.aborted) {
    // After a tick that worked, the next is due an interval after this one began, not after it
    // ended: a clock moved on while a tick waited for its backend (a test's TestClock.advance,
    // say) then gets a tick at the new time at once, where a sleep from the new time would never
    // end unless the clock moved again. After a failure, the whole back-off is waited out.
    const began = clock.now();
    alarm?.covered(began);
    let waitMs: number;
    let worked = false;
    try {
      const sooner = await tick();
      if (backoff.succeed()) options.onRecovered?.();
      let next = began + intervalMs;
      if (typeof sooner === "number" && sooner < next)
        next = Math.max(sooner, began + MIN_TICK_GAP_MS);
      waitMs = next - clock.now();
      worked = true;
    } catch (error) {
      const failure = backoff.fail();
      options.onError(error, failure.first);
      waitMs = Math.max(failure.delayMs, Math.min(intervalMs, RETRY_AFTER_FAILURE_MS));
    }
    firstTick?.();
    firstTick = undefined;
    // After a tick that worked, an alarm may bring the next one forward; after a failure, the
    // back-off is waited out whatever it says.
    if (worked && alarm) await sleepOrAlarm(clock, began, waitMs, signal, alarm);
    else await pause(clock, waitMs, signal);
  }
}

/** Sleeps `ms` (a turn of the event loop when not positive). */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) return clock.sleep(ms, signal);
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Sleeps until `waitMs` from now or the earliest time `alarm` tells, whichever
 * comes first, but not until {@link MIN_TICK_GAP_MS} after `began`.
 */
async function sleepOrAlarm(
  clock: Clock,
  began: number,
  waitMs: number,
  signal: AbortSignal,
  alarm: DueAlarm,
): Promise<void> {
  const floor = began + MIN_TICK_GAP_MS;
  let until = clock.now() + waitMs;
  for (;;) {
    until = Math.max(floor, Math.min(until, alarm.earliest));
    const ms = until - clock.now();
    if (ms <= 0 || signal.aborted) return pause(clock, ms, signal);
    const woken = new AbortController();
    const unlisten = alarm.listen((at) => {
      if (at < until) woken.abort();
    });
    try {
      await clock.sleep(ms, AbortSignal.any([signal, woken.signal]));
    } finally {
      unlisten();
    }
    if (!woken.signal.aborted || signal.aborted) return;
  }
}
