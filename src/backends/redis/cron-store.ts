/**
 * @module backends/redis/cron-store
 * Cron definitions on Redis: one JSON value per deterministic id in the
 * queue's `crons` hash. `HSETNX` makes adding the same cron from many
 * processes at once store it exactly once.
 */
import type { CronData } from "../backend.js";
import type { RedisSession } from "./session.js";

export class CronStore {
  constructor(private readonly session: RedisSession) {}

  /** Stores the cron unless one with this id exists; `true` when stored. */
  async addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean> {
    this.session.register(queue);
    const crons = this.session.keys(queue).crons;
    const json = JSON.stringify(cron);
    const added = await this.session.call(
      "addCron",
      (client) => client.hsetnx(crons, deterministicId, json),
      "unsent",
    );
    return added === 1;
  }

  async deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    const crons = this.session.keys(queue).crons;
    const removed = await this.session.call(
      "deleteCron",
      (client) => client.hdel(crons, deterministicId),
      "unsent",
    );
    return removed === 1;
  }

  async getCrons(queue: string): Promise<CronData[]> {
    const crons = this.session.keys(queue).crons;
    const values = await this.session.call("getCrons", (client) => client.hvals(crons));
    return values.map((json) => JSON.parse(json) as CronData);
  }
}
