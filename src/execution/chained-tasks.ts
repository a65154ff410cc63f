/**
 * @module execution/chained-tasks
 * Tasks an attempt returned (chaining) join the queue when the attempt is
 * settled, in the same atomic step. Their ids are derived from the parent's
 * id, the fence of the claim the attempt ran under, and their position: the
 * same attempt settled twice (a resend after a lost reply) names the same
 * children, which the backend adds only once, while a later attempt of the
 * parent (a retry, a manual re-run) names new ones.
 */
import type { JsonValue } from "../json.js";
import type { TaskData } from "../task/task-record.js";
import { uuidV5 } from "../util/uuid-v5.js";

const CHILD_NAMESPACE = "61cef7c4-ab8b-43ab-8d73-e55475fef304";

/** The id of the `index`-th task chained by the attempt of `parentId` under `fence`. */
export function childId(parentId: string, fence: number, index: number): string {
  return uuidV5(CHILD_NAMESPACE, `${parentId}/${fence}/${index}`);
}

/**
 * The chained tasks of a completed attempt with their derived ids: as they
 * are added (pending), and the parent's record whose result names them (as
 * the function created them, under their new ids). A task returned more
 * than once (the same id) is one child, named by its first place, as
 * `queue.add([t, t])` adds `t` once; the result still lists it at each place.
 */
export function identifyChildren(
  record: TaskData,
  children: readonly TaskData[],
  fence: number,
): { record: TaskData; children: TaskData[] } {
  const derived = new Map<string, string>();
  const added: TaskData[] = [];
  const named = children.map((child, index): TaskData => {
    const known = derived.get(child.id);
    if (known !== undefined) return { ...child, id: known };
    const first = { ...child, id: childId(record.id, fence, index) };
    derived.set(child.id, first.id);
    added.push(first);
    return first;
  });
  const result = (record.resultKind === "task" ? named[0] : named) as unknown as JsonValue;
  return {
    record: { ...record, result },
    children: added.map((child): TaskData => ({ ...child, status: "pending" })),
  };
}
