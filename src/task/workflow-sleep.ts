/**
 * @module task/workflow-sleep
 * A workflow's timer. `sleep(seconds)` and `sleepUntil(time)` ask for a step
 * of a task every process knows, `sheppy.sleep`, whose function does
 * nothing. The step is added like any other; the first worker to claim it
 * puts it off until its wake time, as a rate limit puts a task off (not an
 * attempt), and the worker that claims it once it is due completes it,
 * which resumes the workflow. So a sleeping workflow holds no worker, no
 * connection and no timer in any process: it is a scheduled record, which
 * survives restarts, and which an operator may move (`queue.reschedule`) to
 * wake it early or later.
 *
 * The wake time is kept in the step's arguments — a delay in seconds, counted
 * from the step's creation, or an ISO instant — so it does not depend on when
 * a replay runs. (The determinism guard compares a sleep's place among the
 * steps, not its delay: a deploy that changes a delay leaves the sleeps
 * already asked for as they were.)
 */
import { randomUUID } from "node:crypto";
import { isoAt } from "../clock.js";
import type { JsonValue } from "../json.js";
import { isRepresentableInstant } from "../util/durations.js";
import type { TaskConfig } from "./task-options.js";
import { newTaskData, Task, type TaskData } from "./task-record.js";

/** The name of the built-in task a sleep step is; tasks of the user's may not take it. */
export const SLEEP_TASK_NAME = "sheppy.sleep";

/**
 * Set in a sleep step's `meta` when a worker puts it off until its wake
 * time (the value: that time, ISO): once set, the step runs whenever it is
 * next claimed, so a time an operator moved it to is the one kept.
 */
export const SLEEP_META_KEY = "sheppy.wakeAt";

/**
 * Nothing to time out. A worker that dies holding the step — before it put
 * it off, or while it "runs" — leaves it to be taken over: retried, it is put
 * off again (its wake time comes from its arguments), rather than ending
 * `crashed`, which would end the sleep at once.
 */
export const SLEEP_CONFIG: TaskConfig = Object.freeze({
  retry: 10,
  retryDelay: 1,
  timeout: null,
  retryOnTimeout: false,
  retryOnCrash: true,
  rateLimit: null,
});

/**
 * The step task of a sleep: `wake` is a delay in seconds (from the step's
 * creation) or an instant as ISO text, already checked by the caller.
 */
export function sleepTask(wake: number | string): Task<null> {
  const args: JsonValue[] = [wake];
  return new Task<null>(
    newTaskData(randomUUID(), SLEEP_TASK_NAME, args, SLEEP_CONFIG, Date.now()),
    null,
  );
}

/** Whether `record` is a workflow's sleep step. */
export function isSleepStep(record: TaskData): boolean {
  return record.name === SLEEP_TASK_NAME && record.workflowId !== null;
}

/**
 * When sleep step `record` wakes (epoch ms): its creation plus the delay it
 * holds, or the instant it holds. `null` for arguments no sleep step has
 * (a record written by hand): it then runs when claimed.
 */
export function sleepWakeAt(record: TaskData): number | null {
  const [wake] = record.args;
  if (typeof wake === "number" && Number.isFinite(wake) && wake >= 0) {
    const created = Date.parse(record.createdAt);
    if (Number.isNaN(created)) return null;
    // A delay no sleep() asks for (written by hand) can reach past what a Date holds: no wake time.
    const at = created + wake * 1000;
    return isRepresentableInstant(at) ? at : null;
  }
  if (typeof wake === "string") {
    const at = Date.parse(wake);
    return Number.isNaN(at) ? null : at;
  }
  return null;
}

/**
 * The record to settle a claimed sleep step back as, put off until it wakes,
 * or `null` when it runs now: it is due, it was put off before (it waited,
 * or an operator moved it), or it holds no wake time.
 */
export function sleepingRecord(record: TaskData, now: number): TaskData | null {
  if (!isSleepStep(record) || record.finishedAt !== null) return null;
  if (record.meta[SLEEP_META_KEY] !== undefined) return null;
  const wake = sleepWakeAt(record);
  if (wake === null || wake <= now) return null;
  return {
    ...record,
    status: "scheduled",
    scheduledAt: isoAt(wake),
    startedAt: null,
    meta: { ...record.meta, [SLEEP_META_KEY]: isoAt(wake) },
  };
}
