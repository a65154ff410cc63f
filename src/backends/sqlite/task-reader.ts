/**
 * @module backends/sqlite/task-reader
 * Reading records and counts, changing nothing: records by id, pending and
 * scheduled tasks in queue order, the queue newest first (`listTasks`, and
 * `getAllTasks` on top of it), per-queue stats and the list of queues. A
 * record whose expiry has passed is gone for readers even before
 * `pruneExpired` deletes it: every read filters on `expires_at`.
 */

import { InvalidOptionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { ListTasksRequest, PageRequest, QueueStats, TaskPage } from "../backend.js";
import { walkNewestFirst } from "../sql/list-walk.js";
import { offsetPage, pageLimit } from "../sql/page-request.js";
import {
  CLAIMABLE,
  CLAIMED,
  DUE,
  FINISHED,
  HELD,
  RECORD_COLUMNS,
  type RecordRow,
} from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";
import { readRow } from "./rows.js";

const BY_ID = `
SELECT ${RECORD_COLUMNS} FROM tasks
WHERE queue = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`;

const PENDING = `
SELECT ${RECORD_COLUMNS} FROM tasks WHERE queue = ? AND state = ${CLAIMABLE}
ORDER BY priority DESC, seq LIMIT ?`;

const SCHEDULED = `
SELECT ${RECORD_COLUMNS} FROM tasks WHERE queue = ? AND state = ${DUE}
ORDER BY due_at, id LIMIT ? OFFSET ?`;

const SIZE = `SELECT count(*) AS n FROM tasks WHERE queue = ? AND state = ${CLAIMABLE}`;

/**
 * The next rows of the newest-first order (after `@at`, `@id` when given):
 * each with its place, and its record only when kept — live, and of a
 * wanted status when `@statuses` (a JSON array) is not null.
 */
function listStatement(after: boolean): string {
  return `
SELECT id, created_at, status, started_at, finished_at,
       CASE WHEN (expires_at IS NULL OR expires_at > @now)
                 AND (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
            THEN data END AS data
FROM tasks
WHERE queue = @queue${after ? " AND (created_at, id) < (@at, @id)" : ""}
ORDER BY created_at DESC, id DESC
LIMIT @limit`;
}

const LIST_FIRST = listStatement(false);
const LIST_AFTER = listStatement(true);

const STATS = `
SELECT coalesce(sum(state IN (${CLAIMABLE}, ${HELD})), 0) AS pending,
       coalesce(sum(state = ${DUE}), 0) AS scheduled,
       coalesce(sum(state = ${CLAIMED}), 0) AS processing,
       coalesce(sum(state = ${FINISHED} AND status = 'completed'), 0) AS completed,
       coalesce(sum(state = ${FINISHED} AND status = 'failed'), 0) AS failed,
       coalesce(sum(state = ${FINISHED} AND status = 'crashed'), 0) AS crashed,
       coalesce(sum(state = ${FINISHED} AND status = 'cancelled'), 0) AS cancelled,
       coalesce(sum(state = ${HELD}), 0) AS held
FROM tasks
WHERE queue = ? AND (expires_at IS NULL OR expires_at > ?)`;

const FIRST_QUEUE = "SELECT queue FROM tasks ORDER BY queue LIMIT 1";
const NEXT_QUEUE = "SELECT queue FROM tasks WHERE queue > ? ORDER BY queue LIMIT 1";
const LIVE_IN_QUEUE = `
SELECT 1 FROM tasks WHERE queue = ? AND (expires_at IS NULL OR expires_at > ?) LIMIT 1`;

interface ListRow extends Omit<RecordRow, "data"> {
  created_at: number;
  data: string | null;
}

export class TaskReader {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly now: () => number,
  ) {}

  /** The live records among `ids` (missing and expired ones are left out). */
  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    const now = this.now();
    return this.db.read("getTasks", () => {
      const found = new Map<string, TaskData>();
      const byId = this.db.statement(BY_ID);
      for (const id of new Set(ids)) {
        const row = byId.get(queue, id, now) as RecordRow | undefined;
        if (row) found.set(id, readRow(row, now));
      }
      return found;
    });
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    const now = this.now();
    return this.db.read("getPending", () =>
      (this.db.statement(PENDING).all(queue, count) as RecordRow[]).map((row) => readRow(row, now)),
    );
  }

  /** Waiting records, earliest first; the cursor is an offset in that order. */
  async getScheduled(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    const { offset, limit } = offsetPage(page);
    const now = this.now();
    const rows = this.db.read(
      "getScheduled",
      () => this.db.statement(SCHEDULED).all(queue, limit + 1, offset) as RecordRow[],
    );
    const tasks = rows.slice(0, limit).map((row) => readRow(row, now));
    return { tasks, cursor: rows.length > limit ? String(offset + limit) : null };
  }

  /** Every record, a page at a time: the newest-first listing without a filter (no record is on two pages). */
  async getAllTasks(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    const limit = pageLimit(page);
    return this.listTasks(queue, { cursor: page.cursor, limit });
  }

  /**
   * The queue newest first (see `TaskReader.listTasks` in `../backend.ts`).
   * Reads the order a chunk at a time until the page is full or the budget
   * of rows looked at is spent; one row past each chunk tells whether the
   * order goes on, so the cursor is `null` exactly after the last page.
   */
  async listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage> {
    const now = this.now();
    return walkNewestFirst(request, async (from, count, statuses) => {
      const wanted = statuses ? JSON.stringify(statuses) : null;
      const rows = this.db.read("listTasks", () =>
        from
          ? (this.db.statement(LIST_AFTER).all({
              queue,
              now,
              statuses: wanted,
              limit: count,
              at: from.at,
              id: from.id,
            }) as ListRow[])
          : (this.db
              .statement(LIST_FIRST)
              .all({ queue, now, statuses: wanted, limit: count }) as ListRow[]),
      );
      return rows.map((row) => ({
        position: { at: row.created_at, id: row.id },
        record: row.data === null ? null : readRow({ ...row, data: row.data }, now),
      }));
    });
  }

  async size(queue: string): Promise<number> {
    return this.db.read("size", () => (this.db.statement(SIZE).get(queue) as { n: number }).n);
  }

  async getStats(queue: string): Promise<QueueStats> {
    const now = this.now();
    return this.db.read("getStats", () => ({
      ...(this.db.statement(STATS).get(queue, now) as QueueStats),
    }));
  }

  /**
   * Queues that hold live records, by name, with their claimable counts:
   * found by skipping from one queue name to the next along the primary key
   * (one probe per queue, however many rows each holds).
   */
  async listQueues(): Promise<Map<string, number>> {
    const now = this.now();
    return this.db.read("listQueues", () => {
      const queues = new Map<string, number>();
      const next = this.db.statement(NEXT_QUEUE);
      const live = this.db.statement(LIVE_IN_QUEUE);
      const size = this.db.statement(SIZE);
      let row = this.db.statement(FIRST_QUEUE).get() as { queue: string } | undefined;
      while (row) {
        if (live.get(row.queue, now)) {
          queues.set(row.queue, (size.get(row.queue) as { n: number }).n);
        }
        row = next.get(row.queue) as { queue: string } | undefined;
      }
      return queues;
    });
  }
}
