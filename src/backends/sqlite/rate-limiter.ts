/**
 * @module backends/sqlite/rate-limiter
 * Rate-limit slots on SQLite: the window state of one queue and key is a
 * row, read and written in one write transaction while the shared
 * arithmetic (`../rate-window.ts`) decides, so every process sharing the
 * file sees the same window and the answers are those of every other backend.
 */
import type { RateLimitRequest } from "../backend.js";
import { acquireSlot, parseRateWindowState, rateWindowKeptUntil } from "../rate-window.js";
import type { SqliteDatabase } from "./database.js";

const READ = "SELECT state FROM rate_limits WHERE queue = ? AND key = ?";

const SAVE = `
INSERT INTO rate_limits (queue, key, state, kept_until) VALUES (?, ?, ?, ?)
ON CONFLICT (queue, key) DO UPDATE SET state = excluded.state, kept_until = excluded.kept_until`;

export class RateLimiter {
  constructor(private readonly db: SqliteDatabase) {}

  /** Admits a start (`null`) or returns the ms to wait before trying again. */
  acquire(queue: string, request: RateLimitRequest): Promise<number | null> {
    return this.db.write("acquireRateLimit", () => {
      const row = this.db.statement(READ).get(queue, request.key) as { state: string } | undefined;
      const state = parseRateWindowState(row?.state);
      const wait = acquireSlot(state, request);
      this.db
        .statement(SAVE)
        .run(
          queue,
          request.key,
          JSON.stringify(state),
          rateWindowKeptUntil(state, request.now, request.periodMs),
        );
      return wait;
    });
  }
}
