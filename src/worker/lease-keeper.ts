/**
 * @module worker/lease-keeper
 * One loop per worker, not one timer per task: renews the claims of every
 * attempt this worker has not landed yet (a renewal also tells which claims
 * are no longer its own: taken over, cancelled or deleted), and, less often,
 * takes over claims whose holder stopped renewing them (reclaim), handing
 * them to `onExpired` without waiting for it (settling a takeover must not
 * hold up renewals).
 *
 * A renewal that fails (the backend is unreachable) is tried again soon, not
 * a whole interval later, so that once the backend answers again this worker
 * renews at once. A reclaim only takes over a claim that the backend has seen
 * expired for a whole confirmation window — longer than a heartbeat interval
 * — so after an outage or a server pause every live holder gets to renew
 * first, whoever reconnects first.
 */
import type { ClaimedTask, ClaimRef } from "../backends/backend.js";
import type { Clock } from "../clock.js";
import type { Queue } from "../queue/queue.js";

/** A renewal that failed is tried again after this long (then every heartbeat interval at most). */
const RENEW_RETRY_MS = 250;

export interface LeaseKeeperOptions {
  /** The queues whose claims are renewed. */
  queues: readonly Queue[];
  /** The queues whose expired claims are taken over (their backend has leases). */
  reclaimQueues: readonly Queue[];
  clock: Clock;
  heartbeatMs: number;
  reclaimMs: number;
  leaseMs: number;
  /** How long a claim must stay expired, as the backend sees it, before it is taken over. */
  confirmMs: number;
  signal: AbortSignal;
  /** The claims this worker keeps in `queue`. */
  claimsIn: (queue: Queue) => ClaimRef[];
  /** Claims the backend no longer holds as this worker's (each named by id and fence). */
  onLost: (queue: Queue, claims: ClaimRef[]) => void;
  onExpired: (queue: Queue, claims: ClaimedTask[]) => Promise<void>;
  /** `first`: the first failure of `during` since it last worked (or since the start). */
  onError: (error: unknown, during: string, first: boolean) => void;
  /** `during` works again after failing. */
  onRecovered?: (during: string) => void;
  /**
   * The loop woke `stalledMs` after it went to sleep, over half a lease later
   * than it meant to: the event loop was blocked (synchronous code) or the
   * process paused, and no claim was renewed meanwhile.
   */
  onStall?: (stalledMs: number) => void;
}

export async function runLeaseKeeper(options: LeaseKeeperOptions): Promise<void> {
  const { queues, clock, signal } = options;
  let lastReclaim = clock.now();
  let renewFailed = false;
  // Kinds of upkeep failing now: a streak of failures is reported as failing once, then as working again.
  const failing = new Set<string>();
  const failed = (error: unknown, during: string) => {
    const first = !failing.has(during);
    failing.add(during);
    options.onError(error, during, first);
  };
  const worked = (during: string) => {
    if (failing.delete(during)) options.onRecovered?.(during);
  };
  while (!signal.aborted) {
    const planned = renewFailed
      ? Math.min(RENEW_RETRY_MS, options.heartbeatMs)
      : options.heartbeatMs;
    const sleptAt = clock.now();
    await clock.sleep(planned, signal);
    if (signal.aborted) break;
    const slept = clock.now() - sleptAt;
    if (slept - planned > options.leaseMs / 2) options.onStall?.(slept);
    renewFailed = false;
    let renewed = false;
    for (const queue of queues) {
      const claims = options.claimsIn(queue);
      if (claims.length === 0) continue;
      try {
        const lost = await renewEach(queue, claims);
        renewed = true;
        if (lost.length > 0) options.onLost(queue, lost);
      } catch (error) {
        renewFailed = true;
        failed(error, "heartbeat");
      }
    }
    // Working again only once a renewal went through: with no claims to renew, nothing was tried.
    if (renewed && !renewFailed) worked("heartbeat");
    // A worker that cannot renew its own claims cannot judge anyone else's.
    if (renewFailed || clock.now() - lastReclaim < options.reclaimMs) continue;
    lastReclaim = clock.now();
    let reclaimFailed = false;
    for (const queue of options.reclaimQueues) {
      try {
        const expired = await queue.backend.reclaimExpired(queue.name, {
          leaseMs: options.leaseMs,
          confirmMs: options.confirmMs,
        });
        // Not awaited: settling a takeover may be retried for a long while, and this
        // worker's own claims must be renewed meanwhile.
        if (expired.length > 0)
          options.onExpired(queue, expired).catch((error) => failed(error, "reclaim"));
      } catch (error) {
        reclaimFailed = true;
        failed(error, "reclaim");
      }
    }
    if (!reclaimFailed) worked("reclaim");
  }
}

/**
 * Renews `claims`; returns those lost. A renewal answers by task id, so two
 * claims of one task — an attempt still running after its task was cancelled
 * and re-run, beside the re-run's attempt — go in separate calls: the answer
 * for one must not be read as the other's. Almost always one call.
 */
async function renewEach(queue: Queue, claims: readonly ClaimRef[]): Promise<ClaimRef[]> {
  const lost: ClaimRef[] = [];
  let rest = claims;
  while (rest.length > 0) {
    const seen = new Set<string>();
    const batch: ClaimRef[] = [];
    const later: ClaimRef[] = [];
    for (const claim of rest) {
      if (seen.has(claim.id)) later.push(claim);
      else {
        seen.add(claim.id);
        batch.push(claim);
      }
    }
    const ids = new Set(await queue.backend.renew(queue.name, batch));
    if (ids.size > 0) for (const claim of batch) if (ids.has(claim.id)) lost.push(claim);
    rest = later;
  }
  return lost;
}
