/**
 * @module task/workflow-steps
 * What a workflow body yields, and the `yield*` helpers that yield it with
 * types: `step(task)` hands back the finished `Task<R>`, `all([a, b])` a
 * tuple of finished tasks in input order, `run(workflow)` the nested
 * workflow's result, `sideEffect(fn)` and `now()` a value recorded on the
 * first run and replayed afterwards. A workflow body yields nothing else;
 * the replay engine refuses anything else with `InvalidYieldError`.
 */
import { InvalidOptionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import {
  isDuration,
  isRepresentableInstant,
  LAST_STORABLE_MS,
  MAX_DURATION_TEXT,
} from "../util/durations.js";
import { parseIsoInstant } from "../util/iso-instant.js";
import { describeGiven } from "./describe-value.js";
import type { CheckedSideEffect } from "./json-signature.js";
import type { FinishedTaskStatus, Task } from "./task-record.js";
import { noteHelperCall, noteHelperStarted } from "./unstarted-helpers.js";
import type { Workflow } from "./workflow-record.js";
import { sleepTask } from "./workflow-sleep.js";

/** Run these tasks (one, or several in parallel) and send back the finished ones. */
export interface StepInstruction {
  readonly kind: "steps";
  readonly tasks: readonly Task[];
  /** One task asked for with `step()`: its finished task comes back alone, not in a list. */
  readonly single: boolean;
}

/** Run this workflow inline, its steps numbered within the caller's, and send back its result. */
export interface RunInstruction {
  readonly kind: "run";
  readonly workflow: Workflow;
}

/** Compute a value once, record it, and send back the recorded value on every replay. */
export interface EffectInstruction {
  readonly kind: "effect";
  /** Which helper asked: recorded with the value, so a replay that asks another at this place is caught. */
  readonly helper: "sideEffect" | "now";
  /** Computes the value on the first run; `now` reads the clock of the queue running the workflow. */
  readonly compute: (now: () => number) => unknown;
  /** Turns the recorded JSON back into what the body receives (`now()` gives a `Date`). */
  readonly revive: (recorded: JsonValue) => unknown;
}

/** What a workflow body may yield (through the helpers). */
export type WorkflowInstruction = StepInstruction | RunInstruction | EffectInstruction;

/** The generator a workflow body is: it yields instructions and returns the workflow's result. */
export type WorkflowGenerator<R> = Generator<WorkflowInstruction, R, unknown>;

type ResultOf<T> = T extends Task<infer R> ? R : unknown;
/** `all([a, b])` → `[Task<A>, Task<B>]`, each finished. */
export type FinishedSteps<L extends readonly Task[]> = {
  -readonly [K in keyof L]: Task<ResultOf<L[K]>, FinishedTaskStatus>;
};

/**
 * Runs one task as a step and hands back the finished task (completed,
 * failed, crashed or cancelled): a failed step does not fail the workflow.
 * @example const profile = yield* step(fetchProfile(userId)); profile.result // typed
 */
export function step<R>(
  task: Task<R>,
): Generator<WorkflowInstruction, Task<R, FinishedTaskStatus>, unknown> {
  return watched(
    () => `step(${taskNamed(task)})`,
    function* () {
      return (yield { kind: "steps", tasks: [task], single: true }) as Task<R, FinishedTaskStatus>;
    },
  );
}

/**
 * Runs tasks in parallel and hands back the finished tasks in input order,
 * once every one has finished. An empty list comes back at once.
 * @example const [mail, invoice] = yield* all([sendEmail(to), createInvoice(id)]);
 */
export function all<const L extends readonly Task[]>(
  tasks: L,
): Generator<WorkflowInstruction, FinishedSteps<L>, unknown> {
  return watched(
    () => `all([${Array.isArray(tasks) ? tasks.map(taskNamed).join(", ") : "…"}])`,
    function* () {
      // A copy, so a list changed after the yield does not change the steps; anything else is
      // refused by the replay, which names the workflow.
      const asked = Array.isArray(tasks) ? [...tasks] : tasks;
      return (yield { kind: "steps", tasks: asked, single: false }) as FinishedSteps<L>;
    },
  );
}

/**
 * Runs another workflow inline — its steps become steps of this one — and
 * hands back its result. It gets no record of its own.
 * @example const billing = yield* run(setupBilling(userId));
 */
export function run<R>(workflow: Workflow<R>): Generator<WorkflowInstruction, R, unknown> {
  return watched(
    () => `run(${typeof workflow?.name === "string" ? `'${workflow.name}'` : "…"})`,
    function* () {
      return (yield { kind: "run", workflow }) as R;
    },
  );
}

/**
 * Computes a value once (it must be JSON) and records it in the workflow;
 * every later replay gets the recorded value instead of computing it again.
 * The body gets the recorded value on the first run too, so a value JSON
 * would change is refused with a `SerializationError`: `undefined` (return
 * `null`) and a `Date` anywhere in it (return `getTime()` or `toISOString()`,
 * or use {@link now} for the time).
 * If `compute` throws, the error is recorded the same way and thrown again
 * at this point on every replay, so a body that catches it takes the same
 * branch each time.
 * The way to use randomness, clocks or anything else that would differ
 * between replays.
 * @example const token = yield* sideEffect(() => crypto.randomUUID());
 */
export function sideEffect<F extends () => unknown>(
  compute: F & CheckedSideEffect<ReturnType<F>>,
): Generator<WorkflowInstruction, ReturnType<F>, unknown> {
  return watched(
    () => "sideEffect()",
    function* () {
      return (yield {
        kind: "effect",
        helper: "sideEffect",
        compute: () => compute() as JsonValue,
        revive: (recorded) => recorded,
      }) as ReturnType<F>;
    },
  );
}

/**
 * The time (by the queue's clock) when the workflow first reached this point,
 * the same on every replay: use it instead of `new Date()` in a workflow body.
 */
export function now(): Generator<WorkflowInstruction, Date, unknown> {
  return watched(
    () => "now()",
    function* () {
      return (yield {
        kind: "effect",
        helper: "now",
        compute: (clockNow) => clockNow(),
        revive: (recorded) => new Date(recorded as number),
      }) as Date;
    },
  );
}

/**
 * Waits `seconds` (≥ 0) before the body goes on, counted from when the
 * workflow first reached this point. The wait is a step (task
 * `sheppy.sleep`): it holds no worker, survives restarts, and shows in the
 * workflow's steps as scheduled for its wake time. A bad delay fails the
 * workflow with an `InvalidOptionError`.
 * @example yield* sleep(24 * 3600); // a day later
 */
export function sleep(seconds: number): Generator<WorkflowInstruction, void, unknown> {
  return watched(
    () => "sleep()",
    function* () {
      if (!isDuration(seconds, true)) {
        const hint =
          typeof seconds === "string" ? "; a delay is a number of seconds (3600 for an hour)" : "";
        throw new InvalidOptionError(
          `sleep(): expected a delay in seconds ≥ 0 and ${MAX_DURATION_TEXT} (got ${describeGiven(seconds)})${hint}`,
        );
      }
      yield { kind: "steps", tasks: [sleepTask(seconds)], single: true };
    },
  );
}

/**
 * Waits until `time` (a `Date`, or ISO-8601 text with a UTC offset) before
 * the body goes on; a time already past waits for nothing more than a
 * worker's claim. A step like {@link sleep}'s. A bad time fails the workflow
 * with an `InvalidOptionError`.
 * @example yield* sleepUntil(order.deliverBy);
 */
export function sleepUntil(time: Date | string): Generator<WorkflowInstruction, void, unknown> {
  return watched(
    () => "sleepUntil()",
    function* () {
      yield { kind: "steps", tasks: [sleepTask(wakeInstant(time))], single: true };
    },
  );
}

/** `time` as the ISO text a sleep step keeps, or the `InvalidOptionError` saying what is wrong with it. */
function wakeInstant(time: unknown): string {
  const where = "sleepUntil()";
  let ms: number;
  if (typeof time === "string") ms = parseIsoInstant(time, where);
  else if (time instanceof Date) ms = Date.prototype.getTime.call(time);
  else {
    throw new InvalidOptionError(
      `${where}: expected a Date or ISO-8601 text with an offset (got ${describeGiven(time)})`,
    );
  }
  if (!isRepresentableInstant(ms) || ms > LAST_STORABLE_MS) {
    throw new InvalidOptionError(
      `${where}: ${describeGiven(time)} is not a time a task can wait for`,
    );
  }
  return new Date(ms).toISOString();
}

/** A step's task as a refusal names it: `'charge-card'`. */
function taskNamed(task: unknown): string {
  const name = (task as { name?: unknown } | null)?.name;
  return typeof name === "string" ? `'${name}'` : "…";
}

/**
 * The generator of `body`, noted as a call of `helper` until it starts, so a
 * body that calls a helper without `yield*` is refused instead of silently
 * skipping it (see `./unstarted-helpers.ts`).
 */
function watched<T>(
  helper: () => string,
  body: () => Generator<WorkflowInstruction, T, unknown>,
): Generator<WorkflowInstruction, T, unknown> {
  const token = {};
  noteHelperCall(token, helper);
  return (function* () {
    noteHelperStarted(token);
    return yield* body();
  })();
}
