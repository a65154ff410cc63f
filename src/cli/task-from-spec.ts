/**
 * @module cli/task-from-spec
 * A task or workflow made from the command line: the factory
 * `module:export` names, called with the arguments of `--args`, `--args -`
 * or `--args-file`; arguments over the queue's payload limit are reported
 * against the flag that gave them.
 */
import { CliUsageError, PayloadTooLargeError, SerializationError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { missingArgumentsWarning } from "../task/missing-arguments.js";
import type { Task } from "../task/task-record.js";
import type { Workflow } from "../task/workflow-record.js";
import { parseArgsJson, readArgsText } from "./inputs.js";
import { loadTaskFactory, loadWorkflowFactory } from "./load-modules.js";
import { warn } from "./warn.js";

export const TASK_ARGUMENT = "module:export of a task, e.g. ./src/tasks.ts:sendEmail";
export const ARGS_HELP =
  "JSON array of the task's arguments, e.g. '[\"a@example.com\", 3]'; - reads it from standard input";

export const ARGS_FILE_HELP =
  "read the JSON array of arguments from this file (for large arguments)";

type ArgsSettings = { readonly args?: string; readonly argsFile?: string };

/** Calls the task factory named by `spec` with the arguments of `--args`, `--args -` or `--args-file`. */
export async function createTask(spec: string, settings: ArgsSettings): Promise<Task> {
  return callFactory(settings, "task", () => loadTaskFactory(spec));
}

/** Calls the workflow factory named by `spec` with the arguments of `--args`, `--args -` or `--args-file`. */
export async function createWorkflow(spec: string, settings: ArgsSettings): Promise<Workflow> {
  return callFactory(settings, "workflow", () => loadWorkflowFactory(spec));
}

/** The arguments first (a typo in them is reported before any module loads), then the factory's call. */
async function callFactory<T>(
  settings: ArgsSettings,
  of: "task" | "workflow",
  load: () => Promise<(...args: JsonValue[]) => T>,
): Promise<T> {
  const { text, source } = await readArgsText(settings.args, settings.argsFile);
  const args: JsonValue[] = parseArgsJson(text, source, of);
  const factory = await load();
  try {
    return factory(...args);
  } catch (error) {
    // Parsed JSON the record cannot hold (1e400 is Infinity; nesting too deep) is the command line's fault.
    if (error instanceof SerializationError)
      throw new CliUsageError(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Warns on stderr, once the task is added, when it was given fewer arguments than its function declares. */
export function warnIfArgumentsMissing(task: Task): void {
  const warning = missingArgumentsWarning(task);
  if (warning !== undefined) warn(warning);
}

/** Runs `enqueue`; arguments over the payload limit are reported against the flag that gave them. */
export async function flagPayloadErrors(
  settings: { readonly args?: string; readonly argsFile?: string },
  enqueue: () => Promise<unknown>,
): Promise<void> {
  try {
    await enqueue();
  } catch (error) {
    if (!(error instanceof PayloadTooLargeError)) throw error;
    const flag =
      settings.argsFile !== undefined
        ? "--args-file"
        : settings.args === "-"
          ? "--args -"
          : "--args";
    throw new CliUsageError(
      `${flag}: the arguments are ${error.bytes.toLocaleString("en-US")} bytes of JSON, over the queue's limit of ${error.limit.toLocaleString("en-US")} (raise it with ?maxPayloadBytes= on the backend URL, or pass a reference to the data instead)`,
      { cause: error },
    );
  }
}
