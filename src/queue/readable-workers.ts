/**
 * @module queue/readable-workers
 * The workers of a queue for views that show them beside other things (its
 * counts, the list of queues, metrics): when they cannot be read — a
 * database role granted its reads before the worker list existed, say —
 * those views show them as unknown instead of failing whole. Code that asks
 * for the workers alone calls `queue.workers()`, which throws.
 */
import type { Backend } from "../backends/backend.js";
import { hasWorkerDirectory, type LiveWorker, runsTasks } from "./live-worker.js";
import type { Queue } from "./queue.js";

/** `queue.workers()`, or `null` when the backend keeps no list or it cannot be read now. */
export async function workersIfReadable(queue: Queue): Promise<LiveWorker[] | null> {
  try {
    return await queue.workers();
  } catch {
    return null;
  }
}

/**
 * How many workers run `queue`'s tasks now — a worker that only schedules, is
 * paused or stops leaves them waiting — or `null` when that cannot be told.
 */
export async function runningWorkerCount(queue: Queue): Promise<number | null> {
  const workers = await workersIfReadable(queue);
  return workers === null ? null : workers.filter(runsTasks).length;
}

/** `backend.listWorkerQueues()`, or none when the backend keeps no list or it cannot be read now. */
export async function workerQueuesIfReadable(backend: Backend): Promise<string[]> {
  if (!hasWorkerDirectory(backend)) return [];
  try {
    return await backend.listWorkerQueues();
  } catch {
    return [];
  }
}
