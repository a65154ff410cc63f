/**
 * @module backends/sqlite/retention-bound
 * The maxFinished bound: past it, the finished records due to expire
 * soonest are deleted. The count comes from the `expiring` table the
 * migration's triggers keep (no scan of the queue). A settle trims inside
 * its own write transaction, at most a batch; `pruneExpired` trims whatever
 * a burst left over, a batch per transaction so no write holds the file long.
 */
import type { SqliteDatabase } from "./database.js";

/** Rows deleted per transaction. */
const TRIM_BATCH = 1000;

const COUNT = "SELECT n FROM expiring WHERE queue = ?";

const TRIM = `
DELETE FROM tasks WHERE rowid IN (
  SELECT rowid FROM tasks WHERE queue = ? AND expires_at IS NOT NULL ORDER BY expires_at LIMIT ?
)`;

export class RetentionBound {
  constructor(
    private readonly db: SqliteDatabase,
    readonly maxFinished: number | null,
  ) {}

  /** Inside a write transaction: deletes up to a batch of the queue's rows over the bound; returns how many. */
  trimWithin(queue: string): number {
    const max = this.maxFinished;
    if (max === null) return 0;
    const row = this.db.statement(COUNT).get(queue) as { n: number } | undefined;
    const excess = Math.min((row?.n ?? 0) - max, TRIM_BATCH);
    if (excess <= 0) return 0;
    return this.db.statement(TRIM).run(queue, excess).changes;
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
