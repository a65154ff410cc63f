/**
 * @module backends/sql/claim-wait
 * How a claim on a SQL backend waits for work: look; when nothing is
 * claimable, arm a wake-up signal, look again (so work that arrived in
 * between is not missed), and sleep on the signal — at most `pollMs`, so a
 * lost signal costs only that — until a look finds tasks, the wait is over,
 * or the backend disconnects. The backends differ only in their signals.
 */
import { InvalidOptionError } from "../../errors.js";

/** A wake-up for one waiting claim: armed before it looks, awaited after. */
export interface WorkSignal {
  /** Resolves on work for the queue (since arming), after `ms`, or when the backend disconnects. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

export interface ClaimWait<T> {
  /** One claim attempt. */
  readonly look: () => Promise<T[]>;
  /** A signal armed for the queue. */
  readonly arm: () => WorkSignal;
  readonly connected: () => boolean;
  /** Longest sleep between looks, whatever the signals say. */
  readonly pollMs: number;
}

/** A claim limit as the contract takes it (an integer ≥ 1), or an `InvalidOptionError`. */
export function checkClaimLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError(`claim limit must be an integer ≥ 1 (got ${String(limit)})`);
  }
}

/** Claims with `wait.look`, waiting up to `waitMs` for a first task (see the module header). */
export async function claimWaiting<T>(wait: ClaimWait<T>, waitMs: number): Promise<T[]> {
  const claimed = await wait.look();
  if (claimed.length > 0 || waitMs <= 0) return claimed;
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!wait.connected()) return [];
    const signal = wait.arm();
    let next: T[];
    try {
      next = await wait.look();
    } catch (error) {
      signal.cancel();
      throw error;
    }
    const remaining = deadline - Date.now();
    if (next.length > 0 || remaining <= 0) {
      signal.cancel();
      return next;
    }
    await signal.wait(Math.min(remaining, wait.pollMs));
  }
}
