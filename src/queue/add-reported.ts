/**
 * @module queue/add-reported
 * An add that says what it did: under a dedupe key (the backend decides
 * atomically, `addDeduplicated`), or under a caller-chosen id (an id the
 * queue holds is not added again). One task per call, so the answer is about
 * that task.
 */
import type { SqlTransaction } from "../backends/backend.js";
import { BackendError, InvalidOptionError, TaskIdConflictError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";
import { addedEventFor, addOptionsFor } from "./add-events.js";
import { type AddResult, checkDedupe, checkTaskId, type DedupeOptions } from "./dedupe-options.js";
import { addAgainIfExpired } from "./expired-ids.js";
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
 * An id held by a task of the same name is that task added already: ignored,
 * whatever its arguments (an id is often a "once" guard whose arguments carry
 * a time). Held by a task of another name — two producers' ids clashing, or
 * an id taken ahead of the code that uses it — it is refused, so the caller
 * does not take someone else's task for its own.
 */
export function otherHolderConflict(
  holder: TaskData,
  record: TaskData,
  where: string,
  note = "",
): TaskIdConflictError | undefined {
  if (holder.name === record.name) return undefined;
  return new TaskIdConflictError(
    `${where}: id '${record.id}' is held by a task of another name ('${holder.name}'), so this is not a resend of it; choose another id${note}`,
    record.id,
    holder.name,
  );
}

/** Adds `record` (new work) as `options` ask and reports what became of it. */
export async function addReported(
  queue: QueueHandle,
  given: TaskData,
  options: ReportedAddOptions,
  tx: SqlTransaction | undefined,
  where: string,
): Promise<AddResult> {
  const { id, dedupe } = checkReported(options, where);
  if (dedupe !== undefined && tx) {
    // The key's decision and write are one atomic step of the backend's own; it cannot join yours.
    throw new InvalidOptionError(`${where}: dedupe cannot be combined with tx; add it without tx`);
  }
  const record: TaskData = id === undefined ? given : { ...given, id };
  const backend = await queue.connect();
  if (dedupe === undefined) {
    const store = (some: readonly TaskData[]) =>
      backend.add(queue.name, some, "unique", addOptionsFor(backend, some, queue.clock.now(), tx));
    let holder: TaskData | undefined;
    const [added] = await addAgainIfExpired(
      backend,
      queue.name,
      queue.clock.now(),
      [record],
      await store([record]),
      store,
      (held) => {
        holder = held.get(record.id);
      },
    );
    const conflict =
      !added && id !== undefined && holder ? otherHolderConflict(holder, record, where) : undefined;
    if (conflict) throw conflict;
    return { outcome: added ? "added" : "ignored", id: record.id };
  }
  const now = queue.clock.now();
  const keyed = { ...record, dedupeKey: dedupe.key };
  const event = addedEventFor(backend, keyed, now);
  const [result] = await backend.addDeduplicated(
    queue.name,
    [event ? { record: keyed, ...dedupe, event } : { record: keyed, ...dedupe }],
    now,
  );
  if (!result) throw new BackendError(`${where}: the backend answered nothing for the task`);
  return { outcome: result.outcome, id: result.id };
}
