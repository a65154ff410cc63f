/**
 * @module queue/add-reported
 * An add that says what it did: under a dedupe key (the backend decides
 * atomically, `addDeduplicated`), or under a caller-chosen id (an id the
 * queue holds is not added again). One task per call, so the answer is about
 * that task; it is stored as a list of one entry is (`./add-entries.ts`).
 */
import type { SqlTransaction } from "../backends/backend.js";
import type { TaskData } from "../task/task-record.js";
import { addEntries } from "./add-entries.js";
import { type AddResult, checkDedupe, checkTaskId, type DedupeOptions } from "./dedupe-options.js";
import type { QueueHandle } from "./queue-handle.js";

/** The options that make an add report its outcome; at least one is given. */
export interface ReportedAddOptions {
  dedupe?: DedupeOptions | undefined;
  id?: string | undefined;
}

/** Whether `options` ask for an add that reports its outcome. */
export function reportsOutcome(options: ReportedAddOptions | undefined): boolean {
  return options?.dedupe !== undefined || options?.id !== undefined;
}

/**
 * The checked `id` and `dedupe` of `options`, before anything is stored or
 * connected, so a bad option is refused as every other one is.
 */
export function checkReported(options: ReportedAddOptions, where: string) {
  return {
    id: options.id === undefined ? undefined : checkTaskId(options.id, where),
    dedupe: options.dedupe === undefined ? undefined : checkDedupe(options.dedupe, where),
  };
}

/**
 * Adds `record` (new work) as `options` ask and reports what became of it:
 * a list of one entry, with the one-task wording of its messages.
 */
export async function addReported(
  queue: QueueHandle,
  given: TaskData,
  options: ReportedAddOptions,
  tx: SqlTransaction | undefined,
  where: string,
): Promise<AddResult> {
  const { id, dedupe } = checkReported(options, where);
  const record: TaskData = {
    ...given,
    ...(id === undefined ? {} : { id }),
    ...(dedupe === undefined ? {} : { dedupeKey: dedupe.key }),
  };
  const entry = { record, callerId: id !== undefined, dedupe, due: undefined };
  const backend = await queue.connect();
  const { results, conflict } = await addEntries(queue, backend, [entry], tx, where, true);
  if (conflict) throw conflict;
  return results[0]!;
}
