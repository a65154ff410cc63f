/**
 * @module backends/memory/memory-claims
 * Claims on one in-memory queue: taking claimable tasks (FIFO, or exactly
 * the ids a test queue names), renewing claims, and taking over claims not
 * renewed in time. Each claim gets the task's next fence; a claim is current
 * while `claims` holds that fence for the id.
 */
import { isoAt } from "../../clock.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimRef } from "../backend.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

/** The next fence of `id` (1 on its first claim). */
function nextFence(state: MemoryQueueState, id: string): number {
  const fences = state.fences.get(id);
  if (fences) return ++fences.issued;
  state.fences.set(id, { issued: 1, settled: 0 });
  return 1;
}

/** Marks `record` (just taken out of the claimable FIFO) as processing since `now`. */
function startClaim(
  state: MemoryQueueState,
  record: TaskData,
  startedAt: string,
  now: number,
): ClaimedTask {
  const running: TaskData = { ...record, status: "processing", startedAt };
  const fence = nextFence(state, record.id);
  state.tasks.set(record.id, running);
  state.claims.set(record.id, { fence, renewedAt: now });
  return { record: running, fence };
}

/** Claims up to `limit` claimable tasks, oldest first (an empty queue does not even read the clock). */
export function claimPending(
  state: MemoryQueueState,
  limit: number,
  now: () => number,
): ClaimedTask[] {
  const claimed: ClaimedTask[] = [];
  if (state.pending.size === 0) return claimed;
  const at = now();
  const startedAt = isoAt(at);
  while (claimed.length < limit) {
    const id = state.pending.shift();
    if (id === undefined) break;
    const record = state.tasks.get(id);
    if (record) claimed.push(startClaim(state, record, startedAt, at));
  }
  return claimed;
}

/** Claims those of `ids` that are claimable. */
export function claimPendingIds(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
): ClaimedTask[] {
  const startedAt = isoAt(now);
  const claimed: ClaimedTask[] = [];
  for (const id of ids) {
    const record = state.tasks.get(id);
    if (!record || !state.pending.delete(id)) continue;
    claimed.push(startClaim(state, record, startedAt, now));
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
    if (held?.fence === fence) held.renewedAt = now;
    else if (state.fences.get(id)?.settled !== fence) lost.push(id);
  }
  return lost;
}

/**
 * Takes over claims not renewed for more than `leaseMs` by `now` that were
 * already seen so, and not renewed since, at least `confirmMs` ago — each
 * under a new fence. Expired claims seen for the first time are only noted.
 */
export function takeExpiredClaims(
  state: MemoryQueueState,
  window: { leaseMs: number; confirmMs: number },
  now: number,
): ClaimedTask[] {
  const taken: ClaimedTask[] = [];
  for (const [id, held] of state.claims) {
    if (now - held.renewedAt <= window.leaseMs) continue;
    if (window.confirmMs > 0) {
      const seen = state.expiredSeen.get(id);
      if (seen?.renewedAt !== held.renewedAt) {
        state.expiredSeen.set(id, { renewedAt: held.renewedAt, at: now });
        continue;
      }
      if (now - seen.at < window.confirmMs) continue;
    }
    state.expiredSeen.delete(id);
    const record = state.tasks.get(id);
    if (!record) continue;
    const fence = nextFence(state, id);
    state.claims.set(id, { fence, renewedAt: now });
    taken.push({ record, fence });
  }
  return taken;
}
