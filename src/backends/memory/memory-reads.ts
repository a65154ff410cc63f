/**
 * @module backends/memory/memory-reads
 * Reading one in-memory queue without changing what it holds (beyond pruning
 * records whose retention has run out, which readers must not see anyway):
 * records by id, pending and scheduled tasks in queue order, pages, the
 * newest-first listing, stats.
 */
import { InvalidOptionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { ListTasksRequest, PageRequest, QueueStats, TaskPage } from "../backend.js";
import { checkListRequest, encodeListCursor, type ListPosition } from "../task-listing.js";
import type { MemoryQueueState } from "./memory-queue-state.js";

const DEFAULT_PAGE = 1000;

/** The records of `ids` that exist (expired ones pruned first). */
export function recordsById(
  state: MemoryQueueState,
  ids: readonly string[],
  now: number,
): Map<string, TaskData> {
  state.expire(now);
  const found = new Map<string, TaskData>();
  for (const id of ids) {
    const entry = state.entries.get(id);
    if (entry) found.set(id, entry.record);
  }
  return found;
}

/** The first `count` pending records, in claim order. */
export function pendingRecords(state: MemoryQueueState, count: number): TaskData[] {
  const found: TaskData[] = [];
  for (const entry of state.pending) {
    if (found.length >= count) break;
    found.push(entry.record);
  }
  return found;
}

/** Records waiting for a time, earliest first, a page at a time (the cursor is an offset). */
export function scheduledPage(state: MemoryQueueState, page: PageRequest): TaskPage {
  const { offset, limit } = pageBounds(page);
  const ordered = state.due.ordered();
  const tasks = ordered.slice(offset, offset + limit).flatMap((id) => {
    const entry = state.entries.get(id);
    return entry ? [entry.record] : [];
  });
  const next = offset + limit;
  return { tasks, cursor: next < ordered.length ? String(next) : null };
}

/** A page request as an offset and a size; a bad cursor or limit is an `InvalidOptionError`. */
function pageBounds(page: PageRequest): { offset: number; limit: number } {
  const offset = page.cursor ? Number(page.cursor) : 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidOptionError(`invalid page cursor '${page.cursor}'`);
  return { offset, limit: pageLimit(page) };
}

/** The page size `page` asks for; anything but an integer ≥ 1 is an `InvalidOptionError`. */
function pageLimit(page: PageRequest): number {
  const limit = page.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
  return limit;
}

export function queueStats(state: MemoryQueueState, now: number): QueueStats {
  state.expire(now);
  const stats: QueueStats = {
    // Tasks held for their concurrency key's slot wait to be claimed too.
    pending: state.pending.size + state.heldSize,
    scheduled: state.due.size,
    processing: state.claims.size,
    completed: 0,
    failed: 0,
    crashed: 0,
    cancelled: 0,
    held: state.heldSize,
  };
  for (const { record } of state.entries.values()) {
    if (record.finishedAt === null) continue;
    if (
      record.status === "completed" ||
      record.status === "failed" ||
      record.status === "crashed" ||
      record.status === "cancelled"
    ) {
      stats[record.status]++;
    }
  }
  return stats;
}

/** One page of every record: the newest-first listing without a filter, as the other built-in backends page. */
export function taskPage(state: MemoryQueueState, page: PageRequest, now: number): TaskPage {
  return listPage(state, { cursor: page.cursor, limit: pageLimit(page) }, now);
}

/** One page of `listTasks`: newest first by creation time, from the creation index. */
export function listPage(
  state: MemoryQueueState,
  request: ListTasksRequest | undefined,
  now: number,
): TaskPage {
  const { after, limit, statuses, budget } = checkListRequest(request);
  if (statuses?.size === 0) return { tasks: [], cursor: null };
  // The cursor names a place in the order, not an offset: pruning and compacting shift nothing.
  state.expire(now);
  state.compactCreated();
  const index = state.created;
  const tasks: TaskData[] = [];
  let last: ListPosition | null = null;
  let i = index.before(after);
  let looked = 0;
  for (; i >= 0 && tasks.length < limit && looked < budget; i--, looked++) {
    last = index.at(i);
    const entry = state.entries.get(last.id);
    if (!entry || entry.listedAt !== last.at || state.isExpired(entry, now)) continue;
    if (statuses && !statuses.has(entry.record.status)) continue;
    tasks.push(entry.record);
  }
  // Entries of deleted tasks are removed lazily; a store that removes them at once would see
  // nothing older here, so they do not make a next page (one that would come back empty).
  for (; i >= 0 && looked < budget && isGone(state, index.at(i)); i--, looked++);
  return { tasks, cursor: i >= 0 && last ? encodeListCursor(last) : null };
}

/** Whether the index entry at `position` is stale: its task is deleted, or listed under another time now. */
function isGone(state: MemoryQueueState, position: ListPosition): boolean {
  return state.entries.get(position.id)?.listedAt !== position.at;
}
