/**
 * @module backends/sqlite/workflow-store
 * Workflows on SQLite: storing a new one with its first steps, reading them
 * back with their step outcomes, listing, cancelling, deleting and pruning
 * expired ones. A step's end and a resume's write happen inside settles and
 * cancels (`../sql/settle-plan.ts`), in their write transaction. A
 * workflow's status, finish time and the steps it waits for are kept beside
 * its JSON (changed without rewriting it) and win over it on read.
 */

import { isoAt } from "../../clock.js";
import { readStoredRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import { decodeWorkflowData, encodeWorkflowData } from "../../task/workflow-codec.js";
import type { WorkflowData, WorkflowStatus } from "../../task/workflow-record.js";
import type {
  PageRequest,
  StoredWorkflow,
  WorkflowAddEvents,
  WorkflowCancellation,
  WorkflowPage,
  WorkflowRetry,
} from "../backend.js";
import { checkNewWork, routeOf } from "../record-route.js";
import { CLAIMABLE, DUE, FINISHED, HELD, storedColumns } from "../sql/stored-columns.js";
import { checkWorkflowPage, workflowPageOf } from "../sql/workflow-pages.js";
import type { SqliteDatabase } from "./database.js";
import type { EventStore } from "./event-log.js";
import { insertNew, logFinished, takeNumbers } from "./rows.js";
import type { Signals } from "./signals.js";

/** Expired workflows deleted per transaction. */
const PRUNE_BATCH = 500;

/** A finished workflow whose expiry passed is gone for everyone: a new one may take its id. */
const DROP_EXPIRED = "DELETE FROM workflows WHERE queue = ? AND id = ? AND expires_at <= ?";

const ADD = `
INSERT INTO workflows (queue, id, data, status, finished_at, pending, step_count, expires_at, seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (queue, id) DO NOTHING`;

const LIVE = "(expires_at IS NULL OR expires_at > ?)";

const FOR_RETRY = `SELECT status, finished_at FROM workflows WHERE queue = ? AND id = ? AND ${LIVE}`;

const REOPEN = `
UPDATE workflows
SET data = ?, status = 'running', finished_at = NULL, pending = ?, step_count = ?, expires_at = NULL
WHERE queue = ? AND id = ?`;

const DROP_OUTCOME =
  "DELETE FROM workflow_outcomes WHERE queue = ? AND workflow_id = ? AND task_id = ?";

const DROP_FINISHED = `DELETE FROM tasks WHERE queue = ? AND id = ? AND state = ${FINISHED}`;

const BY_ID = `
SELECT id, data, status, finished_at, pending FROM workflows
WHERE queue = ? AND id = ? AND ${LIVE}`;

const RUNNING = `SELECT 1 FROM workflows WHERE queue = ? AND id = ? AND status = 'running'`;

const OUTCOMES = `
SELECT task_id, data FROM workflow_outcomes WHERE queue = ? AND workflow_id = ? ORDER BY task_id`;

/** A page in insertion order after a place; the last parameter keeps only running ones when 1. */
const PAGE = `
SELECT seq, id, data, status, finished_at, pending FROM workflows
WHERE queue = ? AND seq > ? AND ${LIVE} AND (? = 0 OR status = 'running')
ORDER BY seq
LIMIT ?`;

const PEEK = "SELECT status, pending, expires_at FROM workflows WHERE queue = ? AND id = ?";

/** A step a workflow cancel cancels: waiting to run, not claimed. */
const WAITING_STEP = `
SELECT 1 FROM tasks WHERE queue = ? AND id = ? AND state IN (${CLAIMABLE}, ${DUE}, ${HELD})`;

const CANCEL_STEP = `
UPDATE tasks
SET state = ${FINISHED}, status = 'cancelled', finished_at = ?, seq = NULL, due_at = NULL, expires_at = ?
WHERE queue = ? AND id = ? AND state IN (${CLAIMABLE}, ${DUE}, ${HELD})`;

const CANCEL = `
UPDATE workflows SET status = 'cancelled', finished_at = ?, pending = '[]', expires_at = ?
WHERE queue = ? AND id = ?
RETURNING data`;

const DELETE = "DELETE FROM workflows WHERE queue = ? AND id = ?";

const PRUNE = `
DELETE FROM workflows WHERE rowid IN (
  SELECT rowid FROM workflows WHERE queue = ? AND expires_at IS NOT NULL AND expires_at <= ?
  ORDER BY expires_at LIMIT ?
)`;

interface WorkflowRow {
  id: string;
  data: string;
  status: string;
  finished_at: string | null;
  pending: string;
}

/** A workflow record from its row: the JSON, with the status, finish time and waited-for steps beside it. */
function readWorkflow(row: WorkflowRow): WorkflowData {
  const stored = decodeWorkflowData(row.data, `workflow record ${row.id} in SQLite`);
  const status = row.status as WorkflowStatus;
  return {
    ...stored,
    status,
    finishedAt: row.finished_at ?? stored.finishedAt,
    pending: status === "running" ? (JSON.parse(row.pending) as string[]) : [],
  };
}

export class WorkflowStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly signals: Signals,
    private readonly events: EventStore,
    private readonly now: () => number,
  ) {}

  async addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ): Promise<boolean> {
    this.db.assertConnected();
    checkNewWork(steps, "addWorkflow");
    const data = encodeWorkflowData(record);
    const rows = steps.map((step) => storedColumns(step, routeOf(step, null)));
    const finished = record.finishedAt !== null;
    const now = this.now();
    const added = await this.db.write("addWorkflow", () => {
      this.db.statement(DROP_EXPIRED).run(queue, record.id, now);
      const stored =
        this.db
          .statement(ADD)
          .run(
            queue,
            record.id,
            data,
            record.status,
            record.finishedAt,
            JSON.stringify(finished ? [] : record.pending),
            record.steps.length,
            finished ? expiresAt : null,
            takeNumbers(this.db, "workflow_seq", 1),
          ).changes > 0;
      if (!stored) return null;
      const inserted = insertNew(this.db, queue, rows);
      if (finished) logFinished(this.db, queue, [record.id]);
      // The workflow's own events, then each step added now, in the steps' order.
      const bodies = events
        ? [...events.workflow, ...events.steps.filter((_, i) => inserted[i])]
        : [];
      return {
        claimable: rows.some((r, i) => inserted[i] && r.state === CLAIMABLE),
        appended: this.events.appendWithin(queue, bodies),
      };
    });
    if (!added) return false;
    this.events.announce(queue, added.appended);
    if (added.claimable) this.signals.announceWork(queue);
    if (finished) this.signals.announceFinished(queue, [record.id]);
    return true;
  }

  async retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null> {
    this.db.assertConnected();
    checkNewWork(retry.tasks, "retryWorkflow");
    const rows = retry.tasks.map((task) => storedColumns(task, routeOf(task, null)));
    const now = this.now();
    const result = await this.db.write("retryWorkflow", () => {
      const row = this.db.statement(FOR_RETRY).get(queue, id, now) as
        | { status: string; finished_at: string | null }
        | undefined;
      if (!row) return null;
      if (row.status !== "failed" || row.finished_at !== retry.failedAt) return false;
      const { record } = retry;
      this.db
        .statement(REOPEN)
        .run(
          encodeWorkflowData(record),
          JSON.stringify(record.pending),
          record.steps.length,
          queue,
          id,
        );
      const drop = this.db.statement(DROP_OUTCOME);
      const dropFinished = this.db.statement(DROP_FINISHED);
      for (const taskId of retry.replaced) {
        drop.run(queue, id, taskId);
        dropFinished.run(queue, taskId);
      }
      const inserted = insertNew(this.db, queue, rows);
      // The workflow's own events, then each task added now, in the tasks' order.
      const events = retry.events;
      const bodies = events
        ? [...events.workflow, ...events.steps.filter((_, i) => inserted[i])]
        : [];
      return {
        claimable: rows.some((r, i) => inserted[i] && r.state === CLAIMABLE),
        appended: this.events.appendWithin(queue, bodies),
      };
    });
    if (result === null || result === false) return result;
    this.events.announce(queue, result.appended);
    if (result.claimable) this.signals.announceWork(queue);
    return true;
  }

  /** The live workflows among `ids`, with their outcomes (missing and expired ones left out). */
  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    const now = this.now();
    return this.db.read("getWorkflows", () => {
      const found = new Map<string, StoredWorkflow>();
      const byId = this.db.statement(BY_ID);
      const outcomesOf = this.db.statement(OUTCOMES);
      for (const id of new Set(ids)) {
        const row = byId.get(queue, id, now) as WorkflowRow | undefined;
        if (!row) continue;
        const outcomes = new Map<string, TaskData>();
        for (const o of outcomesOf.all(queue, id) as { task_id: string; data: string }[]) {
          const where = `step outcome ${o.task_id} of workflow ${id} in SQLite`;
          outcomes.set(o.task_id, readStoredRecord(o.task_id, o.data, where, now).record);
        }
        found.set(id, { record: readWorkflow(row), outcomes });
      }
      return found;
    });
  }

  async runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    return this.db.read("runningWorkflows", () => {
      const running = this.db.statement(RUNNING);
      return new Set([...new Set(ids)].filter((id) => running.get(queue, id) !== undefined));
    });
  }

  /** A page in insertion order; the cursor is the insertion number of the last one returned. */
  async listWorkflows(
    queue: string,
    page: PageRequest & { readonly running?: boolean | undefined } = {},
  ): Promise<WorkflowPage> {
    const { after, limit } = checkWorkflowPage(page);
    const rows = this.db.read(
      "listWorkflows",
      () =>
        this.db
          .statement(PAGE)
          .all(
            queue,
            Number(after),
            this.now(),
            page.running === true ? 1 : 0,
            limit + 1,
          ) as (WorkflowRow & { seq: number })[],
    );
    return workflowPageOf(rows, limit, readWorkflow);
  }

  /** Cancels a running workflow and its steps that have not started, in one write transaction. */
  async cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null> {
    this.db.assertConnected();
    const now = this.now();
    const finishedAt = isoAt(cancellation.at);
    const result = await this.db.write("cancelWorkflow", () => {
      const peek = this.db.statement(PEEK).get(queue, id) as
        | { status: string; pending: string; expires_at: number | null }
        | undefined;
      if (!peek || (peek.expires_at !== null && peek.expires_at <= now)) return null;
      if (peek.status !== "running") return "finished" as const;
      const pending = JSON.parse(peek.pending) as string[];
      const bodies = cancellation.events;
      if (bodies) {
        // Every step it cancels must have its event: one missing was added after the caller's read.
        const waiting = this.db.statement(WAITING_STEP);
        if (pending.some((step) => !bodies.has(step) && waiting.get(queue, step) !== undefined))
          return "stale" as const;
      }
      const cancelStep = this.db.statement(CANCEL_STEP);
      const steps = pending.filter(
        (step) => cancelStep.run(finishedAt, cancellation.stepExpiresAt, queue, step).changes > 0,
      );
      const row = this.db.statement(CANCEL).get(finishedAt, cancellation.expiresAt, queue, id) as {
        data: string;
      };
      logFinished(this.db, queue, [id, ...steps]);
      const appended = this.events.appendWithin(queue, [
        ...steps.flatMap((step) => bodies?.get(step) ?? []),
        ...(cancellation.event === undefined ? [] : [cancellation.event]),
      ]);
      return { data: row.data, finished: [id, ...steps], appended };
    });
    if (result === null || result === "finished" || result === "stale") return result;
    this.events.announce(queue, result.appended);
    this.signals.announceFinished(queue, result.finished);
    const stored = decodeWorkflowData(result.data, `workflow record ${id} in SQLite`);
    return { ...stored, status: "cancelled" as const, finishedAt, pending: [] };
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean | "running"> {
    this.db.assertConnected();
    const now = this.now();
    return this.db.write("deleteWorkflow", () => {
      const peek = this.db.statement(PEEK).get(queue, id) as
        | { status: string; expires_at: number | null }
        | undefined;
      if (!peek) return false;
      if (peek.status === "running") return "running" as const;
      this.db.statement(DELETE).run(queue, id);
      // An expired one was already gone for readers.
      return peek.expires_at === null || peek.expires_at > now;
    });
  }

  /** Deletes every workflow of `queue` whose expiry is due by `now`, with its outcomes; returns how many. */
  async pruneWorkflows(queue: string, now: number): Promise<number> {
    this.db.assertConnected();
    let deleted = 0;
    for (;;) {
      const n = await this.db.write(
        "pruneExpired",
        () => this.db.statement(PRUNE).run(queue, now, PRUNE_BATCH).changes,
      );
      deleted += n;
      if (n < PRUNE_BATCH) return deleted;
    }
  }
}
