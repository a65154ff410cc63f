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
    return (await this.session.client.hsetnx(crons, deterministicId, JSON.stringify(cron))) === 1;
  }

  async deleteCron(queue: string, deterministicId: string): Promise<boolean> {
    return (await this.session.client.hdel(this.session.keys(queue).crons, deterministicId)) === 1;
  }

  async getCrons(queue: string): Promise<CronData[]> {
    const values = await this.session.client.hvals(this.session.keys(queue).crons);
    return values.map((json) => JSON.parse(json) as CronData);
  }
}
