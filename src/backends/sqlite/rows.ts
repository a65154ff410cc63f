/**
 * @module backends/sqlite/rows
 * Row-level statements several parts share, all run inside a write
 * transaction: taking FIFO places, inserting new task rows, bumping a
 * queue's finish mark, and reading a row as a record.
 */
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
INSERT INTO tasks (queue, id, data, status, state, seq, due_at, created_at, priority)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (queue, id) DO NOTHING`;

const BUMP_MARK = `
INSERT INTO finish_marks (queue, finished) VALUES (?, 1)
ON CONFLICT (queue) DO UPDATE SET finished = finished + 1`;

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
    return (
      insert.run(queue, r.id, r.data, r.status, r.state, place, r.dueAt, r.createdAt, r.priority)
        .changes > 0
    );
  });
}

/** Records that tasks or workflows of `queue` finished, for other processes' listeners. */
export function bumpFinishMark(db: SqliteDatabase, queue: string): void {
  db.statement(BUMP_MARK).run(queue);
}
