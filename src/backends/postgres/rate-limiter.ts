/**
 * @module backends/postgres/rate-limiter
 * Rate-limit slots on PostgreSQL: the window state of one queue and key is a
 * row, locked for the length of a short transaction while the shared
 * arithmetic (`../rate-window.ts`) decides, so every worker sharing a limit
 * sees the same window and the answers are those of every other backend.
 */
import type { RateLimitRequest } from "../backend.js";
import { acquireSlot, parseRateWindowState, rateWindowKeptUntil } from "../rate-window.js";
import type { PgSession } from "./session.js";
import { storableKey } from "./storable-key.js";

/** The row of the key, created empty on first use, locked (an upsert that changes nothing locks it). */
const LOCK = `
INSERT INTO %SCHEMA%.rate_limits (queue, key, state, kept_until) VALUES ($1, $2, '', 0)
ON CONFLICT (queue, key) DO UPDATE SET state = rate_limits.state
RETURNING state`;

const SAVE = `
UPDATE %SCHEMA%.rate_limits SET state = $3, kept_until = $4 WHERE queue = $1 AND key = $2`;

/**
 * Admits starts (`null`) or returns the ms to wait before trying again.
 * Requests of one process for one key are applied in the order they were
 * made (one after the other): on a pool they would otherwise race for the
 * row on different connections, and a worker that claimed tasks in FIFO
 * order would see later ones admitted before earlier ones.
 */
export class RateLimiter {
  readonly #tails = new Map<string, Promise<unknown>>();

  constructor(private readonly session: PgSession) {}

  acquire(queue: string, request: RateLimitRequest): Promise<number | null> {
    this.session.assertConnected();
    const key = JSON.stringify([queue, request.key]);
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(
      () => acquire(this.session, queue, request),
      () => acquire(this.session, queue, request),
    );
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}

function acquire(
  session: PgSession,
  queue: string,
  request: RateLimitRequest,
): Promise<number | null> {
  return session.transaction(
    "acquireRateLimit",
    async (tx) => {
      const key = storableKey(request.key);
      const [row] = await tx.query<{ state: string }>(session.sql(LOCK), [queue, key]);
      const state = parseRateWindowState(row?.state ?? "");
      const wait = acquireSlot(state, request);
      await tx.query(session.sql(SAVE), [
        queue,
        key,
        JSON.stringify(state),
        rateWindowKeptUntil(state, request.now, request.periodMs),
      ]);
      return wait;
    },
    // Counted twice if sent twice: only sent again when it surely did not commit.
    { resend: "unsent", wait: false },
  );
}
