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
  /** Claims in flight: from a claim loop's pass starting until its tasks are started or handed back. */
  #claiming = 0;
  #quietWaiters: (() => void)[] = [];

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

  /** A claim loop's pass begins; `end()` it (idempotent) once its tasks are started or handed back. */
  claimStarted(): { end(): void } {
    this.#claiming++;
    let ended = false;
    return {
      end: () => {
        if (ended) return;
        ended = true;
        if (--this.#claiming > 0) return;
        const waiters = this.#quietWaiters;
        this.#quietWaiters = [];
        for (const wake of waiters) wake();
      },
    };
  }

  /** Resolves once no claim is in flight (at once when none is). */
  whenQuiet(): Promise<void> {
    if (this.#claiming === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#quietWaiters.push(resolve));
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
