/**
 * @module execution/workflow-retry
 * What running a failed workflow again writes. The steps the body saw last —
 * those of its last yield — that did not complete are to be asked for again:
 * each keeps its place in the record under a new task id, with neither an
 * outcome nor a place among the steps waited for, and its earlier end goes
 * (the outcome kept with the workflow and the finished task record). The
 * workflow then runs again through one resume task: a worker replays the
 * body as deployed now, the determinism guard checks that it still asks for
 * those steps, with the same arguments, before anything runs, and the replay
 * adds them as new tasks of the body's asking (so a fixed task option
 * applies) and waits for them; their ends resume it as any step's do. Steps
 * of earlier yields keep their outcomes: the body went on past them, so a
 * failure it handled there stays handled. When every step of the last yield
 * completed (the body threw on its own, its resume failed for good, or no
 * worker defined it), the replay simply goes on from there. Recorded side
 * effects keep their values.
 */
import { randomUUID } from "node:crypto";
import type { StoredWorkflow, WorkflowRetry } from "../backends/backend.js";
import type { WorkflowStep } from "../task/workflow-record.js";
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

/** The retry of failed workflow `stored` at `now`: see the module header. */
export function workflowRetryPlan(stored: StoredWorkflow, now: number): WorkflowRetryPlan {
  const failed = stored.record;
  const again = new Set(stepsToRunAgain(stored).map((step) => step.taskId));
  return {
    record: {
      ...failed,
      status: "running",
      steps: failed.steps.map((step) =>
        again.has(step.taskId) ? { ...step, taskId: randomUUID() } : step,
      ),
      pending: [],
      result: null,
      error: null,
      finishedAt: null,
      retryCount: (failed.retryCount ?? 0) + 1,
    },
    failedAt: failed.finishedAt ?? "",
    tasks: [resumeTaskFor(failed.name, failed.id, randomUUID(), now)],
    replaced: [...again],
  };
}
