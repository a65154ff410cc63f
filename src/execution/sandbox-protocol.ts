/**
 * @module execution/sandbox-protocol
 * Messages between the worker and a sandbox thread. Results cross as
 * structured clones; `Task`s a function returns (chaining) cross as their data.
 */
import type { TraceCarrier } from "../observability/tracing.js";
import type { ErrorData } from "../task/stored-error.js";
import { Task, type TaskData } from "../task/task-record.js";

export interface RunRequest {
  /** The module that defines the task (file URL); imported once per thread. */
  module: string;
  queueName: string;
  data: TaskData;
  args: unknown[];
  /** The trace context of the attempt's span, for spans the task makes in the thread. */
  trace: TraceCarrier | undefined;
}

export type RunReply = { ok: true; value: unknown } | { ok: false; error: ErrorData };

/**
 * A report from the thread, sent before its reply: the task function's own
 * (`progress()`, `log()`), or `started` once its module is loaded and the
 * function is called (the task's timeout, paused while it waited for the
 * thread, counts again from there).
 */
export type ReportMessage =
  | { report: "progress"; value: unknown }
  | { report: "log"; line: string }
  | { report: "started" };

const TASK_MARK = "__sheppyTask";

/** Replaces `Task` objects (a chaining result) by marked data that survives the clone. */
export function packResult(value: unknown): unknown {
  if (value instanceof Task) return { [TASK_MARK]: value.toJSON() };
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Task)) {
    return value.map((t: Task) => ({ [TASK_MARK]: t.toJSON() }));
  }
  return value;
}

function isMarked(value: unknown): value is { [TASK_MARK]: TaskData } {
  return (
    typeof value === "object" &&
    value !== null &&
    TASK_MARK in value &&
    Object.keys(value).length === 1
  );
}

/** Turns marked data back into `Task` objects. */
export function unpackResult(value: unknown): unknown {
  if (isMarked(value)) return new Task(value[TASK_MARK], null);
  if (Array.isArray(value) && value.length > 0 && value.every(isMarked)) {
    return value.map((v) => new Task(v[TASK_MARK], null));
  }
  return value;
}
