/**
 * @module queue/retry-workflows
 * `queue.retryWorkflows()`: every failed workflow of the queue run again, as
 * `retryWorkflow` runs one — optionally only those of some workflow names,
 * or only those that failed at or after a time (after an outage, say). It
 * walks the queue's workflows a page at a time, so memory stays bounded
 * whatever the queue holds, and retries only workflows that failed before
 * the call began: one that fails again meanwhile is not run again twice by
 * one call. A workflow retried (or deleted) by someone else meanwhile is
 * counted as skipped.
 */
import { checkOptionKeys } from "../util/unknown-keys.js";
import { pageSizeOf, workflowNamesOf } from "./list-tasks.js";
import type { QueueHandle } from "./queue-handle.js";
import type { RetryAllOptions } from "./retry-all.js";
import { sinceMsOf } from "./since.js";
import { retryStored } from "./workflow-api.js";

export interface RetryWorkflowsOptions {
  /** Only workflows of this name, or of one of these (a fix deployed for one workflow); absent: every name. */
  name?: string | readonly string[] | undefined;
  /**
   * Only workflows that failed at or after this time: a `Date`, ISO-8601 text
   * with an offset, or seconds before now (`3600`: the last hour). Absent:
   * however long ago.
   */
  since?: RetryAllOptions["since"];
  /** Workflows read per backend call (an integer ≥ 1, default 100). */
  batchSize?: number | undefined;
}

export interface RetryWorkflowsResult {
  /** Workflows running again. */
  retried: number;
  /** Failed workflows that matched but were not run again: retried or deleted by someone else meanwhile. */
  skipped: number;
}

const OPTION_KEYS = Object.keys({
  name: true,
  since: true,
  batchSize: true,
} satisfies Record<keyof RetryWorkflowsOptions, true>);

/** Runs `queue`'s failed workflows that `options` names again; see the module comment. */
export async function retryWorkflows(
  queue: QueueHandle,
  options: RetryWorkflowsOptions,
): Promise<RetryWorkflowsResult> {
  const where = "queue.retryWorkflows()";
  checkOptionKeys(options, OPTION_KEYS, where);
  const began = queue.clock.now();
  const sinceMs = sinceMsOf(options.since, began, where);
  const names = workflowNamesOf(options.name, where);
  const limit = pageSizeOf(options.batchSize, 100, where, "batchSize");
  const backend = await queue.connect();
  const result: RetryWorkflowsResult = { retried: 0, skipped: 0 };
  let cursor: string | null = null;
  do {
    const page = await backend.listWorkflows(queue.name, { cursor, limit });
    cursor = page.cursor;
    const ids = page.workflows
      .filter((record) => {
        if (record.status !== "failed" || record.finishedAt === null) return false;
        const failedAt = Date.parse(record.finishedAt);
        return (
          failedAt <= began &&
          (sinceMs === null || failedAt >= sinceMs) &&
          (names === undefined || names.has(record.name))
        );
      })
      .map((record) => record.id);
    if (ids.length === 0) continue;
    const stored = await backend.getWorkflows(queue.name, ids);
    for (const id of ids) {
      const current = stored.get(id);
      if (current?.record.status !== "failed") {
        result.skipped += 1;
        continue;
      }
      if (await retryStored(queue, backend, current)) result.retried += 1;
      else result.skipped += 1;
    }
    await queue.runInline();
  } while (cursor !== null);
  return result;
}
