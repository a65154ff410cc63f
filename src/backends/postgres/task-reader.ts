/**
 * @module backends/postgres/task-reader
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
  readRow,
} from "./record-codec.js";
import type { PgSession } from "./session.js";

const LIVE = "(expires_at IS NULL OR expires_at > $3)";

const BY_ID = `
SELECT ${RECORD_COLUMNS} FROM %SCHEMA%.tasks
WHERE queue = $1 AND id = ANY($2::text[]) AND ${LIVE}`;

const PENDING = `
SELECT ${RECORD_COLUMNS} FROM %SCHEMA%.tasks
WHERE queue = $1 AND state = ${CLAIMABLE}
ORDER BY priority DESC, seq
LIMIT $2`;

const SCHEDULED = `
SELECT ${RECORD_COLUMNS} FROM %SCHEMA%.tasks
WHERE queue = $1 AND state = ${DUE}
ORDER BY due_at, id
OFFSET $2 LIMIT $3`;

const SIZE = `SELECT count(*) AS n FROM %SCHEMA%.tasks WHERE queue = $1 AND state = ${CLAIMABLE}`;

/**
 * The next rows of the newest-first order (after the position `$5`, `$6` in
 * `LIST_AFTER`): each with its place and whether it is kept (live, and of a
 * wanted status when `$3` is not null) — the record only for those kept.
 */
function listStatement(after: boolean): string {
  return `
SELECT id, created_at, keep,
       CASE WHEN keep THEN data END AS data, status, started_at, finished_at
FROM (
  SELECT id, created_at, data, status, started_at, finished_at,
         (expires_at IS NULL OR expires_at > $2) AND ($3::text[] IS NULL OR status = ANY($3::text[])) AS keep
  FROM %SCHEMA%.tasks
  WHERE queue = $1${after ? ` AND (created_at, id COLLATE "C") < ($5::bigint, $6::text COLLATE "C")` : ""}
  ORDER BY created_at DESC, id COLLATE "C" DESC
  LIMIT $4
) page`;
}

const LIST_FIRST = listStatement(false);
const LIST_AFTER = listStatement(true);

const STATS = `
SELECT count(*) FILTER (WHERE state IN (${CLAIMABLE}, ${HELD})) AS pending,
       count(*) FILTER (WHERE state = ${DUE}) AS scheduled,
       count(*) FILTER (WHERE state = ${CLAIMED}) AS processing,
       count(*) FILTER (WHERE state = ${FINISHED} AND status = 'completed') AS completed,
       count(*) FILTER (WHERE state = ${FINISHED} AND status = 'failed') AS failed,
       count(*) FILTER (WHERE state = ${FINISHED} AND status = 'crashed') AS crashed,
       count(*) FILTER (WHERE state = ${FINISHED} AND status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE state = ${HELD}) AS held
FROM %SCHEMA%.tasks
WHERE queue = $1 AND (expires_at IS NULL OR expires_at > $2)`;

/**
 * Every queue name, found by skipping from one to the next along the primary
 * key (a loose index scan: one probe per queue, however many rows each
 * holds), with its claimable count, kept when it holds a live record.
 */
const QUEUES = `
WITH RECURSIVE names AS (
  (SELECT queue FROM %SCHEMA%.tasks ORDER BY queue LIMIT 1)
  UNION ALL
  SELECT (SELECT t.queue FROM %SCHEMA%.tasks t WHERE t.queue > names.queue ORDER BY t.queue LIMIT 1)
  FROM names WHERE names.queue IS NOT NULL
)
SELECT queue,
       (SELECT count(*) FROM %SCHEMA%.tasks t WHERE t.queue = names.queue AND t.state = ${CLAIMABLE}) AS n
FROM names
WHERE queue IS NOT NULL AND EXISTS (
  SELECT 1 FROM %SCHEMA%.tasks t
  WHERE t.queue = names.queue AND (t.expires_at IS NULL OR t.expires_at > $1))`;

interface ListRow extends Omit<RecordRow, "data"> {
  created_at: string;
  keep: boolean;
  data: string | null;
}

export class TaskReader {
  constructor(
    private readonly session: PgSession,
    private readonly now: () => number,
  ) {}

  /** The live records among `ids` (missing and expired ones are left out). */
  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    this.session.assertConnected();
    const found = new Map<string, TaskData>();
    if (ids.length === 0) return found;
    const now = this.now();
    const rows = await this.session.query<RecordRow>("getTasks", this.session.sql(BY_ID), [
      queue,
      [...new Set(ids)],
      now,
    ]);
    for (const row of rows) found.set(row.id, readRow(row, now));
    return found;
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    this.session.assertConnected();
    const rows = await this.session.query<RecordRow>("getPending", this.session.sql(PENDING), [
      queue,
      count,
    ]);
    const now = this.now();
    return rows.map((row) => readRow(row, now));
  }

  /** Waiting records, earliest first; the cursor is an offset in that order. */
  async getScheduled(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    const { offset, limit } = offsetPage(page);
    this.session.assertConnected();
    const rows = await this.session.query<RecordRow>("getScheduled", this.session.sql(SCHEDULED), [
      queue,
      offset,
      limit + 1,
    ]);
    const now = this.now();
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
   * Reads the order a chunk at a time — as many rows as the page still
   * needs, or bigger chunks when filtering — until the page is full or the
   * budget of rows looked at is spent; one row past each chunk tells whether
   * the order goes on, so the cursor is `null` exactly after the last page.
   */
  async listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage> {
    const now = this.now();
    return walkNewestFirst(request, async (from, count, statuses) => {
      this.session.assertConnected();
      const rows = await this.session.query<ListRow>(
        "listTasks",
        this.session.sql(from ? LIST_AFTER : LIST_FIRST),
        [queue, now, statuses, count, ...(from ? [from.at, from.id] : [])],
      );
      return rows.map((row) => ({
        position: { at: Number(row.created_at), id: row.id },
        record: row.keep ? readRow({ ...row, data: row.data! }, now) : null,
      }));
    });
  }

  async size(queue: string): Promise<number> {
    this.session.assertConnected();
    const [row] = await this.session.query<{ n: string }>("size", this.session.sql(SIZE), [queue]);
    return Number(row?.n ?? 0);
  }

  async getStats(queue: string): Promise<QueueStats> {
    this.session.assertConnected();
    const [row] = await this.session.query<Record<keyof QueueStats, string>>(
      "getStats",
      this.session.sql(STATS),
      [queue, this.now()],
    );
    const count = (key: keyof QueueStats) => Number(row?.[key] ?? 0);
    return {
      pending: count("pending"),
      scheduled: count("scheduled"),
      processing: count("processing"),
      completed: count("completed"),
      failed: count("failed"),
      crashed: count("crashed"),
      cancelled: count("cancelled"),
      held: count("held"),
    };
  }

  /** Queues that hold live records, by name, with their claimable counts. */
  async listQueues(): Promise<Map<string, number>> {
    this.session.assertConnected();
    const rows = await this.session.query<{ queue: string; n: string }>(
      "listQueues",
      this.session.sql(QUEUES),
      [this.now()],
    );
    return new Map(rows.map((row) => [row.queue, Number(row.n)]));
  }
}
