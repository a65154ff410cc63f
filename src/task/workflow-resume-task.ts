/**
 * @module task/workflow-resume-task
 * A workflow moves on through a task of the queue: when the last step it
 * waits for ends, the backend adds a resume task, named `workflow:<name>`,
 * whose attempt replays the workflow. Being a task gives a resume what every
 * task has — claims, leases, retries after a lost worker, rate of claims
 * shared with the queue — and a worker that does not define the workflow
 * puts it back for one that does, as it does an unknown task. Each workflow
 * definition registers its resume task here.
 */
import { isoAt } from "../clock.js";
import { uuidV5 } from "../util/uuid-v5.js";
import type { TaskConfig } from "./task-options.js";
import { newTaskData, type TaskData } from "./task-record.js";
import { registeredTaskNames, registerTask } from "./task-registry.js";
import type { WorkflowDefinition } from "./workflow-registry.js";

/** Names of resume tasks start with this; task names may not. */
export const RESUME_PREFIX = "workflow:";

/** The meta key a step task carries its workflow's name under (the resume task is named after it). */
export const STEP_META_KEY = "sheppy.workflow";

const RESUME_NAMESPACE = "0b1f5d3e-8c47-4a8e-9d12-7e64c2a9f0b3";

/**
 * A resume only reads the workflow and writes what the replay asked for, so a
 * failed attempt is a backend problem: retried often enough to ride out an
 * outage of a few minutes, never timed out (the body is synchronous).
 */
const RESUME_CONFIG: TaskConfig = Object.freeze({
  retry: 10,
  retryDelay: Object.freeze([1, 2, 5, 10, 30, 60]) as number[],
  timeout: null,
  retryOnTimeout: false,
  retryOnCrash: true,
  rateLimit: null,
});

/** Registers the task that resumes workflows of `definition`. */
export function registerResumeTask(definition: WorkflowDefinition): void {
  registerTask({
    name: `${RESUME_PREFIX}${definition.name}`,
    fn: () => {
      throw new Error(`the resume of workflow '${definition.name}' runs in a worker`);
    },
    config: RESUME_CONFIG,
    middleware: [],
    argsSchema: undefined,
    resultSchema: undefined,
    sandboxModule: undefined,
    resumes: definition,
    // Defined again only with its workflow, which the workflow registry has allowed by then.
    site: definition.site,
  });
}

/**
 * The resume task of workflow `workflowId` (of `workflowName`) that follows
 * `after`: the id of the step whose end it follows — its id derives from
 * that, so the same step ending twice names the same resume — or a new text
 * of the caller's, for a resume of its own (a failed workflow run again).
 */
export function resumeTaskFor(
  workflowName: string,
  workflowId: string,
  after: string,
  now: number,
): TaskData {
  const data = newTaskData(
    uuidV5(RESUME_NAMESPACE, after),
    `${RESUME_PREFIX}${workflowName}`,
    [workflowId],
    RESUME_CONFIG,
    now,
    { workflowId },
  );
  return { ...data, status: "pending", createdAt: isoAt(now) };
}

/** Whether `name` is a resume task's (`workflow:<name>`): a workflow moving on, not a task of the user's. */
export function isResumeTaskName(name: string): boolean {
  return name.startsWith(RESUME_PREFIX);
}

/** The names of the registered tasks a user defined (resume tasks left out). */
export function userTaskNames(): string[] {
  return registeredTaskNames().filter((name) => !isResumeTaskName(name));
}

/** The name of the workflow whose step `record` is, or `null` when it is not a step. */
export function workflowOfStep(record: TaskData): string | null {
  if (record.workflowId === null || isResumeTaskName(record.name)) return null;
  const name = record.meta?.[STEP_META_KEY];
  return typeof name === "string" ? name : null;
}
