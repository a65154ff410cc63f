/**
 * @module backends/postgres/cron-store
 * Cron definitions on PostgreSQL: one JSON text per deterministic id. The
 * primary key makes adding the same cron from many processes at once store
 * it exactly once (`ON CONFLICT DO NOTHING`).
 */
import type { CronData } from "../backend.js";
import type { PgSession } from "./session.js";

const ADD = `
INSERT INTO %SCHEMA%.crons (queue, id, data) VALUES ($1, $2, $3)
ON CONFLICT (queue, id) DO NOTHING
RETURNING 1`;

const DELETE = "DELETE FROM %SCHEMA%.crons WHERE queue = $1 AND id = $2 RETURNING 1";

const LIST = "SELECT data FROM %SCHEMA%.crons WHERE queue = $1 ORDER BY id";

const QUEUES = "SELECT DISTINCT queue FROM %SCHEMA%.crons ORDER BY queue";

export class CronStore {
  constructor(private readonly session: PgSession) {}

  /** Stores the cron unless one with this id exists; `true` when stored. */
  async addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    this.session.assertConnected();
    const rows = await this.session.query(
      "addCron",
      this.session.sql(ADD),
      [queue, deterministicId, JSON.stringify(cron)],
      { resend: "unsent" },
    );
    return rows.length === 1;
  }

  async deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    this.session.assertConnected();
    const rows = await this.session.query(
      "deleteCron",
      this.session.sql(DELETE),
      [queue, deterministicId],
      { resend: "unsent" },
    );
    return rows.length === 1;
  }

  async getCrons(queue: string): Promise<CronData[]> {
    this.session.assertConnected();
    const rows = await this.session.query<{ data: string }>("getCrons", this.session.sql(LIST), [
      queue,
    ]);
    return rows.map((row) => JSON.parse(row.data) as CronData);
  }

  async listCronQueues(): Promise<string[]> {
    this.session.assertConnected();
    const rows = await this.session.query<{ queue: string }>(
      "listCronQueues",
      this.session.sql(QUEUES),
      [],
    );
    return rows.map((row) => row.queue);
  }
}
