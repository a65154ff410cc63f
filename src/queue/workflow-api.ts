/**
 * @module queue/workflow-api
 * The workflow methods of `Queue`. Adding a workflow runs its body in the
 * adding process up to its first steps (so a workflow that asks for nothing
 * completes there), then stores it with those steps in one backend call;
 * from then on workers move it on, one resume after the last step of each
 * yield. Reads decode results through the definition's result schema, as
 * task reads do.
 */
import type {
  Backend,
  StoredWorkflow as StoredRecord,
  WorkflowAddEvents,
} from "../backends/backend.js";
import { createdOn, isoAt } from "../clock.js";
import {
  InvalidTaskError,
  TaskCancellationError,
  TaskStateError,
  WorkflowDefinitionError,
  WorkflowNotFoundError,
} from "../errors.js";
import { replayWorkflow } from "../execution/workflow-replay.js";
import { advance, checkWorkflowPayloads } from "../execution/workflow-resume.js";
import { workflowRetryPlan } from "../execution/workflow-retry.js";
import { eventBody, finishedWorkflowEvent, workflowEventBody } from "../task/lifecycle-event.js";
import { checkPayloadSize } from "../task/payload-limit.js";
import { validateAsync } from "../task/schema.js";
import { Task, type TaskData } from "../task/task-record.js";
import { expiryOf } from "../task/ttl.js";
import {
  type FinishedWorkflowStatus,
  Workflow,
  type WorkflowData,
} from "../task/workflow-record.js";
import { findWorkflow } from "../task/workflow-registry.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { addOptionsFor } from "./add-events.js";
import { type CancelOptions, cancelTask, forceOf } from "./cancel-api.js";
import { decodeTask } from "./decode-task.js";
import { checkTaskId } from "./dedupe-options.js";
import type { QueueHandle } from "./queue-handle.js";
import { checkIdText, describeRef } from "./task-refs.js";

/** A workflow or its id. */
export type WorkflowRef<R = unknown> = Workflow<R> | string;

type ResultOf<T> = T extends Workflow<infer R> ? R : unknown;
/** `waitForWorkflow([a, b])` → `[Workflow<A>, Workflow<B>]`, each finished. */
export type FinishedWorkflows<L extends readonly WorkflowRef[]> = {
  -readonly [K in keyof L]: Workflow<ResultOf<L[K]>, FinishedWorkflowStatus>;
};
/** The record read back for a workflow of type `W`; for a union of workflows, the union of their records. */
export type StoredWorkflow<W extends Workflow<unknown>> =
  W extends Workflow<infer R> ? Workflow<R> : never;
/** {@link StoredWorkflow} once it has finished (what `waitForWorkflow` resolves with): completed, failed or cancelled. */
export type FinishedWorkflow<W extends Workflow<unknown>> =
  W extends Workflow<infer R> ? Workflow<R, FinishedWorkflowStatus> : never;
/** {@link StoredWorkflow} once `cancelWorkflow` has cancelled it. */
export type CancelledWorkflow<W extends Workflow<unknown>> =
  W extends Workflow<infer R> ? Workflow<R, "cancelled"> : never;
/** `getWorkflow([a, b])` → `[Workflow<A> | null, Workflow<B> | null]`. */
export type WorkflowsOrNull<L extends readonly WorkflowRef[]> = {
  -readonly [K in keyof L]: Workflow<ResultOf<L[K]>> | null;
};

/** The id `ref` stands for; `where` names the method in the error. */
export function workflowIdOf(ref: WorkflowRef, where: string): string {
  if (ref instanceof Workflow) return ref.id;
  if (typeof ref === "string" && ref !== "") return checkIdText(ref, "workflow", where);
  throw new InvalidTaskError(
    `${where} expects a Workflow or a workflow id; got ${describeRef(ref)}`,
  );
}

/** A finished record's expiry by the workflow's own TTLs, then the backend's. */
function expiryOfWorkflow(record: WorkflowData, backend: Backend, now: number): number | null {
  if (record.finishedAt === null) return null;
  return expiryOf(
    record as unknown as Pick<TaskData, "status" | "finishedAt" | "config">,
    backend.retention,
    now,
  );
}

/** How `queue.addWorkflow()` stores a workflow. */
export interface AddWorkflowOptions {
  /**
   * Store it under this id instead of the one its factory gave it (the same
   * rule as a task's id: 1–128 ASCII letters, digits, `_ . : -`): while the
   * queue holds a workflow with this id — running, or finished and not yet
   * expired — adding again starts nothing and returns that one. An order's
   * id makes "start this order's workflow" safe to repeat.
   */
  id?: string | undefined;
}

const ADD_WORKFLOW_OPTION_KEYS = Object.keys({
  id: true,
} satisfies Record<keyof AddWorkflowOptions, true>);

/** `queue.addWorkflow(wf, options)`: see the module header. Returns the workflow as stored. */
export async function addWorkflow<R>(
  queue: QueueHandle,
  workflow: Workflow<R>,
  options?: AddWorkflowOptions,
): Promise<Workflow<R>> {
  return (await startWorkflow(queue, workflow, options)).workflow;
}

/**
 * {@link addWorkflow}, also answering whether this call stored it (`false`:
 * the queue held a workflow under its id) — what the command line and the
 * HTTP API report.
 */
export async function startWorkflow<R>(
  queue: QueueHandle,
  workflow: Workflow<R>,
  options?: AddWorkflowOptions,
): Promise<{ workflow: Workflow<R>; added: boolean }> {
  if (!(workflow instanceof Workflow)) {
    const got =
      (workflow as unknown) instanceof Task
        ? "a Task (add it with queue.add)"
        : typeof workflow === "function"
          ? "a function (call the workflow factory to create a Workflow)"
          : typeof workflow;
    throw new InvalidTaskError(`queue.addWorkflow() expects a Workflow; got ${got}`);
  }
  checkOptionKeys(options, ADD_WORKFLOW_OPTION_KEYS, "queue.addWorkflow()");
  const given = workflow.toJSON();
  const createdAt = createdOn(queue.clock, given.createdAt);
  const data: WorkflowData =
    options?.id === undefined
      ? { ...given, createdAt }
      : { ...given, id: checkTaskId(options.id, "queue.addWorkflow()"), seed: given.id, createdAt };
  const definition = findWorkflow(data.name);
  if (!definition) {
    throw new WorkflowDefinitionError(
      `queue.addWorkflow(): no workflow named '${data.name}' is defined in this process`,
    );
  }
  checkPayloadSize(
    data.args,
    queue.maxPayloadBytes,
    `queue.addWorkflow(): the arguments of workflow '${data.name}' (id ${data.id})`,
  );
  const backend = await queue.connect();
  const now = () => queue.clock.now();
  const replay = replayWorkflow({ definition, workflow: data, outcomes: new Map(), now });
  const at = now();
  const { record, steps } = advance(data, replay, at);
  checkWorkflowPayloads(data, { record, steps }, queue.maxPayloadBytes, "queue.addWorkflow()");
  const added = await backend.addWorkflow(
    queue.name,
    record,
    steps,
    expiryOfWorkflow(record, backend, at),
    addEventsFor(backend, record, steps, at),
  );
  if (added && backend.inline === undefined)
    return { workflow: (await decodeWorkflow(record)) as Workflow<R>, added };
  // Already held (the stored one is returned), or run inline as it was added: read it back.
  await queue.runInline();
  const stored = (await backend.getWorkflows(queue.name, [data.id])).get(data.id);
  if (!stored) throw new WorkflowNotFoundError(data.id, queue.name);
  return { workflow: (await decodeWorkflow(stored.record)) as Workflow<R>, added };
}

/** The stored workflows among `ids` (decoded), by id. */
export async function readWorkflows(
  queue: QueueHandle,
  ids: readonly string[],
): Promise<Map<string, Workflow>> {
  const backend = await queue.connect();
  const found = new Map<string, Workflow>();
  for (const [id, stored] of await backend.getWorkflows(queue.name, ids))
    found.set(id, await decodeWorkflow(stored.record));
  return found;
}

/**
 * `queue.getWorkflowSteps(ref)`: each step's task as it stands, aligned with
 * `workflow.steps` — its record while the queue holds it, else the finished
 * record the workflow kept (a step's own record may expire first), else `null`.
 */
export async function readWorkflowSteps(
  queue: QueueHandle,
  ref: WorkflowRef,
): Promise<(Task | null)[]> {
  const id = workflowIdOf(ref, "queue.getWorkflowSteps()");
  const backend = await queue.connect();
  const stored = (await backend.getWorkflows(queue.name, [id])).get(id);
  if (!stored) throw new WorkflowNotFoundError(id, queue.name);
  const taskIds = stored.record.steps.map((step) => step.taskId);
  const live = await backend.getTasks(queue.name, taskIds);
  return Promise.all(
    taskIds.map((taskId) => {
      const record = live.get(taskId) ?? stored.outcomes.get(taskId);
      return record ? decodeTask(record) : null;
    }),
  );
}

/**
 * `force`: cancel its running steps too, as `queue.cancel(step, { force: true })`
 * does a task: each step's signal fires at its worker's next lease renewal
 * and its outcome is discarded. Without it a running step runs to its end.
 */
export type CancelWorkflowOptions = CancelOptions;

/** `queue.cancelWorkflow(ref, options)`: the cancelled workflow; a finished or unknown one is an error. */
export async function cancelWorkflow(
  queue: QueueHandle,
  ref: WorkflowRef,
  options?: CancelWorkflowOptions,
): Promise<Workflow<unknown, "cancelled">> {
  const force = forceOf(options, "queue.cancelWorkflow()");
  const id = workflowIdOf(ref, "queue.cancelWorkflow()");
  const backend = await queue.connect();
  const current = (await backend.getWorkflows(queue.name, [id])).get(id);
  if (!current) throw new WorkflowNotFoundError(id, queue.name);
  const at = queue.clock.now();
  const finishedAt = isoAt(at);
  const expiresAt = expiryOfWorkflow(
    { ...current.record, status: "cancelled", finishedAt },
    backend,
    at,
  );
  const stepExpiresAt = expiryOf(
    { status: "cancelled", finishedAt, config: {} as TaskData["config"] },
    backend.retention,
    at,
  );
  const event =
    backend.eventCap > 0
      ? workflowEventBody(
          "workflow:cancelled",
          { ...current.record, status: "cancelled", finishedAt },
          at,
        )
      : undefined;
  // Sent again, with the steps read afresh, while a resume adds steps between the read and the cancel.
  let waiting = current.record.pending;
  let result: Awaited<ReturnType<Backend["cancelWorkflow"]>>;
  for (let round = 1; ; round++) {
    const events = await cancelledEvents(backend, queue.name, waiting, at);
    result = await backend.cancelWorkflow(queue.name, id, {
      at,
      expiresAt,
      stepExpiresAt,
      events,
      event,
    });
    if (result !== "stale") break;
    if (round === STALE_ROUNDS) {
      throw new TaskStateError(
        `Cannot cancel workflow ${id}: its steps changed ${STALE_ROUNDS} times while it was being cancelled; try again`,
        { reason: "changed", id, status: "running" },
      );
    }
    waiting = (await backend.getWorkflows(queue.name, [id])).get(id)?.record.pending ?? [];
  }
  if (result === null) throw new WorkflowNotFoundError(id, queue.name);
  if (result === "finished") {
    const status = (await backend.getWorkflows(queue.name, [id])).get(id)?.record.status;
    throw new TaskStateError(
      `Cannot cancel workflow ${id}: it has already finished (${status ?? "finished"})`,
      { reason: "finished", id, status: status ?? null },
    );
  }
  if (force)
    await cancelRunningSteps(
      queue,
      backend,
      result.steps.map((step) => step.taskId),
    );
  return (await decodeWorkflow(result)) as Workflow<unknown, "cancelled">;
}

/**
 * Cancels, with force, those of a cancelled workflow's steps still running.
 * A step that finished in between is left as it ended.
 */
async function cancelRunningSteps(
  queue: QueueHandle,
  backend: Backend,
  stepIds: readonly string[],
): Promise<void> {
  const steps = await backend.getTasks(queue.name, stepIds);
  for (const step of steps.values()) {
    if (step.status !== "processing") continue;
    await cancelTask(queue, step.id, { force: true }).catch((error: unknown) => {
      if (!(error instanceof TaskCancellationError)) throw error;
    });
  }
}

/** What `addWorkflow` appends to the log once it stores `record`: the workflow's events, then each step's `added`. */
function addEventsFor(
  backend: Backend,
  record: WorkflowData,
  steps: readonly TaskData[],
  at: number,
): WorkflowAddEvents | undefined {
  if (backend.eventCap === 0) return undefined;
  const end = finishedWorkflowEvent(record, at);
  const added = workflowEventBody("workflow:added", { ...record, status: "running" }, at);
  return {
    workflow: end === undefined ? [added] : [added, end],
    steps: addOptionsFor(backend, steps, at)?.events ?? [],
  };
}

/** Times a workflow cancel is sent again because the workflow's steps changed under it. */
const STALE_ROUNDS = 10;

/** The `cancelled` event of each of `stepIds` still held, by id, as a cancel at `at` writes it; none while the log is off. */
async function cancelledEvents(
  backend: Backend,
  queue: string,
  stepIds: readonly string[],
  at: number,
): Promise<Map<string, string> | undefined> {
  if (backend.eventCap === 0) return undefined;
  const finishedAt = isoAt(at);
  const events = new Map<string, string>();
  for (const [stepId, step] of await backend.getTasks(queue, stepIds)) {
    events.set(stepId, eventBody("cancelled", { ...step, status: "cancelled", finishedAt }, at));
  }
  return events;
}

/**
 * `queue.retryWorkflow(ref)`: runs a failed workflow again (see
 * `execution/workflow-retry.ts` for what runs); any other status is a
 * `TaskStateError`, an unknown workflow a `WorkflowNotFoundError`.
 */
export async function retryWorkflow(queue: QueueHandle, ref: WorkflowRef): Promise<Workflow> {
  const id = workflowIdOf(ref, "queue.retryWorkflow()");
  const backend = await queue.connect();
  const stored = (await backend.getWorkflows(queue.name, [id])).get(id);
  if (!stored) {
    const step = (await backend.getTasks(queue.name, [id])).get(id);
    if (step?.workflowId) {
      throw new TaskStateError(
        `Cannot retry workflow ${id}: it is a task of workflow ${step.workflowId}, not a workflow; retry the workflow (sheppy workflow retry ${step.workflowId})`,
        { reason: "workflow-step", id, status: step.status },
      );
    }
    throw new WorkflowNotFoundError(id, queue.name);
  }
  if (stored.record.status !== "failed") throw notRetryable(id, stored.record.status);
  const retried = await retryStored(queue, backend, stored);
  if (retried === null) throw new WorkflowNotFoundError(id, queue.name);
  if (retried === false) {
    const now = (await backend.getWorkflows(queue.name, [id])).get(id)?.record.status;
    throw new TaskStateError(
      now === undefined
        ? `Cannot retry workflow ${id}: it was deleted while it was being retried`
        : `Cannot retry workflow ${id}: someone else retried it at the same time (it is ${now} now)`,
      { reason: "changed", id, status: now ?? null },
    );
  }
  if (backend.inline === undefined) return decodeWorkflow(retried);
  await queue.runInline();
  const after = (await backend.getWorkflows(queue.name, [id])).get(id);
  if (!after) throw new WorkflowNotFoundError(id, queue.name);
  return decodeWorkflow(after.record);
}

/**
 * Runs failed workflow `stored` (as read) again: the record it runs as;
 * `false` when it changed since the read, `null` when it is gone.
 */
export async function retryStored(
  queue: QueueHandle,
  backend: Backend,
  stored: StoredRecord,
): Promise<WorkflowData | false | null> {
  const at = queue.clock.now();
  const plan = workflowRetryPlan(stored, at);
  const events =
    backend.eventCap > 0
      ? {
          workflow: [workflowEventBody("workflow:retried", plan.record, at)],
          steps: addOptionsFor(backend, plan.tasks, at)?.events ?? [],
        }
      : undefined;
  const retried = await backend.retryWorkflow(queue.name, stored.record.id, { ...plan, events });
  return retried === true ? plan.record : retried;
}

/** Why a workflow of `status` is not retried. */
function notRetryable(id: string, status: WorkflowData["status"]): TaskStateError {
  const why =
    status === "running"
      ? "it is still running"
      : status === "completed"
        ? "it completed; add it anew to run it again"
        : "it was cancelled; add it anew to run it again";
  return new TaskStateError(
    `Cannot retry workflow ${id}: only a failed workflow is retried, and ${why}`,
    { reason: status === "running" ? "running" : "finished", id, status },
  );
}

/** `queue.deleteWorkflow(ref)`: `false` for an unknown one; a running one must be cancelled first. */
export async function deleteWorkflow(queue: QueueHandle, ref: WorkflowRef): Promise<boolean> {
  const id = workflowIdOf(ref, "queue.deleteWorkflow()");
  const result = await (await queue.connect()).deleteWorkflow(queue.name, id);
  if (result === "running") {
    throw new TaskStateError(`Cannot delete workflow ${id}: it is still running; cancel it first`, {
      reason: "running",
      id,
      status: "running",
    });
  }
  return result;
}

/** A stored workflow record → `Workflow`, its result through the definition's result schema. */
export async function decodeWorkflow(data: WorkflowData): Promise<Workflow> {
  const schema = data.status === "completed" ? findWorkflow(data.name)?.resultSchema : undefined;
  if (!schema) return new Workflow(data, data.result);
  const result = await validateAsync(
    schema,
    data.result,
    `stored result of workflow '${data.name}' (${data.id}) does not match its result schema`,
    "result",
  );
  return new Workflow(data, result);
}
