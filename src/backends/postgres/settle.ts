/**
 * @module backends/postgres/settle
 * `settle`: one transaction per call, whatever its number of settlements.
 * Every record is routed and encoded first (one that cannot be stored
 * rejects the call before anything is written). Then: lock the settled task
 * rows (`FOR UPDATE`, in id order, so two settles never deadlock), and the
 * workflows their steps end or their resumes write (also in id order, after
 * the tasks — the order every transaction here takes locks in); decide per
 * settlement (`./settle-plan.ts`); write it all in one statement
 * (`./plan-writes.ts`); apply the maxFinished bound when the queue is over
 * it (`./retention-bound.ts`). The workflow row lock is what makes the last step of a fan-out add
 * exactly one resume, however many workers settle its steps at once: each
 * sees the steps the others ended. Round trips: BEGIN, the task lock, the
 * workflow lock (only when a settlement names a workflow), the write, the
 * bound's lock and trim (only when over it), COMMIT.
 *
 * Safe to send again: a settlement already written finds its fence settled.
 */
import type { Settlement, SettleResult } from "../backend.js";
import { writePlan } from "./plan-writes.js";
import { msOf } from "./record-codec.js";
import type { RetentionBound } from "./retention-bound.js";
import type { PgSession, Tx } from "./session.js";
import {
  type LockedTask,
  type LockedWorkflow,
  planSettle,
  prepareSettlements,
} from "./settle-plan.js";

const LOCK_TASKS = `
SELECT id, state, fence, settled_fence, expires_at FROM %SCHEMA%.tasks
WHERE queue = $1 AND id = ANY($2::text[])
ORDER BY id
FOR UPDATE`;

const LOCK_WORKFLOWS = `
SELECT id, status, step_count, pending, expires_at FROM %SCHEMA%.workflows
WHERE queue = $1 AND id = ANY($2::text[])
ORDER BY id
FOR UPDATE`;

interface TaskLockRow {
  id: string;
  state: number;
  fence: string;
  settled_fence: string;
  expires_at: string | null;
}

interface WorkflowLockRow {
  id: string;
  status: string;
  step_count: number;
  pending: string[];
  expires_at: string | null;
}

/** Locks the task rows of `ids` (in id order) and returns them by id. */
export async function lockTasks(
  session: PgSession,
  tx: Tx,
  queue: string,
  ids: readonly string[],
): Promise<Map<string, LockedTask>> {
  const rows = await tx.query<TaskLockRow>(session.sql(LOCK_TASKS), [queue, [...new Set(ids)]]);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        state: r.state,
        fence: Number(r.fence),
        settledFence: Number(r.settled_fence),
        expiresAt: msOf(r.expires_at),
      },
    ]),
  );
}

/** Locks the workflow rows of `ids` (in id order) and returns them by id; none asked, no round trip. */
export async function lockWorkflows(
  session: PgSession,
  tx: Tx,
  queue: string,
  ids: readonly string[],
): Promise<Map<string, LockedWorkflow>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<WorkflowLockRow>(session.sql(LOCK_WORKFLOWS), [
    queue,
    [...new Set(ids)],
  ]);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        status: r.status,
        stepCount: r.step_count,
        pending: r.pending,
        expiresAt: msOf(r.expires_at),
        data: null,
        finishedAt: null,
        changed: false,
      },
    ]),
  );
}

/** Ends attempts; see the module header. */
export async function settle(
  session: PgSession,
  queue: string,
  settlements: readonly Settlement[],
  now: number,
  bound: RetentionBound,
): Promise<SettleResult[]> {
  session.assertConnected();
  if (settlements.length === 0) return [];
  const prepared = prepareSettlements(settlements, now);
  const workflowIds = settlements.flatMap((s) => [
    ...(s.workflowStep ? [s.workflowStep.workflowId] : []),
    ...(s.workflow ? [s.workflow.record.id] : []),
  ]);
  return session.transaction(
    "settle",
    async (tx) => {
      const tasks = await lockTasks(
        session,
        tx,
        queue,
        prepared.map((p) => p.columns.id),
      );
      const workflows = await lockWorkflows(session, tx, queue, workflowIds);
      const plan = planSettle(prepared, tasks, workflows, now);
      if (plan.writes.length === 0) return plan.results;
      const before = await writePlan(session, tx, queue, plan, workflows);
      await bound.afterSettle(tx, queue, before + plan.expiring);
      return plan.results;
    },
    { wait: false },
  );
}
