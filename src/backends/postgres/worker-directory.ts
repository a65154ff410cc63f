/**
 * @module backends/postgres/worker-directory
 * Which workers serve a queue, on PostgreSQL: one row per queue and worker
 * (migration 018), timed by the server's clock. An announcement deletes the
 * queue's lapsed rows in the same statement; a listing only reads, so a
 * read-only role (a dashboard's) can list workers.
 */
import type { WorkerDirectory, WorkerSighting } from "../backend.js";
import type { PgSession } from "./session.js";

const ANNOUNCE = `
WITH t AS (SELECT %SCHEMA%.now_ms() AS now),
gone AS (
  DELETE FROM %SCHEMA%.workers w USING t
  WHERE w.queue = $1 AND w.id <> $2 AND w.lapse_at <= t.now
)
INSERT INTO %SCHEMA%.workers (queue, id, body, seen_at, lapse_at)
SELECT $1, $2, $3, t.now, t.now + $4::bigint FROM t
ON CONFLICT (queue, id) DO UPDATE
  SET body = EXCLUDED.body, seen_at = EXCLUDED.seen_at, lapse_at = EXCLUDED.lapse_at`;

const LIST = `
WITH t AS (SELECT %SCHEMA%.now_ms() AS now)
SELECT w.id, w.body, greatest(0, t.now - w.seen_at) AS ago
FROM %SCHEMA%.workers w, t
WHERE w.queue = $1 AND w.lapse_at > t.now`;

const WITHDRAW = "DELETE FROM %SCHEMA%.workers WHERE queue = $1 AND id = $2";

const QUEUES =
  'SELECT queue FROM %SCHEMA%.workers WHERE lapse_at > %SCHEMA%.now_ms() GROUP BY queue ORDER BY queue COLLATE "C"';

export class PgWorkerDirectory implements WorkerDirectory {
  constructor(private readonly session: PgSession) {}

  async announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void> {
    this.session.assertConnected();
    await this.session.query("announceWorker", this.session.sql(ANNOUNCE), [
      queue,
      id,
      body,
      Math.max(1, Math.floor(ttlMs)),
    ]);
  }

  async listWorkers(queue: string): Promise<WorkerSighting[]> {
    this.session.assertConnected();
    const rows = await this.session.query<{ id: string; body: string; ago: string }>(
      "listWorkers",
      this.session.sql(LIST),
      [queue],
    );
    return rows.map((row) => ({ id: row.id, body: row.body, seenAgoMs: Number(row.ago) }));
  }

  async listWorkerQueues(): Promise<string[]> {
    this.session.assertConnected();
    const rows = await this.session.query<{ queue: string }>(
      "listWorkerQueues",
      this.session.sql(QUEUES),
      [],
    );
    return rows.map((row) => row.queue);
  }

  async withdrawWorker(queue: string, id: string): Promise<void> {
    this.session.assertConnected();
    await this.session.query("withdrawWorker", this.session.sql(WITHDRAW), [queue, id]);
  }
}
