/**
 * @module backends/sqlite/worker-directory
 * Which workers serve a queue, on SQLite: one row per queue and worker
 * (migration 014), timed by the system clock — the one the claims' leases
 * go by, since every process sharing a file runs on one machine. An
 * announcement deletes the queue's lapsed rows in the same transaction.
 */
import type { WorkerDirectory, WorkerSighting } from "../backend.js";
import type { SqliteDatabase } from "./database.js";

const PRUNE = "DELETE FROM workers WHERE queue = ? AND lapse_at <= ?";
const ANNOUNCE = `
INSERT INTO workers (queue, id, body, seen_at, lapse_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (queue, id) DO UPDATE
  SET body = excluded.body, seen_at = excluded.seen_at, lapse_at = excluded.lapse_at`;
const LIST = "SELECT id, body, seen_at FROM workers WHERE queue = ? AND lapse_at > ?";
const WITHDRAW = "DELETE FROM workers WHERE queue = ? AND id = ?";
const QUEUES = "SELECT DISTINCT queue FROM workers WHERE lapse_at > ? ORDER BY queue";

export class SqliteWorkerDirectory implements WorkerDirectory {
  constructor(private readonly db: SqliteDatabase) {}

  announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void> {
    return this.db.write("announceWorker", () => {
      const now = Date.now();
      this.db.statement(PRUNE).run(queue, now);
      this.db.statement(ANNOUNCE).run(queue, id, body, now, now + Math.max(1, Math.floor(ttlMs)));
    });
  }

  async listWorkers(queue: string): Promise<WorkerSighting[]> {
    return this.db.read("listWorkers", () => {
      const now = Date.now();
      const rows = this.db.statement(LIST).all(queue, now) as {
        id: string;
        body: string;
        seen_at: number;
      }[];
      return rows.map((row) => ({
        id: row.id,
        body: row.body,
        seenAgoMs: Math.max(0, now - row.seen_at),
      }));
    });
  }

  async listWorkerQueues(): Promise<string[]> {
    return this.db.read("listWorkerQueues", () =>
      (this.db.statement(QUEUES).all(Date.now()) as { queue: string }[]).map((row) => row.queue),
    );
  }

  withdrawWorker(queue: string, id: string): Promise<void> {
    return this.db.write("withdrawWorker", () => {
      this.db.statement(WITHDRAW).run(queue, id);
    });
  }
}
