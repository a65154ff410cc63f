/**
 * @module backends/redis/worker-directory
 * Which workers serve a queue, on Redis: a sorted set of worker ids by when
 * their announcement lapses and a hash of what each said, both under the
 * queue's hash tag and both timed by the server's clock
 * (`scripts/announce-worker.lua`, `list-workers.lua`, `withdraw-worker.lua`).
 */
import type { WorkerDirectory, WorkerSighting } from "../backend.js";
import { queuesRegistryKey } from "./keys.js";
import { perQueue, type RedisSession } from "./session.js";

export class RedisWorkerDirectory implements WorkerDirectory {
  constructor(private readonly session: RedisSession) {}

  async announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void> {
    // Registered, so that `listWorkerQueues` finds a queue served before it holds anything.
    this.session.register(queue);
    const k = this.session.keys(queue);
    await this.session.script("announceWorker", [k.workers, k.workersSeen], [id, body, ttlMs]);
  }

  async listWorkers(queue: string): Promise<WorkerSighting[]> {
    const k = this.session.keys(queue);
    const flat = (await this.session.script(
      "listWorkers",
      [k.workers, k.workersSeen],
      [],
    )) as string[];
    const seen: WorkerSighting[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      seen.push({ id: flat[i]!, seenAgoMs: Number(flat[i + 1]), body: flat[i + 2]! });
    }
    return seen;
  }

  /** The registered queues whose worker list is not empty (it expires once every announcement has lapsed). */
  async listWorkerQueues(): Promise<string[]> {
    const registry = queuesRegistryKey(this.session.prefix);
    const names = (
      await this.session.call("listWorkerQueues", (client) => client.smembers(registry))
    ).sort();
    const counts = await this.session.call("listWorkerQueues", (client) =>
      perQueue(names, (name) => client.zcard(this.session.keys(name).workers)),
    );
    return names.filter((_, i) => counts[i]! > 0);
  }

  async withdrawWorker(queue: string, id: string): Promise<void> {
    const k = this.session.keys(queue);
    await this.session.script("withdrawWorker", [k.workers, k.workersSeen], [id]);
  }
}
