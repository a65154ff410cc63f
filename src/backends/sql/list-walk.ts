/**
 * @module backends/sql/list-walk
 * `listTasks` on a SQL backend: the queue's rows newest first (by creation
 * time, then id), read a chunk at a time — as many rows as the page still
 * needs, or bigger chunks when filtering by status — until the page is full
 * or the budget of rows looked at is spent. One row past each chunk tells
 * whether the order goes on, so the cursor is `null` exactly after the last
 * page. The backends differ only in how they read a chunk.
 */
import type { TaskData } from "../../task/task-record.js";
import type { ListTasksRequest, TaskPage } from "../backend.js";
import { checkListRequest, encodeListCursor, type ListPosition } from "../task-listing.js";

/** Rows one statement reads when it filters by status. */
const FILTERED_CHUNK = 500;

/** A row of the walk: its place, and its record when it is kept (live, of a wanted status). */
export interface WalkedRow {
  readonly position: ListPosition;
  readonly record: TaskData | null;
}

/**
 * Reads up to `count` rows of the order after `from` (from the newest when
 * `null`), keeping those of `statuses` (any when `null`) that are live.
 */
export type ChunkReader = (
  from: ListPosition | null,
  count: number,
  statuses: readonly string[] | null,
) => Promise<WalkedRow[]>;

/** One page of the newest-first walk (see `TaskReader.listTasks` in `../backend.ts`). */
export async function walkNewestFirst(
  request: ListTasksRequest | undefined,
  read: ChunkReader,
): Promise<TaskPage> {
  const { after, limit, statuses, budget } = checkListRequest(request);
  if (statuses?.size === 0) return { tasks: [], cursor: null };
  const wanted = statuses ? [...statuses] : null;
  const tasks: TaskData[] = [];
  let from: ListPosition | null = after;
  let looked = 0;
  let more = true;
  while (more && tasks.length < limit && looked < budget) {
    const need = limit - tasks.length;
    const chunk = Math.min(budget - looked, wanted ? Math.max(need, FILTERED_CHUNK) : need);
    const rows = await read(from, chunk + 1, wanted);
    more = rows.length > chunk;
    for (let i = 0; i < Math.min(rows.length, chunk); i++) {
      const row = rows[i]!;
      looked++;
      from = row.position;
      if (row.record === null) continue;
      tasks.push(row.record);
      if (tasks.length === limit) {
        more = i < rows.length - 1;
        break;
      }
    }
  }
  return { tasks, cursor: more && from ? encodeListCursor(from) : null };
}
