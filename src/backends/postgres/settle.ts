/**
 * @module backends/postgres/settle
 * `settle`: a plain call (each task once, no workflow, no chained tasks) is
 * one statement in autocommit — one round trip (`SETTLE_PLAIN`); any other
 * is one transaction per call, whatever its number of settlements.
 * Every record is routed and encoded first (one that cannot be stored
 * rejects the call before anything is written). Then: lock the settled task
 * rows (`FOR UPDATE`, in id order, so two settles never deadlock), and the
 * workflows their steps end or their resumes write (also in id order, after
 * the tasks — the order every transaction here takes locks in); decide per
 * settlement (`../sql/settle-plan.ts`); write it all in one statement
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
import {
  eventsWritten,
  type LockedTask,
  type LockedWorkflow,
  type PreparedSettlement,
  planSettle,
  prepareSettlements,
  verdictOf,
} from "../sql/settle-plan.js";
import type { EventStore } from "./event-log.js";
import { writePlan } from "./plan-writes.js";
import { CLAIMABLE, CLAIMED, FINISHED, msOf } from "./record-codec.js";
import {
  EXPIRING_COUNTS,
  type ExpiringColumns,
  expiringCountsOf,
  type RetentionBound,
} from "./retention-bound.js";
import type { PgSession, Tx } from "./session.js";

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

/** Longest id (and queue name) in bytes the one-statement settle takes; longer ones go the transaction's way. */
const PLAIN_MAX_BYTES = 256;
/** Bytes of ids per finished-notification payload (the server's limit is 8000; the queue and brackets fit in the rest). */
const PLAIN_PAYLOAD_BYTES = 7000;

/**
 * The plain settle in one statement (autocommit, one round trip): the rows
 * locked in id order, as the transaction's way locks them — each found by a
 * primary-key lookup of its own and carrying its new values from there, so
 * the write joins nothing but the locked rows (a plan that unnested the
 * values again for every row cost 4 ms of a 7 ms settle of 100); each written only
 * when its claim is current (the same test as the plan's verdict); the
 * finished ids announced (chunked under the payload limit) and the work
 * channel woken when a written record became claimable, both at commit.
 * The event bodies of the settlements written are appended last
 * (`./event-log.ts`). Answers each locked row as it was before the write,
 * whether it was written, and the queue's expiring rows of each kind
 * (completed, the others) before the statement.
 */
const SETTLE_PLAIN = `
WITH locked AS (
  SELECT t.id, t.state, t.fence, t.settled_fence, t.expires_at,
         u.data AS new_data, u.status AS new_status, u.state AS new_state, u.due_at AS new_due_at,
         u.expires_at AS new_expires_at, u.fence AS claim_fence, u.n
  FROM (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::smallint[], $6::bigint[],
                         $7::bigint[], $8::bigint[])
           WITH ORDINALITY AS u(id, data, status, state, due_at, expires_at, fence, n)
    ORDER BY id
  ) u
  CROSS JOIN LATERAL (
    SELECT t.id, t.state, t.fence, t.settled_fence, t.expires_at FROM %SCHEMA%.tasks t
    WHERE t.queue = $1 AND t.id = u.id
    FOR UPDATE
  ) t
), w AS (
  UPDATE %SCHEMA%.tasks t
  SET data = l.new_data, status = l.new_status, state = l.new_state,
      seq = CASE WHEN l.new_state = ${CLAIMABLE} THEN nextval('%SCHEMA%.task_seq') END,
      due_at = l.new_due_at, started_at = NULL, finished_at = NULL, lease_at = NULL,
      suspect_lease = NULL, suspect_at = NULL, expires_at = l.new_expires_at, settled_fence = l.claim_fence
  FROM locked l
  WHERE t.queue = $1 AND t.id = l.id AND l.state = ${CLAIMED} AND l.fence = l.claim_fence AND l.claim_fence <> 0
  RETURNING t.id, t.state, l.n
), fin AS (
  SELECT id, n, (sum(octet_length(to_json(id)::text) + 1) OVER (ORDER BY n)) / ${PLAIN_PAYLOAD_BYTES} AS chunk
  FROM w WHERE state = ${FINISHED}
), events AS (
  -- The bodies $12 of the settlements written ($11: each body's settlement, numbered from 1), in order.
  SELECT %SCHEMA%.append_events($1, ARRAY(
    SELECT e.body FROM unnest($11::integer[], $12::text[]) WITH ORDINALITY AS e(n, body, k)
    WHERE e.n IN (SELECT n FROM w)
    ORDER BY e.k), $13, $14) AS appended
)
SELECT l.id, l.state, l.fence, l.settled_fence, l.expires_at,
  EXISTS (SELECT 1 FROM w WHERE w.id = l.id) AS written,
  ${EXPIRING_COUNTS},
  (SELECT count(*) FROM (
     SELECT pg_notify($9, '[' || to_json($1::text)::text || ',' || string_agg(to_json(id)::text, ',' ORDER BY n) || ']')
     FROM fin GROUP BY chunk) x) AS announced,
  (SELECT count(*) FROM (
     SELECT pg_notify($10, $1) WHERE EXISTS (SELECT 1 FROM w WHERE w.state = ${CLAIMABLE})
       -- Under a cap an ended claim makes room.
       OR EXISTS (SELECT 1 FROM %SCHEMA%.queue_caps c WHERE c.queue = $1)) y) AS woke,
  (SELECT appended FROM events) AS appended
FROM locked l`;

interface PlainRow extends TaskLockRow, ExpiringColumns {
  written: boolean;
}

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
  events: EventStore,
): Promise<SettleResult[]> {
  session.assertConnected();
  if (settlements.length === 0) return [];
  const prepared = prepareSettlements(settlements, now);
  const workflowIds = settlements.flatMap((s) => [
    ...(s.workflowStep ? [s.workflowStep.workflowId] : []),
    ...(s.workflow ? [s.workflow.record.id] : []),
  ]);
  if (isPlain(queue, prepared)) return settlePlain(session, queue, prepared, now, bound, events);
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
      const written = await writePlan(session, tx, queue, plan, workflows);
      await bound.afterSettle(tx, queue, written.expiring, plan.expiring);
      // Last: the queue's event lock is held only from here to the commit.
      await events.appendWithin(tx, queue, eventsWritten(plan.events, written.inserted));
      return plan.results;
    },
    { wait: false },
  );
}

/** A call the one-statement settle takes: each task once, no workflow, no chained tasks, short ids. */
function isPlain(queue: string, prepared: readonly PreparedSettlement[]): boolean {
  if (Buffer.byteLength(queue) > PLAIN_MAX_BYTES) return false;
  const ids = new Set<string>();
  for (const p of prepared) {
    const s = p.settlement;
    if (s.workflowStep || s.workflow || s.children.length > 0) return false;
    if (ids.has(p.columns.id) || Buffer.byteLength(p.columns.id) > PLAIN_MAX_BYTES) return false;
    ids.add(p.columns.id);
  }
  return true;
}

/**
 * Plain settles in one round trip (`SETTLE_PLAIN`), the verdicts as the
 * plan gives them; over the maxFinished bound, the trim follows in a short
 * transaction of its own.
 */
async function settlePlain(
  session: PgSession,
  queue: string,
  prepared: readonly PreparedSettlement[],
  now: number,
  bound: RetentionBound,
  events: EventStore,
): Promise<SettleResult[]> {
  const owners: number[] = [];
  const bodies: string[] = [];
  if (events.cap > 0) {
    prepared.forEach((p, i) => {
      for (const body of p.settlement.events ?? []) {
        owners.push(i + 1);
        bodies.push(body);
      }
    });
  }
  const expiresAt = prepared.map((p) => (p.columns.state === FINISHED ? p.expiresAt : null));
  const rows = await session.query<PlainRow>(
    "settle",
    session.sql(SETTLE_PLAIN),
    [
      queue,
      prepared.map((p) => p.columns.id),
      prepared.map((p) => p.columns.data),
      prepared.map((p) => p.columns.status),
      prepared.map((p) => p.columns.state),
      prepared.map((p) => p.columns.dueAt),
      expiresAt,
      prepared.map((p) => p.settlement.fence),
      session.channels.finished,
      session.channels.work,
      owners,
      bodies,
      ...events.appendValues,
    ],
    { wait: false },
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  let expiring = 0;
  const results = prepared.map((p, i): SettleResult => {
    const row = byId.get(p.columns.id);
    if (!row?.written) {
      return verdictOf(
        row && {
          state: row.state,
          fence: Number(row.fence),
          settledFence: Number(row.settled_fence),
          expiresAt: msOf(row.expires_at),
        },
        p.settlement.fence,
        now,
      ) as SettleResult;
    }
    if (expiresAt[i] !== null) expiring++;
    return "settled";
  });
  if (expiring > 0) {
    // Written already: a trim that fails is left to the next settle over the bound, or the sweep.
    await bound.afterPlainSettle(queue, expiringCountsOf(rows[0]), expiring).catch(() => undefined);
  }
  return results;
}
