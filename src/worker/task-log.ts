/**
 * @module worker/task-log
 * The per-attempt lines of the `logTasks` worker option: `task started` and
 * `task completed`. Called from the attempt pipeline's hooks, so they are
 * written inside the attempt's span (a logger with `traceMixin` adds its ids).
 * A workflow's resume is its workflow moving on, not a task of the
 * operator's: it gets no line here (`sheppy work` logs what the workflow did).
 */
import type { Logger } from "../observability/logger.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";
import { isResumeTaskName } from "../task/workflow-resume-task.js";

/** The fields that name an attempt in a log line; `attempt` counts from 1, manual retries included. */
export function attemptFields(queue: string, record: TaskData) {
  return {
    queue,
    taskId: record.id,
    task: record.name,
    attempt: attemptNumber(record),
    ...(record.workflowId === null ? {} : { workflowId: record.workflowId }),
  };
}

export function logStarted(logger: Logger, queue: string, record: TaskData): void {
  if (!isResumeTaskName(record.name)) logger.info(attemptFields(queue, record), "task started");
}

export function logCompleted(
  logger: Logger,
  queue: string,
  record: TaskData,
  durationMs: number,
): void {
  if (isResumeTaskName(record.name)) return;
  logger.info(
    { ...attemptFields(queue, record), durationMs: Math.round(durationMs) },
    "task completed",
  );
}
