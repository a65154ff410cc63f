/**
 * @module backends/known-down
 * How long a call to a server backend (Redis, PostgreSQL) keeps trying to
 * reach it. A caller's call waits the backend's whole `unavailableAfter`; a
 * worker loop's call (which retries on its own) `FAIL_FAST_MS`. Once a
 * caller's call has waited its whole bound without reaching the server, the
 * server is known to be down: until a call gets through again, callers'
 * calls try for `KNOWN_DOWN_MS` only, so a caller such as an HTTP request is
 * told at once rather than each one waiting the whole bound again for a
 * server already known gone.
 */

/** How long a worker loop's call waits for the server to come back, in ms. */
const FAIL_FAST_MS = 1000;
/**
 * How long a caller's call waits while the server is known to be down: long
 * enough to span a reconnect attempt, so the first call after the server is
 * back still gets through.
 */
const KNOWN_DOWN_MS = 2000;

/** One call's time bound, as {@link KnownDown.bound} gives it. */
export interface CallBound {
  readonly ms: number;
  /** The caller's whole `unavailableAfter`: its failure to reach the server makes it known down. */
  readonly full: boolean;
  /** Since when the server has been known down, when it was at the start of a caller's call. */
  readonly downSince: number | undefined;
}

/** A session's knowledge of whether its server is known to be down. */
export class KnownDown {
  #since: number | undefined;

  constructor(private readonly unavailableAfterMs: number) {}

  /** The bound of a call starting now; `wait` false for a worker loop's call. */
  bound(wait: boolean): CallBound {
    const since = this.#since;
    const full = wait && since === undefined;
    const ms = full
      ? this.unavailableAfterMs
      : Math.min(wait ? KNOWN_DOWN_MS : FAIL_FAST_MS, this.unavailableAfterMs);
    return { ms, full, downSince: wait ? since : undefined };
  }

  /** A call got through (or the session connected again): the server is up. */
  reached(): void {
    this.#since = undefined;
  }

  /** A call with its whole bound could not reach the server. */
  gaveUp(bound: CallBound): void {
    if (bound.full) this.#since = Date.now();
  }

  /** Why a caller's call tried only briefly, for its "cannot be reached"; `null` when it did not. */
  reason(bound: CallBound): string | null {
    if (bound.downSince === undefined) return null;
    return `unreachable since ${new Date(bound.downSince).toISOString()}; until a call gets through again, calls try for ${bound.ms / 1000} s instead of ${this.unavailableAfterMs / 1000} s`;
  }
}
