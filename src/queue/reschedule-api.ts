/**
 * @module queue/reschedule-api
 * `queue.reschedule()`: moves a task that waits to run to another time — now
 * by default (run a scheduled task, or a retry that waits, at once), or
 * later — and, when asked, to another priority. Same id, same arguments,
 * same attempt count: only when it runs changes. A task that a worker has
 * claimed, or that has finished, is refused: its run has started or ended
 * (`retry` runs a finished one again). The write holds only while the task
 * is still the run that was read, so a claim, a retry or a debounced
 * replacement in between is never undone.
 */
import { isoAt } from "../clock.js";
import { InvalidOptionError, TaskStateError } from "../errors.js";
import { checkPriority } from "../task/priority.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { resolveDueTime } from "./instant.js";
import type { QueueHandle } from "./queue-handle.js";
import { idOf, type TaskRef } from "./task-refs.js";

export interface RescheduleOptions {
  /** When it runs: a `Date`, ISO-8601 text with an offset, or this many seconds from now. Default: now. */
  at?: Date | number | string;
  /** The priority it is claimed by from now on (an integer), instead of the one it has. */
  priority?: number;
}

const RESCHEDULE_OPTION_KEYS = ["at", "priority"] as const;

/** Statuses of a task waiting to run; `processing` (claimed) and finished ones are not. */
const WAITING = new Set(["pending", "scheduled", "retrying"]);

/**
 * Waiting task `data` moved to `due` (epoch ms; at or before `now`: claimable
 * at once), at `priority` when given. A retry that waits stays a retry when
 * moved later (its error and counts kept) and becomes pending when moved to
 * now; any other task becomes scheduled for `due`, or pending with no time.
 */
export function rescheduledRecord(
  data: TaskData,
  now: number,
  due: number,
  priority?: number,
): TaskData {
  const base: TaskData = priority === undefined ? { ...data } : { ...data, priority };
  const retry = data.status === "retrying";
  if (due <= now) {
    // A time it no longer waits for would show as when it runs next.
    return retry
      ? { ...base, status: "pending", nextRetryAt: isoAt(now) }
      : { ...base, status: "pending", scheduledAt: null };
  }
  return retry
    ? { ...base, status: "retrying", nextRetryAt: isoAt(due) }
    : { ...base, status: "scheduled", scheduledAt: isoAt(due) };
}

/** Moves `ref` in `queue` (see the module header); `false` when the queue does not hold it. */
export async function rescheduleTask(
  queue: QueueHandle,
  ref: TaskRef,
  options: RescheduleOptions,
): Promise<boolean> {
  const id = idOf(ref, "queue.reschedule()");
  // A misspelt option would otherwise be ignored silently and the task moved without it.
  const unknown =
    typeof options === "object" && options !== null
      ? unknownKeysMessage(options, RESCHEDULE_OPTION_KEYS)
      : "options must be an object";
  if (unknown) throw new InvalidOptionError(`queue.reschedule(): ${unknown}`);
  const priority =
    options.priority === undefined
      ? undefined
      : checkPriority(options.priority, "queue.reschedule(): priority");
  const now = queue.clock.now();
  const due =
    options.at === undefined ? now : resolveDueTime(options.at, now, "queue.reschedule()");
  const backend = await queue.connect();
  const data = (await backend.getTasks(queue.name, [id])).get(id);
  if (!data) return false;
  if (isUnreadableStandIn(data)) {
    throw new TaskStateError(
      `Cannot reschedule task ${id}: its stored record could not be read (${data.error!.message})`,
    );
  }
  if (data.finishedAt !== null || !WAITING.has(data.status)) {
    throw new TaskStateError(
      `Cannot reschedule task ${id} with status '${data.status}': only a task waiting to run (pending, scheduled or retrying) can be moved${data.finishedAt === null ? "" : "; queue.retry() runs a finished one again"}`,
    );
  }
  const record = rescheduledRecord(data, queue.clock.now(), due, priority);
  if (!(await backend.reschedule(queue.name, record))) {
    throw new TaskStateError(
      `Cannot reschedule task ${id}: it was claimed, finished, retried, replaced or deleted meanwhile (it no longer waits as it did when read)`,
    );
  }
  await queue.runInline();
  return true;
}
