/**
 * @module queue/retry-all
 * `queue.retryAll()`: redrive — run again every finished task of some
 * statuses (`failed` by default; `crashed` and `cancelled` when named),
 * optionally only those that finished at or after a time, only those of
 * some task names, or only those of some concurrency keys (a tenant's). It
 * walks the
 * queue's newest-first listing a page at a time, so memory stays bounded
 * whatever the queue holds, and re-queues each page with one backend call,
 * the way `queue.retry()` re-queues one task: the record is read again just
 * before, and the backend replaces it only while it is still finished, so a
 * redrive racing a worker (or another redrive, in any process) never runs a
 * task twice at once, and only one of them counts it. A re-queued task keeps
 * its place in the listing (its creation time), and the walk only goes on to
 * older ones, so a task is re-queued at most once per call even when it
 * fails again meanwhile. Within a page (`batchSize`, 100 by default) tasks
 * are re-queued oldest first, so they run in the order they first did;
 * pages go newest first. Completed tasks are never
 * redriven (that is `queue.retry(task, { force: true })`, one at a time).
 */
import type { Backend } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import { stepsNoWorkflowWaitsFor } from "../execution/workflow-gate.js";
import { describeGiven } from "../task/describe-value.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import type { TaskData, TaskStatus } from "../task/task-record.js";
import { isDuration, isRepresentableInstant, MAX_DURATION_TEXT } from "../util/durations.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { addOptionsFor } from "./add-events.js";
import { errorFilterOf, matchesErrorFilter } from "./error-filter.js";
import { parseIsoInstant } from "./instant.js";
import {
  concurrencyKeysOf,
  forEachMatchingPage,
  matchesFilters,
  namesOf,
  pageSizeOf,
  statusesOf,
} from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";
import { rerunRecord } from "./retry-api.js";

/** The statuses a redrive takes: tasks that ended without success. */
export const REDRIVE_STATUSES = ["failed", "crashed", "cancelled"] as const;
export type RedriveStatus = (typeof REDRIVE_STATUSES)[number];

export interface RetryAllOptions {
  /** Which finished tasks: this status or these (default `"failed"`). */
  status?: RedriveStatus | readonly RedriveStatus[] | undefined;
  /**
   * Only tasks that finished at or after this time (`finishedAt ≥ since`): a
   * `Date`, ISO-8601 text with an offset, or seconds before now (`3600`: the
   * last hour). Absent: however long ago.
   */
  since?: Date | number | string | undefined;
  /** Only tasks of this name, or of one of these (a fix deployed for one task redrives that task alone); absent: every name. */
  name?: string | readonly string[] | undefined;
  /** Only tasks with this concurrency key (a tenant's, with a key per tenant), or with one of these; absent: any key or none. */
  concurrencyKey?: string | readonly string[] | undefined;
  /**
   * Only tasks whose stored error's type or message contains this text
   * (`"503"`, `"ECONNRESET"`): the failures of one cause; absent: any error.
   */
  error?: string | undefined;
  /** Only tasks that finished before this time (as `since`); absent: up to now. */
  before?: Date | number | string | undefined;
  /** Tasks read and re-queued per backend call (an integer ≥ 1, default 100). */
  batchSize?: number | undefined;
}

export interface RetryAllResult {
  /** Tasks re-queued to run again. */
  retried: number;
  /**
   * Tasks listed as matching but not re-queued: they changed before their
   * turn (deleted, or retried, claimed or finished differently by someone
   * else meanwhile), they are steps no workflow waits for any more (their
   * workflow ended, and no worker would run them; or it went on from their
   * outcome), or their stored record could not be read
   * (damaged, or written by a newer Sheppy): what is shown in its place has
   * no arguments, and re-queued it would be stored over the original.
   */
  skipped: number;
  /**
   * Of `skipped`, the steps no workflow waits for any more: of a workflow that
   * has ended (retry the workflow, when it failed, or start it anew to run
   * them), or ones their running workflow already went on from.
   */
  endedWorkflowSteps: number;
}

/** Epoch ms of `since`; `null` for none. */
export function sinceMsOf(
  since: RetryAllOptions["since"],
  now: number,
  where: string,
  option = "since",
): number | null {
  if (since === undefined) return null;
  if (typeof since === "string")
    return parseIsoInstant(
      since,
      where,
      "a span back from now is a number of seconds (e.g. 3600 for the last hour), not text",
    );
  if (since instanceof Date) {
    const time = Date.prototype.getTime.call(since);
    if (!isRepresentableInstant(time))
      throw new InvalidOptionError(`${where}: ${option} is an invalid Date`);
    return time;
  }
  if (!isDuration(since, true)) {
    throw new InvalidOptionError(
      `${where}: ${option} must be a Date, ISO-8601 text with an offset, or seconds before now ≥ 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(since)})`,
    );
  }
  return now - since * 1000;
}

/** Every key of {@link RetryAllOptions} (the compiler keeps it complete). */
const RETRY_ALL_OPTION_KEYS = Object.keys({
  status: true,
  since: true,
  name: true,
  concurrencyKey: true,
  error: true,
  before: true,
  batchSize: true,
} satisfies Record<keyof RetryAllOptions, true>);

/** Re-queues `queue`'s finished tasks that `options` names; see the module comment. */
export async function retryAll(
  queue: QueueHandle,
  options: RetryAllOptions,
): Promise<RetryAllResult> {
  const where = "queue.retryAll()";
  checkOptionKeys(options, RETRY_ALL_OPTION_KEYS, where);
  const statuses = statusesOf(options.status ?? "failed", where, REDRIVE_STATUSES)!;
  const sinceMs = sinceMsOf(options.since, queue.clock.now(), where);
  const beforeMs = sinceMsOf(options.before, queue.clock.now(), where, "before");
  const errorText = errorFilterOf(options.error, where);
  const batchSize = pageSizeOf(options.batchSize, 100, where, "batchSize");
  const names = namesOf(options.name, where);
  const keys = concurrencyKeysOf(options.concurrencyKey, where);
  const matches = (data: TaskData | undefined): data is TaskData =>
    data !== undefined &&
    statuses.includes(data.status as TaskStatus) &&
    matchesFilters(data, names, keys) &&
    data.finishedAt !== null &&
    (sinceMs === null || Date.parse(data.finishedAt) >= sinceMs) &&
    (beforeMs === null || Date.parse(data.finishedAt) < beforeMs) &&
    matchesErrorFilter(data, errorText);

  const backend = await queue.connect();
  const result: RetryAllResult = { retried: 0, skipped: 0, endedWorkflowSteps: 0 };
  await forEachMatchingPage(backend, queue.name, { statuses, batchSize }, matches, async (ids) => {
    const counts = await requeueCurrent(backend, queue, ids, matches);
    result.retried += counts.retried;
    result.skipped += counts.skipped;
    result.endedWorkflowSteps += counts.endedWorkflowSteps;
    await queue.runInline();
  });
  return result;
}

/**
 * Re-queues those of `ids` that still match, as read now. Reading again
 * matters: the page may be stale, and a task retried and claimed meanwhile
 * must not be re-queued from its old record.
 */
async function requeueCurrent(
  backend: Backend,
  queue: QueueHandle,
  ids: readonly string[],
  matches: (data: TaskData | undefined) => data is TaskData,
): Promise<RetryAllResult> {
  const counts: RetryAllResult = { retried: 0, skipped: 0, endedWorkflowSteps: 0 };
  const current = await backend.getTasks(queue.name, ids);
  // A step of a workflow that has ended would be cancelled by the worker, not run; one its
  // running workflow already went on from would run for nothing.
  const endedSteps = await stepsNoWorkflowWaitsFor(backend, queue.name, current.values());
  const now = queue.clock.now();
  const records: TaskData[] = [];
  // The page lists newest first; re-queued oldest first, its tasks keep their order in the queue
  // (one concurrency key's too), across pages of up to `batchSize` newest page first.
  for (const id of [...ids].reverse()) {
    const data = current.get(id);
    if (!matches(data) || isUnreadableStandIn(data)) counts.skipped += 1;
    else if (endedSteps.has(id)) {
      counts.skipped += 1;
      counts.endedWorkflowSteps += 1;
    } else records.push(rerunRecord(data, now));
  }
  if (records.length === 0) return counts;
  // `rerun` refuses a task no longer finished: claimed, or re-queued by another caller, since the read.
  const added = await backend.add(
    queue.name,
    records,
    "rerun",
    addOptionsFor(backend, records, now),
  );
  for (const queued of added) {
    if (queued) counts.retried += 1;
    else counts.skipped += 1;
  }
  return counts;
}
