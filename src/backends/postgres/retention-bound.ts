/**
 * @module backends/postgres/retention-bound
 * The maxFinished bound: past it, the finished records due to expire
 * soonest are deleted — of the completed ones and of the others (failed,
 * crashed, cancelled) each on its own, so failures, kept longer, never crowd
 * out results. The counts come from the `expiring` table the migrations'
 * triggers keep by kind (no scan of the queue).
 *
 * Settles over the bound trim it, one at a time per queue: the trimmer holds
 * a transaction-level advisory lock on the queue, and reads the count after
 * taking it — so it sees what earlier trimmers deleted, and never deletes
 * twice what two settles each counted as excess. A settle that finds another
 * trimming skips it (its records are trimmed by the next one over the
 * bound), so settles never queue behind each other for it; `pruneExpired`
 * waits for the lock and trims whatever is left, so a burst's last few
 * records over the bound do not outlive the next sweep.
 */
import { createHash } from "node:crypto";
import type { PgSession, Tx } from "./session.js";

/** Rows deleted per statement. */
const TRIM_BATCH = 1000;

const TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1::bigint) AS got";
const LOCK = "SELECT pg_advisory_xact_lock($1::bigint)";

/**
 * Deletes the soonest-expiring rows beyond $2 of each kind — completed, and
 * the others, each through an index of its own — at most a batch of each;
 * skips rows others hold.
 */
const TRIM = `
WITH excess AS (
  SELECT
    least(greatest(coalesce(sum(n) FILTER (WHERE NOT errors), 0) - $2::bigint, 0), ${TRIM_BATCH}) AS completed,
    least(greatest(coalesce(sum(n) FILTER (WHERE errors), 0) - $2::bigint, 0), ${TRIM_BATCH}) AS others
  FROM %SCHEMA%.expiring WHERE queue = $1
), doomed_completed AS (
  SELECT id FROM %SCHEMA%.tasks
  WHERE queue = $1 AND expires_at IS NOT NULL AND status = 'completed'
  ORDER BY expires_at
  LIMIT (SELECT completed FROM excess)
  FOR UPDATE SKIP LOCKED
), doomed_others AS (
  SELECT id FROM %SCHEMA%.tasks
  WHERE queue = $1 AND expires_at IS NOT NULL AND status <> 'completed'
  ORDER BY expires_at
  LIMIT (SELECT others FROM excess)
  FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM %SCHEMA%.tasks t
  WHERE t.queue = $1
    AND t.id IN (SELECT id FROM doomed_completed UNION ALL SELECT id FROM doomed_others)
  RETURNING 1
)
SELECT count(*) AS n FROM gone`;

export class RetentionBound {
  readonly #keys = new Map<string, string>();

  constructor(
    private readonly session: PgSession,
    readonly maxFinished: number | null,
  ) {}

  /** The advisory lock key of a queue's trimming (a signed 64-bit integer, as text). */
  #key(queue: string): string {
    let key = this.#keys.get(queue);
    if (key === undefined) {
      const digest = createHash("sha256").update(`sheppy-bound:${this.session.schema}\0${queue}`);
      key = digest.digest().readBigInt64BE(0).toString();
      this.#keys.set(queue, key);
    }
    return key;
  }

  /**
   * Inside a settle that left `expiring` rows with an expiry (by its own
   * count): trims when that is over the bound and no other settle of the
   * queue is trimming.
   */
  async afterSettle(tx: Tx, queue: string, expiring: number): Promise<void> {
    const max = this.maxFinished;
    if (max === null || expiring <= max) return;
    const [lock] = await tx.query<{ got: boolean }>(this.session.sql(TRY_LOCK), [this.#key(queue)]);
    if (!lock?.got) return;
    await tx.query(this.session.sql(TRIM), [queue, max]);
  }

  /**
   * After a one-statement settle that left `expiring` rows with an expiry:
   * the same trim as {@link afterSettle}, in a short transaction of its own.
   */
  async afterPlainSettle(queue: string, expiring: number): Promise<void> {
    const max = this.maxFinished;
    if (max === null || expiring <= max) return;
    await this.session.transaction("settle", (tx) => this.afterSettle(tx, queue, expiring), {
      wait: false,
    });
  }

  /** Trims `queue` to the bound, waiting for any settle trimming it; one short transaction per batch. */
  async trim(queue: string): Promise<void> {
    const max = this.maxFinished;
    if (max === null) return;
    for (;;) {
      const deleted = await this.session.transaction(
        "pruneExpired",
        async (tx) => {
          await tx.query(this.session.sql(LOCK), [this.#key(queue)]);
          const [row] = await tx.query<{ n: string }>(this.session.sql(TRIM), [queue, max]);
          return Number(row?.n ?? 0);
        },
        { wait: false },
      );
      if (deleted < TRIM_BATCH) return;
    }
  }
}
