/**
 * @module worker/fake-timers
 * A worker on the machine's clock under fake timers (`vi.useFakeTimers()`,
 * jest's) sleeps until the test advances them: without that, it and every
 * wait for its tasks hang until the test's own timeout, with no word why.
 */
import { type Clock, systemClock } from "../clock.js";
import type { Logger } from "../observability/logger.js";

/** @sinonjs/fake-timers (behind vitest's and jest's fake timers) marks each function it installs with its `clock`. */
function timersFaked(): boolean {
  return "clock" in globalThis.setTimeout;
}

/** Warns once per run when `clock` is the machine's and `setTimeout` is faked; a test that does advance them goes on as before. */
export function warnIfTimersFaked(logger: Logger, clock: Clock): void {
  if (clock !== systemClock || !timersFaked()) return;
  logger.warn(
    "setTimeout is faked (vi.useFakeTimers()): this worker's loops wait for timers that fire only as the test advances them, and so does a queue.waitFor(); give the Worker and its Queue a TestClock (sheppy/testing) instead, or keep setTimeout real (toFake without it)",
  );
}
