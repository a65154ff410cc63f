/**
 * @module backends/memory/memory-results
 * `getResults` on one in-memory queue: parks on the queue's `finished`
 * waiters (woken whenever a record finishes) until every wanted record has
 * finished, the time runs out on the backend's clock, or the backend is
 * disconnected.
 */
import type { Clock } from "../../clock.js";
import { BackendError, WaitTimeoutError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

/** The finished records of `ids`, waiting up to `timeoutMs` (`null`: no limit; `0`: no wait). */
export async function waitForResults(
  state: MemoryQueueState,
  ids: readonly string[],
  timeoutMs: number | null,
  clock: Clock,
  isConnected: () => boolean,
): Promise<Map<string, TaskData>> {
  const deadline = timeoutMs === null ? null : clock.now() + timeoutMs;
  for (;;) {
    state.expire(clock.now());
    const found = new Map<string, TaskData>();
    let missing = 0;
    for (const id of ids) {
      const record = state.tasks.get(id);
      if (record?.finishedAt) found.set(id, record);
      else missing++;
    }
    if (missing === 0 || timeoutMs === 0) return found;
    if (!isConnected())
      throw new BackendError("memory backend was disconnected while waiting for results");
    const remaining = deadline === null ? null : deadline - clock.now();
    if (remaining !== null && remaining <= 0) {
      throw new WaitTimeoutError(
        (timeoutMs ?? 0) / 1000,
        ids.filter((id) => !found.has(id)),
      );
    }
    await state.finished.wait(clock, remaining);
  }
}
