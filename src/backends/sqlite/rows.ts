/**
 * @module backends/sqlite/rows
 * Row-level statements several parts share, all run inside a write
 * transaction: taking FIFO places, inserting new task rows, logging the
 * ids that finished, and reading a row as a record.
 */
import { randomBytes } from "node:crypto";
import type { TaskData } from "../../task/task-record.js";
import {
  CLAIMABLE,
  type RecordRow,
  readRecordRow,
  type StoredColumns,
} from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";

const TAKE_SEQ = "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value";

const INSERT_NEW = `
INSERT INTO tasks (queue, id, data, status, state, seq, due_at, created_at, priority, ckey, climit)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (queue, id) DO NOTHING`;

const LOG_FINISHED = "INSERT INTO finished_log (queue, ids, origin) VALUES (?, ?, ?) RETURNING seq";

const TRIM_LOG = "DELETE FROM finished_log WHERE seq <= ?";

/** Rows of the finished log kept behind the newest (older ones are trimmed as new ones come). */
export const FINISHED_LOG_KEPT = 10_000;

/** This process's token in the finished log: its own rows are announced in process already. */
export const PROCESS_ORIGIN = randomBytes(9).toString("base64url");

/** The merged record of a row (see `../sql/stored-columns.ts`). */
export function readRow(row: RecordRow, now: number): TaskData {
  return readRecordRow(row, now, "SQLite");
}

/**
 * Takes `count` consecutive numbers of the counter `name` ('task_seq' for FIFO
 * places, 'workflow_seq' for workflow order); returns the first. Inside a
 * write transaction, so no two calls of any process take the same ones.
 */
export function takeNumbers(db: SqliteDatabase, name: string, count: number): number {
  const row = db.statement(TAKE_SEQ).get(count, name) as { value: number };
  return row.value - count + 1;
}

/**
 * Inserts rows whose ids are new to the queue (a row whose id the queue
 * holds is skipped), claimable ones at the tail of their priority's FIFO
 * in the order given; returns which were inserted.
 */
export function insertNew(
  db: SqliteDatabase,
  queue: string,
  rows: readonly StoredColumns[],
): boolean[] {
  if (rows.length === 0) return [];
  const claimable = rows.filter((r) => r.state === CLAIMABLE).length;
  let seq = claimable > 0 ? takeNumbers(db, "task_seq", claimable) : 0;
  const insert = db.statement(INSERT_NEW);
  return rows.map((r) => {
    const place = r.state === CLAIMABLE ? seq++ : null;
    return insert.run(...rowValues(queue, r, place)).changes > 0;
  });
}

/**
 * The values of a task row in the column order of `INSERT_NEW` and the add
 * statements beside it (`./task-store.ts`, `./dedupe.ts`): one list, so a new
 * column is added in one place. `place` is its FIFO number when claimable.
 */
export function rowValues(queue: string, r: StoredColumns, place: number | null): unknown[] {
  return [
    queue,
    r.id,
    r.data,
    r.status,
    r.state,
    place,
    r.dueAt,
    r.createdAt,
    r.priority,
    r.concurrencyKey,
    r.concurrencyLimit,
  ];
}

/** Records that `ids` (tasks or workflows) of `queue` finished, for other processes' listeners. */
export function logFinished(db: SqliteDatabase, queue: string, ids: readonly string[]): void {
  if (ids.length === 0) return;
  const { seq } = db.statement(LOG_FINISHED).get(queue, JSON.stringify(ids), PROCESS_ORIGIN) as {
    seq: number;
  };
  // Trimmed now and then, in bulk, rather than one row per write.
  if (seq % 256 === 0) db.statement(TRIM_LOG).run(seq - FINISHED_LOG_KEPT);
}
