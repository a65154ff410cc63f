/**
 * @module queue/cancel-all
 * `queue.cancelAll()`: cancel a backlog — every task of the queue that has
 * not started (pending, scheduled, or waiting for a retry), optionally only
 * those of some task names or some concurrency keys (a tenant's), and with
 * `force` the running ones too. It walks the queue's newest-first listing a
 * page at a time, so memory stays bounded whatever the queue holds; each
 * page is read again just before, and each task is cancelled the way
 * `queue.cancel()` cancels one, in one backend step that refuses a task
 * claimed (without `force`) or finished meanwhile — such a task is counted
 * as skipped, never cancelled twice or half. A cancelled record is kept as
 * a failure's is, so `retryAll({ status: "cancelled" })` runs them again.
 */
import type { Backend } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import type { TaskData, TaskStatus } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { cancelCurrent, forceOf, resumesRunningWorkflow } from "./cancel-api.js";
import { type DryRunOption, dryRunOf } from "./dry-run.js";
import {
  concurrencyKeysOf,
  forEachMatchingPage,
  matchesFilters,
  namesOf,
  pageSizeOf,
  statusesOf,
} from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";

/** The statuses of a task that has not finished: what a cancel can end. */
export const CANCELLABLE_STATUSES = ["pending", "scheduled", "retrying", "processing"] as const;
export type CancellableStatus = (typeof CANCELLABLE_STATUSES)[number];

/** The statuses cancelled when none are named: those of tasks that have not started. */
const NOT_STARTED: readonly CancellableStatus[] = ["pending", "scheduled", "retrying"];

export interface CancelAllOptions extends DryRunOption {
  /**
   * Which unfinished tasks: this status or these (default: every task that
   * has not started — `pending`, `scheduled` and `retrying`; with `force`,
   * `processing` too). `processing` needs `force`.
   */
  status?: CancellableStatus | readonly CancellableStatus[] | undefined;
  /** Only tasks of this name, or of one of these; absent: every name. */
  name?: string | readonly string[] | undefined;
  /** Only tasks with this concurrency key (a tenant's, with a key per tenant), or with one of these; absent: any key or none. */
  concurrencyKey?: string | readonly string[] | undefined;
  /** Cancel running tasks too: each one's signal fires at its worker's next lease renewal, and its outcome is discarded. */
  force?: boolean | undefined;
  /** Tasks read per backend call (an integer ≥ 1, default 100). */
  batchSize?: number | undefined;
}

export interface CancelAllResult {
  /** Tasks cancelled. */
  cancelled: number;
  /**
   * Tasks listed as matching but not cancelled: they started (without
   * `force`) or finished before their turn, were deleted, or resume a
   * workflow that still runs (cancel the workflow instead).
   */
  skipped: number;
}

/** Every key of {@link CancelAllOptions} (the compiler keeps it complete). */
const CANCEL_ALL_OPTION_KEYS = Object.keys({
  status: true,
  name: true,
  concurrencyKey: true,
  force: true,
  batchSize: true,
  dryRun: true,
} satisfies Record<keyof CancelAllOptions, true>);

/** Backend calls in flight at once while a page is cancelled: enough to overlap round trips, few enough for a pool. */
const CANCELS_AT_ONCE = 16;

/** Cancels `queue`'s unfinished tasks that `options` names; see the module comment. */
export async function cancelAll(
  queue: QueueHandle,
  options: CancelAllOptions,
): Promise<CancelAllResult> {
  const where = "queue.cancelAll()";
  checkOptionKeys(options, CANCEL_ALL_OPTION_KEYS, where);
  const force = forceOf(options.force === undefined ? {} : { force: options.force }, where);
  const statuses = statusesOf(
    options.status ?? (force ? CANCELLABLE_STATUSES : NOT_STARTED),
    where,
    CANCELLABLE_STATUSES,
  )!;
  if (statuses.includes("processing") && !force) {
    throw new InvalidOptionError(
      `${where}: status 'processing' needs force: true (a running task's signal fires, and its outcome is discarded)`,
    );
  }
  const batchSize = pageSizeOf(options.batchSize, 100, where, "batchSize");
  const dryRun = dryRunOf(options.dryRun, where);
  const names = namesOf(options.name, where);
  const keys = concurrencyKeysOf(options.concurrencyKey, where);
  const matches = (data: TaskData | undefined): data is TaskData =>
    data !== undefined &&
    data.finishedAt === null &&
    statuses.includes(data.status as TaskStatus) &&
    matchesFilters(data, names, keys);

  const backend = await queue.connect();
  const result: CancelAllResult = { cancelled: 0, skipped: 0 };
  await forEachMatchingPage(backend, queue.name, { statuses, batchSize }, matches, async (ids) => {
    const cancelled = await cancelCurrentOf(backend, queue, ids, matches, force, dryRun);
    result.cancelled += cancelled;
    result.skipped += ids.length - cancelled;
  });
  return result;
}

/** Cancels those of `ids` that still match, as read now; how many it cancelled. */
async function cancelCurrentOf(
  backend: Backend,
  queue: QueueHandle,
  ids: readonly string[],
  matches: (data: TaskData | undefined) => data is TaskData,
  force: boolean,
  dryRun: boolean,
): Promise<number> {
  const current = await backend.getTasks(queue.name, ids);
  const todo = ids.flatMap((id) => {
    const data = current.get(id);
    return matches(data) ? [data] : [];
  });
  let cancelled = 0;
  for (let start = 0; start < todo.length; start += CANCELS_AT_ONCE) {
    const done = await Promise.all(
      todo.slice(start, start + CANCELS_AT_ONCE).map(async (data) => {
        if (await resumesRunningWorkflow(backend, queue.name, data)) return false;
        if (dryRun) return true;
        return (await cancelCurrent(queue, backend, data, force)) !== null;
      }),
    );
    cancelled += done.filter(Boolean).length;
  }
  return cancelled;
}
