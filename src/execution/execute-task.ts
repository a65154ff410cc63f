/**
 * @module execution/execute-task
 * One attempt of one claimed task, start to outcome: find the definition, run
 * its body (`./attempt-body.ts`: middleware around the function, then the
 * dependencies' teardown, within its timeout), check the result and build the
 * record the attempt leaves. Shared by the worker, the memory backend's instant mode and
 * `TestQueue`, so a task behaves the same everywhere. No backend I/O here.
 */

import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Clock } from "../clock.js";
import { BackendError, TaskDefinitionError, UnknownTaskError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import { checkPayloadSize } from "../task/payload-limit.js";
import { validateAsync } from "../task/schema.js";
import { errorToData } from "../task/stored-error.js";
import { Task, type TaskData } from "../task/task-record.js";
import { findTask, type TaskDefinition } from "../task/task-registry.js";
import type { WorkflowData } from "../task/workflow-record.js";
import type { WorkflowDefinition } from "../task/workflow-registry.js";
import { isResumeTaskName, RESUME_PREFIX, userTaskNames } from "../task/workflow-resume-task.js";
import { canonicalJson } from "../util/canonical-json.js";
import { isThenable } from "../util/thenable.js";
import { runAttemptBody } from "./attempt-body.js";
import type { Middleware } from "./middleware.js";
import {
  completedRecord,
  type FailureKind,
  failure,
  failureKindOf,
  requeuedRecord,
} from "./outcome.js";
import { taskResultJson, unstorableResult } from "./result-json.js";
import {
  AttemptState,
  type DependencyOverrides,
  type RunScope,
  runScope,
  type TaskReports,
} from "./run-context.js";
import { failWorkflowOutcome, resumeWorkflow, type WorkflowSource } from "./workflow-resume.js";

/** Where and how attempts run. */
export interface ExecutionEnvironment {
  readonly queueName: string;
  readonly clock: Clock;
  /** Worker-level middleware; runs outside each task's own middleware. */
  readonly middleware: readonly Middleware[];
  readonly dependencyOverrides?: DependencyOverrides | undefined;
  /** Told about errors thrown by dependency teardown (they do not change the outcome). */
  readonly onTeardownError?: ((error: unknown, data: TaskData) => void) | undefined;
  /** The most bytes of JSON a result, or the arguments of a chained task, may take; over it the attempt fails. */
  readonly maxPayloadBytes: number;
  /** Where resume tasks read their workflows (absent: a resume fails, to be retried elsewhere). */
  readonly workflows?: WorkflowSource | undefined;
}

/** What an attempt produced. */
export interface AttemptOutcome {
  /** The record to store: completed, retrying, failed. */
  readonly record: TaskData;
  /** Tasks the function returned, to add to the queue before `record` is stored. */
  readonly children: readonly TaskData[];
  /** What the attempt threw, when it failed. */
  readonly error?: unknown;
  /**
   * Set by a resume: the workflow record to write with this outcome, onto a
   * stored workflow of `expectedSteps` steps. `children` are then its new
   * steps, whose ids are their own (derived from the workflow), not the parent's.
   */
  readonly workflow?: { readonly record: WorkflowData; readonly expectedSteps: number } | undefined;
  /**
   * The function handed its task back as its worker stopped (it threw the
   * `stopping` signal's reason): `record` is the claimed one put back as
   * pending, no attempt spent.
   */
  readonly handedBack?: true;
}

/** An attempt in flight. */
export interface RunningAttempt {
  readonly outcome: Promise<AttemptOutcome>;
  /** Fires the task's AbortSignal with `reason` (the function decides whether to stop). */
  interrupt(reason: Error): void;
  /** Fires the task's `stopping` signal: its worker began to shut down. */
  requestStop(): void;
}

/** Starts an attempt of `data` (a claimed record), its reports going to `reports`. The returned promise never rejects. */
export function startAttempt(
  data: TaskData,
  env: ExecutionEnvironment,
  reports?: TaskReports,
): RunningAttempt {
  const state = new AttemptState(data, env.queueName, env.dependencyOverrides, env.clock);
  state.reports = reports;
  const scope: RunScope = { attempt: state, resolving: [] };
  const outcome = runScope.run(scope, () => execute(state, env));
  // Fired from the worker (a cancel, a shutdown, a lost claim): the signal's listeners still run
  // as the task, so `currentTask()` in one answers as it does for a timeout fired from within.
  return {
    outcome,
    interrupt: (reason) => runScope.run(scope, () => state.abort(reason)),
    requestStop: () => runScope.run(scope, () => state.requestStop()),
  };
}

async function execute(state: AttemptState, env: ExecutionEnvironment): Promise<AttemptOutcome> {
  const { data } = state;
  const definition = findTask(data.name);
  if (!definition) {
    const known = userTaskNames();
    const resumes = isResumeTaskName(data.name);
    const error = new UnknownTaskError(
      resumes
        ? `no workflow named '${data.name.slice(RESUME_PREFIX.length)}' is defined in this worker; load the module that defines it (sheppy work --tasks takes workflow modules too)`
        : `no task named '${data.name}' is defined in this worker (known: ${known.length ? known.join(", ") : "none"}); import the module that defines it (sheppy work: --tasks <module>)`,
    );
    const now = env.clock.now();
    const failed = failedOutcome(data, error, now, "fatal");
    // A workflow no worker defined for the whole grace period fails instead of staying running.
    return resumes ? await failingWorkflow(data, failed, env, now) : failed;
  }
  if (definition.resumes) return resumeAttempt(data, definition.resumes, env);
  let result: unknown;
  try {
    result = runAttemptBody(state, definition, env);
    // Most tasks are async; a sync one is not awaited at all (one promise less per attempt).
    if (isThenable(result)) result = await result;
  } catch (error) {
    if (state.handsBack(error))
      return { record: requeuedRecord(data), children: [], handedBack: true };
    return failedOutcome(data, error, env.clock.now(), failureKindOf(error), definition.backoff);
  }
  try {
    const outcome = completedOutcome(data, definition, result, env);
    return isThenable(outcome) ? await outcome : outcome;
  } catch (error) {
    // A result the schema refuses may pass on another attempt; one it cannot read back never does.
    return failedOutcome(data, error, env.clock.now(), failureKindOf(error), definition.backoff);
  }
}

/** A resume task's attempt; a failure to read the workflow fails it, and it is retried. */
async function resumeAttempt(
  data: TaskData,
  definition: WorkflowDefinition,
  env: ExecutionEnvironment,
): Promise<AttemptOutcome> {
  try {
    if (!env.workflows) throw new BackendError("this runner cannot read workflows");
    return await resumeWorkflow(
      data,
      definition,
      env.queueName,
      env.workflows,
      () => env.clock.now(),
      env.maxPayloadBytes,
    );
  } catch (error) {
    const now = env.clock.now();
    const failed = failedOutcome(data, error, now, "error");
    return failed.record.status === "retrying"
      ? failed
      : await failingWorkflow(data, failed, env, now);
  }
}

/** A resume's last failure, `failed`, failing its workflow too (see `failWorkflowOutcome`). */
async function failingWorkflow(
  data: TaskData,
  failed: AttemptOutcome,
  env: ExecutionEnvironment,
  now: number,
): Promise<AttemptOutcome> {
  const ended = await failWorkflowOutcome(
    data,
    failed.record,
    failed.error,
    env.queueName,
    env.workflows,
    now,
  );
  return { ...ended, error: failed.error };
}

/** The outcome of an attempt that threw `thrown`; it carries the error its record stores. */
function failedOutcome(
  data: TaskData,
  thrown: unknown,
  now: number,
  kind: FailureKind,
  backoff?: TaskDefinition["backoff"],
): AttemptOutcome {
  const { record, error } = failure(data, thrown, now, kind, backoff);
  return { record, children: [], error };
}

function isTaskList(value: unknown): value is Task[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => item instanceof Task);
}

/** The outcome of a function that returned `result`; a promise only when a result schema validates asynchronously. */
function completedOutcome(
  data: TaskData,
  definition: TaskDefinition,
  result: unknown,
  env: ExecutionEnvironment,
): AttemptOutcome | Promise<AttemptOutcome> {
  const now = env.clock.now();
  if (result instanceof Task || isTaskList(result)) {
    const tasks: readonly Task[] = Array.isArray(result) ? result : [result];
    const children = tasks.map((t) => t.toJSON());
    for (const child of children) {
      checkReturnedSize(
        child.args,
        env,
        `the arguments of task '${child.name}' (id ${child.id}), returned by task '${data.name}' to be added`,
      );
    }
    const stored = (result instanceof Task ? children[0] : children) as unknown as JsonValue;
    checkResultSize(stored, data, env);
    return {
      record: completedRecord(data, stored, now, result instanceof Task ? "task" : "tasks"),
      children,
    };
  }
  if (!definition.resultSchema) return storedResult(data, definition, result, env);
  return validateAsync(
    definition.resultSchema,
    result,
    `invalid result of task '${definition.name}'`,
    "result",
  ).then(async (value) => {
    await checkResultReadsBack(definition, definition.resultSchema!, value);
    return storedResult(data, definition, value, env);
  });
}

/**
 * Refuses a `result` schema that does not give its stored output back as it
 * is: the record stores the schema's output as JSON, and every read-back
 * (`waitFor`, `getTask`) validates that JSON again — a transform that is not
 * stable on its own output (`s => s + "!"`) would change the result on every
 * read. Final: another attempt would fail the same way.
 */
async function checkResultReadsBack(
  definition: TaskDefinition,
  schema: StandardSchemaV1,
  value: unknown,
): Promise<void> {
  let stored: JsonValue;
  try {
    stored = value === undefined ? null : toJson(value, "result");
  } catch {
    // Not storable at all: storedResult says why.
    return;
  }
  const refuse = (why: string): never => {
    throw Object.assign(
      new TaskDefinitionError(
        `task '${definition.name}': the result schema ${why}; read-backs validate the stored JSON again, so the schema must accept its own output as JSON reads it back and give it back as it is — e.g. z.coerce.date() rather than z.date(), and no transform that changes a value it already transformed`,
      ),
      { unrecoverable: true },
    );
  };
  let again: unknown;
  try {
    again = await validateAsync(schema, stored, "stored result", "result");
  } catch (error) {
    refuse(`does not accept the result it stores (${errorToData(error).message})`);
  }
  let readBack: JsonValue;
  try {
    readBack = again === undefined ? null : toJson(again, "result");
  } catch {
    return refuse("reads the stored result back as a value that cannot be stored");
  }
  if (canonicalJson(readBack) !== canonicalJson(stored))
    refuse(`reads the stored result ${brief(stored)} back as ${brief(readBack)}`);
}

/** A JSON value's first characters, for a message. */
function brief(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length <= 80 ? text : `${text.slice(0, 79)}…`;
}

function checkResultSize(result: JsonValue, data: TaskData, env: ExecutionEnvironment): void {
  checkReturnedSize(result, env, `the result of task '${data.name}' (id ${data.id})`);
}

/** What a task returned, against the payload limit; over it, {@link unstorableResult}. */
function checkReturnedSize(value: JsonValue, env: ExecutionEnvironment, what: string): void {
  try {
    checkPayloadSize(value, env.maxPayloadBytes, what);
  } catch (error) {
    throw error instanceof Error ? unstorableResult(error) : error;
  }
}

function storedResult(
  data: TaskData,
  definition: TaskDefinition,
  value: unknown,
  env: ExecutionEnvironment,
): AttemptOutcome {
  const json = taskResultJson(definition.name, value);
  checkResultSize(json, data, env);
  return { record: completedRecord(data, json, env.clock.now()), children: [] };
}
