/**
 * @module errors
 * Every error Sheppy throws, in one vocabulary shared by all backends. Messages
 * are worded here and nowhere else, so the same fault reads the same on memory,
 * Redis or PostgreSQL. Each class sets `name` and keeps `cause`.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

/** Base class of every error Sheppy throws. */
export class SheppyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found by a Standard Schema validator, as reported by it. */
export type ValidationIssue = StandardSchemaV1.Issue;

/** A value failed its schema: task arguments at creation, or a result in the worker. */
export class ValidationError extends SheppyError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    super(message, options);
    this.issues = issues;
  }
}

/** A value cannot be stored as JSON (function, BigInt, cycle, class instance, `undefined` in an array…). */
export class SerializationError extends SheppyError {}

/** A task definition is invalid: bad option, anonymous function, async argument schema. */
export class TaskDefinitionError extends SheppyError {}

/** Two task definitions in one process share a name. */
export class DuplicateTaskNameError extends TaskDefinitionError {}

/** A workflow definition is invalid: not a generator function, anonymous, a bad option. */
export class WorkflowDefinitionError extends TaskDefinitionError {}

/**
 * A workflow yielded something other than what the step helpers yield
 * (`step`, `all`, `run`, `sideEffect`, `now`); the workflow fails with it.
 */
export class InvalidYieldError extends SheppyError {}

/**
 * A replayed workflow asked for a different step than it did the first time
 * (another task, or other arguments, at the same place): its code changed, or
 * it reads something that differs between runs, such as the clock or a random
 * number, outside `sideEffect()`/`now()`. The workflow fails with it.
 */
export class NonDeterministicWorkflowError extends SheppyError {}

/** The queue holds no workflow with this id. */
export class WorkflowNotFoundError extends SheppyError {
  /** @param why what may have become of it, when the caller can tell more than "not there" */
  constructor(
    readonly workflowId: string,
    readonly queueName: string,
    why?: string,
  ) {
    super(
      `queue '${queueName}' has no workflow ${workflowId}${why === undefined ? "" : `: ${why}`}`,
    );
  }
}

/** A worker was asked to run a task whose name no loaded module defines. */
export class UnknownTaskError extends SheppyError {}

/** A value that is not a `Task` was given where a task is required. */
export class InvalidTaskError extends SheppyError {}

/** A backend URL is malformed, or its scheme is not one Sheppy supports. */
export class BackendUrlError extends SheppyError {}

/** A backend call failed, or was made in a state that does not allow it (e.g. not connected). */
export class BackendError extends SheppyError {}

/** The backend's server or driver cannot be reached or loaded (within the backend's time bound). */
export class BackendUnavailableError extends BackendError {}

/** The backend refuses to store more (e.g. Redis at its `maxmemory`); work already running still finishes. */
export class BackendFullError extends BackendError {}

/** The backend's storage was set up by a newer Sheppy (a schema version this one does not know): upgrade Sheppy. */
export class SchemaVersionError extends BackendError {}

/** Arguments or a result are over the queue's `maxPayloadBytes`; nothing was stored. */
export class PayloadTooLargeError extends SheppyError {
  constructor(
    what: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `${what}: ${bytes.toLocaleString("en-US")} bytes of JSON, over the limit of ${limit.toLocaleString("en-US")} (maxPayloadBytes)`,
    );
  }
}

/** `waitFor` gave up before every task finished. */
export class WaitTimeoutError extends SheppyError {
  /**
   * @param unfinished the ids that had not finished, in the order asked for
   * @param unknown those of them the queue did not hold at the last look (never added, deleted or expired)
   * @param idleQueue the queue's name when no worker had claimed any of them: the message then asks whether one runs
   * @param kind what was waited for, as the message names it
   * @param idleHint what the message says instead when none was claimed (a `TestQueue` has no worker to ask about)
   * @param standing where the one unfinished record stands (waiting to retry at a time, running since…), said last
   */
  constructor(
    readonly timeoutSeconds: number,
    readonly unfinished: readonly string[],
    readonly unknown: readonly string[] = [],
    readonly idleQueue: string | undefined = undefined,
    readonly kind: "task" | "workflow" = "task",
    idleHint?: string,
    standing?: string,
  ) {
    const list = (ids: readonly string[]) =>
      `${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ", …" : ""}`;
    const notHeld =
      unknown.length === 0
        ? ""
        : `; the queue does not hold ${list(unknown)} — never added, or deleted (a finished record past the queue's maxFinished bound or its TTL is deleted)`;
    const idle =
      idleQueue === undefined
        ? ""
        : `; ${idleHint ?? `no worker has claimed them — is a worker serving queue '${idleQueue}' running (sheppy work)?`}`;
    super(
      `Did not complete within ${timeoutSeconds} ${timeoutSeconds === 1 ? "second" : "seconds"} (${unfinished.length} ${kind}(s) unfinished: ${list(unfinished)}${notHeld})${idle}${standing === undefined ? "" : `; ${standing}`}`,
    );
  }
}

/** A task ran longer than its `timeout`; its AbortSignal fired with this reason. */
export class TaskTimeoutError extends SheppyError {
  constructor(readonly timeoutSeconds: number) {
    super(`Task exceeded timeout of ${timeoutSeconds} seconds`);
  }
}

/**
 * Thrown by a task (or its middleware) to fail at once, without spending the
 * retries it has left: trying again cannot help (a declined card, a deleted
 * account). The stored error keeps its type, message and `cause`, and its
 * `props.unrecoverable` is `true`. Any thrown error with an own property
 * `unrecoverable: true` counts the same (an error from a library, or from
 * another copy of Sheppy, where `instanceof` cannot tell).
 * @example
 * if (reply.status === 402) throw new UnrecoverableError("card declined", { cause: reply });
 */
export class UnrecoverableError extends SheppyError {
  /** Always `true`: what the retry decision reads (see the class comment). */
  readonly unrecoverable = true as const;
}

/**
 * A running task was interrupted (worker shutdown after `shutdownTimeout`);
 * it is put back in the queue. It is also the reason of
 * `currentTask().stopping`: a task that throws it once its worker has begun
 * to stop is put back at once, pending, without spending an attempt.
 */
export class TaskInterruptedError extends SheppyError {}

/**
 * Why a task's (or workflow's) state refused an operation, for code that
 * answers each case its own way — a bulk script that skips finished tasks
 * but reports lost races — without reading the message:
 * - `completed`: it completed successfully; a retry runs it again only with `force`.
 * - `waiting`: it has not run yet (pending, scheduled or waiting for its
 *   retry): a retry has nothing to run again, a delete needs a cancel first.
 * - `running`: a worker holds it (or the workflow still runs).
 * - `finished`: it has finished (failed, cancelled, expired; a workflow also
 *   completed), so it no longer waits to be moved or cancelled, or is not
 *   the failed workflow a retry runs again.
 * - `changed`: another change came between reading it and writing it
 *   (claimed, retried, moved, cancelled meanwhile); reading it again tells
 *   what it is now.
 * - `unreadable`: its stored record could not be read, so it is not rewritten.
 * - `cron-fire-time`: a cron's run moved ahead of its fire time.
 * - `workflow-step`: its workflow decides what becomes of it (a step of a
 *   workflow that ended or went on, a workflow's id given for a task or the
 *   other way round); act on the workflow instead.
 * - `not-found`: the queue has no such task (a cancellation only: the other
 *   operations answer `false` for it).
 */
export type TaskStateReason = (typeof TASK_STATE_REASONS)[number];

/** Every `TaskStateReason`, for a schema that lists them (the HTTP API's error body). */
export const TASK_STATE_REASONS = [
  "completed",
  "waiting",
  "running",
  "finished",
  "changed",
  "unreadable",
  "cron-fire-time",
  "workflow-step",
  "not-found",
] as const;

/** What a state refusal carries besides its message. */
export interface TaskStateDetails {
  /** Why (see `TaskStateReason`). */
  readonly reason: TaskStateReason;
  /** The task's (or workflow's) id. */
  readonly id: string;
  /** Its status as read when it was refused; `null` when not read (unknown, unreadable). */
  readonly status?: string | null;
}

/**
 * A refusal by a task's (or workflow's) state, with why in words a script
 * can branch on (`reason`), the id, and the status it had.
 */
export class TaskStateRefusal extends SheppyError {
  /** Why it was refused (see `TaskStateReason`). */
  readonly reason: TaskStateReason;
  /** The task's (or workflow's) id. */
  readonly id: string;
  /** Its status as read when it was refused; `null` when not read (unknown, unreadable). */
  readonly status: string | null;
  constructor(message: string, details: TaskStateDetails) {
    super(message);
    this.reason = details.reason;
    this.id = details.id;
    this.status = details.status ?? null;
  }
}

/** `cancel` was refused: the task is unknown (`not-found`), already running (without `force`) or already finished. */
export class TaskCancellationError extends TaskStateRefusal {}

/**
 * The reason a running task's AbortSignal fires when `cancel(task, { force:
 * true })` cancelled it while it ran: its record is `cancelled` already, and
 * whatever the function returns or throws from now on is discarded.
 */
export class TaskCancelledError extends SheppyError {
  constructor(readonly taskId: string) {
    super(`task ${taskId} was cancelled while it ran; its outcome is discarded`);
  }
}

/** An operation does not fit the task's current status (retry a pending task, delete an unfinished one). */
export class TaskStateError extends TaskStateRefusal {}

/** The worker that held a task stopped renewing its lease; the task is marked `crashed`. */
export class WorkerCrashedError extends SheppyError {
  constructor(message = "Worker crashed during execution") {
    super(message);
  }
}

/** Rebuilt from a stored error whose class is not known in this process. */
export class TaskFailedError extends SheppyError {
  constructor(
    message: string,
    readonly originalType: string,
    readonly originalStack: string | null,
  ) {
    super(message);
  }
}

/** A sandbox thread failed by itself (it exited, or could not start); the task fails with this. */
export class SandboxError extends SheppyError {}

/** Middleware misuse, e.g. calling `next()` twice. */
export class MiddlewareError extends SheppyError {}

/** `use()` / `currentTask()` outside a running task, a circular dependency, or a generator that never yields. */
export class DependencyError extends SheppyError {}

/** An option given to a `Queue`, `Worker` or call is out of range or of the wrong type. */
export class InvalidOptionError extends SheppyError {}

/**
 * An add under a caller-chosen id that the queue holds for a task of another
 * name: not a resend of the same request, so not ignored as one.
 */
export class TaskIdConflictError extends SheppyError {
  /** Every id of the call held so, the first one (`id`, `heldBy`) included: a list may hold several. */
  readonly conflicts: readonly { readonly id: string; readonly heldBy: string }[];

  constructor(
    message: string,
    /** The id asked for. */
    readonly id: string,
    /** The name of the task that holds it. */
    readonly heldBy: string,
    conflicts: readonly { readonly id: string; readonly heldBy: string }[] = [{ id, heldBy }],
  ) {
    super(message);
    this.conflicts = conflicts;
  }
}

/** No task with the given id exists in the queue. */
export class TaskNotFoundError extends SheppyError {
  /** @param why what may have become of it, when the caller can tell more than "not there" */
  constructor(
    readonly taskId: string,
    readonly queueName: string,
    why?: string,
  ) {
    super(`queue '${queueName}' has no task ${taskId}${why === undefined ? "" : `: ${why}`}`);
  }
}

/** A cron named by its id (`sheppy cron delete`) is not registered on the queue. */
export class CronNotFoundError extends SheppyError {
  constructor(
    readonly cronId: string,
    readonly queueName: string,
  ) {
    super(`queue '${queueName}' has no cron ${cronId}`);
  }
}

/** Command-line input the `sheppy` CLI cannot use: bad JSON arguments, conflicting options, a bad duration. */
export class CliUsageError extends SheppyError {}

/** A module named on the command line (`--tasks`, `--prestart`, `module:export`) cannot be loaded. */
export class ModuleLoadError extends SheppyError {}

/** The `--prestart` hook threw; the worker does not start. */
export class PrestartError extends SheppyError {}

/** A task the CLI waited for (`--wait`) or ran (`task test`) ended without completing. */
export class TaskOutcomeError extends SheppyError {}

/** `sheppy db status` found migrations not applied yet: the schema is not ready for this Sheppy until `sheppy db migrate`. */
export class PendingMigrationsError extends SheppyError {}

/** A cron schedule was refused at registration: not a five-field expression or known macro, one that never fires, an unknown time zone, or an `every` that is not whole seconds in range. */
export class CronExpressionError extends InvalidOptionError {}

/**
 * Each class's name, written out and set on the class: a minifier that
 * renames classes (an application bundle built with `--minify`) would
 * otherwise have a `TaskTimeoutError` stored as `xt`, which no other process
 * could rebuild or recognise. Every class above is listed (a unit test checks).
 */
export const ERROR_CLASSES: Readonly<Record<string, abstract new (...args: never[]) => Error>> = {
  SheppyError,
  ValidationError,
  SerializationError,
  TaskDefinitionError,
  DuplicateTaskNameError,
  WorkflowDefinitionError,
  InvalidYieldError,
  NonDeterministicWorkflowError,
  WorkflowNotFoundError,
  UnknownTaskError,
  InvalidTaskError,
  BackendUrlError,
  BackendError,
  BackendUnavailableError,
  BackendFullError,
  SchemaVersionError,
  PayloadTooLargeError,
  WaitTimeoutError,
  TaskTimeoutError,
  UnrecoverableError,
  TaskInterruptedError,
  TaskCancellationError,
  TaskCancelledError,
  TaskStateRefusal,
  TaskStateError,
  WorkerCrashedError,
  TaskFailedError,
  SandboxError,
  MiddlewareError,
  DependencyError,
  InvalidOptionError,
  TaskIdConflictError,
  TaskNotFoundError,
  CronNotFoundError,
  CliUsageError,
  ModuleLoadError,
  PrestartError,
  TaskOutcomeError,
  PendingMigrationsError,
  CronExpressionError,
};
for (const [name, cls] of Object.entries(ERROR_CLASSES)) {
  if (cls.name !== name) Object.defineProperty(cls, "name", { value: name });
}
