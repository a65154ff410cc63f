/**
 * @module testing/event-loop-turns
 * The event-loop turns a `TestClock` waits for while the work its timers
 * started settles. They come from the `setImmediate` this module found when
 * it loaded: `vi.useFakeTimers()` (and jest's fake timers) replace the global
 * one later, and a fake `setImmediate` fires only when the fake clock is
 * advanced, so waiting on it would hang every `advance()`.
 */
import { SheppyError } from "../errors.js";

const loadedWith = globalThis.setImmediate;

/** @sinonjs/fake-timers (behind vitest's and jest's fake timers) marks each function it installs with its `clock`. */
const isFake = (fn: typeof setImmediate): boolean => "clock" in fn;

/** A `setImmediate` that really fires: the one found at load, else the global one if it is real now. */
function realSetImmediate(): typeof setImmediate {
  if (!isFake(loadedWith)) return loadedWith;
  if (!isFake(globalThis.setImmediate)) return globalThis.setImmediate;
  throw new SheppyError(
    "TestClock: setImmediate was already faked when sheppy/testing loaded, and is faked now; import sheppy/testing before calling vi.useFakeTimers() (or turn fake timers off globally)",
  );
}

/** Lets promise chains started by a timer run (and set their own timers) before time moves on. */
export async function settle(): Promise<void> {
  const next = realSetImmediate();
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => next(resolve));
}
