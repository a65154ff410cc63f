/**
 * @module task/task-by-name
 * What a task of a registered definition would be, built from its name and
 * JSON arguments rather than by calling its factory — for callers that only
 * have text, such as the declared-cron config file. Arguments are made into
 * stored arguments by the factory's own code (`task/task-args`); the options
 * are the definition's own.
 */
import { UnknownTaskError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { storedArgs } from "./task-args.js";
import type { TaskConfig } from "./task-options.js";
import { findTask } from "./task-registry.js";
import { findWorkflow } from "./workflow-registry.js";
import { isResumeTaskName, RESUME_PREFIX, userTaskNames } from "./workflow-resume-task.js";
import { SLEEP_TASK_NAME } from "./workflow-sleep.js";

/** A task's name, normalised JSON arguments and options: everything a cron or a record needs to run it. */
export interface TaskSpec {
  readonly name: string;
  readonly args: JsonValue[];
  readonly config: TaskConfig;
  /** The definition's claim priority, as its factory gives its tasks. */
  readonly priority: number;
  /** The definition's concurrency key and limit for these arguments (`null`: none). */
  readonly concurrency: { key: string; limit: number } | null;
}

/**
 * The spec of task `name` called with `args`. Throws `UnknownTaskError` when no
 * loaded module defines `name` or it names a workflow's resume task, `ValidationError` when the `args` schema refuses
 * the arguments, `SerializationError` when they are not JSON.
 */
export function taskSpecByName(name: string, args: readonly unknown[]): TaskSpec {
  if (isResumeTaskName(name)) {
    // Registered, but the task that moves a workflow on: run by hand, it finds no workflow and does nothing.
    throw new UnknownTaskError(
      `'${name}' is the task that moves workflow '${name.slice(RESUME_PREFIX.length)}' on, not a task of yours: start the workflow from code with queue.addWorkflow()`,
    );
  }
  if (name === SLEEP_TASK_NAME) {
    throw new UnknownTaskError(
      `'${name}' is the step a workflow's sleep() asks for, not a task of yours: to run something later, schedule a task of yours`,
    );
  }
  const definition = findTask(name);
  if (!definition) {
    if (findWorkflow(name))
      throw new UnknownTaskError(
        `'${name}' is a workflow, not a task: start it from code with queue.addWorkflow()`,
      );
    const known = userTaskNames();
    throw new UnknownTaskError(
      `no task named '${name}' is defined in this process (known: ${known.length ? known.join(", ") : "none"}); import the module that defines it (with the CLI: --tasks <module>)`,
    );
  }
  const stored = storedArgs(definition, args);
  // Everything the factory would give the task, not its options alone.
  return {
    name,
    args: stored,
    config: definition.configOf?.(stored) ?? definition.config,
    priority: definition.priority ?? 0,
    concurrency: definition.concurrencyOf?.(stored) ?? null,
  };
}
