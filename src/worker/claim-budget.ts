/**
 * @module worker/claim-budget
 * The claims `maxTasks` still allows one `work()` call, shared by the claim
 * loops of all its queues. A loop takes claims before it claims and gives
 * back those it did not use; claims that became attempts are spent. A loop
 * that finds none free waits while another loop still holds some (they may
 * come back, e.g. when its queue was empty), and ends only when none are
 * free or held — so one queue's loop can never leave the others without
 * claims while tasks wait in their queues. Then a loop idly waiting for
 * work (holding no claims) stops waiting: `work()` returns once its last
 * task is done, not a claim wait later.
 */
export class ClaimBudget {
  #free: number;
  #held = 0;
  #spent = new AbortController();
  /** Loops waiting for claims, served in turn: claims given back go to them before anyone else. */
  readonly #waiting: { want: number; grant: (count: number) => void }[] = [];

  constructor(maxTasks: number) {
    this.#free = maxTasks;
  }

  /** Whether a budget of `maxTasks` can ever be spent (none is for a `work()` without it). */
  get finite(): boolean {
    return Number.isFinite(this.#free);
  }

  /** Aborted while the budget is spent for good: nothing free, nothing held. */
  get spent(): AbortSignal {
    return this.#spent.signal;
  }

  /** Claims neither spent nor held: what is left to take. */
  get free(): number {
    return this.#free;
  }

  /**
   * Takes up to `want` claims. Waits, in turn, while none are free but other
   * loops hold some; resolves 0 when the budget is spent for good, or `signal`
   * aborts.
   */
  take(want: number, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.resolve(0);
    if (this.#free > 0 && this.#waiting.length === 0) return Promise.resolve(this.#grant(want));
    if (this.#free <= 0 && this.#held === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const entry = {
        want,
        grant: (count: number) => {
          signal.removeEventListener("abort", abandon);
          resolve(count);
        },
      };
      const abandon = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(0);
      };
      this.#waiting.push(entry);
      signal.addEventListener("abort", abandon, { once: true });
    });
  }

  /** Takes up to `want` of the claims free now, without waiting (none while other loops wait for some); returns how many. */
  tryTake(want: number): number {
    return this.#waiting.length === 0 ? this.#grant(want) : 0;
  }

  /** Of the claims a loop took, `spent` became attempts and `unused` come back. */
  settle(spent: number, unused: number): void {
    this.#held -= spent + unused;
    this.#free += unused;
    this.#serve();
  }

  /** Spent claims that were no task of the user's (a workflow's resume): they come back. */
  refund(count: number): void {
    if (count <= 0) return;
    this.#free += count;
    if (this.#spent.signal.aborted) this.#spent = new AbortController();
    this.#serve();
  }

  #grant(want: number): number {
    const taken = Math.min(want, this.#free);
    this.#free -= taken;
    this.#held += taken;
    return taken;
  }

  #serve(): void {
    while (this.#free > 0 && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      next.grant(this.#grant(next.want));
    }
    // Nothing free and nothing that could come back: the waiting loops are done.
    if (this.#free <= 0 && this.#held === 0) {
      for (const next of this.#waiting.splice(0)) next.grant(0);
      this.#spent.abort();
    }
  }
}
