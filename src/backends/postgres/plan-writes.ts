/**
 * @module backends/postgres/plan-writes
 * Writes a settle plan (`../sql/settle-plan.ts`) in one statement: the settled
 * records, the new rows (chained tasks, resumes; each only if its id is
 * new), the workflows the plan changed, the step outcomes kept with them,
 * and the notifications — work became claimable, tasks or workflows
 * finished — which PostgreSQL sends when the transaction commits. Every
 * part is a batch (`unnest` of arrays), so the statement costs one round
 * trip however many settlements the call carries. It answers how many
 * expiring rows of each kind (completed, the others) the queue had before
 * it, for the count bounds (`./retention-bound.ts`).
 */

import type { LockedWorkflow, SettlePlan } from "../sql/settle-plan.js";
import { finishedPayloads } from "./notifications.js";
import { CLAIMABLE } from "./record-codec.js";
import {
  EXPIRING_COUNTS,
  type ExpiringColumns,
  type ExpiringCounts,
  expiringCountsOf,
} from "./retention-bound.js";
import type { PgSession, Tx } from "./session.js";
import { storableConcurrencyKey } from "./storable-key.js";

const WRITE = `
WITH w AS (
  UPDATE %SCHEMA%.tasks t
  SET data = u.data, status = u.status, state = u.state,
      seq = CASE WHEN u.state = ${CLAIMABLE} THEN nextval('%SCHEMA%.task_seq') END,
      due_at = u.due_at, started_at = NULL, finished_at = NULL, lease_at = NULL,
      suspect_lease = NULL, suspect_at = NULL, expires_at = u.expires_at,
      settled_fence = u.fence, req = coalesce(u.req, t.req)
  FROM unnest($2::text[], $3::text[], $4::text[], $5::smallint[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::text[])
       AS u(id, data, status, state, due_at, expires_at, fence, req)
  WHERE t.queue = $1 AND t.id = u.id
  RETURNING 1
), c AS (
  INSERT INTO %SCHEMA%.tasks (queue, id, data, status, state, seq, due_at, created_at, priority, ckey, climit)
  SELECT $1, c.id, c.data, c.status, c.state,
         CASE WHEN c.state = ${CLAIMABLE} THEN nextval('%SCHEMA%.task_seq') END, c.due_at, c.created_at,
         c.priority, c.ckey, c.climit
  FROM unnest($10::text[], $11::text[], $12::text[], $13::smallint[], $14::bigint[], $15::bigint[],
              $30::integer[], $31::text[], $32::integer[])
       WITH ORDINALITY AS c(id, data, status, state, due_at, created_at, priority, ckey, climit, n)
  ORDER BY c.n
  ON CONFLICT (queue, id) DO NOTHING
  RETURNING id, state
), f AS (
  UPDATE %SCHEMA%.workflows f
  SET data = coalesce(u.data, f.data), status = u.status, finished_at = u.finished_at,
      pending = ARRAY(SELECT e FROM json_array_elements_text(u.pending::json) WITH ORDINALITY AS p(e, n) ORDER BY p.n),
      step_count = u.step_count, expires_at = u.expires_at
  FROM unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::integer[],
              $22::bigint[])
       AS u(id, data, status, finished_at, pending, step_count, expires_at)
  WHERE f.queue = $1 AND f.id = u.id
  RETURNING 1
), o AS (
  INSERT INTO %SCHEMA%.workflow_outcomes (queue, workflow_id, task_id, data)
  SELECT $1, o.workflow_id, o.task_id, o.data
  FROM unnest($23::text[], $24::text[], $25::text[]) AS o(workflow_id, task_id, data)
  ON CONFLICT (queue, workflow_id, task_id) DO UPDATE SET data = EXCLUDED.data
  RETURNING 1
)
SELECT
  ${EXPIRING_COUNTS},
  ARRAY(SELECT id FROM c) AS inserted,
  (SELECT count(*) FROM (SELECT pg_notify($26, p) FROM unnest($27::text[]) AS p) x) AS announced,
  (SELECT count(*) FROM (
     SELECT pg_notify($28, $1)
     WHERE $29::boolean OR EXISTS (SELECT 1 FROM c WHERE c.state = ${CLAIMABLE})
       -- Under a cap an ended claim makes room.
       OR EXISTS (SELECT 1 FROM %SCHEMA%.queue_caps q WHERE q.queue = $1)) y) AS woke`;

/** A plan's task write, as `WRITE` takes it, optionally naming the call that made it. */
export interface WriteExtras {
  /** Request token stored with each written record (a cancel's), or none. */
  readonly req?: string | undefined;
}

/** What a written plan tells: the queue's expiring rows of each kind before it, and the ids its inserts added (new ids only). */
export interface PlanWritten {
  readonly expiring: ExpiringCounts;
  readonly inserted: ReadonlySet<string>;
}

/** Writes `plan` (see the module header). */
export async function writePlan(
  session: PgSession,
  tx: Tx,
  queue: string,
  plan: SettlePlan,
  workflows: ReadonlyMap<string, LockedWorkflow>,
  extras: WriteExtras = {},
): Promise<PlanWritten> {
  const { writes, outcomes } = plan;
  const seen = new Set<string>();
  const inserts = plan.inserts.filter((row) => !seen.has(row.id) && seen.add(row.id));
  const changed = [...workflows.entries()].filter(([, w]) => w.changed);
  const [row] = await tx.query<ExpiringColumns & { inserted: string[] }>(session.sql(WRITE), [
    queue,
    writes.map((w) => w.id),
    writes.map((w) => w.data),
    writes.map((w) => w.status),
    writes.map((w) => w.state),
    writes.map((w) => w.dueAt),
    writes.map((w) => w.expiresAt),
    writes.map((w) => w.fence),
    writes.map(() => extras.req ?? null),
    inserts.map((r) => r.id),
    inserts.map((r) => r.data),
    inserts.map((r) => r.status),
    inserts.map((r) => r.state),
    inserts.map((r) => r.dueAt),
    inserts.map((r) => r.createdAt),
    changed.map(([id]) => id),
    changed.map(([, w]) => w.data),
    changed.map(([, w]) => w.status),
    changed.map(([, w]) => w.finishedAt),
    changed.map(([, w]) => JSON.stringify(w.pending)),
    changed.map(([, w]) => w.stepCount),
    changed.map(([, w]) => w.expiresAt),
    outcomes.map((o) => o.workflowId),
    outcomes.map((o) => o.taskId),
    outcomes.map((o) => o.data),
    session.channels.finished,
    plan.finished.length > 0 ? finishedPayloads(queue, plan.finished) : [],
    session.channels.work,
    plan.claimable,
    inserts.map((r) => r.priority),
    inserts.map(storableConcurrencyKey),
    inserts.map((r) => r.concurrencyLimit),
  ]);
  return { expiring: expiringCountsOf(row), inserted: new Set(row?.inserted ?? []) };
}
