/**
 * @module backends/postgres/workflow-store
 * Workflows on PostgreSQL: storing a new one with its first steps, reading
 * them back with their step outcomes, listing, cancelling, deleting and
 * pruning expired ones. A step's end and a resume's write happen inside
 * settles and cancels (`../sql/settle-plan.ts`), under the workflow row's lock.
 * A workflow's status, finish time and the steps it waits for are kept
 * beside its JSON (changed without rewriting it) and win over it on read.
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
import { requestToken } from "../request-token.js";
import { checkWorkflowPage, workflowPageOf } from "../sql/workflow-pages.js";
import type { EventStore } from "./event-log.js";
import { finishedPayloads, NOTIFY_FINISHED } from "./notifications.js";
import { CLAIMABLE, DUE, FINISHED, HELD, msOf, storedColumns } from "./record-codec.js";
import type { PgSession } from "./session.js";
import { lockTasks, lockWorkflows } from "./settle.js";
import { storableConcurrencyKey } from "./storable-key.js";
import { ADD_UNIQUE, addValues } from "./task-store.js";

/** Expired workflows deleted per statement. */
const PRUNE_BATCH = 500;

/** A finished workflow whose expiry passed is gone for everyone: a new one may take its id. */
const DROP_EXPIRED = `
DELETE FROM %SCHEMA%.workflows WHERE queue = $1 AND id = $2 AND expires_at <= $3`;

/** The workflow, unless the queue holds its id, with its first steps (each only if its id is new). */
const ADD = `
WITH wf AS (
  INSERT INTO %SCHEMA%.workflows (queue, id, data, status, finished_at, pending, step_count, expires_at, req)
  VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9)
  ON CONFLICT (queue, id) DO NOTHING
  RETURNING id
), steps AS (
  INSERT INTO %SCHEMA%.tasks (queue, id, data, status, state, seq, due_at, created_at, req, priority, ckey, climit)
  SELECT $1, r.id, r.data, r.status, r.state,
         CASE WHEN r.state = ${CLAIMABLE} THEN nextval('%SCHEMA%.task_seq') END, r.due_at, r.created_at, $9,
         r.priority, r.ckey, r.climit
  FROM unnest($10::text[], $11::text[], $12::text[], $13::smallint[], $14::bigint[], $15::bigint[],
              $19::integer[], $20::text[], $21::integer[])
       WITH ORDINALITY AS r(id, data, status, state, due_at, created_at, priority, ckey, climit, n)
  WHERE EXISTS (SELECT 1 FROM wf)
  ORDER BY r.n
  ON CONFLICT (queue, id) DO NOTHING
  RETURNING id, state
)
SELECT (SELECT count(*) FROM wf) AS stored, ARRAY(SELECT id FROM steps) AS added,
       (SELECT count(*) FROM (
          SELECT pg_notify($16, $1) WHERE EXISTS (SELECT 1 FROM steps WHERE state = ${CLAIMABLE})) w) AS woke,
       (SELECT count(*) FROM (
          SELECT pg_notify($17, $18) WHERE $18::text IS NOT NULL AND EXISTS (SELECT 1 FROM wf)) f) AS announced`;

const ADDED_BY = `SELECT 1 FROM %SCHEMA%.workflows WHERE queue = $1 AND id = $2 AND req = $3`;

/** The workflow's row, locked, while the queue holds it (not expired). */
const LOCK_FOR_RETRY = `
SELECT status, finished_at FROM %SCHEMA%.workflows
WHERE queue = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)
FOR UPDATE`;

/** The failed workflow running again; `$7` the steps it asks for again: their outcomes and finished records go. */
const REOPEN = `
WITH wf AS (
  UPDATE %SCHEMA%.workflows
  SET data = $3, status = 'running', finished_at = NULL, pending = $4::text[], step_count = $5,
      expires_at = NULL, req = $6
  WHERE queue = $1 AND id = $2
), outcomes AS (
  DELETE FROM %SCHEMA%.workflow_outcomes
  WHERE queue = $1 AND workflow_id = $2 AND task_id = ANY($7::text[])
)
DELETE FROM %SCHEMA%.tasks WHERE queue = $1 AND id = ANY($7::text[]) AND state = ${FINISHED}`;

const LIVE = "(w.expires_at IS NULL OR w.expires_at > $3)";

const BY_ID = `
SELECT w.id, w.data, w.status, w.finished_at, w.pending,
       ARRAY(SELECT o.task_id FROM %SCHEMA%.workflow_outcomes o
             WHERE o.queue = w.queue AND o.workflow_id = w.id ORDER BY o.task_id) AS outcome_ids,
       ARRAY(SELECT o.data FROM %SCHEMA%.workflow_outcomes o
             WHERE o.queue = w.queue AND o.workflow_id = w.id ORDER BY o.task_id) AS outcome_data
FROM %SCHEMA%.workflows w
WHERE w.queue = $1 AND w.id = ANY($2::text[]) AND ${LIVE}`;

const RUNNING = `
SELECT w.id FROM %SCHEMA%.workflows w
WHERE w.queue = $1 AND w.id = ANY($2::text[]) AND w.status = 'running'`;

/** A page in insertion order after `$2`; `$4` keeps only running ones. */
const PAGE = `
SELECT w.seq, w.id, w.data, w.status, w.finished_at, w.pending
FROM %SCHEMA%.workflows w
WHERE w.queue = $1 AND w.seq > $2 AND ${LIVE} AND (NOT $4::boolean OR w.status = 'running')
ORDER BY w.seq
LIMIT $5`;

const PEEK = `
SELECT status, pending, expires_at FROM %SCHEMA%.workflows WHERE queue = $1 AND id = $2`;

/** The states of a step a workflow cancel cancels: waiting to run, not claimed. */
const WAITING: ReadonlySet<number> = new Set([CLAIMABLE, DUE, HELD]);

/** Cancels the steps not started and the workflow itself (already locked). */
const CANCEL = `
WITH steps AS (
  UPDATE %SCHEMA%.tasks
  SET state = ${FINISHED}, status = 'cancelled', finished_at = $3, seq = NULL, due_at = NULL, expires_at = $4
  WHERE queue = $1 AND id = ANY($2::text[]) AND state IN (${CLAIMABLE}, ${DUE}, ${HELD})
  RETURNING id
), wf AS (
  UPDATE %SCHEMA%.workflows
  SET status = 'cancelled', finished_at = $3, pending = '{}', expires_at = $5
  WHERE queue = $1 AND id = $6
  RETURNING data
)
SELECT (SELECT data FROM wf) AS data, ARRAY(SELECT id FROM steps) AS steps`;

const DELETE = `
WITH gone AS (
  DELETE FROM %SCHEMA%.workflows WHERE queue = $1 AND id = $2 AND status <> 'running'
  RETURNING expires_at
)
SELECT 'deleted' AS what, expires_at FROM gone
UNION ALL
SELECT status, expires_at FROM %SCHEMA%.workflows WHERE queue = $1 AND id = $2 AND status = 'running'`;

const PRUNE = `
WITH doomed AS (
  SELECT id FROM %SCHEMA%.workflows
  WHERE queue = $1 AND expires_at <= $2
  ORDER BY expires_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM %SCHEMA%.workflows w USING doomed WHERE w.queue = $1 AND w.id = doomed.id
  RETURNING 1
)
SELECT count(*) AS n FROM gone`;

interface WorkflowRow {
  id: string;
  data: string;
  status: string;
  finished_at: string | null;
  pending: string[];
}

interface StoredRow extends WorkflowRow {
  outcome_ids: string[];
  outcome_data: string[];
}

/** A workflow record from its row: the JSON, with the status, finish time and waited-for steps beside it. */
function readWorkflow(row: WorkflowRow): WorkflowData {
  const stored = decodeWorkflowData(row.data, `workflow record ${row.id} in PostgreSQL`);
  const status = row.status as WorkflowStatus;
  return {
    ...stored,
    status,
    finishedAt: row.finished_at ?? stored.finishedAt,
    pending: status === "running" ? row.pending : [],
  };
}

export class WorkflowStore {
  constructor(
    private readonly session: PgSession,
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
    this.session.assertConnected();
    checkNewWork(steps, "addWorkflow");
    const data = encodeWorkflowData(record);
    const rows = steps.map((step) => storedColumns(step, routeOf(step, null)));
    const finished = record.finishedAt !== null;
    const token = requestToken();
    const now = this.now();
    return this.session.transaction("addWorkflow", async (tx, resent) => {
      if (resent) {
        const mine = await tx.query(this.session.sql(ADDED_BY), [queue, record.id, token]);
        if (mine.length > 0) return true;
      }
      await tx.query(this.session.sql(DROP_EXPIRED), [queue, record.id, now]);
      const [row] = await tx.query<{ stored: string; added: string[] }>(this.session.sql(ADD), [
        queue,
        record.id,
        data,
        record.status,
        record.finishedAt,
        finished ? [] : record.pending,
        record.steps.length,
        finished ? expiresAt : null,
        token,
        rows.map((r) => r.id),
        rows.map((r) => r.data),
        rows.map((r) => r.status),
        rows.map((r) => r.state),
        rows.map((r) => r.dueAt),
        rows.map((r) => r.createdAt),
        this.session.channels.work,
        this.session.channels.finished,
        finished ? (finishedPayloads(queue, [record.id])[0] ?? null) : null,
        rows.map((r) => r.priority),
        rows.map(storableConcurrencyKey),
        rows.map((r) => r.concurrencyLimit),
      ]);
      if (events && Number(row?.stored ?? 0) === 1) {
        // The workflow's own events, then each step added now, in the steps' order.
        const added = new Set(row!.added);
        const bodies = events.steps.filter((_, i) => added.has(rows[i]!.id));
        await this.events.appendWithin(tx, queue, [...events.workflow, ...bodies]);
      }
      return Number(row?.stored ?? 0) === 1;
    });
  }

  async retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null> {
    this.session.assertConnected();
    checkNewWork(retry.tasks, "retryWorkflow");
    const rows = retry.tasks.map((task) => storedColumns(task, routeOf(task, null)));
    const events = this.events.cap > 0 ? retry.events : undefined;
    const token = requestToken();
    const now = this.now();
    return this.session.transaction("retryWorkflow", async (tx, resent) => {
      if (resent) {
        const mine = await tx.query(this.session.sql(ADDED_BY), [queue, id, token]);
        if (mine.length > 0) return true;
      }
      const [row] = await tx.query<{ status: string; finished_at: string | null }>(
        this.session.sql(LOCK_FOR_RETRY),
        [queue, id, now],
      );
      if (!row) return null;
      if (row.status !== "failed" || row.finished_at !== retry.failedAt) return false;
      await tx.query(this.session.sql(REOPEN), [
        queue,
        id,
        encodeWorkflowData(retry.record),
        retry.record.pending,
        retry.record.steps.length,
        token,
        retry.replaced,
      ]);
      // The workflow's own events first, then each task's as it is added.
      if (events) await this.events.appendWithin(tx, queue, events.workflow);
      await tx.query(
        this.session.sql(ADD_UNIQUE),
        addValues(this.session, queue, token, rows, {
          bodies: events ? retry.tasks.map((_task, i) => events.steps[i] ?? null) : null,
          append: this.events.appendValues,
        }),
      );
      return true;
    });
  }

  /** The live workflows among `ids`, with their outcomes (missing and expired ones left out). */
  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    this.session.assertConnected();
    const found = new Map<string, StoredWorkflow>();
    if (ids.length === 0) return found;
    const now = this.now();
    const rows = await this.session.query<StoredRow>("getWorkflows", this.session.sql(BY_ID), [
      queue,
      [...new Set(ids)],
      now,
    ]);
    for (const row of rows) {
      const outcomes = new Map<string, TaskData>();
      row.outcome_ids.forEach((taskId, i) => {
        const where = `step outcome ${taskId} of workflow ${row.id} in PostgreSQL`;
        outcomes.set(taskId, readStoredRecord(taskId, row.outcome_data[i], where, now).record);
      });
      found.set(row.id, { record: readWorkflow(row), outcomes });
    }
    return found;
  }

  async runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    this.session.assertConnected();
    if (ids.length === 0) return new Set();
    const rows = await this.session.query<{ id: string }>(
      "runningWorkflows",
      this.session.sql(RUNNING),
      [queue, [...new Set(ids)]],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** A page in insertion order; the cursor is the insertion number of the last one returned. */
  async listWorkflows(
    queue: string,
    page: PageRequest & { readonly running?: boolean | undefined } = {},
  ): Promise<WorkflowPage> {
    const { after, limit } = checkWorkflowPage(page);
    this.session.assertConnected();
    const rows = await this.session.query<WorkflowRow & { seq: string }>(
      "listWorkflows",
      this.session.sql(PAGE),
      [queue, after, this.now(), page.running === true, limit + 1],
    );
    return workflowPageOf(rows, limit, readWorkflow);
  }

  /**
   * Cancels a running workflow and its steps that have not started. Locks
   * the steps' rows first, then the workflow's — the order settles lock in.
   */
  async cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null> {
    this.session.assertConnected();
    const now = this.now();
    const finishedAt = isoAt(cancellation.at);
    return this.session.transaction("cancelWorkflow", async (tx) => {
      const [peek] = await tx.query<{
        status: string;
        pending: string[];
        expires_at: string | null;
      }>(this.session.sql(PEEK), [queue, id]);
      const expiry = msOf(peek?.expires_at ?? null);
      if (!peek || (expiry !== null && expiry <= now)) return null;
      if (peek.status !== "running") return "finished";
      const steps = await lockTasks(this.session, tx, queue, peek.pending);
      const workflow = (await lockWorkflows(this.session, tx, queue, [id])).get(id);
      if (!workflow) return null;
      if (workflow.status !== "running") return "finished";
      // A resume wrote new steps meanwhile: lock those too.
      const more = workflow.pending.filter((step) => !peek.pending.includes(step));
      if (more.length > 0) {
        for (const [stepId, step] of await lockTasks(this.session, tx, queue, more))
          steps.set(stepId, step);
      }
      const bodies = cancellation.events;
      const waiting = (stepId: string) => WAITING.has(steps.get(stepId)?.state ?? FINISHED);
      // Every step it cancels must have its event: one missing was added after the caller's read.
      if (bodies && workflow.pending.some((stepId) => waiting(stepId) && !bodies.has(stepId)))
        return "stale";
      const [row] = await tx.query<{ data: string; steps: string[] }>(this.session.sql(CANCEL), [
        queue,
        workflow.pending,
        finishedAt,
        cancellation.stepExpiresAt,
        cancellation.expiresAt,
        id,
      ]);
      await tx.query(this.session.sql(NOTIFY_FINISHED), [
        this.session.channels.finished,
        finishedPayloads(queue, [id, ...(row?.steps ?? [])]),
      ]);
      if (bodies) {
        const cancelled = new Set(row?.steps ?? []);
        const appended = workflow.pending.flatMap((stepId) => {
          const body = cancelled.has(stepId) ? bodies.get(stepId) : undefined;
          return body === undefined ? [] : [body];
        });
        await this.events.appendWithin(tx, queue, appended);
      }
      if (cancellation.event !== undefined)
        await this.events.appendWithin(tx, queue, [cancellation.event]);
      const stored = decodeWorkflowData(row!.data, `workflow record ${id} in PostgreSQL`);
      return { ...stored, status: "cancelled" as const, finishedAt, pending: [] };
    });
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean | "running"> {
    this.session.assertConnected();
    const [row] = await this.session.query<{ what: string; expires_at: string | null }>(
      "deleteWorkflow",
      this.session.sql(DELETE),
      [queue, id],
      { resend: "unsent" },
    );
    if (!row) return false;
    if (row.what === "running") return "running";
    const expiry = msOf(row.expires_at);
    // An expired one was already gone for readers.
    return expiry === null || expiry > this.now();
  }

  /** Deletes every workflow of `queue` whose expiry is due by `now`, with its outcomes; returns how many. */
  async pruneWorkflows(queue: string, now: number): Promise<number> {
    this.session.assertConnected();
    let deleted = 0;
    for (;;) {
      const [row] = await this.session.query<{ n: string }>(
        "pruneExpired",
        this.session.sql(PRUNE),
        [queue, now, PRUNE_BATCH],
        { wait: false },
      );
      const n = Number(row?.n ?? 0);
      deleted += n;
      if (n < PRUNE_BATCH) return deleted;
    }
  }
}
