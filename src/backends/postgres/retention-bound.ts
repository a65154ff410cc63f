/**
 * @module backends/postgres/retention-bound
 * The count bounds: past its kind's bound, the finished records due to
 * expire soonest are deleted — the completed ones past `maxFinished`, the
 * others (failed, crashed, cancelled) past `maxFailed`, each on its own, so
 * failures, kept longer, never crowd out results. The counts come from the `expiring` table the migrations'
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
import type { RetentionSettings } from "../backend.js";
import type { PgSession, Tx } from "./session.js";

/** Rows deleted per statement. */
const TRIM_BATCH = 1000;

const TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1::bigint) AS got";
const LOCK = "SELECT pg_advisory_xact_lock($1::bigint)";

/**
 * The queue's ($1) expiring rows of each kind, as two columns of a settle's
 * answer (`expiring_completed`, `expiring_errors`).
 */
export const EXPIRING_COUNTS = `
  (SELECT coalesce(sum(n) FILTER (WHERE NOT errors), 0) FROM %SCHEMA%.expiring WHERE queue = $1)
    AS expiring_completed,
  (SELECT coalesce(sum(n) FILTER (WHERE errors), 0) FROM %SCHEMA%.expiring WHERE queue = $1)
    AS expiring_errors`;

/** The two columns {@link EXPIRING_COUNTS} answers (`bigint` sums: text). */
export interface ExpiringColumns {
  expiring_completed: string;
  expiring_errors: string;
}

/** A queue's expiring rows of each kind. */
export interface ExpiringCounts {
  readonly completed: number;
  readonly errors: number;
}

/** The counts {@link EXPIRING_COUNTS} answered in `row` (none when no row came back). */
export function expiringCountsOf(row: ExpiringColumns | undefined): ExpiringCounts {
  return {
    completed: Number(row?.expiring_completed ?? 0),
    errors: Number(row?.expiring_errors ?? 0),
  };
}

/** A bound the trim reads as "none": above any count a table can hold. */
const NO_BOUND = String(Number.MAX_SAFE_INTEGER);

/**
 * Deletes the soonest-expiring rows beyond their kind's bound — completed
 * ones beyond $2, the others beyond $3, each through an index of its own —
 * at most a batch of each; skips rows others hold.
 */
const TRIM = `
WITH excess AS (
  SELECT
    least(greatest(coalesce(sum(n) FILTER (WHERE NOT errors), 0) - $2::bigint, 0), ${TRIM_BATCH}) AS completed,
    least(greatest(coalesce(sum(n) FILTER (WHERE errors), 0) - $3::bigint, 0), ${TRIM_BATCH}) AS others
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
    private readonly bounds: Pick<RetentionSettings, "maxFinished" | "maxFailed">,
  ) {}

  /** Whether either kind is bounded. */
  get #bounded(): boolean {
    return this.bounds.maxFinished !== null || this.bounds.maxFailed !== null;
  }

  /** The trim's bound parameters ($2, $3). */
  get #limits(): [string, string] {
    const { maxFinished, maxFailed } = this.bounds;
    return [
      maxFinished === null ? NO_BOUND : String(maxFinished),
      maxFailed === null ? NO_BOUND : String(maxFailed),
    ];
  }

  /**
   * Whether a queue that had `counts` before a settle that wrote `added`
   * expiring rows (of either kind: each counted as if all were of it) may be
   * over a bound.
   */
  #mayBeOver(counts: ExpiringCounts, added: number): boolean {
    const { maxFinished, maxFailed } = this.bounds;
    return (
      (maxFinished !== null && counts.completed + added > maxFinished) ||
      (maxFailed !== null && counts.errors + added > maxFailed)
    );
  }

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
   * Inside a settle that wrote `added` rows with an expiry to a queue that
   * had `counts` before it: trims when that may be over a bound and no other
   * settle of the queue is trimming.
   */
  async afterSettle(tx: Tx, queue: string, counts: ExpiringCounts, added: number): Promise<void> {
    if (!this.#mayBeOver(counts, added)) return;
    const [lock] = await tx.query<{ got: boolean }>(this.session.sql(TRY_LOCK), [this.#key(queue)]);
    if (!lock?.got) return;
    await tx.query(this.session.sql(TRIM), [queue, ...this.#limits]);
  }

  /**
   * After a one-statement settle that wrote `added` rows with an expiry to a
   * queue that had `counts` before it: the same trim as {@link afterSettle},
   * in a short transaction of its own.
   */
  async afterPlainSettle(queue: string, counts: ExpiringCounts, added: number): Promise<void> {
    if (!this.#mayBeOver(counts, added)) return;
    await this.session.transaction("settle", (tx) => this.afterSettle(tx, queue, counts, added), {
      wait: false,
    });
  }

  /** Trims `queue` to the bound, waiting for any settle trimming it; one short transaction per batch. */
  async trim(queue: string): Promise<void> {
    if (!this.#bounded) return;
    for (;;) {
      const deleted = await this.session.transaction(
        "pruneExpired",
        async (tx) => {
          await tx.query(this.session.sql(LOCK), [this.#key(queue)]);
          const [row] = await tx.query<{ n: string }>(this.session.sql(TRIM), [
            queue,
            ...this.#limits,
          ]);
          return Number(row?.n ?? 0);
        },
        { wait: false },
      );
      if (deleted < TRIM_BATCH) return;
    }
  }
}
