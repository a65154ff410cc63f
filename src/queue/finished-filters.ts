/**
 * @module queue/finished-filters
 * The filters a redrive (`retryAll`) and a purge (`deleteAll`) share over a
 * queue's finished tasks: task names, concurrency keys, a window of time
 * they finished in, and one cause — text their stored error mentions, in its
 * type or its message (`"503"`, `"ECONNRESET"`), so an operator acts on the
 * failures of one cause and leaves the others. Checked once, at the call;
 * the predicate they make judges each record as read.
 */
import type { TaskData, TaskStatus } from "../task/task-record.js";
import { listingMatcher, pageSizeOf } from "./list-tasks.js";

/** What selects finished tasks besides their status. */
export interface FinishedTaskFilters {
  /**
   * Only tasks that finished at or after this time (`finishedAt ≥ since`): a
   * `Date`, ISO-8601 text with an offset, or seconds before now (`3600`: the
   * last hour). Absent: however long ago.
   */
  since?: Date | number | string | undefined;
  /** Only tasks that finished before this time (`finishedAt < before`), written as `since`; absent: up to now. */
  before?: Date | number | string | undefined;
  /** Only tasks of this name, or of one of these (a fix deployed for one task acts on that task alone); absent: every name. */
  name?: string | readonly string[] | undefined;
  /** Only tasks with this concurrency key (a tenant's, with a key per tenant), or with one of these; absent: any key or none. */
  concurrencyKey?: string | readonly string[] | undefined;
  /**
   * Only tasks whose stored error's type or message contains this text
   * (`"503"`, `"ECONNRESET"`): the failures of one cause; absent: any error, or none.
   */
  error?: string | undefined;
  /** Tasks read and acted on per backend call (an integer ≥ 1, default 100). */
  batchSize?: number | undefined;
}

/** The keys of {@link FinishedTaskFilters}, for the check of a call's option keys. */
export const FINISHED_FILTER_KEYS = Object.keys({
  since: true,
  before: true,
  name: true,
  concurrencyKey: true,
  error: true,
  batchSize: true,
} satisfies Record<keyof FinishedTaskFilters, true>);

/** The filters, checked: a predicate of the records they select among `statuses`, and the page size. */
export function finishedMatcher(
  options: FinishedTaskFilters,
  statuses: readonly TaskStatus[],
  now: number,
  where: string,
): { matches: (data: TaskData | undefined) => data is TaskData; batchSize: number } {
  // The listing's own filters, so a listing shows what a redrive or purge with them takes.
  const { batchSize: _batchSize, ...filters } = options;
  const listed = listingMatcher(filters, now, where);
  const batchSize = pageSizeOf(options.batchSize, 100, where, "batchSize");
  const matches = (data: TaskData | undefined): data is TaskData =>
    data !== undefined &&
    data.finishedAt !== null &&
    statuses.includes(data.status) &&
    (listed === undefined || listed(data));
  return { matches, batchSize };
}
