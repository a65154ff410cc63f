/**
 * @module worker/rate-gate
 * The check a claimed task with a `rateLimit` passes before it runs (RL-2):
 * the backend admits the start, or answers how long to wait, and the task is
 * stored back as `scheduled` for that slot — never dropped, never failed.
 * Shared by the worker and the memory backend's instant processing. Tasks
 * without a `rateLimit` never come here, so they pay nothing.
 */
import type { Backend, RateLimitRequest } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import type { TaskData } from "../task/task-record.js";

/** When the backend cannot be asked (an outage), a claimed limited task comes back after this long. */
export const RATE_CHECK_FAILED_DELAY_MS = 1000;

/** The backend request for a task's limit, counted at `now` (the caller's clock). */
export function rateLimitRequest(data: TaskData, now: number): RateLimitRequest | null {
  const limit = data.config.rateLimit;
  if (!limit) return null;
  return {
    key: limit.key,
    maxRate: limit.maxRate,
    periodMs: limit.ratePeriod * 1000,
    taskId: data.id,
    strategy: limit.strategy,
    now,
  };
}

/**
 * The record of a claimed task put off for `waitMs`: `scheduled` at `now + waitMs`,
 * not started. Nothing else changes — a deferral is not an attempt.
 */
export function deferredRecord(data: TaskData, now: number, waitMs: number): TaskData {
  return { ...data, status: "scheduled", scheduledAt: isoAt(now + waitMs), startedAt: null };
}

/**
 * Asks `backend` whether the claimed task `data` may start at `now`. Returns
 * `null` when it may (or has no limit), else the deferred record to store
 * (`storeResult` re-queues it at its `scheduledAt`). A failed check defers
 * the task by {@link RATE_CHECK_FAILED_DELAY_MS} rather than running it
 * unchecked; `onError` hears about it.
 */
export async function passRateLimit(
  backend: Backend,
  queue: string,
  data: TaskData,
  now: number,
  onError?: (error: unknown) => void,
): Promise<TaskData | null> {
  const request = rateLimitRequest(data, now);
  if (!request) return null;
  let waitMs: number | null;
  try {
    waitMs = await backend.acquireRateLimit(queue, request);
  } catch (error) {
    onError?.(error);
    waitMs = RATE_CHECK_FAILED_DELAY_MS;
  }
  return waitMs === null ? null : deferredRecord(data, now, waitMs);
}

/** Claimed rate-limited tasks sorted by the limit's answer. */
export interface GateResult {
  /** May start now (their start is counted). */
  admitted: TaskData[];
  /** Over the limit: `scheduled` records to store, each at its slot. */
  deferred: TaskData[];
}

/**
 * Checks every claimed task of `claimed` (all with a `rateLimit`) at `now`, in
 * claim order — the backend sees the requests in that order, so the oldest
 * claims get the free starts. One concurrent batch: one round trip on Redis.
 */
export async function gateClaims(
  backend: Backend,
  queue: string,
  claimed: readonly TaskData[],
  now: number,
  onError?: (error: unknown) => void,
): Promise<GateResult> {
  const verdicts = await Promise.all(
    claimed.map((data) => passRateLimit(backend, queue, data, now, onError)),
  );
  const result: GateResult = { admitted: [], deferred: [] };
  claimed.forEach((data, i) => {
    const deferred = verdicts[i];
    if (deferred) result.deferred.push(deferred);
    else result.admitted.push(data);
  });
  return result;
}
