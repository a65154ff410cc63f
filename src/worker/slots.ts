/**
 * @module worker/slots
 * The worker's concurrency limit: a counting semaphore whose callers reserve
 * several slots at once (one claim call fetches as many tasks as it has slots).
 */
export class Slots {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly capacity: number) {
    this.#free = capacity;
  }

  get free(): number {
    return this.#free;
  }

  get inUse(): number {
    return this.capacity - this.#free;
  }

  /** Waits until at least one slot is free, then reserves up to `want`. Resolves 0 if `signal` aborts first. */
  async reserve(want: number, signal: AbortSignal): Promise<number> {
    while (this.#free === 0) {
      if (signal.aborted) return 0;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#waiters.push(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
    if (signal.aborted) return 0;
    const taken = Math.min(want, this.#free);
    this.#free -= taken;
    return taken;
  }

  /** Reserves up to `want` of the slots free now, without waiting; returns how many. */
  tryReserve(want: number): number {
    const taken = Math.min(want, this.#free);
    this.#free -= taken;
    return taken;
  }

  release(count = 1): void {
    if (count <= 0) return;
    this.#free = Math.min(this.capacity, this.#free + count);
    const waiters = this.#waiters.splice(0);
    for (const wake of waiters) wake();
  }
}
