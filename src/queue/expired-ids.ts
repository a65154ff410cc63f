/**
 * @module queue/expired-ids
 * An id is taken while its record is stored, and an expired record stays
 * stored until a sweep deletes it (a worker's, every `expiryInterval`) — but
 * reads treat it as gone from the moment it expires. An add that finds its id
 * held by such a record would answer "not added" for a task no read can
 * find. So when an add is refused, the queue looks whether the holder can be
 * read; when it cannot, it sweeps the queue's expired records and adds those
 * tasks once more: an id is free again as soon as its record expires, on
 * every backend, whenever the sweep last ran. An add refused by a live
 * record costs one read more, and nothing is swept.
 */
import type { Backend } from "../backends/backend.js";
import type { TaskData } from "../task/task-record.js";

/**
 * `added` (what the backend answered for each of `records`) with the refused
 * records whose holder had expired added again through `store`.
 */
export async function addAgainIfExpired(
  backend: Backend,
  queue: string,
  now: number,
  records: readonly TaskData[],
  added: readonly boolean[],
  store: (records: readonly TaskData[]) => Promise<boolean[]>,
  /** Told the records that hold the refused ids, as read. */
  onHeld?: (held: ReadonlyMap<string, TaskData>) => void,
): Promise<boolean[]> {
  if (added.every(Boolean)) return [...added];
  // The first refused place of each id: a list may hold an id twice, and only one can be added.
  const refused = new Map<string, number>();
  records.forEach((record, i) => {
    if (!added[i] && !refused.has(record.id)) refused.set(record.id, i);
  });
  const held = await backend.getTasks(queue, [...refused.keys()]);
  onHeld?.(held);
  const unreadable = [...refused].filter(([id]) => !held.has(id));
  if (unreadable.length === 0) return [...added];
  await backend.pruneExpired(queue, now);
  const again = await store(unreadable.map(([, i]) => records[i]!));
  const result = [...added];
  unreadable.forEach(([, i], k) => {
    if (again[k]) result[i] = true;
  });
  return result;
}
