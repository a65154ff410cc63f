/**
 * @module backends/sqlite/dedupe
 * Adds under dedupe keys: each call is one `BEGIN IMMEDIATE` transaction,
 * which holds the file's write lock from its start, so racing adds of one
 * key — from this process or another — are decided one after another by the
 * shared rule (`../dedupe-decision.ts`). `./task-store.ts` prunes the keys
 * that hold nothing.
 */
import type { TaskData } from "../../task/task-record.js";
import type { DedupeEntry, DedupeResult } from "../backend.js";
import { checkDedupeRecords, type DedupeSlot, decideDedupe } from "../dedupe-decision.js";
import { keyedEventBody } from "../event-positions.js";
import { routeOf } from "../record-route.js";
import { slotTaskStateOf } from "../sql/slot-state.js";
import { CLAIMABLE, storedColumns } from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";
import type { EventStore } from "./event-log.js";
import { insertNew, rowValues, takeNumbers } from "./rows.js";
import type { Signals } from "./signals.js";
import { REPLACE } from "./task-store.js";

const SLOT = "SELECT task_id, held_until FROM dedupe WHERE queue = ? AND key = ?";
const TASK = "SELECT state, status FROM tasks WHERE queue = ? AND id = ?";
const PUT_SLOT = `
INSERT INTO dedupe (queue, key, task_id, held_until) VALUES (?, ?, ?, ?)
ON CONFLICT (queue, key) DO UPDATE SET task_id = excluded.task_id, held_until = excluded.held_until`;

/** See `TaskStore.addDeduplicated`. */
export async function addDeduplicated(
  db: SqliteDatabase,
  signals: Signals,
  events: EventStore,
  queue: string,
  entries: readonly DedupeEntry[],
  now: number,
): Promise<DedupeResult[]> {
  db.assertConnected();
  if (entries.length === 0) return [];
  const records = checkDedupeRecords(entries, "SQLite");
  let claimable = false;
  let appended = false;
  const results = await db.write("addDeduplicated", () => {
    claimable = false;
    const bodies: string[] = [];
    const decided = entries.map((entry, i) => {
      const { result, queued } = addOne(db, queue, entry, records[i]!, now);
      claimable ||= queued;
      if (result.outcome !== "ignored" && entry.event !== undefined)
        bodies.push(keyedEventBody(result.id, entry.event));
      return result;
    });
    appended = events.appendWithin(queue, bodies);
    return decided;
  });
  if (claimable) signals.announceWork(queue);
  events.announce(queue, appended);
  return results;
}

/** Applies one entry inside the write transaction; `queued`: it made a task claimable. */
function addOne(
  db: SqliteDatabase,
  queue: string,
  { key, mode, windowMs }: DedupeEntry,
  record: TaskData,
  now: number,
): { result: DedupeResult; queued: boolean } {
  const row = db.statement(SLOT).get(queue, key) as
    | { task_id: string; held_until: number | null }
    | undefined;
  const slot: DedupeSlot | null = row ? { taskId: row.task_id, until: row.held_until } : null;
  const action = decideDedupe(
    slot,
    () =>
      slotTaskStateOf(
        db.statement(TASK).get(queue, slot!.taskId) as
          | { state: number; status: string }
          | undefined,
      ),
    mode,
    now,
  );
  if (action.kind === "ignore")
    return { result: { outcome: "ignored", id: action.id }, queued: false };
  if (action.kind === "replace") {
    const r = storedColumns({ ...record, id: action.id }, routeOf(record, null));
    const place = r.state === CLAIMABLE ? takeNumbers(db, "task_seq", 1) : null;
    db.statement(REPLACE).run(...rowValues(queue, r, place));
    return { result: { outcome: "replaced", id: action.id }, queued: r.state === CLAIMABLE };
  }
  const columns = storedColumns(record, routeOf(record, null));
  const [stored] = insertNew(db, queue, [columns]);
  // An id the queue holds is no new task: the key stays as it was.
  if (!stored) return { result: { outcome: "ignored", id: record.id }, queued: false };
  db.statement(PUT_SLOT).run(queue, key, record.id, windowMs === null ? null : now + windowMs);
  return { result: { outcome: "added", id: record.id }, queued: columns.state === CLAIMABLE };
}
