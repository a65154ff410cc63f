/**
 * @module queue/queue-latency
 * A queue's latency: how long the next task to be claimed has waited since
 * it was due. Counts tell how much waits; this tells how late the work runs,
 * which is what an alert on a stuck or under-served queue needs (a queue can
 * hold few tasks and still have held the next one for an hour).
 */
import type { TaskReader } from "../backends/backend.js";
import { attemptDueMs } from "../observability/task-metrics.js";

/**
 * Milliseconds the next task to be claimed (the head of the queue, by
 * priority then order) has waited at `now` since it was due — the same due
 * time `sheppy_task_start_latency_seconds` counts from; 0 when no task waits.
 * A paused queue's latency keeps growing, as its tasks do wait.
 */
export async function queueLatencyMs(
  reader: Pick<TaskReader, "getPending">,
  queue: string,
  now: number,
): Promise<number> {
  const [next] = await reader.getPending(queue, 1);
  if (next === undefined) return 0;
  const due = attemptDueMs(next);
  // A record stamped by a clock ahead of this one has not waited yet.
  return Number.isFinite(due) ? Math.max(0, Math.round(now - due)) : 0;
}
