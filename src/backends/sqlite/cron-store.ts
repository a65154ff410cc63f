/**
 * @module backends/sqlite/cron-store
 * Cron definitions on SQLite: one JSON text per deterministic id. The
 * primary key makes adding the same cron from many processes at once store
 * it exactly once.
 */
import type { CronData } from "../backend.js";
import type { SqliteDatabase } from "./database.js";

const ADD =
  "INSERT INTO crons (queue, id, data) VALUES (?, ?, ?) ON CONFLICT (queue, id) DO NOTHING";
const DELETE = "DELETE FROM crons WHERE queue = ? AND id = ?";
const LIST = "SELECT data FROM crons WHERE queue = ? ORDER BY id";

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
}
