/**
 * @module worker/due-alarm
 * Tells a worker's scheduler about a task that becomes due before the
 * scheduler planned to look again: a retry or a put-off start this worker
 * settled, a task scheduled through one of its queues. Told, a sleeping
 * scheduler wakes at that time instead of at the end of its interval. Times
 * are on the scheduler's clock (epoch ms).
 */
export class DueAlarm {
  /** The earliest time told and not yet covered by a scheduler tick. */
  #earliest = Number.POSITIVE_INFINITY;
  readonly #listeners = new Set<(at: number) => void>();

  /** A task becomes due at `at`. */
  due(at: number): void {
    if (!(at < this.#earliest)) return;
    this.#earliest = at;
    for (const listener of this.#listeners) listener(at);
  }

  /** The earliest time told and not covered yet (`Infinity`: none). */
  get earliest(): number {
    return this.#earliest;
  }

  /** A tick that began at `began` promotes whatever was due by then: those times are covered. */
  covered(began: number): void {
    if (this.#earliest <= began) this.#earliest = Number.POSITIVE_INFINITY;
  }

  /** Calls `listener` with each earlier time told, until the returned function is called. */
  listen(listener: (at: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
