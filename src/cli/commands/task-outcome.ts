/**
 * @module cli/commands/task-outcome
 * How commands that wait for a task (`task add --wait`, `task retry --wait`,
 * `task test`) report it: the result on stdout when it completed, otherwise
 * one line on stderr and a non-zero exit.
 */
import { TaskOutcomeError } from "../../errors.js";
import type { Task } from "../../task/task-record.js";
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
