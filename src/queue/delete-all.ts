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
import { checkOptionKeys } from "../util/unknown-keys.js";
import { type DryRunOption, dryRunOf } from "./dry-run.js";
import {
  FINISHED_FILTER_KEYS,
  type FinishedTaskFilters,
  finishedMatcher,
} from "./finished-filters.js";
import { forEachMatchingPage, statusesOf } from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";

/** The statuses whose records a purge deletes: those of finished tasks. */
export const PURGEABLE_STATUSES = ["completed", "failed", "crashed", "cancelled"] as const;
export type PurgeableStatus = (typeof PURGEABLE_STATUSES)[number];

export interface DeleteAllOptions extends FinishedTaskFilters, DryRunOption {
  /** Which finished tasks: this status or these (default: every finished one). */
  status?: PurgeableStatus | readonly PurgeableStatus[] | undefined;
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

/** Every key of {@link DeleteAllOptions}. */
const DELETE_ALL_OPTION_KEYS = ["status", ...FINISHED_FILTER_KEYS, "dryRun"];

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
  const { matches, batchSize } = finishedMatcher(options, statuses, queue.clock.now(), where);
  const dryRun = dryRunOf(options.dryRun, where);

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
    if (dryRun) {
      result.deleted += doomed.length;
      return;
    }
    // The backend deletes only a finished record: one claimed or re-queued meanwhile stays.
    const gone = await Promise.all(doomed.map((id) => backend.deleteTask(queue.name, id)));
    for (const deleted of gone) {
      if (deleted) result.deleted += 1;
      else result.skipped += 1;
    }
  });
  return result;
}
