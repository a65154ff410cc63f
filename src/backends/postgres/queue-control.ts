/**
 * @module backends/postgres/queue-control
 * Pausing a queue: a row in `paused_queues` while it is paused, which the
 * claim statement checks (`./claims.ts`), so every worker stops claiming at
 * its next claim. A resume deletes the row and wakes idle workers with the
 * queue's work notification, sent when it commits.
 */
import type { PgSession } from "./session.js";

const PAUSE = `
INSERT INTO %SCHEMA%.paused_queues (queue) VALUES ($1) ON CONFLICT (queue) DO NOTHING`;

const RESUME = `
WITH gone AS (DELETE FROM %SCHEMA%.paused_queues WHERE queue = $1 RETURNING 1)
SELECT pg_notify($2, $1)`;

const PAUSED = "SELECT 1 FROM %SCHEMA%.paused_queues WHERE queue = $1";

/** Sets the cap, and wakes idle workers when it commits: a higher cap makes room. */
const SET_CAP = `
WITH set AS (
  INSERT INTO %SCHEMA%.queue_caps (queue, cap) VALUES ($1, $2)
  ON CONFLICT (queue) DO UPDATE SET cap = EXCLUDED.cap
  RETURNING 1
)
SELECT pg_notify($3, $1) FROM set`;

const LIFT_CAP = `
WITH gone AS (DELETE FROM %SCHEMA%.queue_caps WHERE queue = $1 RETURNING 1)
SELECT pg_notify($2, $1)`;

const CAP = "SELECT cap FROM %SCHEMA%.queue_caps WHERE queue = $1";
const ALL_PAUSED = "SELECT queue FROM %SCHEMA%.paused_queues ORDER BY queue";

export class QueueControl {
  constructor(private readonly session: PgSession) {}

  async setPaused(queue: string, paused: boolean): Promise<void> {
    this.session.assertConnected();
    if (paused) {
      await this.session.query("pause", this.session.sql(PAUSE), [queue]);
    } else {
      await this.session.query("resume", this.session.sql(RESUME), [
        queue,
        this.session.channels.work,
      ]);
    }
  }

  async setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    this.session.assertConnected();
    const work = this.session.channels.work;
    if (limit === null) {
      await this.session.query("setConcurrencyLimit", this.session.sql(LIFT_CAP), [queue, work]);
    } else {
      await this.session.query("setConcurrencyLimit", this.session.sql(SET_CAP), [
        queue,
        limit,
        work,
      ]);
    }
  }

  async getConcurrencyLimit(queue: string): Promise<number | null> {
    this.session.assertConnected();
    const [row] = await this.session.query<{ cap: number }>(
      "getConcurrencyLimit",
      this.session.sql(CAP),
      [queue],
    );
    return row?.cap ?? null;
  }

  async isPaused(queue: string): Promise<boolean> {
    this.session.assertConnected();
    const rows = await this.session.query("isPaused", this.session.sql(PAUSED), [queue]);
    return rows.length > 0;
  }

  async listPaused(): Promise<string[]> {
    this.session.assertConnected();
    const rows = await this.session.query<{ queue: string }>(
      "listPaused",
      this.session.sql(ALL_PAUSED),
      [],
    );
    return rows.map((row) => row.queue);
  }
}
