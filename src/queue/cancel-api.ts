/**
 * @module queue/cancel-api
 * `queue.cancel()`: ends a task that has not finished as `cancelled`. By
 * default only a task that has not started: one a worker holds is refused,
 * since its function is already doing the work. With `force`, a running task
 * is cancelled too: its record is `cancelled` at once, its claim ends (its
 * concurrency slot is free, its place under a queue cap too), and its
 * holder learns of it at its next lease renewal — the task's AbortSignal
 * fires with a `TaskCancelledError`, and whatever the function then returns
 * or throws is discarded. A function that ignores its signal runs on to its
 * end (a sandboxed one is stopped), so a task that must not overlap a
 * successor should honour its signal.
 */
import type { Backend } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import { InvalidOptionError, TaskCancellationError, TaskCancelledError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { eventBody } from "../task/lifecycle-event.js";
import type { TaskData } from "../task/task-record.js";
import { expiryOf } from "../task/ttl.js";
import { isResumeTaskName, resumeTaskFor, workflowOfStep } from "../task/workflow-resume-task.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import type { QueueHandle } from "./queue-handle.js";
import { idOf, type TaskRef } from "./task-refs.js";

export interface CancelOptions {
  /** Cancel a running task too: its signal fires at its worker's next lease renewal, and its outcome is discarded. */
  force?: boolean | undefined;
}

const CANCEL_OPTION_KEYS = ["force"] as const;

/** Checks the options of a cancel (`where`: "queue.cancel()"); whether they ask for `force`. */
export function forceOf(options: CancelOptions | undefined, where: string): boolean {
  checkOptionKeys(options, CANCEL_OPTION_KEYS, where);
  const force = options?.force;
  if (force !== undefined && typeof force !== "boolean") {
    throw new InvalidOptionError(
      `${where}: option force must be true or false, got ${describeGiven(force)}`,
    );
  }
  return force === true;
}

/**
 * Whether `current` resumes a workflow that still runs: cancelling it would
 * leave the workflow running with nothing to move it on. Once the workflow
 * has ended (cancelled, say) its resume has nothing left to do, and cancels
 * as any task.
 */
export async function resumesRunningWorkflow(
  backend: Pick<Backend, "runningWorkflows">,
  queue: string,
  current: TaskData,
): Promise<boolean> {
  return (
    isResumeTaskName(current.name) &&
    (await backend.runningWorkflows(queue, [current.workflowId ?? ""])).size > 0
  );
}

/**
 * How long past its fire time a cancelled cron run's record is kept at least:
 * a cron manager adds only fire times after its own clock's now, and workers'
 * clocks may disagree by this much.
 */
const CRON_RUN_KEPT_PAST_FIRE_MS = 3_600_000;

/**
 * `expiresAt` for cancelled `current`, kept until after its fire time when it
 * is a cron's run that waits for one: the cron manager adds a fire time's run
 * whenever none exists, so a record expiring before then would bring the
 * skipped run back.
 */
function keptPastFireTime(current: TaskData, expiresAt: number | null): number | null {
  if (expiresAt === null || current.cronId === null || current.status !== "scheduled")
    return expiresAt;
  const fireTime = current.scheduledAt === null ? Number.NaN : Date.parse(current.scheduledAt);
  return Number.isNaN(fireTime)
    ? expiresAt
    : Math.max(expiresAt, fireTime + CRON_RUN_KEPT_PAST_FIRE_MS);
}

/**
 * Cancels the unfinished task `current` (as just read) in one backend step;
 * its `cancelled` record, or `null` when it changed meanwhile (claimed —
 * unless `running` — or finished).
 */
export async function cancelCurrent(
  queue: QueueHandle,
  backend: Backend,
  current: TaskData,
  running: boolean,
): Promise<TaskData | null> {
  const { id } = current;
  // The cancelled record expires by its task's error retention, resolved here from its options.
  const at = queue.clock.now();
  const expiresAt = keptPastFireTime(
    current,
    expiryOf(
      { status: "cancelled", finishedAt: isoAt(at), config: current.config },
      backend.retention,
      at,
    ),
  );
  // A workflow's step ends as a step: its workflow goes on without it.
  const workflow = workflowOfStep(current);
  const resume = workflow === null ? null : resumeTaskFor(workflow, current.workflowId!, id, at);
  const workflowStep =
    resume === null
      ? undefined
      : {
          workflowId: current.workflowId!,
          resume,
          ...(backend.eventCap > 0 ? { resumeEvent: eventBody("added", resume, at) } : {}),
        };
  const event =
    backend.eventCap > 0
      ? eventBody("cancelled", { ...current, status: "cancelled", finishedAt: isoAt(at) }, at)
      : undefined;
  const cancelled = await backend.cancel(queue.name, id, {
    at,
    expiresAt,
    workflowStep,
    running,
    ...(event ? { event } : {}),
  });
  // A task this process runs inline hears of it at once; a worker's, at its next renewal.
  if (cancelled && running) queue.interruptInline(id, new TaskCancelledError(id));
  return cancelled;
}

/** Cancels `ref` in `queue`; returns its `cancelled` record. Throws `TaskCancellationError` when it cannot. */
export async function cancelTask(
  queue: QueueHandle,
  ref: TaskRef,
  options?: CancelOptions,
): Promise<TaskData> {
  const id = idOf(ref, "queue.cancel()");
  const running = forceOf(options, "queue.cancel()");
  const backend = await queue.connect();
  let current = (await backend.getTasks(queue.name, [id])).get(id);
  if (current && (await resumesRunningWorkflow(backend, queue.name, current))) {
    throw new TaskCancellationError(
      `Cannot cancel task ${id}: it resumes workflow ${current.workflowId}; cancel the workflow instead (queue.cancelWorkflow, sheppy workflow cancel)`,
      { reason: "workflow-step", id, status: current.status },
    );
  }
  if (current && current.finishedAt === null) {
    const cancelled = await cancelCurrent(queue, backend, current, running);
    if (cancelled) return cancelled;
    current = (await backend.getTasks(queue.name, [id])).get(id);
  }
  if (!current) {
    // A workflow's id given where a task's goes: say where it goes.
    const workflow = await backend.getWorkflows(queue.name, [id]).then(
      (found) => found.has(id),
      () => false,
    );
    throw new TaskCancellationError(
      workflow
        ? `Cannot cancel task ${id}: it is a workflow of queue '${queue.name}', not a task; cancel it with queue.cancelWorkflow (sheppy workflow cancel)`
        : `Cannot cancel task ${id}: queue '${queue.name}' has no such task`,
      { reason: workflow ? "workflow-step" : "not-found", id },
    );
  }
  if (current.finishedAt !== null) {
    throw new TaskCancellationError(
      `Cannot cancel task ${id}: it has already finished (${current.status})`,
      { reason: "finished", id, status: current.status },
    );
  }
  throw new TaskCancellationError(
    `Cannot cancel task ${id}: it is already running (queue.cancel(task, { force: true }) cancels a running task too; its signal fires and its outcome is discarded)`,
    { reason: "running", id, status: current.status },
  );
}
