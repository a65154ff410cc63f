/**
 * @module backends/sqlite/rate-limiter
 * Rate-limit slots on SQLite: the window state of one queue and key is a
 * row, read and written in one write transaction while the shared
 * arithmetic (`../rate-window.ts`) decides, so every process sharing the
 * file sees the same window and the answers are those of every other backend.
 */
import type { RateLimitRequest } from "../backend.js";
import { acquireSlot, newRateWindowState, type RateWindowState } from "../rate-window.js";
import type { SqliteDatabase } from "./database.js";

const READ = "SELECT state FROM rate_limits WHERE queue = ? AND key = ?";

const SAVE = `
INSERT INTO rate_limits (queue, key, state, kept_until) VALUES (?, ?, ?, ?)
ON CONFLICT (queue, key) DO UPDATE SET state = excluded.state, kept_until = excluded.kept_until`;

/** How long an idle window is kept (caller ms): as the other backends keep theirs, generously. */
function keptUntil(state: RateWindowState, now: number, periodMs: number): number {
  const keep = Math.max(60_000, periodMs * 2 + 1000);
  return Math.ceil(Math.max(now, state.nextSlot) + keep);
}

/** The stored window, or a fresh one when there is none or it cannot be read. */
function readState(text: string | undefined): RateWindowState {
  if (text === undefined) return newRateWindowState();
  try {
    const state = JSON.parse(text) as RateWindowState;
    const numbers = (list: unknown) =>
      Array.isArray(list) && list.every((n) => typeof n === "number" && Number.isFinite(n));
    if (
      numbers(state.admitted) &&
      numbers([state.windowStart, state.windowCount, state.nextSlot])
    ) {
      return state;
    }
  } catch {
    // A damaged row starts a fresh window.
  }
  return newRateWindowState();
}

export class RateLimiter {
  constructor(private readonly db: SqliteDatabase) {}

  /** Admits a start (`null`) or returns the ms to wait before trying again. */
  acquire(queue: string, request: RateLimitRequest): Promise<number | null> {
    return this.db.write("acquireRateLimit", () => {
      const row = this.db.statement(READ).get(queue, request.key) as { state: string } | undefined;
      const state = readState(row?.state);
      const wait = acquireSlot(
        state,
        request.now,
        request.maxRate,
        request.periodMs,
        request.strategy,
      );
      this.db
        .statement(SAVE)
        .run(
          queue,
          request.key,
          JSON.stringify(state),
          keptUntil(state, request.now, request.periodMs),
        );
      return wait;
    });
  }
}
