/**
 * @module queue/delete-all
 * `queue.deleteAll()`: purge — delete the records of finished tasks of some
 * statuses (every finished one by default), of some task names or
 * concurrency keys, that finished before a time: what an operator does once
 * an incident's failures are dealt with, or to free storage before the
 * retention would. It walks the queue's newest-first listing a page at a
 * time (memory stays bounded whatever the queue holds), reads each page
 * again and deletes what still matches; the backend deletes a record only
 * while it is finished, so a task retried or claimed meanwhile is skipped,
 * never lost. A record that cannot be read is left as it is.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import { FINISHED_STATUSES, type TaskData, type TaskStatus } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { errorFilterOf, matchesErrorFilter } from "./error-filter.js";
import {
  concurrencyKeysOf,
  forEachMatchingPage,
  matchesFilters,
  namesOf,
  pageSizeOf,
  statusesOf,
} from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";
import { sinceMsOf } from "./retry-all.js";

/** The statuses whose records a purge deletes: those of finished tasks. */
export const PURGEABLE_STATUSES = ["completed", "failed", "crashed", "cancelled"] as const;
export type PurgeableStatus = (typeof PURGEABLE_STATUSES)[number];

export interface DeleteAllOptions {
  /** Which finished tasks: this status or these (default: every finished one). */
  status?: PurgeableStatus | readonly PurgeableStatus[] | undefined;
  /**
   * Only tasks that finished before this time (`finishedAt < before`): a
   * `Date`, ISO-8601 text with an offset, or seconds before now (`86400`:
   * finished more than a day ago). Absent: whenever they finished.
   */
  before?: Date | number | string | undefined;
  /** Only tasks of this name, or of one of these; absent: every name. */
  name?: string | readonly string[] | undefined;
  /** Only tasks with this concurrency key, or with one of these; absent: any key or none. */
  concurrencyKey?: string | readonly string[] | undefined;
  /** Only tasks whose stored error's type or message contains this text; absent: any (or none). */
  error?: string | undefined;
  /** Tasks read and deleted per round (an integer ≥ 1, default 100). */
  batchSize?: number | undefined;
}

export interface DeleteAllResult {
  /** Records deleted. */
  deleted: number;
  /**
   * Records listed as matching but not deleted: retried, claimed or deleted
   * by others meanwhile, or a stored record that could not be read (left for
   * someone to look at).
   */
  skipped: number;
}

/** Every key of {@link DeleteAllOptions} (the compiler keeps it complete). */
const DELETE_ALL_OPTION_KEYS = Object.keys({
  status: true,
  before: true,
  name: true,
  concurrencyKey: true,
  error: true,
  batchSize: true,
} satisfies Record<keyof DeleteAllOptions, true>);

/** Deletes `queue`'s finished records that `options` names; see the module comment. */
export async function deleteAll(
  queue: QueueHandle,
  options: DeleteAllOptions,
): Promise<DeleteAllResult> {
  const where = "queue.deleteAll()";
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError(
      `${where}: options must be an object (got ${describeGiven(options)})`,
    );
  }
  checkOptionKeys(options, DELETE_ALL_OPTION_KEYS, where);
  const statuses = statusesOf(
    options.status ?? [...PURGEABLE_STATUSES],
    where,
    PURGEABLE_STATUSES,
  )!;
  const beforeMs = sinceMsOf(options.before, queue.clock.now(), where, "before");
  const batchSize = pageSizeOf(options.batchSize, 100, where, "batchSize");
  const names = namesOf(options.name, where);
  const keys = concurrencyKeysOf(options.concurrencyKey, where);
  const errorText = errorFilterOf(options.error, where);
  const matches = (data: TaskData | undefined): data is TaskData =>
    data !== undefined &&
    FINISHED_STATUSES.has(data.status) &&
    statuses.includes(data.status as TaskStatus) &&
    matchesFilters(data, names, keys) &&
    data.finishedAt !== null &&
    (beforeMs === null || Date.parse(data.finishedAt) < beforeMs) &&
    matchesErrorFilter(data, errorText);

  const backend = await queue.connect();
  const result: DeleteAllResult = { deleted: 0, skipped: 0 };
  await forEachMatchingPage(backend, queue.name, { statuses, batchSize }, matches, async (ids) => {
    // Read again: a task retried (or retried and finished again) since the listing is judged
    // by what it is now.
    const current = await backend.getTasks(queue.name, ids);
    const doomed = ids.filter((id) => {
      const data = current.get(id);
      return matches(data) && !isUnreadableStandIn(data);
    });
    result.skipped += ids.length - doomed.length;
    // The backend deletes only a finished record: one claimed or re-queued meanwhile stays.
    const gone = await Promise.all(doomed.map((id) => backend.deleteTask(queue.name, id)));
    for (const deleted of gone) {
      if (deleted) result.deleted += 1;
      else result.skipped += 1;
    }
  });
  return result;
}
