/**
 * @module execution/run-context
 * The running attempt, reachable from anywhere inside it through
 * `AsyncLocalStorage`: `currentTask()` in a task function, a dependency or a
 * helper it calls. Nothing here is serialised.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Clock } from "../clock.js";
import { DependencyError, TaskInterruptedError } from "../errors.js";
import type { JsonCompatible, JsonValue } from "../json.js";
import type { Dependency, DependencyOverrides } from "../task/dependency-types.js";
import { attemptNumber, Task, type TaskData } from "../task/task-record.js";
import { logLine } from "./progress-reporter.js";

export type { Dependency, DependencyOverrides } from "../task/dependency-types.js";

/** What a running task knows about itself. */
export interface RunningTask {
  /** This attempt's record (status `processing`). */
  readonly task: Task;
  readonly id: string;
  /** 1 on the first attempt, 2 on the first retry, … */
  readonly attempt: number;
  readonly queueName: string;
  /** Fires on timeout and when the worker interrupts the task at shutdown. */
  readonly signal: AbortSignal;
  /**
   * Fires when the worker running the task begins to shut down (`SIGTERM`,
   * `worker.close()`): the task still has the shutdown timeout to finish, and
   * `signal` fires only when that ends. A long task can save where it is and
   * return early rather than be interrupted and start again from the
   * beginning. Its reason is a `TaskInterruptedError`: a task that throws it
   * (`stopping.throwIfAborted()`, or a `fetch` given this signal) is put back
   * in the queue at once, pending, without spending an attempt — as it would
   * be at the timeout, without waiting for it. Never fires where no worker
   * runs the task (`TestQueue`, a backend's inline processing).
   */
  readonly stopping: AbortSignal;
  /**
   * The time by the clock the task runs under: its worker's or queue's —
   * a `TestClock` in tests, so a task that computes with the time ("expire
   * trials that ended 14 days ago") follows the clock the test advances.
   * `Date.now()` would read the machine's clock instead.
   */
  now(): Date;
}

/** Where a running task's `progress()` and `log()` go (see `./progress-reporter.ts`). */
export interface TaskReports {
  progress(value: unknown): void;
  log(line: string): void;
}

/** One attempt's state. The AbortController and the Task view are made only when asked for. */
export class AttemptState implements RunningTask {
  /** Where its reports go; set by whoever runs the attempt (absent: nowhere to keep them). */
  reports: TaskReports | undefined;
  /** The run of its teardowns, once started: they run once, at the end of the attempt or at its timeout. */
  tearingDown: Promise<void> | undefined;
  #resolved: Map<Dependency, Promise<unknown>> | undefined;
  #teardowns: (() => Promise<void>)[] | undefined;
  #controller: AbortController | undefined;
  #stopping: AbortController | undefined;
  /** Why `stopping` fired, once it did: thrown back by the task, it asks to be put back in the queue. */
  #stopReason: TaskInterruptedError | undefined;
  #task: Task | undefined;

  constructor(
    readonly data: TaskData,
    readonly queueName: string,
    readonly overrides: DependencyOverrides | undefined,
    /** The clock the attempt runs under; absent: the machine's (a sandbox thread's). */
    private readonly clock?: Clock,
  ) {}

  now(): Date {
    return new Date(this.clock ? this.clock.now() : Date.now());
  }

  /** Dependencies resolved in this attempt (made on first use: most tasks have none). */
  get resolved(): Map<Dependency, Promise<unknown>> {
    this.#resolved ??= new Map();
    return this.#resolved;
  }

  /** Generator teardowns registered in this attempt, oldest first. */
  get teardowns(): (() => Promise<void>)[] {
    this.#teardowns ??= [];
    return this.#teardowns;
  }

  get hasTeardowns(): boolean {
    return this.#teardowns !== undefined && this.#teardowns.length > 0;
  }

  get id(): string {
    return this.data.id;
  }

  get attempt(): number {
    return attemptNumber(this.data);
  }

  get task(): Task {
    this.#task ??= new Task(this.data, null);
    return this.#task;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  get stopping(): AbortSignal {
    if (this.#stopping === undefined) {
      this.#stopping = new AbortController();
      if (this.#stopReason) this.#stopping.abort(this.#stopReason);
    }
    return this.#stopping.signal;
  }

  /** The worker began to shut down: `stopping` fires (now, or as soon as the task asks for it). */
  requestStop(): void {
    if (this.#stopReason) return;
    this.#stopReason = new TaskInterruptedError(
      "the worker is shutting down: a task that throws this error is put back in the queue",
    );
    this.#stopping?.abort(this.#stopReason);
  }

  /**
   * Whether `error`, thrown by the task, hands it back: its worker began to
   * stop, and it is a `TaskInterruptedError` — the `stopping` signal's reason,
   * or one of the task's own making (in a sandbox thread, the reason crosses
   * as a copy of its class).
   */
  handsBack(error: unknown): boolean {
    return this.#stopReason !== undefined && error instanceof TaskInterruptedError;
  }

  get aborted(): boolean {
    return this.#controller?.signal.aborted ?? false;
  }

  abort(reason: Error): void {
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}

/** The store: the attempt plus the chain of dependencies being resolved (to detect cycles). */
export interface RunScope {
  readonly attempt: AttemptState;
  readonly resolving: readonly Dependency[];
}

export const runScope = new AsyncLocalStorage<RunScope>();

/**
 * The task currently running in this async context.
 * @example
 * const report = task({ name: "report" }, async () => {
 *   const { id, attempt, signal } = currentTask();
 *   return fetch(url, { signal }).then((r) => r.text());
 * });
 */
export function currentTask(): RunningTask {
  const scope = runScope.getStore();
  if (!scope) throw new DependencyError("currentTask() was called outside a running task");
  return scope.attempt;
}

/** The running task's reports and name, or a `DependencyError` naming `call` outside one. */
function reportsOf(call: string): { reports: TaskReports; taskName: string } {
  const scope = runScope.getStore();
  if (!scope) throw new DependencyError(`${call} was called outside a running task`);
  const reports = scope.attempt.reports;
  if (!reports) throw new DependencyError(`${call}: this task runs where its reports are not kept`);
  return { reports, taskName: scope.attempt.data.name };
}

/**
 * Reports the running task's progress: any JSON value (a number, or
 * `{ done, total }`…), stored on its record — written now and then, not on
 * every call, so a loop may call it freely — where `getTask`, `sheppy task
 * info` and the dashboard show it. The last value reported is kept when the
 * task ends.
 * @example
 * const importRows = task({ name: "import" }, async (rows: string[]) => {
 *   for (const [i, row] of rows.entries()) {
 *     await save(row);
 *     progress({ done: i + 1, total: rows.length });
 *   }
 * });
 */
export function progress<T extends JsonValue | object>(value: T & JsonCompatible<T>): void {
  reportsOf("progress()").reports.progress(value);
}

/**
 * Appends a line to the running task's log, stored on its record like
 * {@link progress}: the latest 100 lines are kept, each cut at 2,000
 * characters. Anything but a string is refused with an `InvalidOptionError`.
 */
export function log(line: string): void {
  const { reports, taskName } = reportsOf("log()");
  reports.log(logLine(line, taskName));
}
