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

  /**
   * Resolves `true` when notified, `false` when `ms` elapsed (`null`: wait
   * without limit) or `signal` aborted.
   */
  wait(clock: Clock, ms: number | null, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const end = (notified: boolean) => {
        timer?.cancel();
        signal?.removeEventListener("abort", aborted);
        this.#wakers.delete(wake);
        resolve(notified);
      };
      const wake = () => end(true);
      const aborted = () => end(false);
      const timer = ms === null ? undefined : clock.setTimer(() => end(false), ms);
      signal?.addEventListener("abort", aborted, { once: true });
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
