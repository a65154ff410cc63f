/**
 * @module queue/known-queues
 * The queues an operator looks for on a backend: those holding tasks, and
 * also those that hold only crons, are paused (a paused queue may hold
 * nothing, and can be resumed) or are served by a worker before their first
 * task — what `sheppy queue list`, `sheppy worker list` and the HTTP API's
 * `GET /queues` show.
 */
import type { Backend } from "../backends/backend.js";
import { workerQueuesIfReadable } from "./readable-workers.js";

/** Every known queue, sorted, with its count of claimable tasks (0 for a queue holding none). */
export async function knownQueues(backend: Backend): Promise<Map<string, number>> {
  const [held, withCrons, paused, served] = await Promise.all([
    backend.listQueues(),
    backend.listCronQueues(),
    backend.listPaused(),
    workerQueuesIfReadable(backend),
  ]);
  const names = [...new Set([...held.keys(), ...withCrons, ...paused, ...served])].sort();
  return new Map(names.map((name) => [name, held.get(name) ?? 0]));
}
