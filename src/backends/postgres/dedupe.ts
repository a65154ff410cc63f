/**
 * @module backends/postgres/dedupe
 * Adds under dedupe keys: each call is one transaction, and each entry in it
 * first takes the row lock of its key's slot (inserting the slot when there
 * is none), so racing adds of one key from any number of connections are
 * decided one after another by the shared rule (`../dedupe-decision.ts`).
 * The task row is locked too, so no claim takes it between the decision
 * and a replace. Written rows carry the call's token, as an add's do. The
 * events of the entries added or replaced are appended once, last, so the
 * queue's event lock is taken after every slot lock, never between them.
 *
 * Within an application's transaction (`add(…, { tx })`), only `ignore`
 * adds are made, and a key's slot is locked only to take it: a key found
 * held by an unfinished task (or within its window) is answered from a
 * plain read, so the transaction holds no lock for a key it did not take.
 * The slot task is never locked there: its settle would wait for the
 * application's commit while holding the queue's event lock, which that
 * commit takes to append its events. A key another open transaction took
 * waits for that transaction to end, as a unique index does. The added
 * task's event waits for the commit, as a plain add's within it does.
 */

import { InvalidOptionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { DedupeEntry, DedupeResult, SqlTransaction } from "../backend.js";
import {
  checkDedupeRecords,
  type DedupeSlot,
  decideDedupe,
  type SlotTaskState,
} from "../dedupe-decision.js";
import { keyedEventBody } from "../event-positions.js";
import { routeOf } from "../record-route.js";
import { requestToken } from "../request-token.js";
import { slotTaskStateOf } from "../sql/slot-state.js";
import type { EventStore } from "./event-log.js";
import { storedColumns } from "./record-codec.js";
import type { PgSession, Sql, Tx } from "./session.js";
import {
  ADD_REPLACE,
  ADD_UNIQUE,
  ADD_UNIQUE_WITHIN,
  addValues,
  queryWithin,
} from "./task-store.js";

/** Takes a free key: its slot, held by the new task, locked by this transaction until it ends. */
const TAKE_SLOT = `
INSERT INTO %SCHEMA%.dedupe (queue, key, task_id, held_until) VALUES ($1, $2, $3, $4)
ON CONFLICT (queue, key) DO NOTHING
RETURNING 1 AS taken`;

/** The slot of a key another add took, locked (waiting for that add's transaction to end). */
const LOCK_SLOT = `
SELECT task_id, held_until FROM %SCHEMA%.dedupe WHERE queue = $1 AND key = $2 FOR UPDATE`;

const MOVE_SLOT = `UPDATE %SCHEMA%.dedupe SET task_id = $3, held_until = $4 WHERE queue = $1 AND key = $2`;
const DROP_SLOT = "DELETE FROM %SCHEMA%.dedupe WHERE queue = $1 AND key = $2";

/** The slot's task, locked, with where it stands. */
const LOCK_TASK = `
SELECT state, status FROM %SCHEMA%.tasks WHERE queue = $1 AND id = $2 FOR UPDATE`;

/** A key's slot as committed, unlocked. */
const READ_SLOT = "SELECT task_id, held_until FROM %SCHEMA%.dedupe WHERE queue = $1 AND key = $2";

/** Where the slot's task stands, unlocked. */
const READ_TASK = "SELECT state, status FROM %SCHEMA%.tasks WHERE queue = $1 AND id = $2";

/** See `TaskStore.addDeduplicated`; with `appTx`, within the application's transaction (see the module header). */
export async function addDeduplicated(
  session: PgSession,
  events: EventStore,
  queue: string,
  entries: readonly DedupeEntry[],
  now: number,
  appTx?: SqlTransaction,
): Promise<DedupeResult[]> {
  session.assertConnected();
  if (entries.length === 0) return [];
  const records = checkDedupeRecords(entries, "PostgreSQL");
  if (appTx) return addAllWithin(session, appTx, events, queue, entries, records, now);
  // A resend could not tell an add of its own from another's: a lost commit fails the call instead.
  return session.transaction(
    "addDeduplicated",
    async (tx) => {
      const results: DedupeResult[] = [];
      const bodies: string[] = [];
      for (const [i, entry] of entries.entries()) {
        // A token per entry: a replace skips rows written under its own token (a resent add's).
        const result = await addOne(session, tx, queue, entry, records[i]!, now, requestToken());
        if (result.outcome !== "ignored" && entry.event !== undefined)
          bodies.push(keyedEventBody(result.id, entry.event));
        results.push(result);
      }
      await events.appendWithin(tx, queue, bodies);
      return results;
    },
    { resend: "unsent" },
  );
}

async function addOne(
  session: PgSession,
  tx: Tx,
  queue: string,
  { key, mode, windowMs }: DedupeEntry,
  record: TaskData,
  now: number,
  token: string,
): Promise<DedupeResult> {
  const heldUntil = windowMs === null ? null : now + windowMs;
  let slot: DedupeSlot | null = null;
  let fresh = false;
  // A slot dropped by a prune between the two statements is taken on the next turn.
  while (!fresh && slot === null) {
    const taken = await tx.query(session.sql(TAKE_SLOT), [queue, key, record.id, heldUntil]);
    fresh = taken.length > 0;
    if (fresh) break;
    const [row] = await tx.query<{ task_id: string; held_until: string | null }>(
      session.sql(LOCK_SLOT),
      [queue, key],
    );
    if (row) {
      slot = {
        taskId: row.task_id,
        until: row.held_until === null ? null : Number(row.held_until),
      };
    }
  }
  let state: SlotTaskState = "missing";
  if (slot !== null && slot.until === null) {
    const [row] = await tx.query<{ state: number; status: string }>(session.sql(LOCK_TASK), [
      queue,
      slot.taskId,
    ]);
    state = slotTaskStateOf(row);
  }
  const action = decideDedupe(slot, () => state, mode, now);
  if (action.kind === "ignore") return { outcome: "ignored", id: action.id };
  if (action.kind === "replace") {
    const replaced = { ...record, id: action.id };
    await tx.query(session.sql(ADD_REPLACE), writeValues(session, queue, token, replaced));
    return { outcome: "replaced", id: action.id };
  }
  const added = await tx.query<{ id: string | null }>(
    session.sql(ADD_UNIQUE),
    writeValues(session, queue, token, record),
  );
  if (!added.some((row) => row.id === record.id)) {
    // An id the queue holds is no new task: the key stays as it was.
    if (fresh) await tx.query(session.sql(DROP_SLOT), [queue, key]);
    return { outcome: "ignored", id: record.id };
  }
  if (!fresh) await tx.query(session.sql(MOVE_SLOT), [queue, key, record.id, heldUntil]);
  return { outcome: "added", id: record.id };
}

/** The values of an add statement (`ADD_UNIQUE` / `ADD_REPLACE`) writing `record` alone. */
function writeValues(session: PgSession, queue: string, token: string, record: TaskData) {
  // Events are appended once for the whole call (see the module header).
  return addValues(session, queue, token, [storedColumns(record, routeOf(record, null))], {
    bodies: null,
    append: [0, session.channels.events],
  });
}

async function addAllWithin(
  session: PgSession,
  appTx: SqlTransaction,
  events: EventStore,
  queue: string,
  entries: readonly DedupeEntry[],
  records: readonly TaskData[],
  now: number,
): Promise<DedupeResult[]> {
  const replacing = entries.find((entry) => entry.mode !== "ignore");
  if (replacing !== undefined) {
    throw new InvalidOptionError(
      `add: dedupe mode '${replacing.mode}' (key '${replacing.key}') cannot be combined with tx: replacing a task would lock it until your transaction ends; add it without tx, or with mode 'ignore'`,
    );
  }
  const within: Tx = {
    query: async <R>(sql: Sql, values?: readonly unknown[]) =>
      (await queryWithin(session, appTx, sql, values ?? [])) as R[],
  } as Tx;
  const results: DedupeResult[] = [];
  for (const [i, entry] of entries.entries()) {
    results.push(await addOneWithin(session, within, events, queue, entry, records[i]!, now));
  }
  return results;
}

async function addOneWithin(
  session: PgSession,
  tx: Tx,
  events: EventStore,
  queue: string,
  { key, mode, windowMs, event }: DedupeEntry,
  record: TaskData,
  now: number,
): Promise<DedupeResult> {
  const heldUntil = windowMs === null ? null : now + windowMs;
  /** The key's slot read by `statement` (plainly, or locked), and what it decides; `null`: no slot. */
  const decide = async (statement: string): Promise<ReturnType<typeof decideDedupe> | null> => {
    const [row] = await tx.query<{ task_id: string; held_until: string | null }>(
      session.sql(statement),
      [queue, key],
    );
    if (!row) return null;
    const slot: DedupeSlot = {
      taskId: row.task_id,
      until: row.held_until === null ? null : Number(row.held_until),
    };
    let state: SlotTaskState = "missing";
    if (slot.until === null) {
      const [task] = await tx.query<{ state: number; status: string }>(session.sql(READ_TASK), [
        queue,
        slot.taskId,
      ]);
      state = slotTaskStateOf(task);
    }
    return decideDedupe(slot, () => state, mode, now);
  };
  let fresh = false;
  // A slot dropped by a prune between two statements is taken on the next turn.
  for (;;) {
    const taken = await tx.query(session.sql(TAKE_SLOT), [queue, key, record.id, heldUntil]);
    if (taken.length > 0) {
      fresh = true;
      break;
    }
    const seen = await decide(READ_SLOT);
    if (seen === null) continue;
    if (seen.kind === "ignore") return { outcome: "ignored", id: seen.id };
    // Free to take: lock the slot, and decide again on what holds it now.
    const locked = await decide(LOCK_SLOT);
    if (locked === null) continue;
    if (locked.kind === "ignore") return { outcome: "ignored", id: locked.id };
    break;
  }
  const body = event !== undefined && events.cap > 0 ? keyedEventBody(record.id, event) : null;
  const added = await tx.query<{ id: string | null }>(
    session.sql(ADD_UNIQUE_WITHIN),
    addValues(session, queue, requestToken(), [storedColumns(record, routeOf(record, null))], {
      bodies: [body],
      append: events.appendValues,
    }),
  );
  if (!added.some((row) => row.id === record.id)) {
    // An id the queue holds is no new task: the key stays as it was.
    if (fresh) await tx.query(session.sql(DROP_SLOT), [queue, key]);
    return { outcome: "ignored", id: record.id };
  }
  if (!fresh) await tx.query(session.sql(MOVE_SLOT), [queue, key, record.id, heldUntil]);
  return { outcome: "added", id: record.id };
}
