/**
 * @module worker/lease-keeper
 * One loop per worker, not one timer per task: renews the leases of every
 * task this worker is running (heartbeat) and, less often, takes over tasks
 * whose worker stopped renewing (reclaim), handing them to `onStale`.
 */
import type { Clock } from "../clock.js";
import type { Queue } from "../queue/queue.js";
import type { TaskData } from "../task/task-record.js";

export interface LeaseKeeperOptions {
  queues: readonly Queue[];
  clock: Clock;
  heartbeatMs: number;
  reclaimMs: number;
  leaseMs: number;
  signal: AbortSignal;
  /** Ids this worker is running in `queue`. */
  runningIn: (queue: Queue) => string[];
  onLost: (queue: Queue, ids: string[]) => void;
  onStale: (queue: Queue, records: TaskData[]) => Promise<void>;
  onError: (error: unknown, during: string) => void;
}

export async function runLeaseKeeper(options: LeaseKeeperOptions): Promise<void> {
  const { queues, clock, signal } = options;
  let lastReclaim = clock.now();
  while (!signal.aborted) {
    await clock.sleep(options.heartbeatMs, signal);
    if (signal.aborted) break;
    for (const queue of queues) {
      const ids = options.runningIn(queue);
      if (ids.length === 0) continue;
      try {
        const lost = await queue.backend.heartbeat(queue.name, ids);
        if (lost.length > 0) options.onLost(queue, lost);
      } catch (error) {
        options.onError(error, "heartbeat");
      }
    }
    if (clock.now() - lastReclaim < options.reclaimMs) continue;
    lastReclaim = clock.now();
    for (const queue of queues) {
      try {
        const stale = await queue.backend.reclaimStale(queue.name, options.leaseMs);
        if (stale.length > 0) await options.onStale(queue, stale);
      } catch (error) {
        options.onError(error, "reclaim");
      }
    }
  }
}
