/**
 * @module backends/memory/memory-claims
 * Claims on one in-memory queue: taking pending tasks (FIFO, or exactly the
 * ids instant processing just added), renewing claims, and handing claims
 * not renewed in time to whoever asks. In one process there is no lease
 * owner to check: a claim is its id in `processing` with the time last seen.
 */
import { type Clock, isoAt } from "../../clock.js";
import type { TaskData } from "../../task/task-record.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

/** Marks `record` (just taken out of pending) as processing since `now`. */
function startRunning(
  state: MemoryQueueState,
  record: TaskData,
  startedAt: string,
  now: number,
): TaskData {
  const running: TaskData = { ...record, status: "processing", startedAt };
  state.tasks.set(record.id, running);
  state.processing.set(record.id, now);
  return running;
}

/** Claims up to `limit` pending tasks, oldest first (an empty queue does not even read the clock). */
export function claimPending(state: MemoryQueueState, limit: number, clock: Clock): TaskData[] {
  const claimed: TaskData[] = [];
  if (state.pending.size === 0) return claimed;
  const now = clock.now();
  const startedAt = isoAt(now);
  while (claimed.length < limit) {
    const id = state.pending.shift();
    if (id === undefined) break;
    const record = state.tasks.get(id);
    if (record) claimed.push(startRunning(state, record, startedAt, now));
  }
  return claimed;
}

/** Claims those of `ids` that are still pending. */
export function claimPendingIds(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
): TaskData[] {
  const startedAt = isoAt(now);
  const claimed: TaskData[] = [];
  for (const id of ids) {
    const record = state.tasks.get(id);
    if (!record || !state.pending.delete(id)) continue;
    claimed.push(startRunning(state, record, startedAt, now));
  }
  return claimed;
}

/** Renews the claims on `ids`; returns the ids no longer claimed. */
export function renewClaims(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
): string[] {
  const lost: string[] = [];
  for (const id of ids) {
    if (state.processing.has(id)) state.processing.set(id, now);
    else lost.push(id);
  }
  return lost;
}

/** Takes over claims not renewed for more than `idleMs` (renewed as of `now`); returns their records. */
export function takeStaleClaims(state: MemoryQueueState, idleMs: number, now: number): TaskData[] {
  const stale: TaskData[] = [];
  for (const [id, seen] of state.processing) {
    if (now - seen <= idleMs) continue;
    state.processing.set(id, now);
    const record = state.tasks.get(id);
    if (record) stale.push(record);
  }
  return stale;
}
