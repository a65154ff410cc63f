/**
 * @module backends/postgres/task-store
 * Writing task records, apart from settles (`./settle.ts`): add, promote due
 * tasks, cancel, delete, clear a queue, prune expired records. Each is one
 * statement (or a loop of short ones), or a transaction where a cancel ends
 * a workflow step. Statements that make work claimable or finish tasks
 * notify in the same statement, so listeners hear it when it commits. A call
 * resent after a lost reply is recognised: add and cancel by the request
 * token they store with what they write (`req`).
 */

import { isoAt } from "../../clock.js";
import { BackendError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { AddMode, AddOptions, SqlTransaction, WorkflowStepEnd } from "../backend.js";
import { routeOf } from "../record-route.js";
import { requestToken } from "../request-token.js";
import { checkRescheduled, mayReschedule } from "../reschedule-rule.js";
import { sentEvents } from "../sql/event-log.js";
import { newRows } from "../sql/new-rows.js";
import { emptyPlan, endStep } from "../sql/settle-plan.js";
import type { StoredColumns } from "../sql/stored-columns.js";
import { rowsOf } from "./app-client.js";
import { describeRefusal } from "./connection-errors.js";
import type { EventStore } from "./event-log.js";
import { finishedPayloads } from "./notifications.js";
import { writePlan } from "./plan-writes.js";
import {
  CLAIMABLE,
  CLAIMED,
  cancellable,
  DUE,
  FINISHED,
  HELD,
  RECORD_COLUMNS,
  type RecordRow,
  readRow,
  storedColumns,
} from "./record-codec.js";
import type { PgSession, Sql, Tx } from "./session.js";
import { lockWorkflows } from "./settle.js";
import { storableConcurrencyKey } from "./storable-key.js";

/** SQLSTATE of a table that does not exist. */
const UNDEFINED_TABLE = "42P01";

/**
 * Rows per statement of an add: a larger add is several statements in one transaction. About
 * 50 ms a statement on an idle server, so one answers within a short time bound even on a
 * loaded machine; the round trip per statement is small beside the rows' own work.
 */
const ADD_CHUNK = 1000;
/** Due tasks made claimable per statement. */
const PROMOTE_BATCH = 1000;
/** Rows removed per statement while clearing a queue. */
const CLEAR_BATCH = 5000;
/** Expired rows deleted per statement (each one short). */
const PRUNE_BATCH = 1000;

/** New rows in call order (a claimable one takes the next place in the FIFO); `$2` is the call's token. */
const INSERT = `
INSERT INTO %SCHEMA%.tasks AS t (queue, id, data, status, state, seq, due_at, created_at, req, priority, ckey, climit)
SELECT $1, r.id, r.data, r.status, r.state,
       CASE WHEN r.state = ${CLAIMABLE} THEN nextval('%SCHEMA%.task_seq') END, r.due_at, r.created_at, $2,
       r.priority, r.ckey, r.climit
FROM unnest($3::text[], $4::text[], $5::text[], $6::smallint[], $7::bigint[], $8::bigint[], $10::integer[],
            $11::text[], $12::integer[])
     WITH ORDINALITY AS r(id, data, status, state, due_at, created_at, priority, ckey, climit, n)
ORDER BY r.n`;

/**
 * Appends the event bodies `$13` (one per row sent, or NULL) of the rows
 * written, in call order (`./event-log.ts`); `$14` cap, `$15` channel.
 */
const APPEND_ADDED = `
events AS (
  SELECT %SCHEMA%.append_events($1, ARRAY(
    SELECT e.body FROM unnest($3::text[], $13::text[]) WITH ORDINALITY AS e(id, body, n)
    WHERE e.body IS NOT NULL AND e.id IN (SELECT id FROM added)
    ORDER BY e.n), $14, $15) AS n
)`;

/**
 * Within an application's transaction, the same bodies go to
 * `events_pending`; a deferred trigger appends them when that transaction
 * commits (migration 007), so the queue's event lock is held only during
 * its commit, not for as long as the application keeps it open. The row
 * `admits` writes has the same effect on concurrency keys (migration 013):
 * their held tasks are admitted at the commit, after its events, so the
 * transaction holds no key's lock while it stays open either.
 */
const STAGE_ADDED = `
admits AS (
  INSERT INTO %SCHEMA%.admits_pending (queue, ckey) VALUES ($1, NULL)
),
events AS (
  INSERT INTO %SCHEMA%.events_pending (queue, body, cap, channel)
  SELECT $1, e.body, $14, $15 FROM unnest($3::text[], $13::text[]) WITH ORDINALITY AS e(id, body, n)
  WHERE $14 > 0 AND e.body IS NOT NULL AND e.id IN (SELECT id FROM added)
  ORDER BY e.n
  RETURNING 0 AS n
)`;

/** The rows an add statement answers: the ids written, then rows of NULLs its side effects leave. */
const ADD_ANSWER = `
SELECT id FROM added
UNION ALL
SELECT NULL FROM (SELECT pg_notify($9, $1) FROM added WHERE state = ${CLAIMABLE} LIMIT 1) n
UNION ALL
SELECT NULL FROM events WHERE n < 0`;

/** `unique`: an id the queue holds is left alone. */
const ON_CONFLICT_UNIQUE = `
  ON CONFLICT (queue, id) DO NOTHING
  RETURNING t.id, t.state`;

/**
 * The new record replaces the stored one where `replaceable` holds — for
 * `replace` in whatever state but claimed, for `rerun` only while finished or
 * waiting for its retry — and never one written by this same call (a
 * resend), keeping its fences, so a holder of an earlier claim never matches
 * a later one.
 */
const onConflictReplace = (replaceable: string) => `
  ON CONFLICT (queue, id) DO UPDATE
  SET data = EXCLUDED.data, status = EXCLUDED.status, seq = EXCLUDED.seq,
      -- A keyed record replacing one waits for its key's slot as an added one does (migration 005).
      state = CASE WHEN EXCLUDED.state = ${CLAIMABLE} AND EXCLUDED.ckey IS NOT NULL THEN ${HELD}
                   ELSE EXCLUDED.state END,
      priority = EXCLUDED.priority, ckey = EXCLUDED.ckey, climit = EXCLUDED.climit,
      due_at = EXCLUDED.due_at, created_at = EXCLUDED.created_at, req = EXCLUDED.req,
      started_at = NULL, finished_at = NULL, lease_at = NULL, suspect_lease = NULL,
      suspect_at = NULL, expires_at = NULL
  WHERE ${replaceable} AND t.req IS DISTINCT FROM EXCLUDED.req
  RETURNING t.id, t.state`;
const ON_CONFLICT_REPLACE = onConflictReplace(`t.state <> ${CLAIMED}`);
/**
 * Only the run a rerun was made from (one manual re-run less), not one
 * another rerun has put there since (migration 010); a stored record that
 * is not JSON (written by hand) is not in the way.
 */
const ON_CONFLICT_RERUN = onConflictReplace(
  `(t.state = ${FINISHED} OR (t.state <> ${CLAIMED} AND t.status = 'retrying'))
   AND coalesce(%SCHEMA%.manual_retries(t.data), %SCHEMA%.manual_retries(EXCLUDED.data) - 1)
       = %SCHEMA%.manual_retries(EXCLUDED.data) - 1`,
);

const addStatement = (conflict: string, append: string) => `
WITH added AS (${INSERT}${conflict}
), ${append}
${ADD_ANSWER}`;

export const ADD_UNIQUE = addStatement(ON_CONFLICT_UNIQUE, APPEND_ADDED);
export const ADD_REPLACE = addStatement(ON_CONFLICT_REPLACE, APPEND_ADDED);
const ADD_RERUN = addStatement(ON_CONFLICT_RERUN, APPEND_ADDED);
/** Within an application's transaction: its events wait in `events_pending` for its commit. */
export const ADD_UNIQUE_WITHIN = addStatement(ON_CONFLICT_UNIQUE, STAGE_ADDED);
const ADD_REPLACE_WITHIN = addStatement(ON_CONFLICT_REPLACE, STAGE_ADDED);
const ADD_RERUN_WITHIN = addStatement(ON_CONFLICT_RERUN, STAGE_ADDED);

/** The add statement for `mode`, on the application's transaction (`within`) or on its own. */
const ADD_STATEMENTS: Record<AddMode, readonly [own: string, within: string]> = {
  unique: [ADD_UNIQUE, ADD_UNIQUE_WITHIN],
  replace: [ADD_REPLACE, ADD_REPLACE_WITHIN],
  rerun: [ADD_RERUN, ADD_RERUN_WITHIN],
};

/**
 * The values of an add statement (`ADD_UNIQUE`, `ADD_REPLACE`, …) writing
 * `rows` with the call's `token`: each row's event body (or `null`), and the
 * event log's cap and channel, or none.
 */
export function addValues(
  session: PgSession,
  queue: string,
  token: string,
  rows: readonly StoredColumns[],
  events: { bodies: readonly (string | null)[] | null; append: readonly [number, string] },
): unknown[] {
  return [
    queue,
    token,
    rows.map((r) => r.id),
    rows.map((r) => r.data),
    rows.map((r) => r.status),
    rows.map((r) => r.state),
    rows.map((r) => r.dueAt),
    rows.map((r) => r.createdAt),
    session.channels.work,
    rows.map((r) => r.priority),
    rows.map(storableConcurrencyKey),
    rows.map((r) => r.concurrencyLimit),
    events.bodies,
    ...events.append,
  ];
}

/** Rows an earlier send of the same call wrote (its reply lost). */
const WRITTEN_BY = `
SELECT id FROM %SCHEMA%.tasks WHERE queue = $1 AND id = ANY($2::text[]) AND req = $3`;

/**
 * Due rows by $2 become claimable, earliest first, at the tail of the FIFO
 * in that order (numbered after sorting), each by exactly one caller. They
 * keep `due_at`: a claim never stamps its start before it.
 */
const PROMOTE = `
WITH due AS (
  SELECT id, due_at FROM %SCHEMA%.tasks
  WHERE queue = $1 AND state = ${DUE} AND due_at <= $2
  ORDER BY due_at, id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), numbered AS (
  SELECT id, nextval('%SCHEMA%.task_seq') AS seq FROM due ORDER BY due_at, id
), moved AS (
  UPDATE %SCHEMA%.tasks t SET state = ${CLAIMABLE}, status = 'pending', seq = numbered.seq
  FROM numbered
  WHERE t.queue = $1 AND t.id = numbered.id
  RETURNING t.id, t.seq
)
SELECT id, seq FROM moved
UNION ALL
SELECT NULL, NULL FROM (SELECT pg_notify($4, $1) FROM moved LIMIT 1) n`;

/** The earliest due time among the rows waiting for theirs (the due-time index answers it). */
const NEXT_DUE = `
SELECT due_at FROM %SCHEMA%.tasks WHERE queue = $1 AND state = ${DUE} ORDER BY due_at LIMIT 1`;

/** A claimable or due row, not claimed, becomes cancelled (finished at $3, expiring at $4). */
const CANCEL = `
WITH cancelled AS (
  -- $11: a claimed row too; its claim ends (the holder's renewal and settle find it lost).
  UPDATE %SCHEMA%.tasks
  SET state = ${FINISHED}, status = 'cancelled', finished_at = $3, seq = NULL, due_at = NULL,
      expires_at = $4, req = $5, lease_at = NULL, suspect_lease = NULL, suspect_at = NULL
  WHERE queue = $1 AND id = $2
    AND (state IN (${CLAIMABLE}, ${DUE}, ${HELD}) OR ($11::boolean AND state = ${CLAIMED}))
  RETURNING ${RECORD_COLUMNS}
), events AS (
  -- $8: the cancel's event body, appended when it cancels; $9 cap, $10 channel (./event-log.ts).
  SELECT %SCHEMA%.append_events($1, ARRAY(SELECT $8::text FROM cancelled WHERE $8::text IS NOT NULL),
                                $9, $10) AS n
)
SELECT ${RECORD_COLUMNS} FROM cancelled
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL FROM (SELECT pg_notify($6, $7) FROM cancelled) n
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL FROM events WHERE n < 0
UNION ALL
-- Under a queue cap an ended claim makes room: a waiting claim looks again ($12: the work channel).
SELECT NULL, NULL, NULL, NULL, NULL FROM (
  SELECT pg_notify($12, $1) FROM cancelled
  WHERE $11::boolean AND EXISTS (SELECT 1 FROM %SCHEMA%.queue_caps q WHERE q.queue = $1)) w`;

/** The row an earlier send of the same cancel cancelled (its reply lost). */
const CANCELLED_BY = `
SELECT ${RECORD_COLUMNS} FROM %SCHEMA%.tasks WHERE queue = $1 AND id = $2 AND req = $3`;

/** A task's row, locked until the transaction ends, with where it stands. */
const LOCK_TASK = `
SELECT ${RECORD_COLUMNS}, state FROM %SCHEMA%.tasks WHERE queue = $1 AND id = $2 FOR UPDATE`;

/** The row of a step to cancel, locked, with the fence its next write keeps. */
const LOCK_STEP = `
SELECT ${RECORD_COLUMNS}, state, settled_fence FROM %SCHEMA%.tasks
WHERE queue = $1 AND id = $2
FOR UPDATE`;

const DELETE_FINISHED = `
DELETE FROM %SCHEMA%.tasks WHERE queue = $1 AND id = $2 AND state = ${FINISHED}
RETURNING expires_at`;

const CLEAR_TASKS = `
WITH gone AS (
  DELETE FROM %SCHEMA%.tasks
  WHERE queue = $1 AND id IN (SELECT id FROM %SCHEMA%.tasks WHERE queue = $1 LIMIT $2)
  RETURNING 1
)
SELECT count(*) AS n FROM gone`;

const CLEAR_REST = `
WITH workflows AS (DELETE FROM %SCHEMA%.workflows WHERE queue = $1 RETURNING 1),
crons AS (DELETE FROM %SCHEMA%.crons WHERE queue = $1 RETURNING 1),
limits AS (DELETE FROM %SCHEMA%.rate_limits WHERE queue = $1 RETURNING 1),
dedupe AS (DELETE FROM %SCHEMA%.dedupe WHERE queue = $1 RETURNING 1),
events AS (SELECT %SCHEMA%.clear_events($1) AS n)
SELECT (SELECT count(*) FROM workflows) + (SELECT count(*) FROM crons)
       -- Adds nothing: there so the event log's clear runs.
       + (SELECT count(*) FROM events WHERE n < 0) AS n`;

const PRUNE = `
WITH doomed AS (
  SELECT id FROM %SCHEMA%.tasks
  WHERE queue = $1 AND expires_at <= $2
  ORDER BY expires_at
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM %SCHEMA%.tasks t USING doomed WHERE t.queue = $1 AND t.id = doomed.id
  RETURNING 1
)
SELECT count(*) AS n FROM gone`;

/** Rate-limit windows idle past the time they are kept for (not counted: they are not records). */
const PRUNE_RATE_LIMITS = "DELETE FROM %SCHEMA%.rate_limits WHERE queue = $1 AND kept_until < $2";

/**
 * Dedupe slots that hold nothing: their window has ended, or (without one)
 * their task finished or is gone. A slot an add is taking over is locked by
 * it, possibly for as long as the application's transaction it runs in:
 * skipped, not waited for (that add points it at its new task).
 */
const PRUNE_DEDUPE = `
DELETE FROM %SCHEMA%.dedupe d USING (
  SELECT s.queue, s.key FROM %SCHEMA%.dedupe s
  WHERE s.queue = $1 AND (s.held_until <= $2 OR (s.held_until IS NULL AND NOT EXISTS (
    SELECT 1 FROM %SCHEMA%.tasks t WHERE t.queue = s.queue AND t.id = s.task_id AND t.state <> ${FINISHED})))
  FOR UPDATE OF s SKIP LOCKED
) doomed
WHERE d.queue = doomed.queue AND d.key = doomed.key`;

type CancelRow = RecordRow | { id: null };

export class TaskStore {
  constructor(
    private readonly session: PgSession,
    private readonly events: EventStore,
    private readonly now: () => number,
  ) {}

  /**
   * Adds new work, appending the event of each row written; with `appTx`,
   * within the application's own transaction (see `AddOptions`).
   */
  async add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode,
    options: AddOptions,
  ): Promise<boolean[]> {
    this.session.assertConnected();
    if (records.length === 0) return [];
    const appTx = options.tx;
    const { rows, first, sent } = newRows(records, "PostgreSQL", this.now());
    const token = requestToken();
    const statement = this.session.sql(ADD_STATEMENTS[mode][appTx ? 1 : 0]);
    const events = this.events.cap > 0 ? sentEvents(options.events, first) : null;
    // Statements of at most ADD_CHUNK rows: each one answers well within the call's time bound,
    // however many tasks the call adds (one statement of 200,000 rows took over 10 s).
    const parts: unknown[][] = [];
    for (let from = 0; from < sent.length; from += ADD_CHUNK) {
      const part = sent.slice(from, from + ADD_CHUNK);
      parts.push(
        addValues(this.session, queue, token, part, {
          bodies: events ? events.slice(from, from + ADD_CHUNK) : null,
          append: this.events.appendValues,
        }),
      );
    }
    const addAll = async (tx: Tx, resent: boolean) => {
      const ids = new Set<string>();
      if (resent) {
        const mine = await tx.query<{ id: string }>(this.session.sql(WRITTEN_BY), [
          queue,
          sent.map((r) => r.id),
          token,
        ]);
        for (const { id } of mine) ids.add(id);
      }
      for (const values of parts) {
        const added = await tx.query<{ id: string | null }>(statement, values);
        for (const { id } of added) if (id !== null) ids.add(id);
      }
      return ids;
    };
    let written: Set<string>;
    if (appTx) {
      written = new Set();
      for (const values of parts) {
        for (const row of await queryWithin(this.session, appTx, statement, values)) {
          const id = (row as { id?: unknown } | null)?.id;
          if (typeof id === "string") written.add(id);
        }
      }
    } else {
      // One statement is atomic on its own; several go in one transaction.
      written =
        parts.length === 1
          ? await this.session.run("add", addAll)
          : await this.session.transaction("add", addAll);
    }
    return rows.map((row, i) => first[i]! && written.has(row.id));
  }

  /** When the earliest waiting task is due, `null` when none waits. */
  async nextDueAt(queue: string): Promise<number | null> {
    this.session.assertConnected();
    const [row] = await this.session.query<{ due_at: string | number }>(
      "nextDueAt",
      this.session.sql(NEXT_DUE),
      [queue],
      { wait: false },
    );
    return row === undefined ? null : Number(row.due_at);
  }

  /** Makes every task due by `now` claimable; returns their ids, earliest first. */
  async promoteDue(queue: string, now: number): Promise<string[]> {
    this.session.assertConnected();
    const moved: string[] = [];
    for (;;) {
      const rows = await this.session.query<{ id: string | null; seq: string | null }>(
        "promoteDue",
        this.session.sql(PROMOTE),
        [queue, now, PROMOTE_BATCH, this.session.channels.work],
        { wait: false },
      );
      const batch = rows.filter((r) => r.id !== null).sort((a, b) => Number(a.seq) - Number(b.seq));
      moved.push(...batch.map((r) => r.id!));
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
    this.session.assertConnected();
    const token = requestToken();
    const finishedAt = isoAt(cancellation.at);
    const step = cancellation.workflowStep;
    // A resend finds what its earlier send cancelled, if that committed.
    const resentCancel = async (tx: Tx) =>
      (await tx.query<RecordRow>(this.session.sql(CANCELLED_BY), [queue, id, token]))[0];
    const row = step
      ? await this.session.transaction(
          "cancel",
          async (tx, resent) =>
            (resent ? await resentCancel(tx) : undefined) ??
            this.#cancelStep(tx, queue, id, cancellation, step, token),
        )
      : // One statement (autocommit): a cancel that loses no time lets the next call see it done.
        await this.session.run("cancel", async (tx, resent) => {
          const mine = resent ? await resentCancel(tx) : undefined;
          if (mine) return mine;
          const [cancelled] = await tx.query<CancelRow>(this.session.sql(CANCEL), [
            queue,
            id,
            finishedAt,
            cancellation.expiresAt,
            token,
            this.session.channels.finished,
            finishedPayloads(queue, [id])[0],
            cancellation.event ?? null,
            ...this.events.appendValues,
            cancellation.running === true,
            this.session.channels.work,
          ]);
          return cancelled?.id ? (cancelled as RecordRow) : null;
        });
    return row ? readRow(row, this.now()) : null;
  }

  /**
   * Cancels a workflow step: its cancelled record is written whole (it is
   * kept with the workflow too), and its end applied to the workflow as a
   * settle would (`../sql/settle-plan.ts`), under the same locks, in the same order.
   */
  async #cancelStep(
    tx: Tx,
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      event?: string | undefined;
      running?: boolean | undefined;
    },
    step: WorkflowStepEnd,
    token: string,
  ): Promise<RecordRow | null> {
    const [row] = await tx.query<RecordRow & { state: number; settled_fence: string }>(
      this.session.sql(LOCK_STEP),
      [queue, id],
    );
    if (!row || !cancellable(row.state, cancellation.running === true)) return null;
    const cancelled: TaskData = {
      ...readRow(row, this.now()),
      status: "cancelled",
      finishedAt: isoAt(cancellation.at),
    };
    const columns = storedColumns(cancelled, { kind: "finished" });
    const workflows = await lockWorkflows(this.session, tx, queue, [step.workflowId]);
    const plan = emptyPlan();
    plan.writes.push({
      ...columns,
      expiresAt: cancellation.expiresAt,
      fence: Number(row.settled_fence),
    });
    plan.finished.push(id);
    const resume = storedColumns(step.resume, routeOf(step.resume, null));
    const resumed = endStep(plan, workflows, step, id, columns.data, resume, cancellation.at);
    const { inserted } = await writePlan(this.session, tx, queue, plan, workflows, { req: token });
    // Its own event, then the resume's when the resume was added now.
    const events = [
      cancellation.event,
      resumed && inserted.has(resume.id) ? step.resumeEvent : undefined,
    ];
    const bodies = events.filter((body): body is string => body !== undefined);
    if (bodies.length > 0) await this.events.appendWithin(tx, queue, bodies);
    return { id, data: columns.data, status: "cancelled", started_at: null, finished_at: null };
  }

  async reschedule(queue: string, givenRead: TaskData, givenNext: TaskData): Promise<boolean> {
    this.session.assertConnected();
    const { read, next: record } = checkRescheduled(givenRead, givenNext, "PostgreSQL");
    // A resend may find its earlier send's write: the same run, replaced by the same record again.
    return this.session.transaction("reschedule", async (tx) => {
      const [row] = await tx.query<RecordRow & { state: number }>(this.session.sql(LOCK_TASK), [
        queue,
        record.id,
      ]);
      const stored = row === undefined ? undefined : readRow(row, this.now());
      if (!mayReschedule(stored, row?.state === CLAIMED, read)) return false;
      const written = await tx.query<{ id: string | null }>(
        this.session.sql(ADD_REPLACE),
        addValues(
          this.session,
          queue,
          requestToken(),
          [storedColumns(record, routeOf(record, null))],
          { bodies: null, append: [0, this.session.channels.events] },
        ),
      );
      return written.some((r) => r.id === record.id);
    });
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    this.session.assertConnected();
    const [row] = await this.session.query<{ expires_at: string | null }>(
      "deleteTask",
      this.session.sql(DELETE_FINISHED),
      [queue, id],
      { resend: "unsent" },
    );
    // A record whose expiry had passed was already gone for readers.
    return row !== undefined && (row.expires_at === null || Number(row.expires_at) > this.now());
  }

  /** Removes every record of the queue, its workflows, crons, rate limits, dedupe keys and event log; returns how many records, workflows and crons. */
  async clear(queue: string): Promise<number> {
    this.session.assertConnected();
    let removed = 0;
    for (;;) {
      const [row] = await this.session.query<{ n: string }>(
        "clear",
        this.session.sql(CLEAR_TASKS),
        [queue, CLEAR_BATCH],
      );
      const n = Number(row?.n ?? 0);
      removed += n;
      if (n < CLEAR_BATCH) break;
    }
    const [rest] = await this.session.query<{ n: string }>("clear", this.session.sql(CLEAR_REST), [
      queue,
    ]);
    return removed + Number(rest?.n ?? 0);
  }

  /** Deletes every record of `queue` whose expiry is due by `now`; returns how many. */
  async pruneExpired(queue: string, now: number): Promise<number> {
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
      if (n < PRUNE_BATCH) break;
    }
    await this.session.query("pruneExpired", this.session.sql(PRUNE_RATE_LIMITS), [queue, now], {
      wait: false,
    });
    await this.session.query("pruneExpired", this.session.sql(PRUNE_DEDUPE), [queue, now], {
      wait: false,
    });
    return deleted;
  }
}

/**
 * Runs `statement` on the application's transaction (`add(…, { tx })`): it
 * takes effect, and its notification goes out, when that commits. Sent once
 * (the transaction is its owner's to retry); a failure is a `BackendError`
 * naming the cause, an answer without `rows` an `InvalidOptionError` (the tx
 * is at fault). Resolves the rows.
 */
export async function queryWithin(
  session: PgSession,
  appTx: SqlTransaction,
  statement: Sql,
  values: readonly unknown[],
): Promise<unknown[]> {
  let result: unknown;
  try {
    result = await appTx.query(statement.text, [...values]);
  } catch (error) {
    // The schema's tables missing on tx's connection: most likely a transaction on another database.
    const elsewhere =
      (error as { code?: unknown })?.code === UNDEFINED_TABLE
        ? ` (is tx a transaction on the database this backend uses, where its schema "${session.schema}" was migrated?)`
        : "";
    throw new BackendError(
      `add: PostgreSQL refused the add within your transaction: ${describeRefusal(error, session.scrub)}${elsewhere}`,
      { cause: error },
    );
  }
  return rowsOf(result, "add", "tx.query");
}
