/**
 * @module queue/task-refs
 * How `Queue` methods accept tasks: a `Task` or its id where a stored task is
 * meant (`TaskRef`), `Task` objects where a task is to be enqueued. Arguments
 * of the wrong kind are refused with an `InvalidTaskError` naming the method
 * and what it got — most often a task factory passed without calling it —
 * and so are arguments over the queue's payload limit.
 */
import { InvalidTaskError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { copiesNote } from "../task/loaded-copies.js";
import { checkPayloadSize } from "../task/payload-limit.js";
import { type FinishedTaskStatus, Task } from "../task/task-record.js";
import { Workflow } from "../task/workflow-record.js";

/** A task or its id. */
export type TaskRef<R = unknown> = Task<R> | string;

type ResultOf<T> = T extends Task<infer R> ? R : unknown;
/**
 * The record read back for a task of type `T`: `Task<R>` for a `Task<R>`, and
 * for a union of tasks the union of their records (`Task<A> | Task<B>`),
 * which a plain `Task<R>` parameter would refuse.
 */
export type StoredTask<T extends Task<unknown>> = T extends Task<infer R> ? Task<R> : never;
/** {@link StoredTask} once it has finished (what `waitFor` resolves with): completed, failed, crashed or cancelled. */
export type FinishedTask<T extends Task<unknown>> =
  T extends Task<infer R> ? Task<R, FinishedTaskStatus> : never;
/** {@link StoredTask} once `cancel` has cancelled it. */
export type CancelledTask<T extends Task<unknown>> =
  T extends Task<infer R> ? Task<R, "cancelled"> : never;
/** `getTask([a, b])` → `[Task<A> | null, Task<B> | null]`. */
export type TasksOrNull<L extends readonly TaskRef[]> = {
  -readonly [K in keyof L]: Task<ResultOf<L[K]>> | null;
};
/** `waitFor([a, b])` → `[Task<A>, Task<B>]`, each finished. */
export type FinishedTasks<L extends readonly TaskRef[]> = {
  -readonly [K in keyof L]: Task<ResultOf<L[K]>, FinishedTaskStatus>;
};

/** The id `ref` stands for; `where` names the method in the error. */
export function idOf(ref: TaskRef, where: string): string {
  if (ref instanceof Task) return ref.id;
  if (typeof ref === "string" && ref !== "") return checkIdText(ref, "task", where);
  throw new InvalidTaskError(
    `${where} expects a Task or a task id; got ${describeRef(ref)}${Array.isArray(ref) ? (MANY_AT_ONCE[where] ?? "") : ""}`,
  );
}

/** Where a method of one task has a counterpart for many, what an array given to it is pointed to. */
const MANY_AT_ONCE: Readonly<Record<string, string>> = {
  "queue.cancel()":
    " (one task per call; queue.cancelAll({ status, name, concurrencyKey }) cancels many)",
  "queue.retry()":
    " (one task per call; queue.retryAll({ status, name, concurrencyKey }) runs many again)",
};

/**
 * What a method that takes a task or workflow (or its id) was given instead,
 * for its error: the other kind of record says which methods take it, since
 * passing a workflow to a task method (or the reverse) is the usual slip.
 */
export function describeRef(ref: unknown): string {
  if (ref === "") return "an empty string";
  if (ref === null) return "null";
  if (ref instanceof Workflow)
    return "a Workflow (workflows go to getWorkflow, waitForWorkflow and cancelWorkflow)";
  if (ref instanceof Task) return "a Task (tasks go to getTask, waitFor and cancel)";
  if (Array.isArray(ref)) return "an array";
  return typeof ref;
}

/**
 * `id` when it could name a stored task or workflow: no id Sheppy makes or
 * accepts holds NUL, which PostgreSQL cannot even be asked about — so one that
 * does is refused as what it is, bad input, the same on every backend.
 */
export function checkIdText(id: string, what: "task" | "workflow", where: string): string {
  if (id.includes("\u0000")) {
    throw new InvalidTaskError(`${where}: a ${what} id never holds the NUL character (U+0000)`);
  }
  return id;
}

/**
 * Refuses any item of `tasks` that is not a `Task`, and any task whose
 * arguments are over `maxPayloadBytes` (`PayloadTooLargeError`); `where`
 * names the method in the error. Nothing is added when one item is refused.
 */
export function checkTasks(
  tasks: readonly unknown[],
  where: string,
  maxPayloadBytes: number,
  /** The caller gave a list (else one item): the error then names the item's place. */
  listed = true,
): asserts tasks is readonly Task[] {
  tasks.forEach((item, index) => {
    if (!(item instanceof Task)) {
      const what = describeNonTask(item);
      throw new InvalidTaskError(
        listed
          ? `${where} expects Task objects; item [${index}] is ${what}`
          : `${where} expects a Task; got ${what}`,
      );
    }
    const position = tasks.length === 1 ? "" : `item [${index}], `;
    checkPayloadSize(
      item.args as JsonValue[],
      maxPayloadBytes,
      `${where}: the arguments of task '${item.name}' (${position}id ${item.id})`,
    );
  });
}

/** A `Task` made by another copy of Sheppy: not this copy's class, but a Task's class name and shape. */
function isForeignTask(item: unknown): boolean {
  if (typeof item !== "object" || item === null || item.constructor?.name !== "Task") return false;
  const { id, name, args } = item as { id?: unknown; name?: unknown; args?: unknown };
  return typeof id === "string" && typeof name === "string" && Array.isArray(args);
}

/** What was given where a Task belongs, and how to make one. */
export function describeNonTask(item: unknown): string {
  if (typeof item === "function") return "a function (call the task factory to create a Task)";
  if (item instanceof Workflow) return "a Workflow (start it with queue.addWorkflow)";
  if (item === null) return "null";
  if (Array.isArray(item)) return "an array (a list in a list)";
  if (isForeignTask(item))
    return `a Task of another copy of sheppy, not this one's (${copiesNote()})`;
  if (typeof item === "object")
    return "a plain object, not a Task (a Task comes from calling its task factory, e.g. sendEmail(to, subject); a record read back or a cron listing's entry is not one)";
  return typeof item;
}
