/**
 * @module execution/result-json
 * A task's or workflow's return value as the JSON its record stores. One
 * function for every place a result is taken: the worker (a task run inline,
 * a workflow replayed) and a sandbox thread, which must judge the value before it is cloned across —
 * a clone turns a class instance into a plain object, and refuses a
 * function with a message that names neither the task nor where it was.
 */
import { SerializationError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import { Workflow } from "../task/workflow-record.js";

/**
 * `value` as stored (`undefined` as `null`), or a `SerializationError`
 * naming who returned it (`task 'x'`, `workflow 'x'`) and the path.
 */
export function resultJson(who: string, value: unknown): JsonValue {
  try {
    return value === undefined ? null : toJson(value, "result");
  } catch (error) {
    if (error instanceof SerializationError) {
      throw new SerializationError(
        `${who} returned a value JSON cannot store: ${error.message}`,
        error.cause === undefined ? undefined : { cause: error.cause },
      );
    }
    throw error;
  }
}

/** {@link resultJson} of what task `name` returned; its refusal is {@link unstorableResult}. */
export function taskResultJson(name: string, value: unknown): JsonValue {
  // Its record would be stored as the result — a workflow that never starts, seeming to run.
  if (value instanceof Workflow) {
    throw unstorableResult(
      new SerializationError(
        `task '${name}' returned a workflow, which would be stored as its result, not started: a task starts a workflow through a queue (queue.addWorkflow())`,
      ),
    );
  }
  try {
    return resultJson(`task '${name}'`, value);
  } catch (error) {
    throw error instanceof SerializationError ? unstorableResult(error) : error;
  }
}

/**
 * `error` — a result refused for what it is (not JSON, too large) — flagged
 * so that the attempt fails without a retry, saying why: the function ran to
 * its end, so another attempt would repeat all it did, most likely for the
 * same result. The flag is an own property, so it survives a sandbox
 * thread's stored error.
 */
export function unstorableResult<E extends Error>(error: E): E {
  error.message = `${error.message}; not retried: the function ran to its end, and another attempt would repeat what it did`;
  return Object.assign(error, { unrecoverable: true });
}
