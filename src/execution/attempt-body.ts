/**
 * @module execution/attempt-body
 * The part of an attempt that runs the task's own code: the arguments
 * re-parsed, middleware around the function (inline or in a sandbox thread),
 * then the teardown of the dependencies it resolved — all within the task's
 * `timeout` (see `./attempt-deadline.ts`). At the bound, dependencies not torn
 * down yet are torn down in the background, since the function may never
 * return; a teardown still running then goes on unawaited, and its errors
 * are still reported.
 */
import type { Clock } from "../clock.js";
import { TaskTimeoutError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { validateSync } from "../task/schema.js";
import type { TaskData } from "../task/task-record.js";
import type { TaskDefinition } from "../task/task-registry.js";
import { isThenable } from "../util/thenable.js";
import { type AttemptDeadline, runWithinTimeout } from "./attempt-deadline.js";
import { runTeardowns } from "./dependencies.js";
import { compose, type Middleware, type MiddlewareContext } from "./middleware.js";
import type { AttemptState } from "./run-context.js";
import { sandboxed } from "./sandbox.js";

/** What the body of an attempt needs from where it runs. */
export interface BodyEnvironment {
  readonly clock: Clock;
  /** Worker-level middleware; runs outside each task's own middleware. */
  readonly middleware: readonly Middleware[];
  /** Told about errors thrown by dependency teardown (they do not change the outcome). */
  readonly onTeardownError?: ((error: unknown, data: TaskData) => void) | undefined;
}

/**
 * Runs the body of an attempt of `definition`: returns the function's result
 * (after middleware), or a promise of it, once the dependencies are torn
 * down; throws or rejects with what the body threw, or `TaskTimeoutError`.
 */
export function runAttemptBody(
  state: AttemptState,
  definition: TaskDefinition,
  env: BodyEnvironment,
): unknown {
  // The stored task's own, as its retries are: the options of the definition that made it, which
  // may be an older version of this one (a task added before a deploy) or a producer's.
  const timeout = state.data.config.timeout;
  if (timeout === null)
    return thenTearDown(state, env, () => runMiddlewareAndFunction(state, definition, env));
  return runWithinTimeout(
    timeout,
    state,
    env.clock,
    (deadline) =>
      thenTearDown(state, env, () => runMiddlewareAndFunction(state, definition, env, deadline)),
    () => {
      if (state.hasTeardowns) void tearDown(state, env).catch(() => undefined);
    },
  );
}

/** Calls `run`, then tears the attempt's dependencies down, whether it returned or threw. */
function thenTearDown(state: AttemptState, env: BodyEnvironment, run: () => unknown): unknown {
  let result: unknown;
  let pending: boolean;
  try {
    result = run();
    pending = isThenable(result);
  } catch (error) {
    if (!state.hasTeardowns) throw error;
    return tearDown(state, env).then(() => {
      throw error;
    });
  }
  if (pending) return awaitThenTearDown(result as PromiseLike<unknown>, state, env);
  // A sync function stays unawaited when nothing needs tearing down (one promise less per attempt).
  return state.hasTeardowns ? tearDown(state, env).then(() => result) : result;
}

async function awaitThenTearDown(
  result: PromiseLike<unknown>,
  state: AttemptState,
  env: BodyEnvironment,
): Promise<unknown> {
  let value: unknown;
  try {
    value = await result;
  } catch (error) {
    if (state.hasTeardowns) await tearDown(state, env);
    throw error;
  }
  if (state.hasTeardowns) await tearDown(state, env);
  return value;
}

/** Runs the attempt's teardowns, once: at the end of the body, or at its bound, whichever comes first. */
function tearDown(state: AttemptState, env: BodyEnvironment): Promise<void> {
  state.tearingDown ??= runTeardowns(state.teardowns).then((failures) => {
    for (const failure of failures) env.onTeardownError?.(failure, state.data);
  });
  return state.tearingDown;
}

/**
 * The attempt's own copy of the stored arguments. A function (or a schema
 * that reads its input in place) may change what it was given: that must
 * neither change the record the backend keeps for later attempts and
 * readers, nor fail on a record that is frozen (the in-memory backend hands
 * out immutable ones). Arguments without objects are copied as a list only.
 */
function ownArguments(args: readonly JsonValue[]): unknown[] {
  for (const arg of args)
    if (arg !== null && typeof arg === "object") return structuredClone(args) as unknown[];
  return [...args];
}

/** Calls the function through the middleware; returns its result, or a promise of it. */
function runMiddlewareAndFunction(
  state: AttemptState,
  definition: TaskDefinition,
  env: BodyEnvironment,
  deadline?: AttemptDeadline,
): unknown {
  const own = ownArguments(state.data.args);
  const args: unknown[] = definition.argsSchema
    ? [
        ...(validateSync(
          definition.argsSchema,
          own,
          `stored arguments of task '${definition.name}' are invalid`,
          "args",
        ) as unknown[]),
      ]
    : own;
  const { sandboxModule } = definition;
  const fn = sandboxModule
    ? sandboxCall(sandboxModule, state, deadline)
    : (definition.fn as (...args: unknown[]) => unknown);
  const middleware =
    definition.middleware.length === 0
      ? env.middleware
      : [...env.middleware, ...definition.middleware];
  if (middleware.length === 0) return fn(...args);
  const ctx: MiddlewareContext = {
    get task() {
      return state.task;
    },
    get signal() {
      return state.signal;
    },
    queueName: state.queueName,
    args,
    result: undefined,
  };
  return compose(middleware, async (c) => {
    // Middleware still running past the bound must not start the function of a failed attempt.
    if (deadline?.expired) throw new TaskTimeoutError(deadline.seconds);
    c.result = await fn(...c.args);
  })(ctx).then(() => ctx.result);
}

/** The task's function, run in a sandbox thread; the deadline is paused until it starts there. */
function sandboxCall(
  module: string,
  state: AttemptState,
  deadline: AttemptDeadline | undefined,
): (...args: unknown[]) => Promise<unknown> {
  if (!deadline) return sandboxed(module, state);
  const run = sandboxed(module, state, () => deadline.resume());
  return (...args) => {
    deadline.pause();
    // Resumed when the call ends too: it may fail before the function starts (a failed import).
    return run(...args).finally(() => deadline.resume());
  };
}
