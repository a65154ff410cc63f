/**
 * @module execution/result-json
 * A task's return value as the JSON its record stores. One function for
 * both places a result is taken: the worker (a task run inline) and a
 * sandbox thread, which must judge the value before it is cloned across —
 * a clone turns a class instance into a plain object, and refuses a
 * function with a message that names neither the task nor where it was.
 */
import { SerializationError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";

/** `value` as stored (`undefined` as `null`), or a `SerializationError` naming the task and the path. */
export function resultJson(taskName: string, value: unknown): JsonValue {
  try {
    return value === undefined ? null : toJson(value, "result");
  } catch (error) {
    if (error instanceof SerializationError) {
      throw new SerializationError(
        `task '${taskName}' returned a value JSON cannot store: ${error.message}`,
      );
    }
    throw error;
  }
}
