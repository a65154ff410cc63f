/**
 * @module backends/sqlite/retention-bound
 * The count bounds: past its kind's bound, the finished records due to
 * expire soonest are deleted — the completed ones past `maxFinished`, the
 * others (failed, crashed, cancelled) past `maxFailed`, each on its own, so
 * failures, kept longer, never crowd out results. The counts come from the `expiring` and `expiring_errors`
 * tables the migrations' triggers keep (no scan of the queue). A settle trims inside
 * its own write transaction, at most a batch; `pruneExpired` trims whatever
 * a burst left over, a batch per transaction so no write holds the file long.
 */
import type { RetentionSettings } from "../backend.js";
import type { SqliteDatabase } from "./database.js";

/** Rows deleted per transaction. */
const TRIM_BATCH = 1000;

/** Every row with an expiry, and those of them that are not completed (failed, crashed, cancelled). */
const COUNT = `SELECT
  coalesce((SELECT n FROM expiring WHERE queue = $queue), 0) AS total,
  coalesce((SELECT n FROM expiring_errors WHERE queue = $queue), 0) AS errors`;

const TRIM_COMPLETED = `
DELETE FROM tasks WHERE rowid IN (
  SELECT rowid FROM tasks WHERE queue = ? AND expires_at IS NOT NULL AND status = 'completed'
  ORDER BY expires_at LIMIT ?
)`;

const TRIM_OTHERS = `
DELETE FROM tasks WHERE rowid IN (
  SELECT rowid FROM tasks WHERE queue = ? AND expires_at IS NOT NULL AND status <> 'completed'
  ORDER BY expires_at LIMIT ?
)`;

export class RetentionBound {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly bounds: Pick<RetentionSettings, "maxFinished" | "maxFailed">,
  ) {}

  /** Whether either kind is bounded. */
  get #bounded(): boolean {
    return this.bounds.maxFinished !== null || this.bounds.maxFailed !== null;
  }

  /**
   * Inside a write transaction: deletes up to a batch of the queue's rows
   * over the bound of each kind (completed, the others); returns how many.
   */
  trimWithin(queue: string): number {
    if (!this.#bounded) return 0;
    const { maxFinished, maxFailed } = this.bounds;
    const { total, errors } = this.db.statement(COUNT).get({ queue }) as {
      total: number;
      errors: number;
    };
    let deleted = 0;
    const completedExcess =
      maxFinished === null ? 0 : Math.min(total - errors - maxFinished, TRIM_BATCH);
    if (completedExcess > 0)
      deleted += this.db.statement(TRIM_COMPLETED).run(queue, completedExcess).changes;
    const othersExcess = maxFailed === null ? 0 : Math.min(errors - maxFailed, TRIM_BATCH);
    if (othersExcess > 0)
      deleted += this.db.statement(TRIM_OTHERS).run(queue, othersExcess).changes;
    return deleted;
  }

  /** Trims `queue` to the bound, one short transaction per batch. */
  async trim(queue: string): Promise<void> {
    if (!this.#bounded) return;
    for (;;) {
      const deleted = await this.db.write("pruneExpired", () => this.trimWithin(queue));
      if (deleted < TRIM_BATCH) return;
    }
  }
}
