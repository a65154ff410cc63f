/**
 * @module task/define-task
 * `task()` turns a plain function into a typed task factory. Calling the
 * factory runs nothing: it validates the arguments and returns a new `Task`.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { systemClock } from "../clock.js";
import { InvalidOptionError, TaskDefinitionError } from "../errors.js";
import { deepFreeze, type JsonValue } from "../json.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { uuidV7 } from "../util/uuid-v7.js";
import { callerModule, isEntryScript } from "./caller-module.js";
import {
  checkConcurrencyKey,
  checkConcurrencyOptions,
  type TaskConcurrencyOptions,
} from "./concurrency.js";
import { definitionName, minifiedName, warnOfMinifiedName } from "./definition-name.js";
import { definitionSite } from "./definition-site.js";
import { describeGiven } from "./describe-value.js";
import type { CheckedArguments, CheckedResult, CheckedSchema } from "./json-signature.js";
import type { Middleware } from "./middleware-types.js";
import { checkPriority } from "./priority.js";
import { isStandardSchema } from "./schema.js";
import type { ResultAs } from "./stored-as.js";
import { storedArgs } from "./task-args.js";
import {
  normaliseTaskConfig,
  TASK_BEHAVIOUR_KEYS,
  type TaskBehaviourOptions,
  type TaskConfig,
  type TaskRateLimitOptions,
} from "./task-options.js";
import { newTaskData, Task } from "./task-record.js";
import { registerTask, type TaskDefinition } from "./task-registry.js";
import { isResumeTaskName, RESUME_PREFIX } from "./workflow-resume-task.js";
import { SLEEP_TASK_NAME } from "./workflow-sleep.js";

/** Any function can be a task. */
export type TaskFunction = (...args: never[]) => unknown;

/** A Standard Schema for the argument list (e.g. `z.tuple([z.string(), z.number()])`). */
export type ArgsSchema = StandardSchemaV1<readonly unknown[], readonly unknown[]>;

/**
 * Options of `task(options, fn)`; every field is optional. The schemas
 * (`args`, `result`: {@link TaskSchemas}) are not part of it: written in the
 * `task()` call, they type the task; options shared between tasks (a
 * variable of this type, spread into each call) hold the rest. `Args` is the
 * task's argument list, which types a concurrency key function and its
 * middleware's `ctx.args`, and `Result` its function's result, which types
 * `ctx.result`; in shared options they are `unknown` unless named
 * (`TaskOptions<[tenant: string]>`).
 */
export interface TaskOptions<Args extends readonly unknown[] = unknown[], Result = unknown>
  extends Omit<TaskBehaviourOptions, "rateLimit"> {
  /** Unique name workers look the task up by; defaults to the function's name. */
  name?: string | undefined;
  /**
   * Task-level middleware, run inside the worker's own middleware; its
   * `ctx.args` and `ctx.result` are this task's arguments and result.
   */
  middleware?: readonly Middleware<Args, Result>[] | undefined;
  /**
   * Run the function in a worker thread (CPU-heavy synchronous work; a timeout
   * terminates the thread). The defining module is imported in the thread, so it
   * must be importable on its own; `true` finds it from the call stack, or pass
   * `{ module: import.meta.url }`.
   */
  sandbox?: boolean | { module: string | URL } | undefined;
  /**
   * Claim order among this queue's pending tasks: higher first, FIFO within
   * one priority (an integer; default 0). `queue.add(task, { priority })`
   * overrides it for one add.
   */
  priority?: number | undefined;
  /**
   * Fairness: tasks with the same key run at most `limit` (default 1) at a
   * time across every worker, in the order they became claimable, while
   * other keys' tasks run alongside. `key` is text, or a function of the
   * task's arguments, e.g. `{ key: (tenantId) => tenantId, limit: 2 }`.
   * `queue.add(task, { concurrency })` overrides it for one add.
   */
  concurrency?: TaskConcurrencyOptions<Args> | undefined;
  /**
   * Start rate limit, shared by every worker of the backend. Its `key` is
   * text, or a function of the task's arguments (a limit per tenant, say).
   */
  rateLimit?: TaskRateLimitOptions<Args> | undefined;
}

/** The schemas `task(options, fn)` takes beside {@link TaskOptions}, written in the call. */
export interface TaskSchemas {
  /** Validates and normalises the arguments when a task is created. */
  args?: ArgsSchema;
  /** Validates the result in the worker; read-backs yield its parsed output. */
  result?: StandardSchemaV1;
}

/** Every key of {@link TaskOptions}; anything else in `task(options, fn)` is a typo, refused. */
const TASK_OPTION_KEYS: readonly string[] = [
  ...Object.keys({
    name: true,
    middleware: true,
    args: true,
    result: true,
    sandbox: true,
    priority: true,
    concurrency: true,
  } satisfies Record<Exclude<keyof (TaskOptions & TaskSchemas), keyof TaskBehaviourOptions>, true>),
  ...TASK_BEHAVIOUR_KEYS,
];

/**
 * Creates tasks. Call it with the function's own arguments to get a `Task<R>`;
 * nothing runs until a worker (or the memory backend) picks the task up.
 */
export interface TaskFactory<
  A extends readonly unknown[],
  R,
  Stored extends readonly unknown[] = A,
> {
  (...args: A): Task<R>;
  /** The registered name. */
  readonly taskName: string;
  /** The normalised options stored on every task this factory creates. */
  readonly config: Readonly<TaskConfig>;
  /**
   * Whether `task` is one of this factory's (its name is this task's): narrows
   * a record read back by id, or met in an event, whose result is `unknown`
   * and arguments JSON, to this task's result and arguments as stored: as
   * they were passed, or what the `args` schema made of them (`z.coerce.number()`
   * stores a number).
   * @example
   * const record = await queue.getTask(id);
   * if (sendEmail.is(record) && record.status === "completed") record.result.messageId;
   * if (sendEmail.is(record)) record.args[0]; // the first argument's type
   */
  is(task: Task | null | undefined): task is Task<R> & { readonly args: Readonly<Stored> };
}

/**
 * Any task's factory, whatever its arguments and result: what a helper that
 * takes "a task definition" accepts (`(def: AnyTaskFactory) => def.taskName`).
 * `TaskFactory<unknown[], unknown>` would not do: a factory of `(n: number)`
 * cannot be called with any `unknown`, so it is not one.
 */
// biome-ignore lint/suspicious/noExplicitAny: parameters of any type, which no other type expresses here
export type AnyTaskFactory = TaskFactory<any[], unknown>;

/**
 * A new task id: a time-ordered UUID (version 7), so the ids of tasks added
 * together sit together in a database's index (see `../util/uuid-v7.ts`).
 */
function newTaskId(): string {
  return uuidV7();
}

type Input<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never;
type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;
type ArgsInput<S extends ArgsSchema> = Input<S> extends readonly unknown[] ? Input<S> : never;
type ArgsOutput<S extends ArgsSchema> = Output<S> extends readonly unknown[] ? Output<S> : never;

/**
 * Defines a task.
 * @example
 * export const sendEmail = task(
 *   { name: "send-email", retry: 3, retryDelay: [1, 10, 60], timeout: 30 },
 *   async (to: string, subject: string) => `sent '${subject}' to ${to}`,
 * );
 * const t = sendEmail("alice@example.com", "Hi"); // Task<string>
 */
export function task<F extends TaskFunction>(
  fn: F & CheckedArguments<Parameters<F>> & CheckedResult<Awaited<ReturnType<F>>>,
): TaskFactory<Parameters<F>, ResultAs<Awaited<ReturnType<F>>>>;
export function task<
  S extends ArgsSchema,
  F extends (...args: ArgsOutput<S>) => unknown,
  RS extends StandardSchemaV1 | undefined = undefined,
>(
  options: TaskOptions<
    ArgsOutput<S>,
    [RS] extends [StandardSchemaV1] ? Input<RS> : Awaited<ReturnType<F>>
  > & {
    args: S & CheckedSchema<S>;
    result?: RS & CheckedSchema<RS>;
  },
  fn: [RS] extends [StandardSchemaV1]
    ? (...args: ArgsOutput<S>) => Input<RS> | Promise<Input<RS>>
    : F & CheckedResult<Awaited<ReturnType<F>>>,
): TaskFactory<
  ArgsInput<S>,
  [RS] extends [StandardSchemaV1] ? Output<RS> : ResultAs<Awaited<ReturnType<F>>>,
  ArgsOutput<S>
>;
export function task<F extends TaskFunction, RS extends StandardSchemaV1 | undefined = undefined>(
  options: TaskOptions<
    Parameters<F>,
    [RS] extends [StandardSchemaV1] ? Input<RS> : Awaited<ReturnType<F>>
  > & { args?: undefined; result?: RS & CheckedSchema<RS> },
  fn: F &
    CheckedArguments<Parameters<F>> &
    ([RS] extends [StandardSchemaV1]
      ? (...args: Parameters<F>) => Input<RS> | Promise<Input<RS>>
      : CheckedResult<Awaited<ReturnType<F>>>),
): TaskFactory<
  Parameters<F>,
  [RS] extends [StandardSchemaV1] ? Output<RS> : ResultAs<Awaited<ReturnType<F>>>
>;
export function task(
  // Each overload's options type their own arguments; here they are only checked.
  optionsOrFn: object,
  maybeFn?: TaskFunction,
): TaskFactory<readonly unknown[], unknown> {
  const [options, fn]: [TaskOptions & TaskSchemas, TaskFunction | undefined] =
    typeof optionsOrFn === "function"
      ? [{}, optionsOrFn as TaskFunction]
      : [(optionsOrFn as (TaskOptions & TaskSchemas) | null) ?? {}, maybeFn];
  if (typeof fn !== "function") {
    throw new TaskDefinitionError("task() needs a function: task(fn) or task(options, fn)");
  }
  const named = definitionName("task", options.name, fn.name);
  // Before the name check, so `{ nmae: "x" }` on an anonymous function reports the typo.
  const unknown = unknownKeysMessage(options, TASK_OPTION_KEYS);
  if (unknown) {
    throw new TaskDefinitionError(`${named.ok ? `task '${named.name}'` : "task()"}: ${unknown}`);
  }
  if (!named.ok) throw new TaskDefinitionError(named.problem);
  const { name } = named;
  if (isResumeTaskName(name)) {
    throw new TaskDefinitionError(
      `task '${name}': names starting with '${RESUME_PREFIX}' are the tasks that resume workflows; pick another name`,
    );
  }
  if (name === SLEEP_TASK_NAME) {
    throw new TaskDefinitionError(
      `task '${name}': that name is the built-in task of a workflow's sleep() step; pick another name`,
    );
  }
  for (const key of ["args", "result"] as const) {
    if (options[key] !== undefined && !isStandardSchema(options[key])) {
      throw new TaskDefinitionError(
        `task '${name}': ${key} must be a Standard Schema (zod, valibot, arktype…)`,
      );
    }
  }
  const middleware = options.middleware ?? [];
  if (!Array.isArray(middleware) || middleware.some((m) => typeof m !== "function")) {
    throw new TaskDefinitionError(`task '${name}': middleware must be a list of functions`);
  }
  const priority = toTaskDefinitionError(name, () =>
    checkPriority(options.priority ?? 0, "priority"),
  );
  const concurrencyOf = taskConcurrency(name, options.concurrency);
  const { config, configOf } = taskConfig(name, options);
  const sandboxModule = resolveSandboxModule(name, options.sandbox);
  const site = definitionSite();
  if (options.name === undefined && minifiedName(name, fn)) {
    const first = site?.calls[0];
    warnOfMinifiedName("task", name, first && `${first.path}:${first.line}:${first.column}`);
  }
  const definition: TaskDefinition = {
    name,
    fn,
    config,
    middleware: [...middleware],
    argsSchema: options.args,
    resultSchema: options.result,
    sandboxModule,
    backoff: typeof options.retryDelay === "function" ? options.retryDelay : undefined,
    site,
    priority,
    concurrencyOf,
    configOf,
  };
  registerTask(definition);

  const factory = (...args: unknown[]): Task => {
    const stored = storedArgs(definition, args);
    const data = newTaskData(
      newTaskId(),
      name,
      stored,
      configOf?.(stored) ?? config,
      systemClock.now(),
      {
        priority,
        concurrency: concurrencyOf(stored),
      },
    );
    return new Task(data, null);
  };
  Object.defineProperties(factory, {
    // Shown for the factory in stack traces and by console.log, instead of `factory`.
    name: { value: name },
    taskName: { value: name, enumerable: true },
    config: { value: config, enumerable: true },
    is: { value: (task: unknown) => task instanceof Task && task.name === name },
  });
  return factory as unknown as TaskFactory<readonly unknown[], unknown>;
}

/**
 * The definition's concurrency option, checked now, as a function of each
 * task's stored arguments giving its key and limit (`null`: no key). A key
 * function that throws or returns no usable key fails the task's creation.
 */
function taskConcurrency(
  name: string,
  option: TaskConcurrencyOptions | undefined,
): (args: readonly JsonValue[]) => { key: string; limit: number } | null {
  if (option === undefined) return () => null;
  const where = "concurrency";
  if (typeof option !== "object" || option === null) {
    throw new TaskDefinitionError(
      `task '${name}': ${where} must be { key, limit? } (got ${describeGiven(option)})`,
    );
  }
  const { key } = option;
  if (typeof key === "function") {
    const { limit } = toTaskDefinitionError(name, () =>
      // The key is checked per task, once computed; here only the rest of the option.
      checkConcurrencyOptions({ ...option, key: "computed" }, where),
    );
    return (args) => ({ key: computedKey(name, "concurrency key", key, args), limit });
  }
  const fixed = toTaskDefinitionError(name, () => checkConcurrencyOptions(option, where));
  return () => fixed;
}

/**
 * The definition's stored options, checked now; with a rate-limit key
 * function, also a function of each task's stored arguments giving its own
 * (the key computed, checked as a concurrency key is). A key function that
 * throws or returns no usable key fails the task's creation.
 */
function taskConfig(
  name: string,
  options: TaskOptions,
): { config: TaskConfig; configOf: ((args: readonly JsonValue[]) => TaskConfig) | undefined } {
  const limit = options.rateLimit;
  const key = typeof limit === "object" && limit !== null ? limit.key : undefined;
  if (typeof key !== "function") {
    return {
      config: deepFreeze(normaliseTaskConfig(name, options as TaskBehaviourOptions)),
      configOf: undefined,
    };
  }
  const { key: _computed, ...fixed } = limit!;
  // Checked now with the task's name as its key: the rest of the option is what every task shares.
  const config = deepFreeze(normaliseTaskConfig(name, { ...options, rateLimit: fixed }));
  const rateLimit = config.rateLimit!;
  const configOf = (args: readonly JsonValue[]): TaskConfig => {
    const own = computedKey(name, "rate limit key", key, args);
    return deepFreeze({ ...config, rateLimit: { ...rateLimit, key: own } });
  };
  return { config, configOf };
}

/**
 * The key a key function of task `name` gives for a task's stored
 * arguments, checked (non-empty text of at most 256 characters); a function
 * that throws, or gives anything else, fails the task's creation.
 */
function computedKey(
  name: string,
  what: "concurrency key" | "rate limit key",
  key: (...args: never[]) => unknown,
  args: readonly JsonValue[],
): string {
  let computed: unknown;
  // The arguments it was given, so a miss in a lookup says which tenant's task it was.
  const given = `function given ${argumentsText(args)}`;
  try {
    computed = key(...(args as never[]));
  } catch (error) {
    throw new InvalidOptionError(
      `task '${name}': its ${what} ${given} threw: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return checkConcurrencyKey(computed, `task '${name}': ${what} (its ${given})`);
}

/** A task's arguments as JSON, cut to what fits an error line. */
function argumentsText(args: readonly JsonValue[]): string {
  const text = JSON.stringify(args);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** Runs a check, turning its `InvalidOptionError` into the `TaskDefinitionError` of task `name`. */
function toTaskDefinitionError<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      throw new TaskDefinitionError(`task '${name}': ${error.message}`);
    }
    throw error;
  }
}

function resolveSandboxModule(name: string, sandbox: TaskOptions["sandbox"]): string | undefined {
  const module = sandboxModule(name, sandbox);
  if (module !== undefined && isEntryScript(module)) {
    // Not an error: an entry script may keep its top level free of side effects.
    process.emitWarning(
      `task '${name}' runs in a sandbox thread, which imports the module that defines it — here the script this process started with, so its top-level code (creating queues, starting workers, adding tasks) runs again in that thread; define sandboxed tasks in a module of their own`,
      { code: "SHEPPY_SANDBOX_ENTRY_SCRIPT" },
    );
  }
  return module;
}

function sandboxModule(name: string, sandbox: TaskOptions["sandbox"]): string | undefined {
  if (sandbox === undefined || sandbox === false) return undefined;
  if (typeof sandbox !== "boolean" && (typeof sandbox !== "object" || sandbox === null)) {
    throw new TaskDefinitionError(
      `task '${name}': sandbox must be true, false or { module: import.meta.url } (got ${describeGiven(sandbox)})`,
    );
  }
  if (sandbox === true) {
    const module = callerModule();
    if (!module) {
      throw new TaskDefinitionError(
        `task '${name}': cannot tell which module defines it; pass sandbox: { module: import.meta.url }`,
      );
    }
    return module;
  }
  const unknown = unknownKeysMessage(sandbox, ["module"], "sandbox option");
  if (unknown !== null) throw new TaskDefinitionError(`task '${name}': ${unknown}`);
  const { module } = sandbox;
  try {
    return new URL(String(module)).href;
  } catch {
    throw new TaskDefinitionError(
      `task '${name}': sandbox.module must be a file URL such as import.meta.url (got ${describeGiven(module)})`,
    );
  }
}
