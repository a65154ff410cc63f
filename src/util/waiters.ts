/**
 * @module util/waiters
 * Wake-ups for in-process waiters: a waiter parks until someone calls
 * `notify()` or its time runs out. No polling: an idle waiter costs nothing.
 */
import type { Clock } from "../clock.js";

export class Waiters {
  readonly #wakers = new Set<() => void>();

  get count(): number {
    return this.#wakers.size;
  }

  /** Resolves `true` when notified, `false` when `ms` elapsed (`null`: wait without limit). */
  wait(clock: Clock, ms: number | null): Promise<boolean> {
    return new Promise((resolve) => {
      const timer =
        ms === null
          ? undefined
          : clock.setTimer(() => {
              this.#wakers.delete(wake);
              resolve(false);
            }, ms);
      const wake = () => {
        timer?.cancel();
        resolve(true);
      };
      this.#wakers.add(wake);
    });
  }

  /** Wakes every parked waiter (each re-checks its own condition). */
  notify(): void {
    if (this.#wakers.size === 0) return;
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}
