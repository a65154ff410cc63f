/**
 * @module worker/backoff
 * Backoff for the worker's loops when the backend fails: exponential with
 * jitter, capped, reset after a success. A transient outage is survived and
 * logged once, not once per attempt.
 */
export class Backoff {
  #failures = 0;

  constructor(
    private readonly baseMs = 100,
    private readonly maxMs = 5000,
  ) {}

  get failing(): boolean {
    return this.#failures > 0;
  }

  /** Records a failure; returns how long to wait and whether this is the first failure of an outage. */
  fail(): { delayMs: number; first: boolean } {
    this.#failures++;
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** (this.#failures - 1));
    const delayMs = Math.round(exp / 2 + Math.random() * (exp / 2));
    return { delayMs, first: this.#failures === 1 };
  }

  /** Records a success; returns true when it ends an outage. */
  succeed(): boolean {
    const recovered = this.#failures > 0;
    this.#failures = 0;
    return recovered;
  }
}
