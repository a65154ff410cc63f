/**
 * @module backends/sqlite/retention-bound
 * The maxFinished bound: past it, the finished records due to expire
 * soonest are deleted — of the completed ones and of the others (failed,
 * crashed, cancelled) each on its own, so failures, kept longer, never crowd
 * out results. The counts come from the `expiring` and `expiring_errors`
 * tables the migrations' triggers keep (no scan of the queue). A settle trims inside
 * its own write transaction, at most a batch; `pruneExpired` trims whatever
 * a burst left over, a batch per transaction so no write holds the file long.
 */
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
    readonly maxFinished: number | null,
  ) {}

  /**
   * Inside a write transaction: deletes up to a batch of the queue's rows
   * over the bound of each kind (completed, the others); returns how many.
   */
  trimWithin(queue: string): number {
    const max = this.maxFinished;
    if (max === null) return 0;
    const { total, errors } = this.db.statement(COUNT).get({ queue }) as {
      total: number;
      errors: number;
    };
    let deleted = 0;
    const completedExcess = Math.min(total - errors - max, TRIM_BATCH);
    if (completedExcess > 0)
      deleted += this.db.statement(TRIM_COMPLETED).run(queue, completedExcess).changes;
    const othersExcess = Math.min(errors - max, TRIM_BATCH);
    if (othersExcess > 0)
      deleted += this.db.statement(TRIM_OTHERS).run(queue, othersExcess).changes;
    return deleted;
  }

  /** Trims `queue` to the bound, one short transaction per batch. */
  async trim(queue: string): Promise<void> {
    if (this.maxFinished === null) return;
    for (;;) {
      const deleted = await this.db.write("pruneExpired", () => this.trimWithin(queue));
      if (deleted < TRIM_BATCH) return;
    }
  }
}
