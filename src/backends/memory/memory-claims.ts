/**
 * @module backends/memory/memory-claims
 * Claims on one in-memory queue: taking claimable tasks (FIFO, or exactly
 * the ids a test queue names), renewing claims, and taking over claims not
 * renewed in time. Each claim gets the task's next fence; a claim is current
 * while the task's entry holds that fence.
 */
import { isoAt } from "../../clock.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimLease, ClaimRef } from "../backend.js";
import type { MemoryQueueState, TaskEntry } from "./memory-queue-state.js";

/** Claims the entry of `id` (just taken out of the claimable FIFO) as processing since `now`. */
function startClaim(
  state: MemoryQueueState,
  id: string,
  entry: TaskEntry,
  startedAt: string,
  now: number,
  leaseMs: number,
): ClaimedTask {
  const running: TaskData = { ...entry.record, status: "processing", startedAt };
  const fence = entry.takeFence();
  entry.record = running;
  state.hold(id, entry, fence, now, leaseMs);
  return { record: running, fence };
}

/** Claims up to `limit` claimable tasks, oldest first (an empty queue does not even read the clock). */
export function claimPending(
  state: MemoryQueueState,
  limit: number,
  now: () => number,
  leaseMs = 0,
): ClaimedTask[] {
  const claimed: ClaimedTask[] = [];
  if (state.pending.size === 0) return claimed;
  const at = now();
  const startedAt = isoAt(at);
  while (claimed.length < limit) {
    const entry = state.pending.shift();
    if (entry === undefined) break;
    claimed.push(startClaim(state, entry.record.id, entry, startedAt, at, leaseMs));
  }
  return claimed;
}

/** Claims those of `ids` that are claimable, at most `limit`. */
export function claimPendingIds(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
  limit = ids.length,
): ClaimedTask[] {
  const startedAt = isoAt(now);
  const claimed: ClaimedTask[] = [];
  for (const id of ids) {
    if (claimed.length >= limit) break;
    const entry = state.entries.get(id);
    if (!entry || !state.pending.delete(entry)) continue;
    claimed.push(startClaim(state, id, entry, startedAt, now, 0));
  }
  return claimed;
}

/** Renews the current claims among `claims`; returns the ids whose claim is gone and was not settled by its holder. */
export function renewClaims(
  state: MemoryQueueState,
  claims: readonly ClaimRef[],
  now: number,
): string[] {
  const lost: string[] = [];
  for (const { id, fence } of claims) {
    const held = state.claims.get(id);
    if (held?.claimFence === fence) held.renewedAt = now;
    else if (state.entries.get(id)?.settledFence !== fence) lost.push(id);
  }
  return lost;
}

/**
 * Takes over claims not renewed for more than `leaseMs` — or the longer lease
 * their holder claimed them under — by `now` that were
 * already seen so, and not renewed since, at least `confirmMs` ago — each
 * under a new fence. Expired claims seen for the first time are only noted.
 */
export function takeExpiredClaims(
  state: MemoryQueueState,
  window: { leaseMs: number; confirmMs: number },
  now: number,
): ClaimedTask[] {
  const taken: ClaimedTask[] = [];
  for (const [id, entry] of state.claims) {
    if (now - entry.renewedAt <= Math.max(window.leaseMs, entry.leaseMs)) continue;
    if (window.confirmMs > 0) {
      const seen = state.expiredSeen.get(id);
      if (seen?.renewedAt !== entry.renewedAt) {
        state.expiredSeen.set(id, { renewedAt: entry.renewedAt, at: now });
        continue;
      }
      if (now - seen.at < window.confirmMs) continue;
    }
    state.expiredSeen.delete(id);
    const fence = entry.takeFence();
    state.hold(id, entry, fence, now, window.leaseMs);
    taken.push({ record: entry.record, fence });
  }
  return taken;
}

/** The claims held now on those of `ids` that are claimed: age since renewal and the holder's lease (0 kept: none said). */
export function claimLeasesOf(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
): Map<string, ClaimLease> {
  const leases = new Map<string, ClaimLease>();
  for (const id of ids) {
    const entry = state.claims.get(id);
    if (entry === undefined) continue;
    leases.set(id, {
      renewedAgoMs: Math.max(0, now - entry.renewedAt),
      leaseMs: entry.leaseMs > 0 ? entry.leaseMs : null,
    });
  }
  return leases;
}
