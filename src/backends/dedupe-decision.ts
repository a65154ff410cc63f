/**
 * @module backends/dedupe-decision
 * The one rule of an add under a dedupe key, decided here for every backend
 * that runs JavaScript inside its atomic step (memory, SQLite, PostgreSQL);
 * Redis's `add-deduplicated.lua` applies the same rule in the server. Each
 * backend reads the key's slot and the state of its task under its own lock,
 * asks this, and writes what it says.
 */
import { checkTaskData } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";
import type { DedupeEntry, DedupeMode } from "./backend.js";
import { checkNewWork } from "./record-route.js";

/** A key's entry in a queue's dedupe index: the task that took it, and until when (ms) a window holds it. */
export interface DedupeSlot {
  readonly taskId: string;
  /** End of the window (epoch ms); `null`: held while the task is unfinished. */
  readonly until: number | null;
}

/**
 * Where the slot's task stands: `missing` (deleted, expired), `finished`,
 * `waiting` (pending or scheduled, not claimed: it may be replaced), or
 * `started` (claimed now, or waiting for a retry after an attempt).
 */
export type SlotTaskState = "missing" | "finished" | "waiting" | "started";

/** What to do: `add` the new record (it takes the key), `ignore` it, or `replace` task `id`'s record with it. */
export type DedupeAction =
  | { readonly kind: "add" }
  | { readonly kind: "ignore"; readonly id: string }
  | { readonly kind: "replace"; readonly id: string };

const ADD: DedupeAction = { kind: "add" };

/**
 * The action for an add in `mode` at `now`, given the key's slot (`null`: none)
 * and the state of its task (read only when the slot has no window).
 * An open window ignores every add of the key, whatever its mode or its task's
 * state (a throttle); a passed one is as good as none.
 */
export function decideDedupe(
  slot: DedupeSlot | null,
  taskState: () => SlotTaskState,
  mode: DedupeMode,
  now: number,
): DedupeAction {
  if (slot === null) return ADD;
  if (slot.until !== null) return slot.until > now ? { kind: "ignore", id: slot.taskId } : ADD;
  const state = taskState();
  if (state === "missing" || state === "finished") return ADD;
  if (mode === "ignore") return { kind: "ignore", id: slot.taskId };
  return state === "waiting" ? { kind: "replace", id: slot.taskId } : ADD;
}

/** Whether a slot may be dropped at `now`: its window has passed, or (without one) its task is finished or gone. */
export function isSlotStale(
  slot: DedupeSlot,
  taskState: () => SlotTaskState,
  now: number,
): boolean {
  if (slot.until !== null) return slot.until <= now;
  const state = taskState();
  return state === "missing" || state === "finished";
}

/**
 * The entries' records, checked before anything is written: each a readable
 * record (else `SerializationError` naming the field) of new work (else
 * `InvalidOptionError`). Unlike `add`, no failed stand-in is stored for an
 * unreadable one: nothing could hold its key.
 */
export function checkDedupeRecords(entries: readonly DedupeEntry[], store: string): TaskData[] {
  const records = entries.map(({ record }) =>
    checkTaskData(record, `task record added to ${store} under a dedupe key`),
  );
  checkNewWork(records, "addDeduplicated");
  return records;
}
