/**
 * @module queue/retry-api
 * `queue.retry()`: runs a finished task again by hand — same id, its outcome
 * cleared, `retryCount` unchanged (that counts automatic retries only) and
 * `manualRetryCount` one more, so attempt numbers keep counting up. A
 * task that has not finished is refused, and so is a completed one unless
 * forced, so a retry never runs a task twice at once or repeats a success by
 * mistake; so is a step no workflow waits for any more — of a workflow that
 * has ended, which no worker would run, or one its running workflow already
 * went on from.
 */

import { isoAt } from "../clock.js";
import { InvalidOptionError, TaskStateError } from "../errors.js";
import { stepsNoWorkflowWaitsFor } from "../execution/workflow-gate.js";
import { isUnreadableStandIn } from "../task/task-codec.js";
import type { TaskData, TaskStatus } from "../task/task-record.js";
import { withoutUnknownSince } from "../task/unknown-since.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { addOptionsFor } from "./add-events.js";
import { timeAndPriority } from "./move-options.js";
import type { QueueHandle } from "./queue-handle.js";
import { idOf, type TaskRef } from "./task-refs.js";

/** Statuses of a task that has not finished: it may still run by itself. */
const RETRY_REFUSED: ReadonlySet<TaskStatus> = new Set([
  "new",
  "pending",
  "scheduled",
  "processing",
]);

export interface RetryOptions {
  /** Run it at this time (a `Date`, or ISO-8601 text with an offset) or after this many seconds, instead of now. */
  at?: Date | number | string | undefined;
  /** Also re-run a task that completed successfully. */
  force?: boolean | undefined;
  /** The priority the re-run is claimed by, instead of the one the task had (an integer). */
  priority?: number | undefined;
}

const RETRY_OPTION_KEYS = ["at", "force", "priority"] as const;

/**
 * The record that runs finished task `data` again: its result, times, progress
 * and logs cleared (its last error stays until the new run ends, as while an
 * automatic retry waits),
 * `manualRetryCount` one more, pending at `now` (epoch ms, with no scheduled time) or scheduled for
 * `due`, at `priority` when given (else the priority it had). With no `due`, a
 * task cancelled while it waited for a time still ahead goes back to that time:
 * a retry of a cancelled task undoes the cancel, so a task meant for tomorrow
 * (or a cron's run) does not run today. Stored with
 * `add(…, "rerun")`: only while the task is still finished or waiting for
 * its automatic retry, and still the record `data` was read as (the one
 * more manual re-run is how the backend tells).
 */
export function rerunRecord(
  data: TaskData,
  now: number,
  due?: number,
  priority?: number,
): TaskData {
  const at = isoAt(now);
  // A run asked for by hand gets a whole unknown-task grace again, should its name be unknown.
  const base: TaskData = {
    ...withoutUnknownSince(data),
    ...(priority === undefined ? {} : { priority }),
    result: null,
    startedAt: null,
    finishedAt: null,
    manualRetryCount: (data.manualRetryCount ?? 0) + 1,
    lastRetryAt: at,
    nextRetryAt: at,
  };
  delete base.resultKind;
  // A run started by hand reports afresh: the earlier runs' progress and log go with their outcome.
  delete base.progress;
  delete base.logs;
  const waitedFor = due ?? cancelledAheadOf(data, now);
  // A re-run now has no time to wait for: a time the task was once scheduled for, now past,
  // would show as when it runs next.
  return waitedFor === undefined
    ? { ...base, status: "pending", scheduledAt: null }
    : {
        ...base,
        status: "scheduled",
        scheduledAt: isoAt(waitedFor),
        nextRetryAt: isoAt(waitedFor),
      };
}

/** The time a task cancelled while it waited for it was due, when still ahead of `now`. */
function cancelledAheadOf(data: TaskData, now: number): number | undefined {
  if (data.status !== "cancelled" || data.scheduledAt === null) return undefined;
  const at = Date.parse(data.scheduledAt);
  return at > now ? at : undefined;
}

/**
 * The refusal of a retry of a step whose workflow has ended: a worker would
 * end it `cancelled` without running it (a step never starts for a workflow
 * nothing resumes), writing that over the outcome the workflow took.
 */
function endedWorkflowStep(id: string, workflowId: string, status: string): TaskStateError {
  return new TaskStateError(
    `Cannot retry task ${id}: it is a step of workflow ${workflowId}, which has ended (or is gone), and a step of an ended workflow is never run again; retry the workflow instead when it failed (queue.retryWorkflow, sheppy workflow retry), which runs its failed last steps again, or start it anew`,
    { reason: "workflow-step", id, status },
  );
}

/**
 * The refusal of a retry of a step whose running workflow already went on
 * from its outcome (or, retried, asked for it again under a new id): the
 * workflow never reads a second end of it, so running it again would only
 * repeat what it does.
 */
function takenWorkflowStep(id: string, workflowId: string, status: string): TaskStateError {
  return new TaskStateError(
    `Cannot retry task ${id}: it is a step of workflow ${workflowId}, which already went on from its outcome, so running it again would change nothing in the workflow`,
    { reason: "workflow-step", id, status },
  );
}

/** Re-queues `ref` in `queue` (now, or at `options.at`); `false` when the queue does not hold it. */
export async function retryTask(
  queue: QueueHandle,
  ref: TaskRef,
  options: RetryOptions,
): Promise<boolean> {
  const id = idOf(ref, "queue.retry()");
  // A misspelt option would otherwise be ignored silently and the task re-run without it.
  const unknown =
    typeof options === "object" && options !== null
      ? unknownKeysMessage(options, RETRY_OPTION_KEYS)
      : "options must be an object";
  if (unknown) throw new InvalidOptionError(`queue.retry(): ${unknown}`);
  const { at: due, priority } = timeAndPriority(options, queue.clock.now(), "queue.retry()");
  const backend = await queue.connect();
  const data = (await backend.getTasks(queue.name, [id])).get(id);
  if (!data) return false;
  if (isUnreadableStandIn(data)) {
    throw new TaskStateError(
      `Cannot retry task ${id}: its stored record could not be read (${data.error!.message}); a retry would store the record shown in its place, without the task's arguments`,
      { reason: "unreadable", id },
    );
  }
  if (data.status === "completed" && !options.force) {
    throw new TaskStateError(
      `Task ${id} has already completed successfully; pass { force: true } to run it again`,
      { reason: "completed", id, status: data.status },
    );
  }
  if (RETRY_REFUSED.has(data.status)) {
    throw new TaskStateError(
      `Cannot retry task ${id} with status '${data.status}': it has not finished`,
      { reason: data.status === "processing" ? "running" : "waiting", id, status: data.status },
    );
  }
  const unwaited = (await stepsNoWorkflowWaitsFor(backend, queue.name, [data])).get(id);
  if (unwaited === "ended") throw endedWorkflowStep(id, data.workflowId!, data.status);
  if (unwaited === "taken") throw takenWorkflowStep(id, data.workflowId!, data.status);
  const record = rerunRecord(data, queue.clock.now(), due, priority);
  // Re-queued only while it is still finished or waiting for its retry: not once a concurrent
  // retry has re-queued it, nor once a worker has claimed it.
  const [queued] = await backend.add(
    queue.name,
    [record],
    "rerun",
    addOptionsFor(backend, [record], queue.clock.now()),
  );
  if (!queued) {
    throw new TaskStateError(
      `Cannot retry task ${id}: it was re-queued or started meanwhile (it no longer waits to be retried)`,
      { reason: "changed", id, status: data.status },
    );
  }
  await queue.runInline();
  return true;
}
