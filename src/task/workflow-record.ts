/**
 * @module task/workflow-record
 *
 * Terminology
 * - **workflow definition**: a generator function registered under a unique
 *   name by `workflow()`; it yields steps and returns the workflow's result.
 * - **workflow** (`Workflow<R>`): one invocation of a definition — id, name,
 *   JSON arguments, status, the steps taken so far and the outcome.
 *   Immutable, like a `Task`.
 * - **step**: one task a workflow yielded. Its task id is derived from the
 *   workflow id and the step's index, so every replay names the same task.
 * - **resume**: one run of the generator from the start, fed the finished
 *   steps; it ends waiting for new steps, or with the workflow's outcome.
 *
 * Status flow: `running` → `completed` | `failed` | `cancelled`.
 */
import { deepFreeze, type JsonValue } from "../json.js";
import { type ErrorData, TaskError } from "./stored-error.js";

export const WORKFLOW_STATUSES = ["running", "completed", "failed", "cancelled"] as const;

export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** Version of the stored encoding of {@link WorkflowData}. */
export const WORKFLOW_DATA_VERSION = 1;

/** One step a workflow took: the task it yielded, as the determinism guard compares it. */
export interface WorkflowStep {
  /** The step's task id (derived from the workflow id and `index`). */
  taskId: string;
  /** The step's place in the workflow's step list, from 0. */
  index: number;
  /** Which yield of the workflow asked for it, from 0 (the tasks of a fan-out share one). */
  yield: number;
  /** The task's name. */
  name: string;
  /** A hash of the task's arguments (canonical JSON), to notice changed arguments on replay. */
  argsHash: string;
}

/** How long a finished workflow record is kept (seconds; `null` keeps it; absent inherits the backend's). */
export interface WorkflowConfig {
  ttl?: number | null;
  errorTtl?: number | null;
}

/** The stored JSON form of a workflow. Instants are ISO-8601 strings in UTC. */
export interface WorkflowData {
  v: number;
  id: string;
  name: string;
  args: JsonValue[];
  status: WorkflowStatus;
  /** Every step taken so far, in order. */
  steps: WorkflowStep[];
  /** Task ids of the steps the workflow waits for (empty once it has finished). */
  pending: string[];
  /** What `sideEffect()`/`now()` gave on their first run, replayed afterwards, in order: `{ value }` or `{ error }`. */
  effects: JsonValue[];
  result: JsonValue;
  error: ErrorData | null;
  config: WorkflowConfig;
  createdAt: string;
  finishedAt: string | null;
  /** Times a failed run was run again (`retryWorkflow`); absent until the first. */
  retryCount?: number;
  /**
   * Goes into its steps' task ids with its id; set (a new UUID) when it was
   * added under an id of the caller's, which a later workflow may take once
   * this one is gone, while its steps' records are still held. Absent: the
   * id alone is unique.
   */
  seed?: string;
}

/** The statuses a workflow ends in: it does not change any more. */
export type FinishedWorkflowStatus = Exclude<WorkflowStatus, "running">;

/** Statuses of a workflow that will not change any more. */
export const FINISHED_WORKFLOW_STATUSES: ReadonlySet<WorkflowStatus> =
  new Set<FinishedWorkflowStatus>(["completed", "failed", "cancelled"]);

const toDate = (value: string | null): Date | null => (value === null ? null : new Date(value));

/** What `result` holds while a workflow has status `S`: the result once completed, `null` otherwise. */
type ResultIn<R, S extends WorkflowStatus> = S extends "completed" ? R : null;

/** What `error` holds while a workflow has status `S`: always an error once it failed, never once it completed. */
type ErrorIn<S extends WorkflowStatus> = S extends "failed"
  ? TaskError
  : S extends "completed"
    ? null
    : TaskError | null;

/**
 * One workflow: what runs (name + arguments), the steps taken so far and the
 * outcome. Immutable — assigning a field throws. `R` is the type of `result`
 * once the workflow has completed.
 *
 * A union over the statuses, as `Task` is: `if (wf.status === "completed")
 * wf.result` is an `R`, and a `failed` workflow's `error` is never `null`.
 */
export type Workflow<R = unknown, S extends WorkflowStatus = WorkflowStatus> = {
  [K in S]: WorkflowWithStatus<R, K>;
}[S];

/** How `Workflow` is constructed and recognised (`value instanceof Workflow`). */
export interface WorkflowConstructor {
  /** @internal Use a workflow factory to create workflows; stored ones are read back through the Queue. */
  new <R = unknown>(data: WorkflowData, result: R | null): Workflow<R>;
  readonly prototype: Workflow;
}

/** One workflow of status `S`; see {@link Workflow}, the type to use. */
class WorkflowWithStatus<R, S extends WorkflowStatus> {
  readonly id: string;
  readonly name: string;
  readonly args: readonly JsonValue[];
  readonly status: S;
  readonly steps: readonly Readonly<WorkflowStep>[];
  /** Task ids of the steps the workflow waits for. */
  readonly pending: readonly string[];
  /** The result once `completed`; `null` in every other status. */
  readonly result: ResultIn<R, S>;
  /** The error once `failed`; `null` once `completed`. */
  readonly error: ErrorIn<S>;
  readonly config: Readonly<WorkflowConfig>;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  /** Times it failed and was run again (`queue.retryWorkflow`). */
  readonly retryCount: number;
  readonly #data: WorkflowData;

  constructor(data: WorkflowData, result: R | null) {
    this.#data = deepFreeze(data);
    this.id = data.id;
    this.name = data.name;
    this.args = data.args;
    this.status = data.status as S;
    this.steps = data.steps;
    this.pending = data.pending;
    // The type promises these per status (see ErrorIn): held to here whatever a record says.
    this.result = (data.status === "completed" ? result : null) as ResultIn<R, S>;
    this.error = errorOf(data) as ErrorIn<S>;
    this.config = data.config;
    this.createdAt = new Date(data.createdAt);
    this.finishedAt = toDate(data.finishedAt);
    this.retryCount = data.retryCount ?? 0;
    Object.freeze(this);
  }

  /** True once the workflow has completed, failed or been cancelled. */
  get isFinished(): boolean {
    return this.#data.finishedAt !== null;
  }

  /** The stored JSON form (what backends hold). */
  toJSON(): WorkflowData {
    return this.#data;
  }
}

// The class's own name is an implementation detail; inspecting a workflow shows the name users know.
Object.defineProperty(WorkflowWithStatus, "name", { value: "Workflow" });

export const Workflow = WorkflowWithStatus as unknown as WorkflowConstructor;

/** A record's error as its status promises it: made up for a failure stored without one, dropped from a success. */
function errorOf(data: WorkflowData): TaskError | null {
  if (data.status === "completed") return null;
  if (data.error) return new TaskError(data.error);
  if (data.status !== "failed") return null;
  return new TaskError({
    type: "TaskFailedError",
    message: "the workflow failed with no error recorded",
    stack: null,
    cause: null,
  });
}
