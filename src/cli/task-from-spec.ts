/**
 * @module cli/task-from-spec
 * A task made from the command line: the factory `module:export` names,
 * called with the arguments of `--args`, `--args -` or `--args-file`.
 */
import { CliUsageError, SerializationError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { missingArgumentsWarning } from "../task/missing-arguments.js";
import type { Task } from "../task/task-record.js";
import { parseArgsJson, readArgsText } from "./inputs.js";
import { loadTaskFactory } from "./load-modules.js";
import { warn } from "./warn.js";

export const TASK_ARGUMENT = "module:export of a task, e.g. ./src/tasks.ts:sendEmail";
export const ARGS_HELP =
  "JSON array of the task's arguments, e.g. '[\"a@example.com\", 3]'; - reads it from standard input";

export const ARGS_FILE_HELP =
  "read the JSON array of arguments from this file (for large arguments)";

/** Calls the factory named by `spec` with the arguments of `--args`, `--args -` or `--args-file`. */
export async function createTask(
  spec: string,
  settings: { readonly args?: string; readonly argsFile?: string },
): Promise<Task> {
  const { text, source } = await readArgsText(settings.args, settings.argsFile);
  const args: JsonValue[] = parseArgsJson(text, source);
  const factory = await loadTaskFactory(spec);
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
