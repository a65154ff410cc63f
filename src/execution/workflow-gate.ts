/**
 * @module execution/workflow-gate
 * A workflow's step never starts once its workflow has ended. Cancelling a
 * workflow cancels the steps waiting to run; a step running then finishes.
 * But that step can come back — a retry after it fails, a takeover of a
 * crashed worker's claim with `retryOnCrash`, a put-back at shutdown — and
 * would run again for a workflow that nothing resumes any more. So before
 * a step starts, its workflow is looked up (one read per batch of claims,
 * its status alone), and a step whose workflow no longer runs is ended as
 * `cancelled` instead.
 */
import type { ClaimedTask, WorkflowStore } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import type { TaskData } from "../task/task-record.js";
import { workflowOfStep } from "../task/workflow-resume-task.js";

/** Whether `claim` is a step of a workflow, about to start an attempt. */
export function isWorkflowStep(claim: ClaimedTask): boolean {
  return claim.record.finishedAt === null && workflowOfStep(claim.record) !== null;
}

/**
 * The ids of those of `records` that are steps of workflows `queue` no
 * longer runs (cancelled, failed, completed or gone): one read of their
 * workflows' status, none when no record is a step. A worker ends such a
 * step instead of starting it; a manual retry leaves it as it is.
 */
export async function stepsOfEndedWorkflowIds(
  store: Pick<WorkflowStore, "runningWorkflows">,
  queue: string,
  records: Iterable<TaskData>,
): Promise<Set<string>> {
  const steps = [...records].filter((record) => workflowOfStep(record) !== null);
  const ended = new Set<string>();
  if (steps.length === 0) return ended;
  const running = await store.runningWorkflows(queue, [
    ...new Set(steps.map((record) => record.workflowId!)),
  ]);
  for (const record of steps) if (!running.has(record.workflowId!)) ended.add(record.id);
  return ended;
}

/**
 * Why no workflow waits for each of those of `records` that are steps no
 * workflow waits for any more: `ended`, its workflow no longer runs (or is
 * gone); `taken`, its running workflow already took its outcome and went on
 * from it, or no longer lists it (a retry of the workflow asked for it again
 * under a new id). Running one of them again by hand would change nothing in
 * any workflow and only repeat what it does. Reads the running workflows
 * whole (their outcomes), only when some record is a step of one.
 */
export async function stepsNoWorkflowWaitsFor(
  store: Pick<WorkflowStore, "runningWorkflows" | "getWorkflows">,
  queue: string,
  records: Iterable<TaskData>,
): Promise<Map<string, "ended" | "taken">> {
  const all = [...records];
  const why = new Map<string, "ended" | "taken">();
  for (const id of await stepsOfEndedWorkflowIds(store, queue, all)) why.set(id, "ended");
  const live = all.filter((record) => workflowOfStep(record) !== null && !why.has(record.id));
  if (live.length === 0) return why;
  const workflows = await store.getWorkflows(queue, [
    ...new Set(live.map((record) => record.workflowId!)),
  ]);
  for (const record of live) {
    const workflow = workflows.get(record.workflowId!);
    if (!workflow) why.set(record.id, "ended");
    else if (
      workflow.outcomes.has(record.id) ||
      !workflow.record.steps.some((step) => step.taskId === record.id)
    )
      why.set(record.id, "taken");
  }
  return why;
}

/**
 * The claims among `claims` that are steps of workflows `queue` no longer
 * runs, each with its record as it is stored instead of running:
 * `cancelled` at `now`, not started.
 */
export async function stepsOfEndedWorkflows(
  store: Pick<WorkflowStore, "runningWorkflows">,
  queue: string,
  claims: readonly ClaimedTask[],
  now: number,
): Promise<Map<ClaimedTask, TaskData>> {
  const steps = claims.filter(isWorkflowStep);
  const ended = new Map<ClaimedTask, TaskData>();
  if (steps.length === 0) return ended;
  const endedIds = await stepsOfEndedWorkflowIds(
    store,
    queue,
    steps.map((claim) => claim.record),
  );
  for (const claim of steps) {
    if (!endedIds.has(claim.record.id)) continue;
    ended.set(claim, {
      ...claim.record,
      status: "cancelled",
      startedAt: null,
      finishedAt: isoAt(now),
      nextRetryAt: null,
    });
  }
  return ended;
}
