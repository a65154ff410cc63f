/**
 * @module backends/sqlite/task-store
 * Writing task records, apart from settles (`./settle.ts`): add, promote due
 * tasks, cancel, delete, clear a queue, prune expired records. Each is one
 * write transaction (or a loop of short ones, so a big clear or prune never
 * holds the file's write lock long); a bulk add is one transaction, so it is
 * stored whole or not at all. Event bodies of the rows written are appended
 * in the same transaction. Waiting claims, event reads and finished-listeners
 * hear of a write after it commits.
 */

import { isoAt } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { AddMode, AddOptions, WorkflowStepEnd } from "../backend.js";
import { routeOf } from "../record-route.js";
import { checkRescheduled, mayReschedule } from "../reschedule-rule.js";
import { sentEvents } from "../sql/event-log.js";
import { newRows } from "../sql/new-rows.js";
import { emptyPlan, endStep } from "../sql/settle-plan.js";
import {
  CLAIMABLE,
  CLAIMED,
  cancellable,
  DUE,
  FINISHED,
  HELD,
  RECORD_COLUMNS,
  type RecordRow,
  type StoredColumns,
  storedColumns,
} from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";
import type { EventStore } from "./event-log.js";
import { insertNew, logFinished, readRow, rowValues, takeNumbers } from "./rows.js";
import { readWorkflows, writePlan } from "./settle.js";
import type { Signals } from "./signals.js";

/** A task's row with where it stands (read inside the write transaction that acts on it). */
const READ_TASK = `SELECT ${RECORD_COLUMNS}, state FROM tasks WHERE queue = ? AND id = ?`;

/** Due tasks made claimable per transaction. */
const PROMOTE_BATCH = 1000;
/** Rows removed per transaction while clearing a queue or pruning it. */
const DELETE_BATCH = 2000;

/**
 * The new record replaces the stored one where `replaceable` holds — for
 * `REPLACE` in whatever state but claimed, for `RERUN` only while finished or
 * waiting for its retry — keeping its fences, so a holder of an earlier
 * claim never matches a later one.
 */
const replaceWhere = (replaceable: string) => `
INSERT INTO tasks (queue, id, data, status, state, seq, due_at, created_at, priority, ckey, climit)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (queue, id) DO UPDATE
SET data = excluded.data, status = excluded.status, seq = excluded.seq,
    -- A keyed record replacing one waits in its key's line, as an added one does (migration 005).
    state = CASE WHEN excluded.state = ${CLAIMABLE} AND excluded.ckey IS NOT NULL
                 THEN ${HELD} ELSE excluded.state END,
    priority = excluded.priority, ckey = excluded.ckey, climit = excluded.climit,
    due_at = excluded.due_at, created_at = excluded.created_at, started_at = NULL,
    finished_at = NULL, lease_at = NULL, suspect_lease = NULL, suspect_at = NULL, expires_at = NULL
WHERE ${replaceable}`;
export const REPLACE = replaceWhere(`tasks.state <> ${CLAIMED}`);
/** The manual re-runs a row's record counts (absent: 0). */
const manualRetries = (data: string) => `coalesce(json_extract(${data}, '$.manualRetryCount'), 0)`;
/**
 * Only the run a rerun was made from (one manual re-run less), not one
 * another rerun has put there since; a stored record that is not JSON
 * (written by hand) is not in the way.
 */
const RERUN = replaceWhere(
  `(tasks.state = ${FINISHED} OR (tasks.state <> ${CLAIMED} AND tasks.status = 'retrying'))
   AND CASE WHEN json_valid(tasks.data)
            THEN ${manualRetries("tasks.data")} = ${manualRetries("excluded.data")} - 1 ELSE 1 END`,
);

const ANY_DUE = `SELECT 1 FROM tasks WHERE queue = ? AND state = ${DUE} AND due_at <= ? LIMIT 1`;

/** The earliest due time among the rows waiting for theirs. */
const NEXT_DUE = `SELECT due_at FROM tasks WHERE queue = ? AND state = ${DUE} ORDER BY due_at LIMIT 1`;

const DUE_NOW = `
SELECT id FROM tasks WHERE queue = ? AND state = ${DUE} AND due_at <= ?
ORDER BY due_at, id LIMIT ?`;

const PROMOTE = `
UPDATE tasks SET state = ${CLAIMABLE}, status = 'pending', due_at = NULL, seq = ?
WHERE queue = ? AND id = ?`;

// The last parameter (1): a claimed row too; its claim ends (the holder's renewal and settle find it lost).
const CANCEL = `
UPDATE tasks
SET state = ${FINISHED}, status = 'cancelled', finished_at = ?, seq = NULL, due_at = NULL,
    expires_at = ?, lease_at = NULL, suspect_lease = NULL, suspect_at = NULL
WHERE queue = ? AND id = ? AND (state IN (${CLAIMABLE}, ${DUE}, ${HELD}) OR (? AND state = ${CLAIMED}))
RETURNING ${RECORD_COLUMNS}`;

const READ_STEP = `SELECT ${RECORD_COLUMNS}, state, settled_fence FROM tasks WHERE queue = ? AND id = ?`;

const DELETE_FINISHED = `
DELETE FROM tasks WHERE queue = ? AND id = ? AND state = ${FINISHED} RETURNING expires_at`;

const CLEAR_TASKS = `
DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks WHERE queue = ? LIMIT ?)`;

const CLEAR_WORKFLOWS = "DELETE FROM workflows WHERE queue = ?";
const CLEAR_CRONS = "DELETE FROM crons WHERE queue = ?";
const CLEAR_RATE_LIMITS = "DELETE FROM rate_limits WHERE queue = ?";
const CLEAR_DEDUPE = "DELETE FROM dedupe WHERE queue = ?";
const CLEAR_EVENTS = "DELETE FROM events WHERE queue = ?";
const CLEAR_EVENT_COUNT = "DELETE FROM event_counts WHERE queue = ?";

const PRUNE = `
DELETE FROM tasks WHERE rowid IN (
  SELECT rowid FROM tasks WHERE queue = ? AND expires_at IS NOT NULL AND expires_at <= ?
  ORDER BY expires_at LIMIT ?
)`;

const ANY_EXPIRED = `
SELECT 1 FROM tasks WHERE queue = ? AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 1`;

/** Rate-limit windows idle past the time they are kept for (not counted: they are not records). */
const PRUNE_RATE_LIMITS = "DELETE FROM rate_limits WHERE queue = ? AND kept_until < ?";
/** Dedupe slots that hold nothing: their window has ended, or (without one) their task finished or is gone. */
const STALE_DEDUPE = `
queue = ? AND (held_until <= ? OR (held_until IS NULL AND NOT EXISTS (
  SELECT 1 FROM tasks t WHERE t.queue = dedupe.queue AND t.id = dedupe.task_id AND t.state <> ${FINISHED})))`;
const PRUNE_DEDUPE = `DELETE FROM dedupe WHERE ${STALE_DEDUPE}`;
const ANY_STALE_DEDUPE = `SELECT 1 FROM dedupe WHERE ${STALE_DEDUPE} LIMIT 1`;
const ANY_IDLE_RATE_LIMIT = "SELECT 1 FROM rate_limits WHERE queue = ? AND kept_until < ? LIMIT 1";

export class TaskStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly signals: Signals,
    private readonly events: EventStore,
    private readonly now: () => number,
  ) {}

  async add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode,
    options: AddOptions,
  ): Promise<boolean[]> {
    if (options.tx !== undefined) {
      throw new InvalidOptionError(
        "add: the SQLite backend cannot add within an application's SQL transaction (option tx)",
      );
    }
    this.db.assertConnected();
    if (records.length === 0) return [];
    const { first, sent } = newRows(records, "SQLite", this.now());
    const bodies = sentEvents(options.events, first);
    let appended = false;
    const stored = await this.db.write("add", () => {
      const written =
        mode === "unique"
          ? insertNew(this.db, queue, sent)
          : this.#replace(queue, sent, mode === "rerun" ? RERUN : REPLACE);
      const events = bodies.filter((body, i): body is string => written[i]! && body !== null);
      appended = this.events.appendWithin(queue, events);
      return written;
    });
    if (sent.some((row, i) => stored[i] && row.state === CLAIMABLE)) {
      this.signals.announceWork(queue);
    }
    this.events.announce(queue, appended);
    let next = 0;
    return first.map((isFirst) => isFirst && stored[next++]!);
  }

  /** Stores `rows` with `statement` (`REPLACE` or `RERUN`); per row, whether it was written. */
  #replace(queue: string, rows: readonly StoredColumns[], statement: string): boolean[] {
    const claimable = rows.filter((r) => r.state === CLAIMABLE).length;
    let seq = claimable > 0 ? takeNumbers(this.db, "task_seq", claimable) : 0;
    const replace = this.db.statement(statement);
    return rows.map((r) => {
      const place = r.state === CLAIMABLE ? seq++ : null;
      return replace.run(...rowValues(queue, r, place)).changes > 0;
    });
  }

  /** When the earliest waiting task is due, `null` when none waits. */
  async nextDueAt(queue: string): Promise<number | null> {
    this.db.assertConnected();
    const row = this.db.read("nextDueAt", () => this.db.statement(NEXT_DUE).get(queue)) as
      | { due_at: number | bigint }
      | undefined;
    return row === undefined ? null : Number(row.due_at);
  }

  /** Makes every task due by `now` claimable, earliest first, at the tail of the FIFO; returns their ids. */
  async promoteDue(queue: string, now: number): Promise<string[]> {
    this.db.assertConnected();
    const moved: string[] = [];
    // Workers call this every scheduler tick: a look that finds nothing due takes no write lock.
    if (!this.db.read("promoteDue", () => this.db.statement(ANY_DUE).get(queue, now))) return moved;
    for (;;) {
      const batch = await this.db.write("promoteDue", () => {
        const due = this.db.statement(DUE_NOW).all(queue, now, PROMOTE_BATCH) as { id: string }[];
        if (due.length === 0) return [];
        let seq = takeNumbers(this.db, "task_seq", due.length);
        const promote = this.db.statement(PROMOTE);
        for (const { id } of due) promote.run(seq++, queue, id);
        return due.map((row) => row.id);
      });
      moved.push(...batch);
      if (batch.length > 0) this.signals.announceWork(queue);
      if (batch.length < PROMOTE_BATCH) return moved;
    }
  }

  async cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      workflowStep?: WorkflowStepEnd | undefined;
      event?: string | undefined;
      running?: boolean | undefined;
    },
  ): Promise<TaskData | null> {
    this.db.assertConnected();
    const step = cancellation.workflowStep;
    const event = cancellation.event;
    let appended = false;
    const done = await this.db.write("cancel", () => {
      const cancelled = step
        ? this.#cancelStep(queue, id, cancellation, step)
        : this.#cancelTask(queue, id, cancellation);
      if (cancelled === null) return null;
      // Its own event, then the resume's when the cancel added the resume.
      const bodies = [event, cancelled.resumed ? step?.resumeEvent : undefined].filter(
        (body): body is string => body !== undefined,
      );
      appended = this.events.appendWithin(queue, bodies);
      return cancelled;
    });
    if (!done) return null;
    this.events.announce(queue, appended);
    const record = readRow(done.row, this.now());
    // Cancelling a task of a concurrency key may have freed its slot for a held task; ending a
    // claim makes room under a queue cap.
    if (record.concurrencyKey !== null || cancellation.running) this.signals.announceWork(queue);
    this.signals.announceFinished(queue, done.finished);
    return record;
  }

  #cancelTask(
    queue: string,
    id: string,
    cancellation: { at: number; expiresAt: number | null; running?: boolean | undefined },
  ): { row: RecordRow; finished: string[]; resumed?: boolean } | null {
    const row = this.db
      .statement(CANCEL)
      .get(
        isoAt(cancellation.at),
        cancellation.expiresAt,
        queue,
        id,
        cancellation.running ? 1 : 0,
      ) as RecordRow | undefined;
    if (row) logFinished(this.db, queue, [id]);
    return row ? { row, finished: [id] } : null;
  }

  /**
   * Cancels a workflow step: its cancelled record is written whole (it is
   * kept with the workflow too), and its end applied to the workflow as a
   * settle would (`../sql/settle-plan.ts`).
   */
  #cancelStep(
    queue: string,
    id: string,
    cancellation: { at: number; expiresAt: number | null; running?: boolean | undefined },
    step: WorkflowStepEnd,
  ): { row: RecordRow; finished: string[]; resumed: boolean } | null {
    const row = this.db.statement(READ_STEP).get(queue, id) as
      | (RecordRow & { state: number; settled_fence: number })
      | undefined;
    if (!row || !cancellable(row.state, cancellation.running === true)) return null;
    const cancelled: TaskData = {
      ...readRow(row, this.now()),
      status: "cancelled",
      finishedAt: isoAt(cancellation.at),
    };
    const columns = storedColumns(cancelled, { kind: "finished" });
    const workflows = readWorkflows(this.db, queue, [step.workflowId]);
    const plan = emptyPlan();
    plan.writes.push({ ...columns, expiresAt: cancellation.expiresAt, fence: row.settled_fence });
    plan.finished.push(id);
    const resume = storedColumns(step.resume, routeOf(step.resume, null));
    const resumed = endStep(plan, workflows, step, id, columns.data, resume, cancellation.at);
    // The cancelled record is finished, so it takes no FIFO place (the resume, when added, takes its own).
    const { inserted } = writePlan(this.db, queue, plan, workflows, () =>
      takeNumbers(this.db, "task_seq", 1),
    );
    return {
      row: { id, data: columns.data, status: "cancelled", started_at: null, finished_at: null },
      finished: plan.finished,
      resumed: resumed && inserted.has(resume.id),
    };
  }

  async reschedule(queue: string, givenRead: TaskData, givenNext: TaskData): Promise<boolean> {
    this.db.assertConnected();
    const { read, next: record } = checkRescheduled(givenRead, givenNext, "SQLite");
    const r = storedColumns(record, routeOf(record, null));
    const done = await this.db.write("reschedule", () => {
      const row = this.db.statement(READ_TASK).get(queue, record.id) as
        | (RecordRow & { state: number })
        | undefined;
      const stored = row === undefined ? undefined : readRow(row, this.now());
      if (!mayReschedule(stored, row?.state === CLAIMED, read)) return false;
      const place = r.state === CLAIMABLE ? takeNumbers(this.db, "task_seq", 1) : null;
      return this.db.statement(REPLACE).run(...rowValues(queue, r, place)).changes > 0;
    });
    if (done && r.state === CLAIMABLE) this.signals.announceWork(queue);
    return done;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    this.db.assertConnected();
    const row = await this.db.write(
      "deleteTask",
      () =>
        this.db.statement(DELETE_FINISHED).get(queue, id) as
          | { expires_at: number | null }
          | undefined,
    );
    // A record whose expiry had passed was already gone for readers.
    return row !== undefined && (row.expires_at === null || row.expires_at > this.now());
  }

  /** Removes every record of the queue, its workflows, crons, rate limits, dedupe keys and event log; returns how many records, workflows and crons. */
  async clear(queue: string): Promise<number> {
    this.db.assertConnected();
    let removed = 0;
    for (;;) {
      const n = await this.db.write(
        "clear",
        () => this.db.statement(CLEAR_TASKS).run(queue, DELETE_BATCH).changes,
      );
      removed += n;
      if (n < DELETE_BATCH) break;
    }
    return (
      removed +
      (await this.db.write("clear", () => {
        const workflows = this.db.statement(CLEAR_WORKFLOWS).run(queue).changes;
        const crons = this.db.statement(CLEAR_CRONS).run(queue).changes;
        this.db.statement(CLEAR_RATE_LIMITS).run(queue);
        this.db.statement(CLEAR_DEDUPE).run(queue);
        this.db.statement(CLEAR_EVENTS).run(queue);
        this.db.statement(CLEAR_EVENT_COUNT).run(queue);
        return workflows + crons;
      }))
    );
  }

  /** Deletes every record of `queue` whose expiry is due by `now`; returns how many. */
  async pruneExpired(queue: string, now: number): Promise<number> {
    this.db.assertConnected();
    let deleted = 0;
    const anyExpired = () =>
      this.db.read("pruneExpired", () => this.db.statement(ANY_EXPIRED).get(queue, now));
    for (;;) {
      if (!anyExpired()) break;
      const n = await this.db.write(
        "pruneExpired",
        () => this.db.statement(PRUNE).run(queue, now, DELETE_BATCH).changes,
      );
      deleted += n;
      if (n < DELETE_BATCH) break;
    }
    if (
      this.db.read("pruneExpired", () => this.db.statement(ANY_IDLE_RATE_LIMIT).get(queue, now))
    ) {
      await this.db.write("pruneExpired", () =>
        this.db.statement(PRUNE_RATE_LIMITS).run(queue, now),
      );
    }
    if (this.db.read("pruneExpired", () => this.db.statement(ANY_STALE_DEDUPE).get(queue, now))) {
      await this.db.write("pruneExpired", () => this.db.statement(PRUNE_DEDUPE).run(queue, now));
    }
    return deleted;
  }
}
