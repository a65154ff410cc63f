/**
 * @module backends/memory/memory-transitions
 * How records enter and move through one in-memory queue (claims aside, see
 * `./memory-claims.ts`): added as pending or for a time; moved to pending
 * when due; stored after an attempt — a retry or a scheduled run waits for
 * its time (or is pending at once if that time has passed), a pending record
 * joins the queue, a finished one is kept until its retention runs out;
 * cancelled before it starts; deleted once finished. Nothing here waits or
 * wakes anyone: callers notify waiters from what these return.
 */
import { isoAt } from "../../clock.js";
import type { TaskData } from "../../task/task-record.js";
import type { RetentionDefaults } from "../../task/ttl.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

/** What storing a batch of records changed, for the caller to act on. */
export interface StoredOutcomes {
  /** A record became pending: `pop` waiters should look. */
  claimable: boolean;
  /** A record finished: `getResults` waiters should look. */
  finished: boolean;
  /** The earliest time a record now waits for, if any waits. */
  nextDue: number | undefined;
  /** Ids not written: the queue no longer holds them (deleted, cleared, expired). */
  lost: string[];
}

/**
 * Whether `id` may be (re)written: with `unique`, only when the queue does not
 * hold it; without, unless a worker is running it right now (replacing it
 * would start a second run of the same task).
 */
function mayWrite(state: MemoryQueueState, id: string, unique: boolean): boolean {
  return unique ? !state.tasks.has(id) : !state.processing.has(id);
}

/** Stores `task` in place of any record with its id, taken out of every other state first. */
function replace(state: MemoryQueueState, task: TaskData): void {
  state.unlink(task.id);
  state.tasks.set(task.id, task);
}

/** Adds tasks as pending: per task whether it was added (`results`), and the ids added. */
export function addPending(
  state: MemoryQueueState,
  tasks: readonly TaskData[],
  unique: boolean,
): { results: boolean[]; added: string[] } {
  const added: string[] = [];
  const results = tasks.map((task) => {
    if (!mayWrite(state, task.id, unique)) return false;
    replace(state, task);
    state.pending.add(task.id);
    added.push(task.id);
    return true;
  });
  return { results, added };
}

/** Adds `task` to wait until `at`; `false` when `unique` and it already exists. */
export function addScheduled(
  state: MemoryQueueState,
  task: TaskData,
  at: number,
  unique: boolean,
): boolean {
  if (!mayWrite(state, task.id, unique)) return false;
  replace(state, task);
  state.due.add(task.id, at);
  return true;
}

/** Makes every record due by `now` pending; returns them. */
export function moveDueToPending(state: MemoryQueueState, now: number): TaskData[] {
  const moved: TaskData[] = [];
  for (const id of state.due.takeDue(now)) {
    const record = state.tasks.get(id);
    if (!record) continue;
    const pending: TaskData = { ...record, status: "pending" };
    state.tasks.set(id, pending);
    state.pending.add(id);
    moved.push(pending);
  }
  return moved;
}

/** The time a record waits for (retry or scheduled run) as ISO text, or `null`. */
function dueTextOf(record: TaskData): string | null {
  if (record.status === "retrying") return record.nextRetryAt;
  if (record.status === "scheduled") return record.scheduledAt;
  return null;
}

/** Stores attempt outcomes (and other re-stored records) at `now`, routing each by its status. */
export function storeOutcomes(
  state: MemoryQueueState,
  records: readonly TaskData[],
  retention: RetentionDefaults,
  now: number,
): StoredOutcomes {
  const outcomes: StoredOutcomes = {
    claimable: false,
    finished: false,
    nextDue: undefined,
    lost: [],
  };
  for (let record of records) {
    // A late outcome must not bring back a record that was deleted, cleared or expired meanwhile.
    if (!state.tasks.has(record.id) || state.isExpired(record.id, now)) {
      outcomes.lost.push(record.id);
      continue;
    }
    state.unlink(record.id);
    const dueText = dueTextOf(record);
    if (dueText !== null) {
      const due = Date.parse(dueText);
      if (due > now) {
        state.due.add(record.id, due);
        if (outcomes.nextDue === undefined || due < outcomes.nextDue) outcomes.nextDue = due;
      } else {
        record = { ...record, status: "pending" };
        state.pending.add(record.id);
        outcomes.claimable = true;
      }
    } else if (record.status === "pending") {
      state.pending.add(record.id);
      outcomes.claimable = true;
    } else if (record.finishedAt !== null) {
      outcomes.finished = true;
      state.trackExpiry(record, retention, now);
    }
    state.tasks.set(record.id, record);
  }
  state.expire(now);
  return outcomes;
}

/** Cancels a pending or waiting task that is not claimed; returns its cancelled record, or `null`. */
export function cancelTask(
  state: MemoryQueueState,
  id: string,
  retention: RetentionDefaults,
  now: number,
): TaskData | null {
  const record = state.tasks.get(id);
  if (!record || record.finishedAt !== null || state.processing.has(id)) return null;
  if (!state.pending.has(id) && !state.due.has(id)) return null;
  state.unlink(id);
  const cancelled: TaskData = { ...record, status: "cancelled", finishedAt: isoAt(now) };
  state.tasks.set(id, cancelled);
  state.trackExpiry(cancelled, retention, now);
  return cancelled;
}

/** Deletes a finished record (expired ones pruned first); `false` when there is none or it has not finished. */
export function deleteFinished(state: MemoryQueueState, id: string, now: number): boolean {
  state.expire(now);
  const record = state.tasks.get(id);
  if (!record || record.finishedAt === null) return false;
  state.unlink(id);
  state.tasks.delete(id);
  return true;
}
