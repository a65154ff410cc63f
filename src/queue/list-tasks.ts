/**
 * @module queue/list-tasks
 * `queue.listTasks()`: a queue's records newest first, of some statuses
 * only, a page at a time — the backend's `listTasks` walk (the one the HTTP
 * API and the dashboard page through), with full pages: the backend may hand
 * back short or empty pages while it filters, so this reads on until the
 * page is full or the walk has ended. The other filters — task name,
 * concurrency key (a tenant's tasks), dedupe key, error text, finish window
 * — are applied here, on what the walk returns, on every backend alike: one
 * that few of many tasks match costs more backend calls, never a short page.
 * The bulk operations (redrive, purge) and the HTTP API's listing judge
 * records with the same predicate.
 */

import type { Backend, TaskPage } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import type { Task, TaskData } from "../task/task-record.js";
import { TASK_STATUSES, type TaskStatus } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { decodeTask } from "./decode-task.js";
import { errorFilterOf, mentionsError } from "./error-filter.js";
import type { QueueHandle } from "./queue-handle.js";
import { finishedWindowOf } from "./since.js";

export interface ListTasksOptions {
  /** Only tasks with this status, or with one of these; absent: every status. */
  status?: TaskStatus | readonly TaskStatus[] | undefined;
  /** Only tasks of this name (a task's `name`), or of one of these; absent: every name. */
  name?: string | readonly string[] | undefined;
  /** Only tasks with this concurrency key (a task's `concurrencyKey`), or with one of these; absent: any key or none. */
  concurrencyKey?: string | readonly string[] | undefined;
  /**
   * Only tasks added under this dedupe key (a task's `dedupeKey`), or under
   * one of these: which task a key's add was ignored for, or what a key ran
   * before; absent: any key or none.
   */
  dedupeKey?: string | readonly string[] | undefined;
  /**
   * Only tasks whose stored error's type or message contains this text
   * (`"503"`, `"ECONNRESET"`; case-sensitive): failed ones, and those
   * waiting for a retry; absent: any error, or none.
   */
  error?: string | undefined;
  /**
   * Only tasks that finished at or after this time (`finishedAt ≥ since`): a
   * `Date`, ISO-8601 text with an offset, or seconds before now (`3600`: the
   * last hour). A task not finished never matches. Absent: however long ago.
   */
  since?: Date | number | string | undefined;
  /** Only tasks that finished before this time (`finishedAt < before`), written as `since`; absent: up to now. */
  before?: Date | number | string | undefined;
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
  return textsOf(name, where, "name", "a task name");
}

/** The workflow names of `name` as a set, each checked; `undefined` for every name. */
export function workflowNamesOf(
  name: string | readonly string[] | undefined,
  where: string,
): ReadonlySet<string> | undefined {
  return textsOf(name, where, "name", "a workflow name");
}

/** The concurrency keys of `concurrencyKey` as a set, each checked; `undefined` for any key. */
export function concurrencyKeysOf(
  concurrencyKey: string | readonly string[] | undefined,
  where: string,
): ReadonlySet<string> | undefined {
  return textsOf(concurrencyKey, where, "concurrencyKey", "a concurrency key");
}

/** A filter's texts (`option`, each `what`) as a set, each checked; `undefined` when not given. */
function textsOf(
  given: string | readonly string[] | undefined,
  where: string,
  option: string,
  what: string,
): ReadonlySet<string> | undefined {
  if (given === undefined) return undefined;
  const list: unknown[] =
    typeof given === "string" ? [given] : Array.isArray(given) ? [...given] : [given];
  // An empty list would match nothing, as if the queue held no such task.
  if (list.length === 0) {
    throw new InvalidOptionError(
      `${where}: ${option} must be ${what} or a list of them, at least one (got an empty list)`,
    );
  }
  for (const item of list) {
    if (typeof item !== "string" || item === "") {
      throw new InvalidOptionError(
        `${where}: ${option} must be ${what} or a list of them (got ${describeGiven(item)})`,
      );
    }
  }
  return new Set(list as string[]);
}

/** The dedupe keys of `dedupeKey` as a set, each checked; `undefined` for any key. */
export function dedupeKeysOf(
  dedupeKey: string | readonly string[] | undefined,
  where: string,
): ReadonlySet<string> | undefined {
  return textsOf(dedupeKey, where, "dedupeKey", "a dedupe key");
}

/** Whether `data` passes the name and concurrency-key filters (`undefined`: no filter). */
export function matchesFilters(
  data: { readonly name: string; readonly concurrencyKey?: string | null | undefined },
  names: ReadonlySet<string> | undefined,
  keys: ReadonlySet<string> | undefined,
): boolean {
  return (
    (names === undefined || names.has(data.name)) &&
    (keys === undefined || (data.concurrencyKey != null && keys.has(data.concurrencyKey)))
  );
}

/**
 * Walks `queue`'s listing of `statuses` newest first, `batchSize` a page
 * (memory stays bounded whatever the queue holds), handing `each` the ids on
 * each page that `matches`, in turn.
 */
export async function forEachMatchingPage(
  backend: Pick<Backend, "listTasks">,
  queue: string,
  page: { readonly statuses: readonly TaskStatus[]; readonly batchSize: number },
  matches: (data: TaskData) => boolean,
  each: (ids: string[]) => Promise<void>,
): Promise<void> {
  let cursor: string | null = null;
  do {
    const found: TaskPage = await backend.listTasks(queue, {
      cursor,
      limit: page.batchSize,
      statuses: page.statuses,
    });
    cursor = found.cursor;
    const ids = found.tasks.filter(matches).map((data) => data.id);
    if (ids.length > 0) await each(ids);
  } while (cursor !== null);
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
  concurrencyKey: true,
  dedupeKey: true,
  error: true,
  since: true,
  before: true,
  cursor: true,
  limit: true,
} satisfies Record<keyof ListTasksOptions, true>);

/** The filters of a listing besides its statuses. */
export type ListingFilters = Pick<
  ListTasksOptions,
  "name" | "concurrencyKey" | "dedupeKey" | "error" | "since" | "before"
>;

/**
 * The listing's filters besides status, checked, as one predicate of a
 * record; `undefined` when none is given (every record matches).
 */
export function listingMatcher(
  filters: ListingFilters,
  now: number,
  where: string,
): ((data: TaskData) => boolean) | undefined {
  const names = namesOf(filters.name, where);
  const keys = concurrencyKeysOf(filters.concurrencyKey, where);
  const dedupeKeys = dedupeKeysOf(filters.dedupeKey, where);
  const errorText = errorFilterOf(filters.error, where);
  const { sinceMs, beforeMs } = finishedWindowOf(filters, now, where);
  const ended = sinceMs !== null || beforeMs !== null;
  if (!names && !keys && !dedupeKeys && errorText === undefined && !ended) return undefined;
  return (data) => {
    if (!matchesFilters(data, names, keys)) return false;
    if (dedupeKeys && (data.dedupeKey === undefined || !dedupeKeys.has(data.dedupeKey))) {
      return false;
    }
    if (!mentionsError(data, errorText)) return false;
    if (!ended) return true;
    if (data.finishedAt === null) return false;
    const finished = Date.parse(data.finishedAt);
    return (sinceMs === null || finished >= sinceMs) && (beforeMs === null || finished < beforeMs);
  };
}

/** The page of `queue`'s tasks that `options` asks for. */
export async function listTasks(queue: QueueHandle, options: ListTasksOptions): Promise<TaskList> {
  const where = "queue.listTasks()";
  checkOptionKeys(options, LIST_OPTION_KEYS, where);
  const statuses = statusesOf(options.status, where);
  const matches = listingMatcher(options, queue.clock.now(), where);
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
    for (const data of page.tasks) if (!matches || matches(data)) found.push(data);
    cursor = page.cursor;
  } while (cursor !== null && found.length < limit);
  return { tasks: await Promise.all(found.map(decodeTask)), cursor };
}
