/**
 * @module queue/decode-task
 * Stored records → `Task` objects for callers. A completed task whose
 * definition declares a `result` schema yields the schema's parsed output
 * (a `Date`, not its ISO string); a chaining task yields the added `Task`s.
 */
import { validateAsync } from "../task/schema.js";
import { chainingTask, Task, type TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";

export async function decodeTask(data: TaskData): Promise<Task> {
  const chaining = chainingTask(data);
  if (chaining) return chaining;
  const schema = data.status === "completed" ? findTask(data.name)?.resultSchema : undefined;
  if (!schema) return new Task(data, data.result);
  const result = await validateAsync(
    schema,
    data.result,
    `stored result of task '${data.name}' (${data.id}) does not match its result schema`,
    "result",
  );
  return new Task(data, result);
}
