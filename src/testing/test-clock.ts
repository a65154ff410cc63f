/**
 * @module testing/test-clock
 * A clock tests move by hand. Scheduled tasks, retry delays, the worker's
 * scheduler, task timeouts and everything else that asks the clock for time
 * or timers see only the time `advance()` sets — no test sleeps for real.
 */
import { type Clock, sleepWith, type Timer } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { MinHeap } from "../util/min-heap.js";

interface PendingTimer {
  readonly at: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets promise chains started by a timer run (and set their own timers) before time moves on. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class TestClock implements Clock {
  #now: number;
  readonly #timers = new MinHeap<PendingTimer>();

  /** @param start the clock's first reading (a `Date` or epoch ms); default: the real time now. */
  constructor(start: Date | number = Date.now()) {
    this.#now = start instanceof Date ? start.getTime() : start;
    if (!Number.isFinite(this.#now)) throw new InvalidOptionError("TestClock: invalid start time");
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
   * Moves time forward by `seconds`, firing every timer that falls due on the
   * way, in order, and letting the work each one starts settle before the next.
   */
  async advance(seconds: number): Promise<void> {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new InvalidOptionError(
        `TestClock.advance(): seconds must be a number ≥ 0 (got ${String(seconds)})`,
      );
    }
    await this.advanceTo(this.#now + seconds * 1000);
  }

  /** Moves time forward to `target` (a `Date` or epoch ms), firing due timers on the way. */
  async advanceTo(target: Date | number): Promise<void> {
    const until = target instanceof Date ? target.getTime() : target;
    if (!Number.isFinite(until))
      throw new InvalidOptionError("TestClock.advanceTo(): invalid time");
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
