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
  /** Stops listening; a wait under way resolves at once. */
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

/**
 * Claims with `wait.look`, waiting up to `waitMs` for a first task (see the
 * module header); an abort of `abort` ends the wait at once.
 */
export async function claimWaiting<T>(
  wait: ClaimWait<T>,
  waitMs: number,
  abort?: AbortSignal,
): Promise<T[]> {
  const claimed = await wait.look();
  if (claimed.length > 0 || waitMs <= 0) return claimed;
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!wait.connected() || abort?.aborted) return [];
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
    await sleepOn(signal, Math.min(remaining, wait.pollMs), abort);
  }
}

/** Sleeps on `signal` for at most `ms`, or until `abort` aborts (the signal is then cancelled). */
async function sleepOn(signal: WorkSignal, ms: number, abort?: AbortSignal): Promise<void> {
  if (!abort) return signal.wait(ms);
  const aborted = () => signal.cancel();
  abort.addEventListener("abort", aborted, { once: true });
  try {
    await signal.wait(ms);
  } finally {
    abort.removeEventListener("abort", aborted);
  }
}
