/**
 * @module queue/backend-users
 * Who is working through a backend right now, so that closing a queue can
 * let them finish first. A Worker shares its queues' backends: a
 * `queue.close()` that disconnected under a running worker would leave the
 * outcomes of the tasks it runs unstored (taken over only once their leases
 * expire) and its loops retrying against a closed connection. So a worker
 * registers here while it works, and `close()` stops every worker of the
 * backend (as `worker.close()` does: running tasks finish and are stored)
 * before it disconnects. Keyed by the backend, not the queue: two queues on
 * one backend share its connection.
 */
import type { Backend } from "../backends/backend.js";

const users = new WeakMap<Backend, Set<() => Promise<void>>>();

/**
 * Registers `stop` as working through `backend` until the returned function
 * is called.
 */
export function useBackend(backend: Backend, stop: () => Promise<void>): () => void {
  let stops = users.get(backend);
  if (!stops) {
    stops = new Set();
    users.set(backend, stops);
  }
  stops.add(stop);
  return () => {
    stops.delete(stop);
  };
}

/** Stops whatever works through `backend` and waits until it has. */
export async function stopBackendUsers(backend: Backend): Promise<void> {
  const stops = users.get(backend);
  if (!stops || stops.size === 0) return;
  await Promise.all([...stops].map((stop) => stop()));
}
