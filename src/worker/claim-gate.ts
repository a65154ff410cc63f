/**
 * @module worker/claim-gate
 * A worker's own pause (`worker.pause()`): while the gate is closed its claim
 * loops claim nothing, and a claim waiting for work when it closes stops
 * waiting — what such a claim still brings back goes back unstarted. Tasks
 * already running go on, and their outcomes are stored. Unlike
 * `queue.pause()`, which every worker of the queue obeys and which is stored
 * with the queue, this is one process's, and lasts until `resume()` or the
 * process ends.
 */

export class ClaimGate {
  #paused = false;
  /** Aborted when the gate closes: ends a claim's wait for work. A fresh one after each reopening. */
  #closing = new AbortController();
  #waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.#paused;
  }

  /** A signal that aborts when the gate closes (already aborted while it is closed). */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Closes the gate; `true` when it was open. */
  close(): boolean {
    if (this.#paused) return false;
    this.#paused = true;
    this.#closing.abort();
    return true;
  }

  /** Opens the gate, waking the loops that wait at it; `true` when it was closed. */
  open(): boolean {
    if (!this.#paused) return false;
    this.#paused = false;
    this.#closing = new AbortController();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return true;
  }

  /** Resolves once the gate is open, or `stop` aborts. */
  whenOpen(stop: AbortSignal): Promise<void> {
    if (!this.#paused || stop.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        stop.removeEventListener("abort", done);
        this.#waiters = this.#waiters.filter((wake) => wake !== done);
        resolve();
      };
      this.#waiters.push(done);
      stop.addEventListener("abort", done, { once: true });
    });
  }
}
