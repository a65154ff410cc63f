/**
 * @module backends/sqlite/cron-store
 * Cron definitions on SQLite: one JSON text per deterministic id. The
 * primary key makes adding the same cron from many processes at once store
 * it exactly once. Also the lists of queues by their queue-level state (crons,
 * a pause), which `sheppy queue list` shows beside the queues that hold tasks.
 */
import type { CronData } from "../backend.js";
import type { SqliteDatabase } from "./database.js";

const ADD =
  "INSERT INTO crons (queue, id, data) VALUES (?, ?, ?) ON CONFLICT (queue, id) DO NOTHING";
const DELETE = "DELETE FROM crons WHERE queue = ? AND id = ?";
const LIST = "SELECT data FROM crons WHERE queue = ? ORDER BY id";
const QUEUES = "SELECT DISTINCT queue FROM crons ORDER BY queue";
const PAUSED = "SELECT queue FROM paused_queues ORDER BY queue";

export class CronStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Stores the cron unless one with this id exists; `true` when stored. */
  addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    const data = JSON.stringify(cron);
    return this.db.write(
      "addCron",
      () => this.db.statement(ADD).run(queue, deterministicId, data).changes > 0,
    );
  }

  deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    return this.db.write(
      "deleteCron",
      () => this.db.statement(DELETE).run(queue, deterministicId).changes > 0,
    );
  }

  async getCrons(queue: string): Promise<CronData[]> {
    return this.db.read("getCrons", () =>
      (this.db.statement(LIST).all(queue) as { data: string }[]).map(
        (row) => JSON.parse(row.data) as CronData,
      ),
    );
  }

  async listCronQueues(): Promise<string[]> {
    return this.db.read("listCronQueues", () =>
      (this.db.statement(QUEUES).all() as { queue: string }[]).map((row) => row.queue),
    );
  }

  /** The paused queues: read here, beside the other queue-level settings, not in the hot claim path. */
  async listPaused(): Promise<string[]> {
    return this.db.read("listPaused", () =>
      (this.db.statement(PAUSED).all() as { queue: string }[]).map((row) => row.queue),
    );
  }
}
