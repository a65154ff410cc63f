/**
 * @module backends/sqlite/claims
 * Claims are leases with fences. `claim` takes the first claimable rows —
 * the highest priority first, the oldest first within one — in
 * one write transaction, each under the next fence and a lease stamped with
 * the machine's clock (every process sharing the file shares it); with
 * nothing to claim (or the queue paused) it waits for a signal
 * (`./signals.ts`). A look that
 * finds nothing claimable takes no write lock, so idle workers never hold
 * up busy ones. `renew` re-stamps the leases a worker still holds;
 * `reclaimExpired` takes over leases left to expire, in two phases (noted,
 * then taken once confirmed), as the contract says.
 */

import { isoAt } from "../../clock.js";
import { SchemaVersionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimLease, ClaimRef } from "../backend.js";
import { claimLeaseMs } from "../claim-lease.js";
import { refusedBecauseNewer } from "../newer-store.js";
import { reclaimInPasses } from "../reclaim-passes.js";
import { checkClaimLimit, claimWaiting } from "../sql/claim-wait.js";
import {
  CLAIMABLE,
  CLAIMED,
  encodeRowData,
  RECORD_COLUMNS,
  type RecordRow,
} from "../sql/stored-columns.js";
import { holderIsGone, thisProcessHolder } from "./claim-holder.js";
import { latestSchemaVersion, type SqliteDatabase } from "./database.js";
import { readRow, takeNumbers } from "./rows.js";
import type { Signals } from "./signals.js";

/** Expired leases noted or taken over per write transaction. */
const RECLAIM_BATCH = 100;
/** A waiting claim looks again at least this often, whatever the signals say. */
const FALLBACK_POLL_MS = 1000;

const ANY_CLAIMABLE = `
SELECT 1 FROM tasks WHERE queue = ? AND state = ${CLAIMABLE}
  AND NOT EXISTS (SELECT 1 FROM paused_queues WHERE queue = ?)
LIMIT 1`;

const PAUSED = "SELECT 1 FROM paused_queues WHERE queue = ?";
/**
 * The newest migration applied by a newer Sheppy since this process opened
 * the file. From then on this process claims and takes over nothing: those
 * would read and store back records in forms it may not know. The claims it
 * holds it still renews and settles — their records are in its own form,
 * which newer versions read.
 */
const NEWER_MIGRATION =
  "SELECT version, name FROM migrations WHERE version > ? ORDER BY version DESC LIMIT 1";
const CAP = "SELECT cap FROM queue_caps WHERE queue = ?";
const SET_CAP = `
INSERT INTO queue_caps (queue, cap) VALUES (?, ?) ON CONFLICT (queue) DO UPDATE SET cap = excluded.cap`;
const LIFT_CAP = "DELETE FROM queue_caps WHERE queue = ?";
const CLAIMED_COUNT = `SELECT count(*) AS n FROM tasks WHERE queue = ? AND state = ${CLAIMED}`;
const PAUSE = "INSERT INTO paused_queues (queue) VALUES (?) ON CONFLICT (queue) DO NOTHING";
const RESUME = "DELETE FROM paused_queues WHERE queue = ?";

const OLDEST = `
SELECT id, data, fence FROM tasks WHERE queue = ? AND state = ${CLAIMABLE}
ORDER BY priority DESC, seq LIMIT ?`;

const TAKE = `
UPDATE tasks
SET state = ${CLAIMED}, status = 'processing', started_at = ?, seq = NULL, fence = ?,
    lease_at = ?, lease_ms = ?, holder = ?, suspect_lease = NULL, suspect_at = NULL
WHERE queue = ? AND id = ?`;

const RENEW = `
UPDATE tasks SET lease_at = ? WHERE queue = ? AND id = ? AND fence = ? AND state = ${CLAIMED}`;

const SETTLED_FENCE = "SELECT settled_fence FROM tasks WHERE queue = ? AND id = ?";

const SAVE_PROGRESS = `
UPDATE tasks SET data = ? WHERE queue = ? AND id = ? AND state = ${CLAIMED} AND fence = ?`;

const ANY_EXPIRED = `
SELECT 1 FROM tasks WHERE queue = ? AND state = ${CLAIMED} AND lease_at < ? LIMIT 1`;

/**
 * Expired claims to note or take over — unrenewed for the caller's lease and
 * for their holder's own, when longer: one noted and still within its
 * confirm window is passed over.
 */
const EXPIRED = `
SELECT id, lease_at, suspect_lease, suspect_at FROM tasks
WHERE queue = ? AND state = ${CLAIMED} AND lease_at < ? AND lease_at < ? - coalesce(lease_ms, 0)
  AND (? <= 0 OR suspect_lease IS NULL OR suspect_lease <> lease_at OR suspect_at IS NULL
       OR ? - suspect_at >= ?)
ORDER BY lease_at LIMIT ?`;

/** The new fence comes from the fence counter, as a claim's (the first parameter). */
const TAKE_OVER = `
UPDATE tasks SET fence = max(fence + 1, ?), lease_at = ?, lease_ms = NULL, holder = ?,
    suspect_lease = NULL, suspect_at = NULL
WHERE queue = ? AND id = ?
RETURNING ${RECORD_COLUMNS}, fence`;

/** The processes other than this one holding claims on a queue. */
const HOLDERS = `
SELECT DISTINCT holder FROM tasks
WHERE queue = ? AND state = ${CLAIMED} AND holder IS NOT NULL AND holder <> ?`;

/** Claims of one holder, to take over at once when it is gone. */
const HELD_BY = `
SELECT id FROM tasks WHERE queue = ? AND state = ${CLAIMED} AND holder = ? LIMIT ?`;

const NOTE = "UPDATE tasks SET suspect_lease = lease_at, suspect_at = ? WHERE queue = ? AND id = ?";

interface ExpiredRow {
  id: string;
  lease_at: number;
  suspect_lease: number | null;
  suspect_at: number | null;
}

/** The machine's clock, which leases are judged on (never a test clock: every process must agree). */
const leaseNow = () => Date.now();

/** The claim held now on one id: when it was last renewed, and the holder's lease. */
const LEASE = `SELECT lease_at, lease_ms FROM tasks WHERE queue = ? AND id = ? AND state = ${CLAIMED}`;

export class Claims {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly signals: Signals,
    private readonly now: () => number,
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
    const held = claimLeaseMs(leaseMs);
    this.db.assertConnected();
    return claimWaiting(
      {
        look: () => this.#claim(queue, limit, held),
        arm: () => this.signals.workSignal(queue),
        connected: () => this.db.isConnected,
        pollMs: FALLBACK_POLL_MS,
      },
      waitMs,
      signal,
    );
  }

  async #claim(queue: string, limit: number, leaseMs: number | null): Promise<ClaimedTask[]> {
    if (!this.db.isConnected) return [];
    // Refused whether or not anything is claimable: a refusal that came and went with the
    // queue's tasks would be logged anew, and "works again" between, at every burst.
    this.db.read("claim", () => this.#refuseIfMigratedByNewer("claim"));
    if (!this.db.read("claim", () => this.db.statement(ANY_CLAIMABLE).get(queue, queue))) return [];
    // Stamped once the transaction holds the file's lock (after any wait for it): a task another
    // process made claimable meanwhile never looks started before it was due.
    let now = 0;
    let startedAt = "";
    const rows = await this.db.write("claim", () => {
      now = this.now();
      startedAt = isoAt(now);
      if (this.db.statement(PAUSED).get(queue)) return [];
      this.#refuseIfMigratedByNewer("claim");
      const room = this.#room(queue, limit);
      if (room < 1) return [];
      const oldest = this.db.statement(OLDEST).all(queue, room) as {
        id: string;
        data: string;
        fence: number;
      }[];
      const take = this.db.statement(TAKE);
      const lease = leaseNow();
      const holder = thisProcessHolder();
      // From the database's fence counter: a fence no claim was ever given, even of an earlier
      // record under the same id (deleted and added again) whose holder may still be running.
      let next = oldest.length > 0 ? takeNumbers(this.db, "fence_seq", oldest.length) : 0;
      for (const row of oldest) {
        row.fence = Math.max(row.fence + 1, next++);
        take.run(startedAt, row.fence, lease, leaseMs, holder, queue, row.id);
      }
      return oldest;
    });
    return rows.map((row) => ({
      record: readRow(
        {
          id: row.id,
          data: row.data,
          status: "processing",
          started_at: startedAt,
          finished_at: null,
        },
        now,
      ),
      fence: row.fence,
    }));
  }

  /** Stores a running task's record while its claim is current (status and start stay in their columns). */
  async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    this.db.assertConnected();
    const data = encodeRowData(record);
    return this.db.write(
      "saveProgress",
      () => this.db.statement(SAVE_PROGRESS).run(data, queue, claim.id, claim.fence).changes > 0,
    );
  }

  /** Pauses or resumes the queue's claims; a resume wakes this process's waiting claims at once (others' at their next change check). */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    this.db.assertConnected();
    await this.db.write(paused ? "pause" : "resume", () =>
      this.db.statement(paused ? PAUSE : RESUME).run(queue),
    );
    if (!paused) this.signals.announceWork(queue);
  }

  /** Throws `SchemaVersionError` when a migration this code does not know has been applied since the file was opened (see `NEWER_MIGRATION`). */
  #refuseIfMigratedByNewer(call: "claim" | "reclaim"): void {
    const newer = this.db.statement(NEWER_MIGRATION).get(latestSchemaVersion()) as
      | { version: number; name: string }
      | undefined;
    if (newer === undefined) return;
    throw new SchemaVersionError(
      `${call}: SQLite file ${this.db.options.path} was migrated to schema version ${newer.version} (${newer.name}) by a newer Sheppy since this one opened it; this one knows version ${latestSchemaVersion()}, so ${refusedBecauseNewer(call)}: upgrade sheppy`,
    );
  }

  /** How many a claim of `limit` may take: at most the queue's cap less the claims held now. Inside the write. */
  #room(queue: string, limit: number): number {
    const cap = this.db.statement(CAP).get(queue) as { cap: number } | undefined;
    if (cap === undefined) return limit;
    const { n } = this.db.statement(CLAIMED_COUNT).get(queue) as { n: number };
    return Math.min(limit, cap.cap - n);
  }

  async setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    this.db.assertConnected();
    await this.db.write("setConcurrencyLimit", () =>
      limit === null
        ? this.db.statement(LIFT_CAP).run(queue)
        : this.db.statement(SET_CAP).run(queue, limit),
    );
    this.signals.announceWork(queue);
  }

  async getConcurrencyLimit(queue: string): Promise<number | null> {
    return this.db.read("getConcurrencyLimit", () => {
      const row = this.db.statement(CAP).get(queue) as { cap: number } | undefined;
      return row?.cap ?? null;
    });
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.db.read("isPaused", () => this.db.statement(PAUSED).get(queue) !== undefined);
  }

  /** Renews the leases of `claims`; returns the ids whose claim is no longer current (and not settled by its holder). */
  async claimLeases(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>> {
    this.db.assertConnected();
    return this.db.read("claimLeases", () => {
      const leases = new Map<string, ClaimLease>();
      const lease = this.db.statement(LEASE);
      const now = leaseNow();
      for (const id of new Set(ids)) {
        const row = lease.get(queue, id) as
          | { lease_at: number; lease_ms: number | null }
          | undefined;
        if (row)
          leases.set(id, { renewedAgoMs: Math.max(0, now - row.lease_at), leaseMs: row.lease_ms });
      }
      return leases;
    });
  }

  async renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    this.db.assertConnected();
    if (claims.length === 0) return [];
    return this.db.write("renew", () => {
      const renew = this.db.statement(RENEW);
      const settled = this.db.statement(SETTLED_FENCE);
      const lease = leaseNow();
      const lost: string[] = [];
      for (const claim of claims) {
        if (renew.run(lease, queue, claim.id, claim.fence).changes > 0) continue;
        const row = settled.get(queue, claim.id) as { settled_fence: number } | undefined;
        if (row?.settled_fence !== claim.fence) lost.push(claim.id);
      }
      return lost;
    });
  }

  /**
   * Takes over claims whose lease is older than `leaseMs`: at once with
   * `confirmMs` ≤ 0, or once a call noted them expired at the same renewal
   * at least `confirmMs` ago; otherwise notes them for a later call.
   */
  /** The holders of claims on `queue` seen to have ended (see claim-holder.ts). */
  #goneHolders(queue: string): string[] {
    const own = thisProcessHolder();
    if (own === null) return [];
    const holders = this.db.read(
      "reclaimExpired",
      () => this.db.statement(HOLDERS).all(queue, own) as { holder: string }[],
    );
    return holders.map((row) => row.holder).filter(holderIsGone);
  }

  async reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    this.db.assertConnected();
    const leaseMs = Math.max(0, Math.floor(window.leaseMs));
    const confirmMs = Math.max(0, Math.floor(window.confirmMs));
    const expiredBefore = () => leaseNow() - leaseMs;
    this.db.read("reclaimExpired", () => this.#refuseIfMigratedByNewer("reclaim"));
    const gone = this.#goneHolders(queue);
    if (
      gone.length === 0 &&
      !this.db.read("reclaimExpired", () =>
        this.db.statement(ANY_EXPIRED).get(queue, expiredBefore()),
      )
    ) {
      return [];
    }
    const pass = () =>
      this.db.write("reclaimExpired", () => {
        // Left to a worker of the newer Sheppy that migrated the file (see NEWER_MIGRATION).
        this.#refuseIfMigratedByNewer("reclaim");
        const clock = leaseNow();
        const stale = this.db
          .statement(EXPIRED)
          .all(
            queue,
            clock - leaseMs,
            clock,
            confirmMs,
            clock,
            confirmMs,
            RECLAIM_BATCH,
          ) as ExpiredRow[];
        const takeOver = this.db.statement(TAKE_OVER);
        const note = this.db.statement(NOTE);
        const rows: (RecordRow & { fence: number })[] = [];
        const holder = thisProcessHolder();
        const take = (id: string) => {
          const fence = takeNumbers(this.db, "fence_seq", 1);
          rows.push(takeOver.get(fence, clock, holder, queue, id) as RecordRow & { fence: number });
        };
        // A holder seen to have ended renews nothing again: its claims are taken over now, lease or not.
        // Taken over, a claim is this process's: a later pass finds the rest of a holder's.
        let heldFull = false;
        for (const dead of gone) {
          const held = this.db.statement(HELD_BY).all(queue, dead, RECLAIM_BATCH) as {
            id: string;
          }[];
          for (const { id } of held) take(id);
          heldFull ||= held.length >= RECLAIM_BATCH;
        }
        const taken = new Set(rows.map((row) => row.id));
        for (const row of stale) {
          if (taken.has(row.id)) continue;
          const confirmed =
            confirmMs <= 0 ||
            (row.suspect_lease === row.lease_at &&
              row.suspect_at !== null &&
              clock - row.suspect_at >= confirmMs);
          if (confirmed) {
            take(row.id);
          } else if (row.suspect_lease !== row.lease_at || row.suspect_at === null) {
            note.run(clock, queue, row.id);
          }
        }
        return { rows, full: heldFull || stale.length >= RECLAIM_BATCH };
      });
    return reclaimInPasses(async () => {
      const { rows, full } = await pass();
      const now = this.now();
      return { taken: rows.map((row) => ({ record: readRow(row, now), fence: row.fence })), full };
    });
  }
}
