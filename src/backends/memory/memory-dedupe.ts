/**
 * @module backends/memory/memory-dedupe
 * Adds under dedupe keys in one synchronous step per call (nothing else runs
 * in between, so racing adds of one key cannot both win), and drops the keys
 * that no longer hold anything. The rule itself is `../dedupe-decision.ts`.
 */
import type { DedupeEntry, DedupeResult } from "../backend.js";
import {
  checkDedupeRecords,
  decideDedupe,
  isSlotStale,
  type SlotTaskState,
} from "../dedupe-decision.js";
import type { MemoryQueueState } from "./memory-queue-state.js";
import { type Changes, noChanges, storeNew } from "./memory-transitions.js";

/** Where task `id` stands, for the dedupe rule. */
function taskState(state: MemoryQueueState, id: string, now: number): SlotTaskState {
  const entry = state.entries.get(id);
  if (!entry || state.isExpired(entry, now)) return "missing";
  if (entry.record.finishedAt !== null) return "finished";
  if (entry.claimFence !== 0) return "started";
  const { status } = entry.record;
  return status === "pending" || status === "scheduled" ? "waiting" : "started";
}

/** Applies each entry in order (see `TaskStore.addDeduplicated`). */
export function addDeduplicatedRecords(
  state: MemoryQueueState,
  entries: readonly DedupeEntry[],
  now: number,
): { results: DedupeResult[]; changes: Changes } {
  const records = checkDedupeRecords(entries, "memory");
  const changes = noChanges();
  const results = entries.map(({ key, mode, windowMs }, i): DedupeResult => {
    const record = records[i]!;
    const slot = state.dedupe.get(key) ?? null;
    const action = decideDedupe(slot, () => taskState(state, slot!.taskId, now), mode, now);
    if (action.kind === "ignore") return { outcome: "ignored", id: action.id };
    if (action.kind === "replace") {
      storeNew(state, { ...record, id: action.id }, changes);
      return { outcome: "replaced", id: action.id };
    }
    // A record whose id the queue holds is no new task: the key stays as it was.
    if (state.entries.has(record.id)) return { outcome: "ignored", id: record.id };
    storeNew(state, record, changes);
    state.dedupe.set(key, { taskId: record.id, until: windowMs === null ? null : now + windowMs });
    return { outcome: "added", id: record.id };
  });
  return { results, changes };
}

/** Drops keys whose window has passed or whose task has finished or gone; returns how many. */
export function pruneDedupe(state: MemoryQueueState, now: number): number {
  let dropped = 0;
  for (const [key, slot] of state.dedupe) {
    if (isSlotStale(slot, () => taskState(state, slot.taskId, now), now)) {
      state.dedupe.delete(key);
      dropped++;
    }
  }
  return dropped;
}
