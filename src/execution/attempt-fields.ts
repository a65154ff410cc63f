/**
 * @module execution/attempt-fields
 * The fields that name an attempt in a log line — the worker's own lines and,
 * through `taskMixin`, the lines a task's code writes with its own logger —
 * so every line of one attempt is found by one query.
 */
import { traceMixin } from "../observability/tracing.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";
import { runScope } from "./run-context.js";

/** The fields that name an attempt in a log line; `attempt` counts from 1, manual retries included. */
export function attemptFields(queue: string, record: TaskData) {
  return {
    queue,
    taskId: record.id,
    task: record.name,
    attempt: attemptNumber(record),
    ...(record.workflowId === null ? {} : { workflowId: record.workflowId }),
  };
}

/** What {@link taskMixin} adds to a line: the running attempt's fields and the active span's ids, each when there is one. */
export interface TaskLogFields {
  queue?: string;
  taskId?: string;
  task?: string;
  attempt?: number;
  workflowId?: string;
  traceId?: string;
  spanId?: string;
}

/**
 * A pino `mixin` for the application's own logger: a line written inside a
 * running task gets the fields the worker's lines name it by — `queue`,
 * `taskId`, `task` (its name), `attempt` and, for a workflow's step,
 * `workflowId` — and, while a span is active, its `traceId` and `spanId`
 * (as `traceMixin`). Outside a task it adds only the span's ids, if any.
 * @example
 * const logger = pino({ mixin: taskMixin });
 * const charge = task({ name: "charge" }, async (order: string) => {
 *   logger.info({ order }, "charging"); // {"queue":"billing","taskId":"0193…","task":"charge","attempt":1,…}
 * });
 */
export function taskMixin(): TaskLogFields {
  const scope = runScope.getStore();
  const trace = traceMixin();
  if (!scope) return trace;
  return { ...attemptFields(scope.attempt.queueName, scope.attempt.data), ...trace };
}
