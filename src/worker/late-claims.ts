/**
 * @module worker/late-claims
 * Backend calls of the claim loops (a claim, a rate check of claimed tasks)
 * still unanswered when the run is told to stop. Stopping does not wait for
 * them: a claim blocked on a server that stopped answering would otherwise
 * hold the whole shutdown — the running tasks' grace included — until the
 * call timed out. The loop ends at once and the call is kept here; whatever
 * it claimed is put back in the queue when it answers, and the shutdown waits
 * for that only within its grace. A call that fails instead may have claimed
 * all the same: the backend hands those tasks back at its next claim, or they
 * are taken over once their leases expire.
 */
export class LateClaims {
  readonly #unanswered = new Set<Promise<void>>();

  /**
   * `call`'s answer, or `undefined` as soon as `stop` aborts while it is
   * unanswered; then `putBack` gets the answer when it comes (a failure is
   * dropped, see the module header).
   */
  unlessStopped<T>(
    call: Promise<T>,
    stop: AbortSignal,
    putBack: (answer: T) => void,
  ): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      let waiting = true;
      const giveUp = () => {
        if (!waiting) return;
        waiting = false;
        const kept: Promise<void> = call
          .then(putBack)
          .catch(() => undefined)
          .finally(() => this.#unanswered.delete(kept));
        this.#unanswered.add(kept);
        resolve(undefined);
      };
      const answer = (settle: () => void) => {
        if (!waiting) return;
        waiting = false;
        stop.removeEventListener("abort", giveUp);
        settle();
      };
      call.then(
        (value) => answer(() => resolve(value)),
        (error: unknown) => answer(() => reject(error)),
      );
      if (stop.aborted) giveUp();
      else stop.addEventListener("abort", giveUp, { once: true });
    });
  }

  /** Calls left unanswered at the stop that have not answered yet. */
  get unanswered(): number {
    return this.#unanswered.size;
  }

  /** Resolves once every call left unanswered at the stop has answered (or failed) and what it claimed was handed back. */
  settled(): Promise<void> {
    return Promise.all(this.#unanswered).then(() => undefined);
  }
}
