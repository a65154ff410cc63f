/**
 * @module queue/reschedule-api
 * `queue.reschedule()`: moves a task that waits to run to another time — now
 * by default (run a scheduled task, or a retry that waits, at once), or
 * later — and, when asked, to another priority (a new priority alone keeps
 * its time). Same id, same arguments, same attempt count: only when it runs
 * changes. A task that a worker has claimed, or that has finished, is
 * refused: its run has started or ended (`retry` runs a finished one
 * again). The write holds only while the task is still the record that was
 * read, so a claim, a retry, a debounced replacement or another move in
 * between is never undone: the move reads the task again and applies only
 * what it was asked to change, or is refused once it no longer waits. A
 * cron's run is not started before its fire time: the cron would add that
 * run again once the early one's record expired.
 */
import { dueTimeOf } from "../backends/record-route.js";
import { isoAt } from "../clock.js";
import { TaskStateError } from "../errors.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import type { TaskData } from "../task/task-record.js";
import { isSleepStep, SLEEP_META_KEY } from "../task/workflow-sleep.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { timeAndPriority } from "./move-options.js";
import type { QueueHandle } from "./queue-handle.js";
import { idOf, type TaskRef } from "./task-refs.js";

export interface RescheduleOptions {
  /** When it runs: a `Date`, ISO-8601 text with an offset, or this many seconds from now. Default: now — or, when only `priority` is given, the time it waits for now. */
  at?: Date | number | string | undefined;
  /** The priority it is claimed by from now on (an integer), instead of the one it has. */
  priority?: number | undefined;
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
  const moved: TaskData = isSleepStep(data) ? movedSleep(data, Math.max(due, now)) : data;
  const base: TaskData = priority === undefined ? { ...moved } : { ...moved, priority };
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

/**
 * A workflow's sleep step moved by an operator, marked as put off already
 * (to `at`): the worker that claims it runs it then, instead of putting it
 * off to the wake time its arguments give — which it would do to a step no
 * worker had claimed yet.
 */
function movedSleep(data: TaskData, at: number): TaskData {
  return { ...data, meta: { ...data.meta, [SLEEP_META_KEY]: isoAt(at) } };
}

/** Reads and writes a move tries before it gives up on a task others keep changing. */
const MOVE_TRIES = 5;

/**
 * The refusal to start a cron's run before its fire time: once the early
 * run's record expired, the cron would add that fire time's run again.
 */
function earlyCronRun(id: string, data: TaskData, fireTime: number): TaskStateError {
  return new TaskStateError(
    `Cannot move task ${id} before ${isoAt(fireTime)}: it is the run of cron ${data.cronId} due then, and run earlier it would run again at that time once its record expires; add the task to run it now, or move this run later`,
    { reason: "cron-fire-time", id, status: data.status },
  );
}

/** Moves `ref` in `queue` (see the module header); `false` when the queue does not hold it. */
export async function rescheduleTask(
  queue: QueueHandle,
  ref: TaskRef,
  options: RescheduleOptions,
): Promise<boolean> {
  const id = idOf(ref, "queue.reschedule()");
  // A misspelt option would otherwise be ignored silently and the task moved without it.
  checkOptionKeys(options, RESCHEDULE_OPTION_KEYS, "queue.reschedule()");
  const { at, priority } = timeAndPriority(options, queue.clock.now(), "queue.reschedule()");
  const backend = await queue.connect();
  for (let tries = 1; ; tries++) {
    const data = (await backend.getTasks(queue.name, [id])).get(id);
    if (!data) return false;
    if (isUnreadableStandIn(data)) {
      throw new TaskStateError(
        `Cannot reschedule task ${id}: its stored record could not be read (${data.error!.message})`,
        { reason: "unreadable", id },
      );
    }
    if (data.finishedAt !== null || !WAITING.has(data.status)) {
      throw new TaskStateError(
        `Cannot reschedule task ${id} with status '${data.status}': only a task waiting to run (pending, scheduled or retrying) can be moved${data.finishedAt === null ? "" : "; a retry runs a finished one again"}`,
        {
          reason: data.finishedAt === null && data.status === "processing" ? "running" : "finished",
          id,
          status: data.status,
        },
      );
    }
    const now = queue.clock.now();
    // A new priority alone keeps the time the task waits for; no time given otherwise means now.
    const due = at ?? (priority === undefined ? now : (dueTimeOf(data) ?? now));
    const fireTime = data.cronId !== null ? dueTimeOf(data) : null;
    if (fireTime !== null && data.status === "scheduled" && due < fireTime) {
      throw earlyCronRun(id, data, fireTime);
    }
    const next = rescheduledRecord(data, now, due, priority);
    if (await backend.reschedule(queue.name, data, next)) break;
    // Changed between the read and the write (claimed, retried, replaced, moved): read it again.
    if (tries >= MOVE_TRIES) {
      throw new TaskStateError(
        `Cannot reschedule task ${id}: it changed between each of ${MOVE_TRIES} reads and the write that followed (claimed, retried, replaced or moved by others)`,
        { reason: "changed", id, status: data.status },
      );
    }
  }
  await queue.runInline();
  return true;
}
