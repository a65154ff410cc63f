/**
 * @module task/unknown-since
 * When a worker puts back a task whose name it does not define, the task's
 * record keeps the time it was first found unknown, under a reserved meta
 * key. Each worker counts the unknown-task grace from the earliest of that
 * time and its own first sighting, so a task of a name no deploy defines
 * any more fails once the grace is over even when workers restart more
 * often than the grace lasts (each restart would otherwise count from
 * zero, and the task would be put back forever).
 */
import { isoAt } from "../clock.js";
import type { TaskData } from "./task-record.js";

/** The meta key of the time a worker first found the task's name unknown. */
export const UNKNOWN_SINCE_META_KEY = "sheppy.unknownSince";

/**
 * The time `data` was first found unknown, as stored, in epoch ms; `null`
 * when none is stored or it cannot be read. A time ahead of `now` (another
 * host's clock) counts as `now`.
 */
export function storedUnknownSince(data: TaskData, now: number): number | null {
  const stored = data.meta?.[UNKNOWN_SINCE_META_KEY];
  if (typeof stored !== "string") return null;
  const at = Date.parse(stored);
  if (Number.isNaN(at)) return null;
  return Math.min(at, now);
}

/** `data` carrying `since` as the time it was first found unknown. */
export function withUnknownSince(data: TaskData, since: number): TaskData {
  return { ...data, meta: { ...data.meta, [UNKNOWN_SINCE_META_KEY]: isoAt(since) } };
}

/** `data` without a stored unknown-since time: a fresh run's grace starts again. */
export function withoutUnknownSince(data: TaskData): TaskData {
  if (data.meta?.[UNKNOWN_SINCE_META_KEY] === undefined) return data;
  const { [UNKNOWN_SINCE_META_KEY]: _since, ...meta } = data.meta;
  return { ...data, meta };
}
