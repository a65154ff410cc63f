/**
 * @module execution/rate-gate
 * The check a claimed task with a `rateLimit` passes before it runs: the
 * backend admits the start, or answers how long to wait, and the task is
 * settled back as `scheduled` for that slot — never dropped, never failed.
 * Tasks without a `rateLimit` never come here, so they pay nothing.
 */
import type { RateLimitRequest, RateLimitStore } from "../backends/backend.js";
import type { TaskData } from "../task/task-record.js";
import { deferredRecord } from "./outcome.js";

/** When the backend cannot be asked (an outage), a claimed limited task comes back after this long. */
export const RATE_CHECK_FAILED_DELAY_MS = 1000;

/**
 * The meta entry of a task put off by its rate limit: the slot it was told
 * (ISO-8601, as its `scheduledAt`). Claimed again with `scheduledAt` still
 * that slot, it asks as a task back at its slot (`atSlot`).
 */
export const RATE_SLOT_META_KEY = "sheppy.rateSlot";

/** The backend request for a task's limit, counted at `now` (the caller's clock). */
export function rateLimitRequest(data: TaskData, now: number): RateLimitRequest | null {
  const limit = data.config.rateLimit;
  if (!limit) return null;
  return {
    key: limit.key,
    maxRate: limit.maxRate,
    // Whole milliseconds, so every backend counts the same window (Redis stores integers).
    periodMs: Math.max(1, Math.round(limit.ratePeriod * 1000)),
    taskId: data.id,
    strategy: limit.strategy,
    now,
    ...(backAtSlot(data) ? { atSlot: true } : {}),
  };
}

/** Whether `data` comes back for the slot a refusal of its limit told it (not a retry, nor moved since). */
function backAtSlot(data: TaskData): boolean {
  const slot = data.meta?.[RATE_SLOT_META_KEY];
  return typeof slot === "string" && slot === data.scheduledAt;
}

/**
 * Asks `limits` whether the claimed task `data` may start at `now`. Returns
 * `null` when it may (or has no limit), else the deferred record to settle.
 * A failed check defers the task by {@link RATE_CHECK_FAILED_DELAY_MS} rather
 * than running it unchecked; `onError` hears about it.
 */
export async function passRateLimit(
  limits: RateLimitStore,
  queue: string,
  data: TaskData,
  now: number,
  onError?: (error: unknown) => void,
): Promise<TaskData | null> {
  const request = rateLimitRequest(data, now);
  if (!request) return null;
  let waitMs: number | null;
  try {
    waitMs = await limits.acquireRateLimit(queue, request);
  } catch (error) {
    onError?.(error);
    // No slot was told: it asks afresh when it comes back.
    return deferredRecord(data, now, RATE_CHECK_FAILED_DELAY_MS);
  }
  if (waitMs === null) return null;
  const deferred = deferredRecord(data, now, waitMs);
  return { ...deferred, meta: { ...deferred.meta, [RATE_SLOT_META_KEY]: deferred.scheduledAt } };
}
