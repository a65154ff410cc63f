/**
 * @module backends/redis/rate-limiter
 * Rate-limit slots on Redis: `rate-limit.lua` does the window arithmetic of
 * `src/worker/rate-limit.ts` atomically on per-key state, so every worker
 * sharing a limit sees the same window.
 */
import type { Clock } from "../../clock.js";
import type { RateLimitRequest } from "../backend.js";
import type { RedisSession } from "./session.js";

/** Admits a start (`null`) or returns the ms to wait before trying again. */
export async function acquireRateLimit(
  session: RedisSession,
  clock: Clock,
  queue: string,
  request: RateLimitRequest,
): Promise<number | null> {
  const k = session.keys(queue);
  const base = `${k.rateLimit}${request.key}`;
  const wait = (await session.script(
    "rateLimit",
    [`${base}:z`, `${base}:h`, k.rateLimitKeys],
    [
      request.maxRate,
      Math.max(1, Math.round(request.periodMs)),
      request.taskId,
      request.strategy,
      request.now ?? clock.now(),
      request.atSlot === true ? 1 : 0,
    ],
  )) as number;
  return wait < 0 ? null : wait;
}
