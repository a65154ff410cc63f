/**
 * @module testing/test-clock
 * A clock tests move by hand. Scheduled tasks, retry delays, the worker's
 * scheduler, task timeouts and everything else that asks the clock for time
 * or timers see only the time `advance()` sets — no test sleeps for real.
 */
import { type Clock, isoAt, sleepWith, type Timer } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { MinHeap } from "../util/min-heap.js";
import { describeInstant, inRange, instantOf, pastRangeMessage } from "./clock-instants.js";
import { settle } from "./event-loop-turns.js";

interface PendingTimer {
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when the test moves it: `advance(seconds)` or
 * `advanceTo(date)`, which fire every timer that falls due on the way.
 *
 * Advances run one after another: one called while another is still running
 * (`Promise.all([clock.advance(10), clock.advance(10)])`, or a forgotten
 * `await`) starts when the earlier one has finished, from the time it left,
 * so the two move the clock 20 seconds, as two awaited calls would.
 *
 * The clock only moves forward, and only within the times a `Date` holds
 * (less 10 years, so that now plus any duration Sheppy accepts still is one):
 * anything else is refused at the call with an `InvalidOptionError`.
 *
 * It works under `vi.useFakeTimers()`: `advance()` waits for the work a timer
 * starts with the real `setImmediate`, taken when `sheppy/testing` loads.
 */
export class TestClock implements Clock {
  #now: number;
  readonly #timers = new MinHeap<PendingTimer>();
  /** The last advance asked for, settled or not: the next one starts after it. */
  #advancing: Promise<void> = Promise.resolve();

  /** @param start the clock's first reading (a `Date` or epoch ms); default: the real time now. */
  constructor(start: Date | number = Date.now()) {
    this.#now = instantOf(start, "new TestClock()", "the start");
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), fn, cancelled: false };
    this.#timers.push(timer.at, timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /**
   * Moves time forward by `seconds` from where the previous advance left it,
   * firing every timer that falls due on the way, in order, and letting the
   * work each one starts settle before the next.
   */
  async advance(seconds: number): Promise<void> {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new InvalidOptionError(
        `TestClock.advance(): seconds must be a number ≥ 0 (got ${describeGiven(seconds)})`,
      );
    }
    await this.#after(() => {
      const until = this.#now + seconds * 1000;
      if (!inRange(until)) throw new InvalidOptionError(pastRangeMessage(seconds, this.#now));
      return this.#moveTo(until);
    });
  }

  /**
   * Moves time forward to `target` (a `Date` or epoch ms), firing due timers
   * on the way. A target before the clock's now (when this advance starts) is refused.
   */
  async advanceTo(target: Date | number): Promise<void> {
    const until = instantOf(target, "TestClock.advanceTo()", "the target");
    await this.#after(() => {
      if (until < this.#now) {
        const hint = typeof target === "number" ? "; to move by seconds, use advance(seconds)" : "";
        throw new InvalidOptionError(
          `TestClock.advanceTo(): the target ${describeInstant(target)} is before the clock's now (${isoAt(this.#now)}); a TestClock only moves forward${hint}`,
        );
      }
      return this.#moveTo(until);
    });
  }

  /** Runs `move` once every advance asked for earlier has finished; a failed one does not stop the next. */
  #after(move: () => Promise<void>): Promise<void> {
    const run = this.#advancing.then(move);
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  async #moveTo(until: number): Promise<void> {
    await settle();
    for (;;) {
      const at = this.#timers.peekKey();
      if (at === undefined || at > until) break;
      const timer = this.#timers.pop()!;
      if (timer.cancelled) continue;
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, until);
    await settle();
  }

  /** Timers waiting to fire (cancelled ones excluded). */
  get pendingTimers(): number {
    let count = 0;
    // The heap is small in tests; counting through a copy keeps the heap itself untouched.
    const copy = new MinHeap<PendingTimer>();
    for (let timer = this.#timers.pop(); timer; timer = this.#timers.pop()) {
      if (!timer.cancelled) count++;
      copy.push(timer.at, timer);
    }
    for (let timer = copy.pop(); timer; timer = copy.pop()) this.#timers.push(timer.at, timer);
    return count;
  }
}
