/**
 * @module backends/postgres/claims
 * Claims are leases with fences. `claim` takes the oldest claimable rows in
 * one statement (`FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait
 * for or take each other's rows), each under the next fence and a lease
 * stamped with the server's clock; with nothing to claim it waits for a
 * work notification (`./notifications.ts`). `renew` re-stamps the leases a
 * worker still holds; `reclaimExpired` takes over leases left to expire,
 * in two phases (noted, then taken once confirmed), as the contract says.
 */

import { isoAt } from "../../clock.js";
import { SchemaVersionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimLease, ClaimRef } from "../backend.js";
import { claimLeaseMs } from "../claim-lease.js";
import { refusedBecauseNewer } from "../newer-store.js";
import { reclaimInPasses } from "../reclaim-passes.js";
import { checkClaimLimit, claimWaiting } from "../sql/claim-wait.js";
import { encodeRowData } from "../sql/stored-columns.js";
import { knownMigrations } from "./migrations.js";
import type { Notifier } from "./notifications.js";
import { CLAIMABLE, CLAIMED, type RecordRow, readRow } from "./record-codec.js";
import type { PgSession } from "./session.js";

/** Expired leases noted or taken over per statement. */
const RECLAIM_BATCH = 100;

/**
 * The newest schema version this code knows. A schema a newer Sheppy has
 * migrated since this process connected gets no more claims or takeovers
 * from it: those would read and store back records in forms it may not
 * know. The claims it holds it still renews and settles — their records are
 * in its own form, which newer versions read.
 */
const KNOWN_SCHEMA = knownMigrations().length;
const NOT_MIGRATED_BY_NEWER = `NOT EXISTS (SELECT 1 FROM %SCHEMA%.migrations m WHERE m.version > ${KNOWN_SCHEMA})`;
/**
 * `t.due_at` (ms) as `toISOString()` writes it (null when none). Whole
 * seconds and milliseconds apart: through a fractional double the
 * milliseconds of far instants come out one less.
 */
export const ISO_OF_DUE = `to_char(to_timestamp(t.due_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad((t.due_at % 1000)::text, 3, '0') || 'Z'`;

/**
 * The oldest claimable rows (none while the queue is paused), locked without waiting for rows others hold,
 * become claimed: a new fence (from the schema's fence sequence: never handed out before), the lease stamped now (server time), the
 * claim's start from the caller's clock — but never before the time a row
 * waited for (`due_at`, kept when it became claimable): the caller reads its
 * clock before the statement runs, and another worker may make a task due
 * in between. Returns each row's start and old place, so the answer can be
 * put in FIFO order. `$4`: the lease the caller holds its claims under
 * (ms; null when not told). `$5`: the most to take, less the claims held
 * now (a queue with a cap); `null`: `$2`.
 */
const CLAIM_ROWS = `
WITH picked AS (
  SELECT id, seq, priority FROM %SCHEMA%.tasks
  WHERE queue = $1 AND state = ${CLAIMABLE}
    AND NOT EXISTS (SELECT 1 FROM %SCHEMA%.paused_queues p WHERE p.queue = $1)
    AND ${NOT_MIGRATED_BY_NEWER}
    %CAPPED%
  ORDER BY priority DESC, seq
  LIMIT %LIMIT%
  FOR UPDATE SKIP LOCKED
)
UPDATE %SCHEMA%.tasks t
SET state = ${CLAIMED}, status = 'processing', seq = NULL,
    started_at = greatest($3::text COLLATE "C", ${ISO_OF_DUE}),
    fence = greatest(t.fence + 1, nextval('%SCHEMA%.fence_seq')), lease_at = %SCHEMA%.now_ms(),
    lease_ms = $4::integer, suspect_lease = NULL, suspect_at = NULL
FROM picked
WHERE t.queue = $1 AND t.id = picked.id
RETURNING t.id, t.data, t.fence, t.started_at, picked.seq, picked.priority`;

/**
 * A queue without a cap claims in one statement; a capped one claims
 * nothing here, and answers one row without an id saying so. A schema
 * migrated by a newer Sheppy claims nothing, and answers a row without an
 * id for each migration this code does not know (its name and version).
 */
const CLAIM = `
WITH claimed AS (${CLAIM_ROWS.replace(
  "%CAPPED%",
  "AND NOT EXISTS (SELECT 1 FROM %SCHEMA%.queue_caps c WHERE c.queue = $1)",
).replace("%LIMIT%", "$2")})
SELECT id, data, fence, started_at, seq, priority FROM claimed
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL FROM %SCHEMA%.queue_caps WHERE queue = $1
UNION ALL
SELECT NULL, m.name, m.version, NULL, NULL, NULL FROM %SCHEMA%.migrations m WHERE m.version > ${KNOWN_SCHEMA}`;

/**
 * A capped queue's claim, in a transaction that first locks its cap row:
 * claimers of the queue take turns, and each counts the claims held once
 * the one before it has committed (a statement of its own, so it sees them).
 */
const LOCK_CAP = "SELECT cap FROM %SCHEMA%.queue_caps WHERE queue = $1 FOR UPDATE";
const CLAIM_CAPPED = CLAIM_ROWS.replace("%CAPPED%", "").replace(
  "%LIMIT%",
  `greatest(0, least($2::bigint, $5::bigint - (
    SELECT count(*) FROM %SCHEMA%.tasks WHERE queue = $1 AND state = ${CLAIMED})))`,
);

/**
 * Leases still held under their fence are stamped now; returns the ids
 * renewed. Rows are locked in id order, as settles lock them, so a renewal
 * and a settle of the same tasks never deadlock.
 */
const RENEW = `
WITH held AS (
  SELECT t.id FROM %SCHEMA%.tasks t
  JOIN unnest($2::text[], $3::bigint[]) AS c(id, fence) ON t.id = c.id AND t.fence = c.fence
  WHERE t.queue = $1 AND t.state = ${CLAIMED}
  ORDER BY t.id
  FOR UPDATE OF t
)
UPDATE %SCHEMA%.tasks t SET lease_at = %SCHEMA%.now_ms()
FROM held
WHERE t.queue = $1 AND t.id = held.id
RETURNING t.id`;

/** The claims held now on some ids: age since renewal by the server's clock, and the holder's lease. */
const LEASES = `
SELECT id, greatest(0, %SCHEMA%.now_ms() - lease_at) AS ago, lease_ms FROM %SCHEMA%.tasks
WHERE queue = $1 AND id = ANY($2::text[]) AND state = ${CLAIMED}`;

/** A running task's record, while the claim naming the fence is current (status and start stay in their columns). */
const SAVE_PROGRESS = `
UPDATE %SCHEMA%.tasks SET data = $4
WHERE queue = $1 AND id = $2 AND state = ${CLAIMED} AND fence = $3
RETURNING 1`;

/** Of claims not renewed, those their holder settled (not lost). */
const SETTLED = `
SELECT t.id FROM %SCHEMA%.tasks t
JOIN unnest($2::text[], $3::bigint[]) AS c(id, fence) ON t.id = c.id
WHERE t.queue = $1 AND t.settled_fence = c.fence`;

/**
 * Claims whose lease is older than $2 ms (server time) — and than their
 * holder's own lease (`lease_ms`), when longer: with $3 (confirmMs)
 * ≤ 0, or when noted expired at the same renewal at least $3 ms ago, taken
 * over (a new fence, a fresh lease); otherwise noted (the renewal seen and
 * when), and taken by a later call if still not renewed. A claim noted and
 * still within $3 ms is passed over, not counted against the batch ($4):
 * otherwise the oldest noted claims would hide every later one until they
 * were taken. Every row the batch selects is returned (taken or noted).
 */
const RECLAIM = `
WITH clock AS (SELECT %SCHEMA%.now_ms() AS ms),
stale AS (
  SELECT t.id, t.lease_at,
         ($3::bigint <= 0 OR (t.suspect_lease = t.lease_at AND clock.ms - t.suspect_at >= $3::bigint)) AS take,
         (t.suspect_lease IS DISTINCT FROM t.lease_at OR t.suspect_at IS NULL) AS fresh
  FROM %SCHEMA%.tasks t, clock
  WHERE t.queue = $1 AND t.state = ${CLAIMED} AND t.lease_at < clock.ms - $2::bigint
    AND t.lease_at < clock.ms - coalesce(t.lease_ms, 0)
    AND ${NOT_MIGRATED_BY_NEWER}
    AND ($3::bigint <= 0 OR t.suspect_lease IS DISTINCT FROM t.lease_at OR t.suspect_at IS NULL
         OR clock.ms - t.suspect_at >= $3::bigint)
  ORDER BY t.lease_at
  LIMIT $4
  FOR UPDATE OF t SKIP LOCKED
),
acted AS (
  UPDATE %SCHEMA%.tasks t
  SET fence = CASE WHEN s.take THEN greatest(t.fence + 1, nextval('%SCHEMA%.fence_seq'))
                  ELSE t.fence END,
      lease_at = CASE WHEN s.take THEN clock.ms ELSE t.lease_at END,
      lease_ms = CASE WHEN s.take THEN NULL ELSE t.lease_ms END,
      suspect_lease = CASE WHEN s.take THEN NULL ELSE t.lease_at END,
      suspect_at = CASE WHEN s.take THEN NULL ELSE clock.ms END
  FROM stale s, clock
  WHERE t.queue = $1 AND t.id = s.id AND (s.take OR s.fresh)
  RETURNING t.id, t.data, t.status, t.started_at, t.finished_at, t.fence, s.take, s.lease_at
)
SELECT * FROM acted
UNION ALL
SELECT NULL, m.name, NULL, NULL, NULL, m.version, NULL, NULL FROM %SCHEMA%.migrations m WHERE m.version > ${KNOWN_SCHEMA}`;

interface ClaimRow {
  /** `null` in the one row that says the queue has a cap, and in each naming a migration this code does not know. */
  id: string | null;
  /** The unknown migration's name in a row naming one; `null` in the cap's row. */
  data: string | null;
  /** The unknown migration's version in a row naming one. */
  fence: string;
  started_at: string;
  priority: number;
  seq: string;
}

/** A claim noted or taken over; or, with no id, a migration this code does not know (its name in `data`, its version in `fence`). */
interface ReclaimRow extends Omit<RecordRow, "id"> {
  id: string | null;
  fence: string;
  take: boolean;
  lease_at: string;
}

export class Claims {
  constructor(
    private readonly session: PgSession,
    private readonly notifier: Notifier,
    private readonly now: () => number,
    /** A waiting claim looks again this often even without a notification (one may be lost across a reconnect). */
    private readonly pollMs: number,
  ) {}

  /** Claims up to `limit` claimable tasks, waiting up to `waitMs` for one to arrive (or `signal` to abort). */
  async claim(
    queue: string,
    limit: number,
    waitMs: number,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]> {
    checkClaimLimit(limit);
    const lease = claimLeaseMs(leaseMs);
    this.session.assertConnected();
    let listening = false;
    return claimWaiting(
      {
        look: async () => {
          // Listening before the next look: a task added in between wakes the wait.
          if (listening) await this.notifier.start().catch(() => undefined);
          listening = true;
          return this.#claim(queue, limit, lease);
        },
        arm: () => this.notifier.workSignal(queue),
        connected: () => this.session.isConnected,
        pollMs: this.pollMs,
      },
      waitMs,
      signal,
    );
  }

  async #claim(queue: string, limit: number, lease: number | null): Promise<ClaimedTask[]> {
    const now = this.now();
    const startedAt = isoAt(now);
    // Sent once: a claim whose answer was lost leaves its tasks to their leases (reclaimed later).
    let rows = await this.session.query<ClaimRow>(
      "claim",
      this.session.sql(CLAIM),
      [queue, limit, startedAt, lease],
      { resend: "unsent", wait: false },
    );
    const unknown = rows.filter((row) => row.id === null && row.data !== null);
    if (unknown.length > 0) throw this.#migratedByNewer(unknown, "claim");
    if (rows.length === 1 && rows[0]!.id === null) {
      rows = await this.session.transaction(
        "claim",
        async (tx) => {
          const [cap] = await tx.query<{ cap: number }>(this.session.sql(LOCK_CAP), [queue]);
          // The cap was lifted in between: no bound.
          return tx.query<ClaimRow>(this.session.sql(CLAIM_CAPPED), [
            queue,
            limit,
            startedAt,
            lease,
            cap?.cap ?? limit,
          ]);
        },
        { resend: "unsent", wait: false },
      );
    }
    // In claim order: the highest priority first, then the oldest.
    if (rows.length > 1) {
      rows.sort((a, b) => b.priority - a.priority || Number(a.seq) - Number(b.seq));
    }
    return rows.map((row) => ({
      record: readRow(
        {
          id: row.id!,
          data: row.data!,
          status: "processing",
          started_at: row.started_at,
          finished_at: null,
        },
        now,
      ),
      fence: Number(row.fence),
    }));
  }

  /** The refusal of a claim or takeover on a schema a newer Sheppy migrated: `rows` name its unknown migrations. */
  #migratedByNewer(
    rows: readonly { data: string | null; fence: string }[],
    call: "claim" | "reclaim",
  ): SchemaVersionError {
    const newest = rows.reduce((a, b) => (Number(b.fence) > Number(a.fence) ? b : a));
    return new SchemaVersionError(
      `${call}: PostgreSQL schema "${this.session.schema}" at ${this.session.maskedUrl} was migrated to version ${newest.fence} (${newest.data}) by a newer Sheppy since this one connected; this one knows version ${KNOWN_SCHEMA}, so ${refusedBecauseNewer(call)}: upgrade sheppy`,
    );
  }

  /** Renews the leases of `claims`; returns the ids whose claim is no longer current (and not settled by its holder). */
  async claimLeases(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>> {
    this.session.assertConnected();
    const leases = new Map<string, ClaimLease>();
    if (ids.length === 0) return leases;
    const rows = await this.session.query<{ id: string; ago: string; lease_ms: number | null }>(
      "claimLeases",
      this.session.sql(LEASES),
      [queue, [...new Set(ids)]],
    );
    for (const row of rows) {
      leases.set(row.id, { renewedAgoMs: Number(row.ago), leaseMs: row.lease_ms });
    }
    return leases;
  }

  async renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    this.session.assertConnected();
    if (claims.length === 0) return [];
    const ids = claims.map((c) => c.id);
    const fences = claims.map((c) => c.fence);
    const renewed = await this.session.query<{ id: string }>(
      "renew",
      this.session.sql(RENEW),
      [queue, ids, fences],
      { wait: false },
    );
    if (renewed.length === claims.length) return [];
    const kept = new Set(renewed.map((r) => r.id));
    const rest = claims.filter((c) => !kept.has(c.id));
    // Read after the renewal: a settle that raced it has committed by now, and is not a loss.
    const settled = await this.session.query<{ id: string }>(
      "renew",
      this.session.sql(SETTLED),
      [queue, rest.map((c) => c.id), rest.map((c) => c.fence)],
      { wait: false },
    );
    const done = new Set(settled.map((r) => r.id));
    return rest.filter((c) => !done.has(c.id)).map((c) => c.id);
  }

  /** Stores a running task's record while its claim is current (see `SAVE_PROGRESS`). */
  async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    this.session.assertConnected();
    const rows = await this.session.query(
      "saveProgress",
      this.session.sql(SAVE_PROGRESS),
      [queue, claim.id, claim.fence, encodeRowData(record)],
      { wait: false },
    );
    return rows.length > 0;
  }

  /** Takes over leases expired for `leaseMs` and confirmed so for `confirmMs` (see `RECLAIM`). */
  async reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    this.session.assertConnected();
    return reclaimInPasses(async () => {
      const rows = await this.session.query<ReclaimRow>(
        "reclaimExpired",
        this.session.sql(RECLAIM),
        [
          queue,
          Math.max(0, Math.floor(window.leaseMs)),
          Math.max(0, Math.floor(window.confirmMs)),
          RECLAIM_BATCH,
        ],
        { wait: false },
      );
      const unknown = rows.filter((row) => row.id === null);
      if (unknown.length > 0) throw this.#migratedByNewer(unknown, "reclaim");
      const now = this.now();
      const taken = rows
        .filter((row) => row.take)
        .sort((a, b) => Number(a.lease_at) - Number(b.lease_at))
        .map((row) => ({
          record: readRow({ ...row, id: row.id! }, now),
          fence: Number(row.fence),
        }));
      return { taken, full: rows.length >= RECLAIM_BATCH };
    });
  }
}
