/**
 * @module cli/commands/workflow-end
 * `--wait` of `workflow add` and `workflow retry`: wait for the workflow's
 * end, then print its result, or exit 1 saying why it did not complete.
 */
import { TaskOutcomeError, WaitTimeoutError } from "../../errors.js";
import type { Queue } from "../../queue/queue.js";
import type { Workflow } from "../../task/workflow-record.js";
import type { OutputFormat } from "../env.js";
import { formatJson, joinLines, print, printJson } from "../output.js";

/** `--wait`: the workflow once it has ended; time up is a `TaskOutcomeError` saying so. */
export async function waitForEnd(
  queue: Queue,
  id: string,
  timeout: number | undefined,
): Promise<Workflow> {
  try {
    return await queue.waitForWorkflow(id, { timeout });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    throw new TaskOutcomeError(
      `workflow ${id} did not end within ${error.timeoutSeconds} s; it is still running (sheppy workflow info -q ${queue.name} ${id})`,
      { cause: error },
    );
  }
}

/** What `--wait` prints of an ended workflow: its result, or (exit 1) why it did not complete. */
export function reportEnd(workflow: Workflow, format: OutputFormat): void {
  const data = workflow.toJSON();
  if (format === "json") printJson(data);
  else if (data.status === "completed") print(formatJson(data.result));
  if (data.status !== "completed") {
    const why = data.error ? `: ${data.error.type}: ${joinLines(data.error.message)}` : "";
    throw new TaskOutcomeError(`workflow ${data.id} ${data.status}${why}`);
  }
}
