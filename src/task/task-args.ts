/**
 * @module task/task-args
 * The stored arguments of a new task, made the same way however the task is
 * created — by calling its factory, or by name from text (the declared-cron
 * config file). The definition's `args` schema validates and normalises them;
 * without one, omitted trailing optional arguments (`undefined`) are dropped.
 * What is stored must be a JSON array. The worker validates the stored
 * arguments with the schema again before it calls the function, so the
 * schema must accept its own stored output: one that does not (a
 * `transform` to another type, `z.date()` where the stored form is ISO
 * text) is refused here, when the task is created, instead of failing
 * every attempt.
 */
import { SerializationError, TaskDefinitionError, ValidationError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import { describeIssues, validateSync } from "./schema.js";
import { errorToData } from "./stored-error.js";
import type { TaskDefinition } from "./task-registry.js";

/**
 * The JSON arguments a task of `definition` called with `args` stores. Throws
 * `ValidationError` when the `args` schema refuses them, `SerializationError`
 * when they are not JSON or reading them throws, `TaskDefinitionError` when
 * the schema's output is not a list.
 * @example
 * storedArgs(findTask("send-email")!, ["a@example.com", "Hi"]) // ["a@example.com", "Hi"]
 */
export function storedArgs(
  definition: Pick<TaskDefinition, "name" | "argsSchema">,
  args: readonly unknown[],
  kind: "task" | "workflow" = "task",
): JsonValue[] {
  const { name, argsSchema } = definition;
  let values: unknown = args;
  if (argsSchema) {
    values = validateSync(argsSchema, args, `invalid arguments for ${kind} '${name}'`, "args");
  } else {
    // Omitted trailing optional arguments arrive as undefined; they are simply not stored.
    let end = args.length;
    while (end > 0 && args[end - 1] === undefined) end--;
    if (end !== args.length) values = args.slice(0, end);
  }
  let json: JsonValue;
  try {
    // The list itself is not a level: each argument may nest as deep as a result.
    json = toJson(values, "args", { uncountedLevels: 1 });
  } catch (error) {
    if (error instanceof SerializationError) {
      // The cause is what a getter or Proxy trap in the arguments threw, when that is the problem.
      throw new SerializationError(
        `${kind} '${name}': ${error.message}`,
        error.cause === undefined ? undefined : { cause: error.cause },
      );
    }
    throw error;
  }
  if (!Array.isArray(json)) {
    throw new TaskDefinitionError(
      `${kind} '${name}': the args schema must produce an array of arguments`,
    );
  }
  if (argsSchema) checkStoredFormAccepted(definition, json, kind);
  return json;
}

/**
 * Refuses an `args` schema that does not accept the arguments it stored:
 * the worker would refuse them on every attempt. Says which argument and
 * what to change.
 */
function checkStoredFormAccepted(
  definition: Pick<TaskDefinition, "name" | "argsSchema">,
  stored: JsonValue[],
  kind: "task" | "workflow",
): void {
  let refusal: string;
  try {
    // The same reading as the first validation (a check that throws, or an answer that is a
    // Promise, is refused there with its reason), of the stored form.
    validateSync(definition.argsSchema!, stored, "stored arguments", "args");
    return;
  } catch (error) {
    refusal =
      error instanceof ValidationError
        ? describeIssues("args", error.issues)
        : errorToData(error).message;
  }
  throw new TaskDefinitionError(
    `${kind} '${definition.name}': the args schema does not accept the arguments it stores (${refusal}); a worker validates them again before each attempt, so the schema must accept its own output as JSON reads it back — e.g. z.coerce.date() rather than z.date(), and no transform to another type`,
  );
}
