/**
 * @module backends/postgres/event-log
 * Each queue's lifecycle event log (migrations 007 and 008): one row of
 * `event_batches` per append, holding its bodies, with one id per body from
 * the queue's own count. Every append goes through `append_events`, which takes
 * the queue's event lock before drawing ids and holds it to commit — so ids
 * of a queue grow in commit order and a reader never skips one committed
 * late — writes the bodies, trims the queue to the cap and notifies the
 * events channel, all in the caller's transaction: the add, settle and
 * cancel statements call it in the same statement as their writes (their
 * transactional forms, and a dedupe add, last in their transaction), with
 * the bodies of the rows they wrote. A waiting read sleeps on that notification
 * (`./notifications.ts`), looking again every couple of seconds regardless.
 *
 * The lock serializes a queue's appends — one short step at the end of each
 * write. An add within an application's transaction stages its events in
 * `events_pending` instead, appended by a deferred trigger at its commit, so
 * the lock is never held while the application keeps its transaction open.
 */
import type { ClaimRef, EventReadRequest, StoredEvent } from "../backend.js";
import { positionAheadError } from "../event-positions.js";
import { checkHolders } from "../held-events.js";
import { checkedRead, readEventsWaiting } from "../sql/event-log.js";
import { CLAIMED } from "../sql/stored-columns.js";
import type { Notifier } from "./notifications.js";
import type { PgSession, Tx } from "./session.js";

/** `$1` queue, `$2` bodies, `$3` cap, `$4` the events channel. */
const APPEND = "SELECT %SCHEMA%.append_events($1, $2::text[], $3, $4) AS n";

/** The queue's event lock, as `append_events` takes it (to the end of the transaction). */
const LOCK_EVENTS =
  "SELECT pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || $1, 0))";

/**
 * Like `APPEND`, of the bodies whose holder (`$5` id, `$6` fence; null: none)
 * still holds its claim. Run after `LOCK_EVENTS`, in its transaction: any
 * cancel or settle that appended before it has committed, and so is seen.
 */
const APPEND_HELD = `SELECT %SCHEMA%.append_events($1, ARRAY(
  SELECT b.body FROM unnest($2::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS b(body, id, fence, n)
  WHERE b.id IS NULL OR EXISTS (
    SELECT 1 FROM %SCHEMA%.tasks t
    WHERE t.queue = $1 AND t.id = b.id AND t.state = ${CLAIMED} AND t.fence = b.fence)
  ORDER BY b.n), $3, $4) AS n`;

/**
 * Each row holds the bodies of one append, with ids `first_id` to `last_id`
 * (migration 008). Ids below the floor — the queue's `low` (trimmed, though
 * the row that straddles it may still hold them) or the reader's position —
 * are skipped. Rows are walked in id order, and only as many as hold the
 * events asked for are unnested (`upto`: the ids the rows up to this one
 * hold past the floor; `own`: this row's), so a read costs the same whatever
 * the planner knows of the table. Ordered by the columns, not the text the
 * answer carries ("10" sorts before "9").
 */
const READ = `
WITH floor AS (
  SELECT greatest($2::bigint + 1, (SELECT low FROM %SCHEMA%.event_counts WHERE queue = $1)) AS lo
), kept AS (
  SELECT b.first_id, b.last_id, b.bodies,
    b.last_id - greatest(b.first_id, (SELECT lo FROM floor)) + 1 AS own,
    sum(b.last_id - greatest(b.first_id, (SELECT lo FROM floor)) + 1) OVER (ORDER BY b.last_id) AS upto
  FROM %SCHEMA%.event_batches b
  WHERE b.queue = $1 AND b.last_id >= (SELECT lo FROM floor)
  ORDER BY b.last_id
  LIMIT $3
)
SELECT (r.first_id + e.k - 1)::text AS id, e.body
FROM kept r, unnest(r.bodies) WITH ORDINALITY AS e(body, k)
WHERE r.upto - r.own < $3 AND r.first_id + e.k - 1 >= (SELECT lo FROM floor)
ORDER BY r.last_id, e.k
LIMIT $3`;

const LAST = "SELECT top::text AS id FROM %SCHEMA%.event_counts WHERE queue = $1 AND n > 0";

/** The newest id the queue's log has given, trimmed or cleared since or not. */
/**
 * The newest id the queue's log has given (`id`), and the schema's id sequence,
 * above which a queue's first append starts its ids (`start`): with no count
 * row (a queue that never appended, or one an earlier version's clear dropped
 * the row of), a position up to `start` is still one to wait after.
 */
const NEWEST = `SELECT (SELECT top FROM %SCHEMA%.event_counts WHERE queue = $1)::text AS id,
  (SELECT last_value FROM %SCHEMA%.event_ids)::text AS start`;

export class EventStore {
  constructor(
    private readonly session: PgSession,
    private readonly notifier: Notifier,
    /** Most rows kept per queue; 0: nothing is appended. */
    readonly cap: number,
    /** Longest sleep of a waiting read between looks, should a notification be lost. */
    private readonly pollMs: number,
  ) {}

  /** The values an add, settle or cancel statement passes on to `append_events` after its bodies: cap, channel. */
  get appendValues(): [number, string] {
    return [this.cap, this.session.channels.events];
  }

  /** Appends `bodies` inside `tx` (the lock held to its end). */
  async appendWithin(tx: Tx, queue: string, bodies: readonly string[]): Promise<void> {
    if (this.cap === 0 || bodies.length === 0) return;
    await tx.query(this.session.sql(APPEND), [queue, bodies, ...this.appendValues]);
  }

  async append(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    checkHolders(bodies, holders);
    this.session.assertConnected();
    if (this.cap === 0 || bodies.length === 0) return;
    if (holders?.some((holder) => holder !== undefined)) {
      await this.session.transaction(
        "appendEvents",
        async (tx) => {
          await tx.query(this.session.sql(LOCK_EVENTS), [queue]);
          await tx.query(this.session.sql(APPEND_HELD), [
            queue,
            bodies,
            ...this.appendValues,
            holders.map((holder) => holder?.id ?? null),
            holders.map((holder) => holder?.fence ?? null),
          ]);
        },
        { resend: "unsent" },
      );
      return;
    }
    // A resend could append twice: a lost commit fails the call instead.
    await this.session.query(
      "appendEvents",
      this.session.sql(APPEND),
      [queue, bodies, ...this.appendValues],
      { resend: "unsent" },
    );
  }

  async read(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    const after = checkedRead(request);
    this.session.assertConnected();
    if (this.cap === 0) return [];
    let listening = false;
    return readEventsWaiting(
      {
        look: async () => {
          // Listening before the next look: an append in between wakes the wait.
          if (listening) await this.notifier.start().catch(() => undefined);
          listening = true;
          const rows = await this.session.query<StoredEvent>("readEvents", this.session.sql(READ), [
            queue,
            after,
            request.limit,
          ]);
          // Nothing after the position: make sure it is not one this log has yet to give.
          if (rows.length === 0 && after > 0) await this.#refuseAhead(queue, after);
          return rows;
        },
        arm: () => this.notifier.eventSignal(queue),
        connected: () => this.session.isConnected,
        pollMs: this.pollMs,
      },
      request,
    );
  }

  async #refuseAhead(queue: string, after: number): Promise<void> {
    const [row] = await this.session.query<{ id: string | null; start: string }>(
      "readEvents",
      this.session.sql(NEWEST),
      [queue],
    );
    const newest = row?.id ?? null;
    const bound = Number(newest ?? row?.start ?? 0);
    if (after > bound) throw positionAheadError(String(after), newest);
  }

  async last(queue: string): Promise<string | null> {
    this.session.assertConnected();
    if (this.cap === 0) return null;
    const [row] = await this.session.query<{ id: string | null }>(
      "lastEventId",
      this.session.sql(LAST),
      [queue],
    );
    return row?.id ?? null;
  }
}
