/**
 * @module cli/commands/task-outcome
 * How commands that wait for a task (`task add --wait`, `task retry --wait`,
 * `task test`) report it: the result on stdout when it completed, otherwise
 * one line on stderr and a non-zero exit.
 */
import { TaskOutcomeError, WaitTimeoutError } from "../../errors.js";
import type { Queue } from "../../queue/queue.js";
import type { Task, TaskData } from "../../task/task-record.js";
import type { OutputFormat } from "../env.js";
import { formatJson, formatStoredError, print, printJson } from "../output.js";

/**
 * Prints a finished task: its result as JSON (`table`) or its whole record
 * (`json`). Throws `TaskOutcomeError` when it did not complete.
 */
export function reportOutcome(task: Task, format: OutputFormat): void {
  const data = task.toJSON();
  if (format === "json") printJson(data);
  else if (data.status === "completed") print(formatJson(data.result));
  if (data.status !== "completed") {
    throw new TaskOutcomeError(`task ${data.id} ${data.status}: ${formatStoredError(data)}`);
  }
}

/**
 * Waits for the task like `queue.waitFor`, but when time is up says where the
 * task stands — above all that no worker has claimed it, the usual reason —
 * and, in `json`, prints its record as it stands (a script reads its status).
 */
export async function waitForOutcome(
  queue: Queue,
  id: string,
  timeout: number | undefined,
  format: OutputFormat,
): Promise<Task> {
  try {
    return await queue.waitFor(id, { timeout });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const stored = await queue.getTask(id);
    if (format === "json") printJson(stored?.toJSON() ?? null);
    const where =
      stored === null
        ? "the queue no longer holds it"
        : standing(stored.toJSON(), queue.name, await queue.isPaused());
    throw new TaskOutcomeError(
      `task ${id} did not finish within ${error.timeoutSeconds} s: ${where}`,
      {
        cause: error,
      },
    );
  }
}

function standing(data: TaskData, queue: string, paused: boolean): string {
  switch (data.status) {
    case "new":
    case "pending":
      return paused
        ? `queue '${queue}' is paused, so no worker claims its tasks (sheppy queue resume -q ${queue}); it stays queued`
        : `no worker has claimed it (is a worker serving queue '${queue}' running?); it stays queued`;
    case "scheduled":
      return `it is scheduled for ${data.scheduledAt ?? "later"}; it stays queued`;
    case "retrying":
      return `an attempt failed (${formatStoredError(data)}); the next is due at ${data.nextRetryAt}`;
    case "processing":
      return `a worker is still running it (started ${data.startedAt})`;
    default:
      return `it is ${data.status}`;
  }
}
