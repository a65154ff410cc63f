/**
 * @module backends/claim-lease
 * The lease a claim is made under, as every backend stores it with the
 * claim: a reclaimer takes a claim over only once it has gone unrenewed for
 * its own lease and for its holder's, whichever is longer — so a worker
 * given a short lease (fast takeover of dead workers' tasks) never takes
 * tasks from a live worker that renews less often, and a worker given a long
 * one (tasks that block the event loop) keeps them from reclaimers with the
 * default. A claim made without one (by an earlier version) goes by the
 * reclaimer's lease alone.
 */
import { InvalidOptionError } from "../errors.js";

/** The longest lease a claim records: a day, in ms. */
export const MAX_CLAIM_LEASE_MS = 86_400_000;

/** A claim's lease (ms) as given to `claim()`, checked; `null` when none is given. */
export function claimLeaseMs(leaseMs: number | undefined): number | null {
  if (leaseMs === undefined) return null;
  if (typeof leaseMs !== "number" || !Number.isFinite(leaseMs) || leaseMs < 0) {
    throw new InvalidOptionError(
      `claim leaseMs must be a number of ms ≥ 0 (got ${String(leaseMs)})`,
    );
  }
  return Math.min(Math.ceil(leaseMs), MAX_CLAIM_LEASE_MS);
}
