/**
 * @module backends/reschedule-rule
 * When a task's waiting record may be replaced by one with another time or
 * priority, decided once for every backend. A reschedule is a read, then a
 * write: between the two a worker may claim the task, run it and leave it
 * waiting for a retry, or a debounced add may replace it with newer
 * arguments. Writing the record read then would run a finished task again,
 * reset a retry count or bring old arguments back, so the write holds only
 * while the stored record is still the run it was read as.
 */
import { isDeepStrictEqual } from "node:util";
import { InvalidOptionError } from "../errors.js";
import { checkTaskData } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";

/** Statuses of a task that waits to run and has not been claimed for this run. */
const WAITING = new Set(["pending", "scheduled", "retrying"]);

/** The fields a reschedule changes; the rest of a record is the run it was read as. */
const MOVED_FIELDS: ReadonlySet<string> = new Set([
  "status",
  "scheduledAt",
  "nextRetryAt",
  "priority",
]);

const unmoved = (record: TaskData): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([field]) => !MOVED_FIELDS.has(field)));

/**
 * Whether `stored` and `made` are the same run of the task: equal but for
 * the fields a reschedule moves. An attempt's settle, a retry and a debounced
 * replacement each change something else (its counts, its arguments, its
 * creation time).
 */
export function isSameRun(stored: TaskData, made: TaskData): boolean {
  return isDeepStrictEqual(unmoved(stored), unmoved(made));
}

/**
 * Whether a reschedule may replace `stored` (the queue's record of the task,
 * `undefined` when it holds none) with `made`: the stored one waits to run
 * and nothing claims it (`claimed`), and it is the run `made` was read as.
 */
export function mayReschedule(
  stored: TaskData | undefined,
  claimed: boolean,
  made: TaskData,
): boolean {
  if (stored === undefined || claimed) return false;
  if (stored.finishedAt !== null || !WAITING.has(stored.status)) return false;
  return isSameRun(stored, made);
}

/**
 * `given`, checked before anything is written: a readable record (else
 * `SerializationError` naming the field) with a waiting status (`pending`,
 * `scheduled` or `retrying`) and no end (else `InvalidOptionError`).
 * `store` names the backend in the first error.
 */
export function checkRescheduled(given: TaskData, store: string): TaskData {
  const record = checkTaskData(given, `task record rescheduled in ${store}`);
  if (!WAITING.has(record.status) || record.finishedAt !== null) {
    throw new InvalidOptionError(
      `reschedule: task ${record.id} has status '${record.status}'${record.finishedAt === null ? "" : " and an end"}; only a waiting record (pending, scheduled or retrying) can replace a waiting one`,
    );
  }
  return record;
}
