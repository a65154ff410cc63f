/**
 * @module execution/workflow-retry
 * What running a failed workflow again writes. The steps the body saw last —
 * those of its last yield — that did not complete are asked for again as new
 * tasks (new ids; the same task, arguments and options), and the workflow
 * waits for them: their ends resume it as any step's do, and the replay then
 * sees their new outcomes in their places. Steps of earlier yields keep their
 * outcomes: the body went on past them, so a failure it handled there stays
 * handled, and the replay asks for the same steps it asked for before. When
 * every step of the last yield completed (the body threw on its own, its
 * resume failed for good, or no worker defined it), one resume task replays
 * it at once. Recorded side effects keep their values.
 */
import { randomUUID } from "node:crypto";
import type { StoredWorkflow, WorkflowRetry } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import { TaskStateError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";
import type { WorkflowData, WorkflowStep } from "../task/workflow-record.js";
import { resumeTaskFor } from "../task/workflow-resume-task.js";

/** The retry of a failed workflow, without its events: see the module header. */
export type WorkflowRetryPlan = Omit<WorkflowRetry, "events">;

/** The steps of the workflow's last yield that did not complete: what a retry asks for again. */
export function stepsToRunAgain(stored: StoredWorkflow): WorkflowStep[] {
  const { steps } = stored.record;
  const last = steps.at(-1)?.yield;
  return steps.filter(
    (step) => step.yield === last && stored.outcomes.get(step.taskId)?.status !== "completed",
  );
}

/**
 * The retry of failed workflow `stored` at `now`. `live` holds the current
 * records of steps that ended without an outcome kept with the workflow; a
 * step to run again with neither cannot be rebuilt (`TaskStateError`).
 */
export function workflowRetryPlan(
  stored: StoredWorkflow,
  live: ReadonlyMap<string, TaskData>,
  now: number,
): WorkflowRetryPlan {
  const failed = stored.record;
  const again = stepsToRunAgain(stored);
  const renamed = new Map<string, string>();
  const tasks = again.map((step) => {
    const before = stored.outcomes.get(step.taskId) ?? live.get(step.taskId);
    if (before === undefined) {
      throw new TaskStateError(
        `Cannot retry workflow ${failed.id}: the record of its step ${step.index} (task '${step.name}', id ${step.taskId}) is gone, so it cannot be asked for again; start the workflow anew instead`,
      );
    }
    const task = runAgain(before, randomUUID(), now);
    renamed.set(step.taskId, task.id);
    return task;
  });
  const record: WorkflowData = {
    ...failed,
    status: "running",
    steps: failed.steps.map((step) => {
      const id = renamed.get(step.taskId);
      return id === undefined ? step : { ...step, taskId: id };
    }),
    pending: tasks.map((task) => task.id),
    result: null,
    error: null,
    finishedAt: null,
    retryCount: (failed.retryCount ?? 0) + 1,
  };
  return {
    record,
    failedAt: failed.finishedAt ?? "",
    // A workflow with every step of its last yield completed moves on by a replay now.
    tasks: tasks.length > 0 ? tasks : [resumeTaskFor(failed.name, failed.id, randomUUID(), now)],
    dropOutcomes: again.map((step) => step.taskId),
  };
}

/** Step `before` asked for again under `id`: the same task, arguments and options, nothing of its runs. */
function runAgain(before: TaskData, id: string, now: number): TaskData {
  const {
    resultKind: _resultKind,
    progress: _progress,
    logs: _logs,
    manualRetryCount: _manualRetryCount,
    ...kept
  } = before;
  return {
    ...kept,
    id,
    status: "pending",
    result: null,
    error: null,
    createdAt: isoAt(now),
    scheduledAt: null,
    startedAt: null,
    finishedAt: null,
    retryCount: 0,
    lastRetryAt: null,
    nextRetryAt: null,
  };
}
