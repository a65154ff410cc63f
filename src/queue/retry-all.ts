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
import { stepsNoWorkflowWaitsFor } from "../execution/workflow-gate.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { addOptionsFor } from "./add-events.js";
import { type DryRunOption, dryRunOf } from "./dry-run.js";
import {
  FINISHED_FILTER_KEYS,
  type FinishedTaskFilters,
  finishedMatcher,
} from "./finished-filters.js";
import { forEachMatchingPage, statusesOf } from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";
import { rerunRecord } from "./retry-api.js";

/** The statuses a redrive takes: tasks that ended without success. */
export const REDRIVE_STATUSES = ["failed", "crashed", "cancelled"] as const;
export type RedriveStatus = (typeof REDRIVE_STATUSES)[number];

export interface RetryAllOptions extends FinishedTaskFilters, DryRunOption {
  /** Which finished tasks: this status or these (default `"failed"`). */
  status?: RedriveStatus | readonly RedriveStatus[] | undefined;
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

/** Every key of {@link RetryAllOptions}. */
const RETRY_ALL_OPTION_KEYS = ["status", ...FINISHED_FILTER_KEYS, "dryRun"];

/** Re-queues `queue`'s finished tasks that `options` names; see the module comment. */
export async function retryAll(
  queue: QueueHandle,
  options: RetryAllOptions,
): Promise<RetryAllResult> {
  const where = "queue.retryAll()";
  checkOptionKeys(options, RETRY_ALL_OPTION_KEYS, where);
  const statuses = statusesOf(options.status ?? "failed", where, REDRIVE_STATUSES)!;
  const { matches, batchSize } = finishedMatcher(options, statuses, queue.clock.now(), where);
  const dryRun = dryRunOf(options.dryRun, where);

  const backend = await queue.connect();
  const result: RetryAllResult = { retried: 0, skipped: 0, endedWorkflowSteps: 0 };
  await forEachMatchingPage(backend, queue.name, { statuses, batchSize }, matches, async (ids) => {
    const counts = await requeueCurrent(backend, queue, ids, matches, dryRun);
    result.retried += counts.retried;
    result.skipped += counts.skipped;
    result.endedWorkflowSteps += counts.endedWorkflowSteps;
    if (!dryRun) await queue.runInline();
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
  dryRun: boolean,
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
  if (dryRun) counts.retried += records.length;
  if (dryRun || records.length === 0) return counts;
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
