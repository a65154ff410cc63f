/**
 * @module backends/reschedule-rule
 * When a task's waiting record may be replaced by one with another time or
 * priority, decided once for every backend. A reschedule is a read, then a
 * write: between the two a worker may claim the task, run it and leave it
 * waiting for a retry, a debounced add may replace it with newer arguments,
 * or another reschedule may move it. Writing the record made from the read
 * then would run a finished task again, reset a retry count, bring old
 * arguments back or undo the other move, so the write holds only while the
 * stored record is still the one read (the caller reads again and retries).
 */
import { isDeepStrictEqual } from "node:util";
import { InvalidOptionError } from "../errors.js";
import { checkTaskData } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";

/** Statuses of a task that waits to run and has not been claimed for this run. */
const WAITING = new Set(["pending", "scheduled", "retrying"]);

/**
 * Whether `stored` is still the record `read` was: equal in every field but
 * its status, which only a due task's promotion to pending changes while it
 * waits. A claim, an attempt's settle, a retry, a debounced replacement and
 * another reschedule each change something else.
 */
export function isUnchangedSince(stored: TaskData, read: TaskData): boolean {
  return isDeepStrictEqual({ ...stored, status: read.status }, read);
}

/**
 * Whether a reschedule may replace `stored` (the queue's record of the task,
 * `undefined` when it holds none): it waits to run, nothing claims it
 * (`claimed`), and it is still the record `read` was.
 */
export function mayReschedule(
  stored: TaskData | undefined,
  claimed: boolean,
  read: TaskData,
): boolean {
  if (stored === undefined || claimed) return false;
  if (stored.finishedAt !== null || !WAITING.has(stored.status)) return false;
  return isUnchangedSince(stored, read);
}

/**
 * The two records of a reschedule, checked before anything is written: each
 * readable (else `SerializationError` naming the field), of the same task,
 * and the new one waiting (`pending`, `scheduled` or `retrying`) with no
 * end (else `InvalidOptionError`). `store` names the backend in the errors.
 */
export function checkRescheduled(
  givenRead: TaskData,
  givenNext: TaskData,
  store: string,
): { read: TaskData; next: TaskData } {
  const read = checkTaskData(givenRead, `task record read for a reschedule in ${store}`);
  const next = checkTaskData(givenNext, `task record rescheduled in ${store}`);
  if (next.id !== read.id) {
    throw new InvalidOptionError(
      `reschedule: the new record is of task ${next.id}, the one read of task ${read.id}; a reschedule replaces a task's own record`,
    );
  }
  if (!WAITING.has(next.status) || next.finishedAt !== null) {
    throw new InvalidOptionError(
      `reschedule: task ${next.id} has status '${next.status}'${next.finishedAt === null ? "" : " and an end"}; only a waiting record (pending, scheduled or retrying) can replace a waiting one`,
    );
  }
  return { read, next };
}
