/**
 * @module backends/claim-priority
 * A record's priority as backends order claims by it: an integer within the
 * range every backend stores exactly (32-bit signed). The public API accepts
 * only such integers; a stored record checked elsewhere holds any finite
 * number, which is rounded and kept in range here, so it still sorts.
 */
import type { TaskData } from "../task/task-record.js";

export function claimPriority(record: TaskData): number {
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(record.priority)));
}
