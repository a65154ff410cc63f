/**
 * @module queue/list-tasks
 * `queue.listTasks()`: a queue's records newest first, of some statuses
 * only, a page at a time — the backend's `listTasks` walk (the one the HTTP
 * API and the dashboard page through), with full pages: the backend may hand
 * back short or empty pages while it filters, so this reads on until the
 * page is full or the walk has ended. A filter by task name is applied
 * here, on what the walk returns, on every backend alike: a name that few
 * of many tasks have costs more backend calls, never a short page.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import type { Task } from "../task/task-record.js";
import { TASK_STATUSES, type TaskStatus } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { decodeTask } from "./decode-task.js";
import type { QueueHandle } from "./queue-handle.js";

export interface ListTasksOptions {
  /** Only tasks with this status, or with one of these; absent: every status. */
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  /** Only tasks of this name (a task's `name`), or of one of these; absent: every name. */
  name?: string | readonly string[] | undefined;
  /** The `cursor` of the previous page; absent or `null` for the first page. */
  cursor?: string | null | undefined;
  /** The most tasks on the page: an integer ≥ 1 (default 100). */
  limit?: number | undefined;
}

/** One page of {@link ListTasksOptions | queue.listTasks()}. */
export interface TaskList {
  /** Newest first by creation time (ties by id, the greater first). */
  tasks: Task[];
  /** Pass back as `cursor` for the next page; `null` after the last one. */
  cursor: string | null;
}

/** The statuses of `status` as a list, each checked; `undefined` for every status. */
export function statusesOf(
  status: TaskStatus | readonly TaskStatus[] | undefined,
  where: string,
  allowed: readonly TaskStatus[] = TASK_STATUSES,
): TaskStatus[] | undefined {
  if (status === undefined) return undefined;
  const list: unknown[] = typeof status === "string" ? [status] : [...status];
  for (const item of list) {
    if (!(allowed as readonly unknown[]).includes(item)) {
      throw new InvalidOptionError(
        `${where}: status must be one of ${allowed.join(", ")} (got ${JSON.stringify(item) ?? String(item)})`,
      );
    }
  }
  return [...new Set(list as TaskStatus[])];
}

/** The task names of `name` as a set, each checked; `undefined` for every name. */
export function namesOf(
  name: string | readonly string[] | undefined,
  where: string,
): ReadonlySet<string> | undefined {
  if (name === undefined) return undefined;
  const list: unknown[] =
    typeof name === "string" ? [name] : Array.isArray(name) ? [...name] : [name];
  // An empty list would match nothing, as if the queue held no such task.
  if (list.length === 0) {
    throw new InvalidOptionError(
      `${where}: name must be a task name or a list of them, at least one (got an empty list)`,
    );
  }
  for (const item of list) {
    if (typeof item !== "string" || item === "") {
      throw new InvalidOptionError(
        `${where}: name must be a task name or a list of them (got ${describeGiven(item)})`,
      );
    }
  }
  return new Set(list as string[]);
}

/** A page size: an integer ≥ 1. */
export function pageSizeOf(
  limit: number | undefined,
  fallback: number,
  where: string,
  option = "limit",
): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError(
      `${where}: ${option} must be an integer ≥ 1 (got ${describeGiven(limit)})`,
    );
  }
  return limit;
}

/** Every key of {@link ListTasksOptions} (the compiler keeps it complete). */
const LIST_OPTION_KEYS = Object.keys({
  status: true,
  name: true,
  cursor: true,
  limit: true,
} satisfies Record<keyof ListTasksOptions, true>);

/** The page of `queue`'s tasks that `options` asks for. */
export async function listTasks(queue: QueueHandle, options: ListTasksOptions): Promise<TaskList> {
  const where = "queue.listTasks()";
  checkOptionKeys(options, LIST_OPTION_KEYS, where);
  const statuses = statusesOf(options.status, where);
  const names = namesOf(options.name, where);
  const limit = pageSizeOf(options.limit, 100, where);
  const backend = await queue.connect();
  const found = [];
  let cursor = options.cursor ?? null;
  do {
    const page = await backend.listTasks(queue.name, {
      cursor,
      limit: limit - found.length,
      statuses,
    });
    for (const data of page.tasks) if (!names || names.has(data.name)) found.push(data);
    cursor = page.cursor;
  } while (cursor !== null && found.length < limit);
  return { tasks: await Promise.all(found.map(decodeTask)), cursor };
}
