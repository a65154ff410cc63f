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
import { findTask, registeredTaskNames } from "./task-registry.js";

/** A task's name, normalised JSON arguments and options: everything a cron or a record needs to run it. */
export interface TaskSpec {
  readonly name: string;
  readonly args: JsonValue[];
  readonly config: TaskConfig;
}

/**
 * The spec of task `name` called with `args`. Throws `UnknownTaskError` when no
 * loaded module defines `name`, `ValidationError` when the `args` schema refuses
 * the arguments, `SerializationError` when they are not JSON.
 */
export function taskSpecByName(name: string, args: readonly unknown[]): TaskSpec {
  const definition = findTask(name);
  if (!definition) {
    const known = registeredTaskNames();
    throw new UnknownTaskError(
      `no task named '${name}' is defined in this process (known: ${known.length ? known.join(", ") : "none"}); import the module that defines it`,
    );
  }
  return { name, args: storedArgs(definition, args), config: definition.config };
}
