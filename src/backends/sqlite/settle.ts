/**
 * @module backends/sqlite/settle
 * `settle`, and the plan writes a workflow step's cancel shares: one write
 * transaction per call, whatever its number of settlements. Every record is
 * routed and encoded first (one that cannot be stored rejects the call
 * before anything is written). Inside the transaction — which holds the
 * file's write lock, so no other process changes a row meanwhile — the
 * settled rows and the workflows their steps end or their resumes write are
 * read, each settlement decided (`../sql/settle-plan.ts`), the plan written,
 * the maxFinished bound applied, and the events of the settlements written
 * appended. Waiting claims, event reads and finished-listeners hear of it
 * after the commit.
 *
 * Safe to send again: a settlement already written finds its fence settled.
 */
import type { Settlement, SettleResult } from "../backend.js";
import {
  eventsWritten,
  type LockedTask,
  type LockedWorkflow,
  planSettle,
  prepareSettlements,
  type SettlePlan,
} from "../sql/settle-plan.js";
import { CLAIMABLE } from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";
import type { EventStore } from "./event-log.js";
import type { RetentionBound } from "./retention-bound.js";
import { insertNew, logFinished, takeNumbers } from "./rows.js";
import type { Signals } from "./signals.js";

const READ_TASK = `
SELECT state, fence, settled_fence, expires_at FROM tasks WHERE queue = ? AND id = ?`;

const READ_WORKFLOW = `
SELECT status, step_count, pending, expires_at FROM workflows WHERE queue = ? AND id = ?`;

const WRITE_TASK = `
UPDATE tasks
SET data = ?, status = ?, state = ?, seq = ?, due_at = ?, started_at = NULL, finished_at = NULL,
    lease_at = NULL, suspect_lease = NULL, suspect_at = NULL, expires_at = ?, settled_fence = ?
WHERE queue = ? AND id = ?`;

const WRITE_WORKFLOW = `
UPDATE workflows
SET data = coalesce(?, data), status = ?, finished_at = ?, pending = ?, step_count = ?, expires_at = ?
WHERE queue = ? AND id = ?`;

const WRITE_OUTCOME = `
INSERT INTO workflow_outcomes (queue, workflow_id, task_id, data) VALUES (?, ?, ?, ?)
ON CONFLICT (queue, workflow_id, task_id) DO UPDATE SET data = excluded.data`;

/** The rows of `ids` as a settle decides on them, by id (inside a write transaction). */
export function readTasks(
  db: SqliteDatabase,
  queue: string,
  ids: readonly string[],
): Map<string, LockedTask> {
  const read = db.statement(READ_TASK);
  const found = new Map<string, LockedTask>();
  for (const id of new Set(ids)) {
    const row = read.get(queue, id) as
      | { state: number; fence: number; settled_fence: number; expires_at: number | null }
      | undefined;
    if (row) {
      found.set(id, {
        state: row.state,
        fence: row.fence,
        settledFence: row.settled_fence,
        expiresAt: row.expires_at,
      });
    }
  }
  return found;
}

/** The workflow rows of `ids`, by id (inside a write transaction). */
export function readWorkflows(
  db: SqliteDatabase,
  queue: string,
  ids: readonly string[],
): Map<string, LockedWorkflow> {
  const read = db.statement(READ_WORKFLOW);
  const found = new Map<string, LockedWorkflow>();
  for (const id of new Set(ids)) {
    const row = read.get(queue, id) as
      | { status: string; step_count: number; pending: string; expires_at: number | null }
      | undefined;
    if (row) {
      found.set(id, {
        status: row.status,
        stepCount: row.step_count,
        pending: JSON.parse(row.pending) as string[],
        expiresAt: row.expires_at,
        data: null,
        finishedAt: null,
        changed: false,
      });
    }
  }
  return found;
}

const CAPPED = "SELECT 1 FROM queue_caps WHERE queue = ?";

/** What a written plan leaves for after the commit: whether work became claimable, and the ids its inserts added. */
export interface WrittenPlan {
  readonly claimable: boolean;
  readonly inserted: ReadonlySet<string>;
}

/** Writes `plan` (inside a write transaction): records, new rows, workflows, outcomes, the finish mark. */
export function writePlan(
  db: SqliteDatabase,
  queue: string,
  plan: SettlePlan,
  workflows: ReadonlyMap<string, LockedWorkflow>,
  takeSeq: () => number,
): WrittenPlan {
  const write = db.statement(WRITE_TASK);
  for (const w of plan.writes) {
    const seq = w.state === CLAIMABLE ? takeSeq() : null;
    write.run(w.data, w.status, w.state, seq, w.dueAt, w.expiresAt, w.fence, queue, w.id);
  }
  const seen = new Set<string>();
  const inserts = plan.inserts.filter((row) => !seen.has(row.id) && seen.add(row.id));
  const inserted = insertNew(db, queue, inserts);
  const writeWorkflow = db.statement(WRITE_WORKFLOW);
  for (const [id, w] of workflows) {
    if (!w.changed) continue;
    writeWorkflow.run(
      w.data,
      w.status,
      w.finishedAt,
      JSON.stringify(w.pending),
      w.stepCount,
      w.expiresAt,
      queue,
      id,
    );
  }
  const writeOutcome = db.statement(WRITE_OUTCOME);
  for (const o of plan.outcomes) writeOutcome.run(queue, o.workflowId, o.taskId, o.data);
  logFinished(db, queue, plan.finished);
  const claimableInsert = inserts.some((r, i) => inserted[i] && r.state === CLAIMABLE);
  const added = new Set(inserts.filter((_, i) => inserted[i]).map((r) => r.id));
  return { claimable: plan.claimable || claimableInsert, inserted: added };
}

/** Ends attempts; see the module header. */
export async function settle(
  db: SqliteDatabase,
  signals: Signals,
  queue: string,
  settlements: readonly Settlement[],
  now: number,
  bound: RetentionBound,
  events: EventStore,
): Promise<SettleResult[]> {
  db.assertConnected();
  if (settlements.length === 0) return [];
  const prepared = prepareSettlements(settlements, now);
  const workflowIds = settlements.flatMap((s) => [
    ...(s.workflowStep ? [s.workflowStep.workflowId] : []),
    ...(s.workflow ? [s.workflow.record.id] : []),
  ]);
  const { plan, claimable, appended } = await db.write("settle", () => {
    const tasks = readTasks(
      db,
      queue,
      prepared.map((p) => p.columns.id),
    );
    const workflows = readWorkflows(db, queue, workflowIds);
    const plan = planSettle(prepared, tasks, workflows, now);
    if (plan.writes.length === 0) return { plan, claimable: false, appended: false };
    const claimable = plan.writes.filter((w) => w.state === CLAIMABLE).length;
    let seq = claimable > 0 ? takeNumbers(db, "task_seq", claimable) : 0;
    const written = writePlan(db, queue, plan, workflows, () => seq++);
    if (plan.expiring > 0) bound.trimWithin(queue);
    const appended = events.appendWithin(queue, eventsWritten(plan.events, written.inserted));
    // An ended claim of a concurrency key may have admitted a held task; under a cap it makes room.
    const freed =
      settlements.some((s) => s.record.concurrencyKey !== null) ||
      db.statement(CAPPED).get(queue) !== undefined;
    return { plan, claimable: freed || written.claimable, appended };
  });
  if (claimable) signals.announceWork(queue);
  events.announce(queue, appended);
  signals.announceFinished(queue, plan.finished);
  return plan.results;
}
