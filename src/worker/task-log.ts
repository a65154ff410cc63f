/**
 * @module worker/task-log
 * The per-attempt lines of the `logTasks` worker option: `task started`, then
 * `task completed`, `task failed; it will be retried` (warn) or `task
 * failed` (error) — so every started line has its end. Called from the
 * attempt pipeline's hooks, so the first is
 * written inside the attempt's span (a logger with `traceMixin` adds its ids).
 * A workflow's resume is its workflow moving on, not a task of the
 * operator's: it gets no line here (`sheppy work` logs what the workflow did).
 */

import { attemptFields } from "../execution/attempt-fields.js";
import type { Logger } from "../observability/logger.js";
import type { TaskData } from "../task/task-record.js";
import { isResumeTaskName, RESUME_PREFIX } from "../task/workflow-resume-task.js";

export { attemptFields };

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

/** The error an attempt ended with, as one line: the stored error's, else the thrown value's. */
function errorLine(record: TaskData, error: unknown): string {
  if (record.error) return `${record.error.type}: ${record.error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The thrown value as the `err` field: an `Error` itself (a logger that
 * writes stacks finds one there); anything else thrown (`null`, text, a plain
 * object) as the stored error's type and message, so a log pipeline keyed on
 * `err.type` reads every failure alike.
 */
function loggedError(record: TaskData, error: unknown): unknown {
  if (error instanceof Error) return error;
  const type = record.error?.type ?? "NonError";
  // No prototype: pino's error serializer then takes the type from `name`, not from `Object`.
  return Object.assign(Object.create(null) as object, {
    type,
    name: type,
    message: record.error?.message ?? String(error),
  });
}

/**
 * An attempt that failed: `task failed; it will be retried` (warn, with when)
 * or `task failed` (error). `attempt` is the one that failed: a retrying
 * record already counts the retry it schedules. Never throws: a thrown value
 * the logger cannot read (a Proxy whose traps throw, a throwing getter) is
 * logged by its stored error instead, which the worker has made readable.
 */
export function logFailed(
  logger: Logger,
  queue: string,
  record: TaskData,
  error: unknown,
  durationMs: number,
): void {
  try {
    writeFailed(logger, queue, record, error, durationMs, true);
  } catch {
    try {
      writeFailed(logger, queue, record, null, durationMs, false);
    } catch {
      // A logger that cannot write a plain line has nothing better to be told.
    }
  }
}

function writeFailed(
  logger: Logger,
  queue: string,
  record: TaskData,
  error: unknown,
  durationMs: number,
  withThrown: boolean,
): void {
  const fields = attemptFields(queue, record);
  const line = {
    ...fields,
    durationMs: Math.round(durationMs),
    error: withThrown ? errorLine(record, error) : storedErrorLine(record),
  };
  const thrown = withThrown ? { err: loggedError(record, error) } : {};
  // A resume is its workflow moving on: the line names the workflow, not a task of the operator's.
  const resume = isResumeTaskName(record.name);
  const what = resume ? "a workflow's resume" : "task";
  const workflow = resume ? { workflow: record.name.slice(RESUME_PREFIX.length) } : {};
  if (record.finishedAt !== null) {
    logger.error(
      { ...line, ...workflow, ...thrown },
      resume
        ? `a workflow's resume failed (sheppy workflow info -q ${queue} ${record.workflowId} shows the workflow)`
        : "task failed",
    );
    return;
  }
  logger.warn(
    {
      ...line,
      ...workflow,
      attempt: fields.attempt - 1,
      nextRetryAt: record.nextRetryAt,
      ...thrown,
    },
    `${what} failed; it will be retried`,
  );
}

/** The stored error as one line, or what is known without it. */
function storedErrorLine(record: TaskData): string {
  return record.error
    ? `${record.error.type}: ${record.error.message}`
    : "(the thrown value could not be read)";
}
