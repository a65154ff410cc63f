/**
 * @module backends/memory/memory-transitions
 * How records enter and move through one in-memory queue (claims aside, see
 * `./memory-claims.ts`): added as new work; settled at the end of an attempt
 * (fenced, with its chained tasks, in one synchronous step); promoted when
 * due; cancelled before they start; deleted once finished. Nothing here waits
 * or wakes anyone: the caller notifies from what these return.
 */
import { isoAt } from "../../clock.js";
import { readStoredRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import type { AddMode, Settlement, SettleResult } from "../backend.js";
import { checkNewWork, routeOf } from "../record-route.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

/** What a change made claimable, due or finished, for the caller to announce. */
export interface Changes {
  /** A record became claimable: `claim` waiters and the inline runner should look. */
  claimable: boolean;
  /** The earliest time a record now waits for, if any started waiting. */
  nextDue: number | undefined;
  /** Ids that finished. */
  finished: string[];
}

const noChanges = (): Changes => ({ claimable: false, nextDue: undefined, finished: [] });

function noteDue(changes: Changes, at: number): void {
  if (changes.nextDue === undefined || at < changes.nextDue) changes.nextDue = at;
}

/** Stores `record` under its id, routed as `add` routes new work (a timed record waits even if its time has passed). */
function storeNew(state: MemoryQueueState, record: TaskData, changes: Changes): void {
  state.unlink(record.id);
  state.tasks.set(record.id, record);
  const route = routeOf(record, null);
  if (route.kind === "due") {
    state.due.add(record.id, route.at);
    noteDue(changes, route.at);
  } else if (route.kind === "claimable") {
    state.pending.add(record.id);
    changes.claimable = true;
  } else {
    changes.finished.push(record.id);
  }
}

/** Adds new work (see `TaskStore.add`); returns per record whether it was stored. */
export function addRecords(
  state: MemoryQueueState,
  records: readonly TaskData[],
  mode: AddMode,
  now: number,
): { results: boolean[]; changes: Changes } {
  const read = records.map((given) =>
    readStoredRecord(
      typeof given?.id === "string" ? given.id : "",
      given,
      "task record added to memory",
      now,
    ),
  );
  checkNewWork(
    read.filter((r) => !r.malformed).map((r) => r.record),
    "add",
  );
  const changes = noChanges();
  const seen = new Set<string>();
  const results = read.map(({ record }) => {
    const { id } = record;
    const again = seen.has(id);
    seen.add(id);
    if (again) return false;
    if (mode === "unique" ? state.tasks.has(id) : state.claims.has(id)) return false;
    storeNew(state, record, changes);
    return true;
  });
  return { results, changes };
}

/** Whether settlement `s` may be written: its claim is current. `null` when it was written already (a resend). */
function mayWrite(state: MemoryQueueState, s: Settlement, now: number): boolean | null {
  const { id } = s.record;
  if (!state.tasks.has(id) || state.isExpired(id, now)) return false;
  if (state.claims.get(id)?.fence === s.fence) return true;
  return state.fences.get(id)?.settled === s.fence ? null : false;
}

/** Writes settlements (see `TaskStore.settle`), each all or nothing; returns one result per settlement. */
export function settleRecords(
  state: MemoryQueueState,
  settlements: readonly Settlement[],
  now: number,
  maxFinished: number | null,
): { results: SettleResult[]; changes: Changes } {
  // Route everything first: a bad record is refused before anything is written.
  const routes = settlements.map((s) => routeOf(s.record, now));
  const changes = noChanges();
  const results = settlements.map((s, i): SettleResult => {
    const verdict = mayWrite(state, s, now);
    if (verdict === null) return "settled";
    if (!verdict) return "lost";
    let record = s.record;
    const { id } = record;
    state.unlink(id);
    state.fences.get(id)!.settled = s.fence;
    const route = routes[i]!;
    if (route.kind === "finished") {
      if (s.expiresAt !== null) state.expires.add(id, s.expiresAt);
      changes.finished.push(id);
    } else if (route.kind === "due") {
      state.due.add(id, route.at);
      noteDue(changes, route.at);
    } else {
      if (record.status !== "pending") record = { ...record, status: "pending" };
      state.pending.add(id);
      changes.claimable = true;
    }
    state.tasks.set(id, record);
    for (const child of s.children) {
      if (state.tasks.has(child.id)) continue;
      storeNew(state, child, changes);
    }
    return "settled";
  });
  state.bound(maxFinished);
  state.expire(now);
  return { results, changes };
}

/** Makes every record due by `now` claimable; returns their ids, earliest first. */
export function promoteDue(state: MemoryQueueState, now: number): string[] {
  const moved = state.due.takeDue(now);
  for (const id of moved) makeClaimable(state, id);
  return moved;
}

/** Makes the waiting records among `ids` claimable whatever their time (a test queue runs retries at once). */
export function promoteIds(state: MemoryQueueState, ids: readonly string[]): string[] {
  const moved = ids.filter((id) => state.due.delete(id));
  for (const id of moved) makeClaimable(state, id);
  return moved;
}

function makeClaimable(state: MemoryQueueState, id: string): void {
  const record = state.tasks.get(id);
  if (!record) return;
  state.tasks.set(id, { ...record, status: "pending" });
  state.pending.add(id);
}

/** Cancels a claimable or waiting task that is not claimed; returns its cancelled record, or `null`. */
export function cancelTask(
  state: MemoryQueueState,
  id: string,
  at: number,
  expiresAt: number | null,
): TaskData | null {
  const record = state.tasks.get(id);
  if (!record || record.finishedAt !== null || state.claims.has(id)) return null;
  if (!state.pending.has(id) && !state.due.has(id)) return null;
  state.unlink(id);
  const cancelled: TaskData = { ...record, status: "cancelled", finishedAt: isoAt(at) };
  state.tasks.set(id, cancelled);
  if (expiresAt !== null) state.expires.add(id, expiresAt);
  return cancelled;
}

/** Deletes a finished record (expired ones pruned first); `false` when there is none or it has not finished. */
export function deleteFinished(state: MemoryQueueState, id: string, now: number): boolean {
  state.expire(now);
  const record = state.tasks.get(id);
  if (!record || record.finishedAt === null) return false;
  return state.remove(id);
}
