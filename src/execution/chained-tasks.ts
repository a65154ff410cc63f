/**
 * @module execution/chained-tasks
 * Tasks an attempt returned (chaining) join the queue as pending. Callers add
 * them before they store the attempt's own record, so whoever sees the parent
 * completed can already find its children.
 */
import type { Backend } from "../backends/backend.js";
import type { TaskData } from "../task/task-record.js";

/**
 * Adds `children` (an attempt's `outcome.children`) to `queue` as pending tasks.
 * Most attempts return none: callers test `children.length` first, so they
 * await only when there is something to add.
 * @example
 * if (outcome.children.length > 0) await appendChildren(backend, queue, outcome.children);
 */
export function appendChildren(
  backend: Pick<Backend, "append">,
  queue: string,
  children: readonly TaskData[],
): Promise<boolean[]> {
  return backend.append(
    queue,
    children.map((child): TaskData => ({ ...child, status: "pending" })),
  );
}
