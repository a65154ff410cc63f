/**
 * @module http/task-page
 * One page of `GET /{queue}/tasks`: the backend's listing walked a bounded
 * number of reads, tasks matched by the listing's filters here, each row
 * whole or as a summary — and the page cut short of `limit` once its JSON
 * would pass a size budget, its cursor resuming after the last row sent. A
 * queue of large records (arguments of megabytes) then answers pages a
 * client can take, instead of hundreds of megabytes or a failure to encode.
 */
import { creationTimeOf, encodeListCursor } from "../backends/task-listing.js";
import type { Queue } from "../queue/queue.js";
import type { TaskData, TaskStatus } from "../task/task-record.js";

/** Backend reads one request makes at most while it looks for tasks the filters match. */
const FILTER_READS = 20;

/** Records read from the backend at once: a budget reached mid-page leaves little read for nothing. */
const READ_CHUNK = 100;

/** Characters of JSON a page holds at most; one row larger than that is sent alone. */
export const PAGE_JSON_CHARS = 8 * 1024 * 1024;

/**
 * The first of `rows` whose JSON stays within `budgetChars` (the first row
 * always, however large): a plain list of the first tasks (pending,
 * scheduled) is cut where a page of the listing would be.
 */
export function firstWithinBudget<Row>(rows: readonly Row[], budgetChars = PAGE_JSON_CHARS): Row[] {
  const kept: Row[] = [];
  let chars = 0;
  for (const row of rows) {
    const size = JSON.stringify(row).length;
    if (kept.length > 0 && chars + size > budgetChars) break;
    kept.push(row);
    chars += size;
  }
  return kept;
}

/** What a page asks for, as the route has checked it. */
export interface TaskPageRequest {
  readonly statuses: readonly TaskStatus[] | undefined;
  /** The filters besides status as one predicate (see `listingMatcher`); `undefined`: none. */
  readonly matches: ((data: TaskData) => boolean) | undefined;
  readonly cursor: string | null;
  readonly limit: number;
  readonly summary: boolean;
}

/**
 * A task's row in a list: what it is and where it stands, without its
 * arguments, result, error or meta, which can each be megabytes.
 */
export function taskSummary(data: TaskData) {
  const { args: _args, result: _result, error, meta: _meta, config: _config, ...rest } = data;
  return {
    ...rest,
    error: error === null ? null : { type: error.type, message: error.message.slice(0, 200) },
  };
}

/** One page of the queue's tasks, newest first, and the cursor of the next (`null`: none). */
export async function taskPage(
  queue: Queue,
  request: TaskPageRequest,
  budgetChars = PAGE_JSON_CHARS,
): Promise<{ tasks: unknown[]; cursor: string | null }> {
  const filtered = request.matches !== undefined;
  const chunk = Math.min(request.limit, READ_CHUNK);
  const reads = Math.ceil(request.limit / chunk) * (filtered ? FILTER_READS : 1);
  const tasks: unknown[] = [];
  let chars = 0;
  let cursor = request.cursor;
  for (let read = 0; read < reads; read++) {
    const page = await queue.backend.listTasks(queue.name, {
      cursor,
      limit: Math.min(chunk, request.limit - tasks.length),
      statuses: request.statuses as TaskStatus[] | undefined,
    });
    // Where a walk stopped before a row resumes: after the row before it.
    let resumeAt = cursor;
    for (const data of page.tasks) {
      if (!request.matches || request.matches(data)) {
        const row = request.summary ? taskSummary(data) : data;
        const size = JSON.stringify(row).length;
        if (tasks.length > 0 && chars + size > budgetChars) return { tasks, cursor: resumeAt };
        tasks.push(row);
        chars += size;
      }
      resumeAt = encodeListCursor({ at: creationTimeOf(data), id: data.id });
    }
    cursor = page.cursor;
    // Unfiltered, a short page is the backend's own bound on one read (statuses it passed over): it ends the request.
    if (cursor === null || tasks.length >= request.limit) break;
    if (!filtered && page.tasks.length < Math.min(chunk, request.limit)) break;
  }
  return { tasks, cursor };
}
