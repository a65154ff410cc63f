/**
 * @module cli/task-from-spec
 * A task made from the command line: the factory `module:export` names,
 * called with the arguments of `--args`, `--args -` or `--args-file`.
 */
import type { JsonValue } from "../json.js";
import type { Task } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { parseArgsJson, readArgsText } from "./inputs.js";
import { loadTaskFactory } from "./load-modules.js";

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
  return factory(...args);
}

/**
 * Without an `args` schema nothing checks arguments given as text (the
 * compiler checks them in code). Fewer than the function declares before its
 * first default is most likely a mistake, so a command says so once it has
 * added the task — as a warning, not an error: a parameter TypeScript marks
 * optional (`b?: number`) still counts in the function's length, and leaving
 * it out is allowed.
 */
export function warnIfArgumentsMissing(task: Task): void {
  const { name } = task;
  const given = task.args.length;
  const definition = findTask(name);
  if (!definition || definition.argsSchema) return;
  const declared = definition.fn.length;
  if (given >= declared) return;
  console.error(
    `warning: task '${name}' declares ${declared} parameter${declared === 1 ? "" : "s"} and was given ${given} argument${given === 1 ? "" : "s"}; without an args schema nothing checks them before it runs (give the task an args schema to refuse them when it is added)`,
  );
}
