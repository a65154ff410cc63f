/**
 * @module backends/memory/memory-worker-directory
 * The memory backend's {@link WorkerDirectory}: each queue's announcements
 * in a map, timed by the real clock (a worker announces on real time
 * whatever clock its tasks see, so a frozen test clock does not keep a
 * stopped worker listed, or drop a live one).
 */
import { systemClock } from "../../clock.js";
import type { WorkerDirectory, WorkerSighting } from "../backend.js";

interface Announcement {
  body: string;
  at: number;
  until: number;
}

export class MemoryWorkerDirectory implements WorkerDirectory {
  readonly #queues = new Map<string, Map<string, Announcement>>();

  async announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void> {
    let workers = this.#queues.get(queue);
    if (workers === undefined) {
      workers = new Map();
      this.#queues.set(queue, workers);
    }
    const at = systemClock.now();
    workers.set(id, { body, at, until: at + ttlMs });
  }

  async listWorkers(queue: string): Promise<WorkerSighting[]> {
    const workers = this.#queues.get(queue);
    if (workers === undefined) return [];
    const now = systemClock.now();
    const seen: WorkerSighting[] = [];
    for (const [id, announcement] of workers) {
      if (announcement.until <= now) workers.delete(id);
      else
        seen.push({ id, body: announcement.body, seenAgoMs: Math.max(0, now - announcement.at) });
    }
    if (workers.size === 0) this.#queues.delete(queue);
    return seen;
  }

  async listWorkerQueues(): Promise<string[]> {
    const now = systemClock.now();
    return [...this.#queues]
      .filter(([, workers]) => [...workers.values()].some((seen) => seen.until > now))
      .map(([queue]) => queue)
      .sort();
  }

  async withdrawWorker(queue: string, id: string): Promise<void> {
    const workers = this.#queues.get(queue);
    workers?.delete(id);
    if (workers?.size === 0) this.#queues.delete(queue);
  }
}
