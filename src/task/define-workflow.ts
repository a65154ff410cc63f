/**
 * @module task/define-workflow
 * `workflow()` turns a generator function into a typed workflow factory.
 * Calling the factory runs nothing: it validates the arguments and returns a
 * new `Workflow`. The body is replayed from the start on every resume, so it
 * must be a plain (not async) generator function.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { isoAt, systemClock } from "../clock.js";
import { WorkflowDefinitionError } from "../errors.js";
import { deepFreeze } from "../json.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { uuidV7 } from "../util/uuid-v7.js";
import type { ArgsSchema } from "./define-task.js";
import { definitionName, minifiedName, warnOfMinifiedName } from "./definition-name.js";
import { definitionSite } from "./definition-site.js";
import { describeGiven } from "./describe-value.js";
import type {
  CheckedSchema,
  CheckedWorkflowArguments,
  CheckedWorkflowResult,
} from "./json-signature.js";
import { isStandardSchema } from "./schema.js";
import type { ResultAs } from "./stored-as.js";
import { storedArgs } from "./task-args.js";
import {
  WORKFLOW_DATA_VERSION,
  Workflow,
  type WorkflowConfig,
  type WorkflowData,
} from "./workflow-record.js";
import { registerWorkflow, type WorkflowDefinition } from "./workflow-registry.js";
import { registerResumeTask } from "./workflow-resume-task.js";
import type { WorkflowGenerator } from "./workflow-steps.js";

/** A workflow body: a generator function yielding steps through the helpers. */
export type WorkflowFunction = (...args: never[]) => WorkflowGenerator<unknown>;

/** Options of `workflow(options, fn)`; every field is optional. */
export interface WorkflowOptions {
  /** Unique name workers look the workflow up by; defaults to the function's name. */
  name?: string;
  /** Seconds a completed workflow record is kept (`null`: forever; default: the backend's). */
  ttl?: number | null;
  /** Seconds a failed or cancelled workflow record is kept (default: `ttl`, then the backend's). */
  errorTtl?: number | null;
}

/**
 * The schemas `workflow(options, fn)` takes beside {@link WorkflowOptions},
 * written in the call (they type the workflow; shared options hold the rest).
 */
export interface WorkflowSchemas {
  /** Validates and normalises the arguments when a workflow is created. */
  args?: ArgsSchema;
  /** Validates the result when the workflow completes; read-backs yield its parsed output. */
  result?: StandardSchemaV1;
}

const WORKFLOW_OPTION_KEYS = Object.keys({
  name: true,
  args: true,
  result: true,
  ttl: true,
  errorTtl: true,
} satisfies Record<keyof (WorkflowOptions & WorkflowSchemas), true>);

/** Creates workflows: call it with the body's own arguments to get a `Workflow<R>`. */
export interface WorkflowFactory<
  A extends readonly unknown[],
  R,
  Stored extends readonly unknown[] = A,
> {
  (...args: A): Workflow<R>;
  /** The registered name. */
  readonly workflowName: string;
  /**
   * Whether `workflow` is one of this factory's (its name is this
   * workflow's): narrows a workflow read back by id (`getWorkflow(id)`,
   * `waitForWorkflow(id)`), whose result is `unknown`, to this workflow's
   * result and its arguments as stored.
   * @example
   * const found = await queue.getWorkflow(id);
   * if (onboard.is(found) && found.status === "completed") found.result.invoice;
   */
  is(workflow: Workflow | null | undefined): workflow is Workflow<R> & {
    readonly args: Readonly<Stored>;
  };
}

type Input<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never;
type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;
type ArgsInput<S extends ArgsSchema> = Input<S> extends readonly unknown[] ? Input<S> : never;
type ArgsOutput<S extends ArgsSchema> = Output<S> extends readonly unknown[] ? Output<S> : never;
/** A body's return value as its workflow's stored result reads back (see {@link ResultAs}): a finished step in it as the step's record. */
type ReturnOf<F> = ResultAs<BodyResult<F>, never>;
/** What a body returns, as written. */
type BodyResult<F> = F extends (...args: never[]) => Generator<unknown, infer R, unknown>
  ? R
  : never;
/** `unknown` when a body's arguments and result can be stored, else what the compiler shows. */
type CheckedBody<F extends WorkflowFunction> = CheckedWorkflowArguments<Parameters<F>> &
  CheckedWorkflowResult<BodyResult<F>>;

// A generator function's prototype chain is the only reliable mark of one:
// `function*` bodies are instances of GeneratorFunction, async generators are not.
const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;

/**
 * Defines a workflow.
 * @example
 * export const onboard = workflow({ name: "onboard" }, function* (userId: string) {
 *   const profile = yield* step(fetchProfile(userId));
 *   const [mail, invoice] = yield* all([sendWelcome(userId), createInvoice(userId)]);
 *   return { invoice: invoice.result, mailed: mail.status === "completed" };
 * });
 * const wf = onboard("u1"); // Workflow<{ invoice: …; mailed: boolean }>
 */
export function workflow<F extends WorkflowFunction>(
  fn: F & CheckedBody<F>,
): WorkflowFactory<Parameters<F>, ReturnOf<F>>;
export function workflow<
  S extends ArgsSchema,
  F extends (...args: ArgsOutput<S>) => WorkflowGenerator<unknown>,
  RS extends StandardSchemaV1 | undefined = undefined,
>(
  options: WorkflowOptions & { args: S & CheckedSchema<S>; result?: RS & CheckedSchema<RS> },
  fn: [RS] extends [StandardSchemaV1]
    ? (...args: ArgsOutput<S>) => WorkflowGenerator<Input<RS>>
    : F & CheckedWorkflowResult<BodyResult<F>>,
): WorkflowFactory<
  ArgsInput<S>,
  [RS] extends [StandardSchemaV1] ? Output<RS> : ReturnOf<F>,
  ArgsOutput<S>
>;
export function workflow<
  F extends WorkflowFunction,
  RS extends StandardSchemaV1 | undefined = undefined,
>(
  options: WorkflowOptions & { args?: undefined; result?: RS & CheckedSchema<RS> },
  fn: F &
    ([RS] extends [StandardSchemaV1]
      ? ((...args: Parameters<F>) => WorkflowGenerator<Input<RS>>) &
          CheckedWorkflowArguments<Parameters<F>>
      : CheckedBody<F>),
): WorkflowFactory<Parameters<F>, [RS] extends [StandardSchemaV1] ? Output<RS> : ReturnOf<F>>;
export function workflow(
  // Each overload types its own options; here they are only checked.
  optionsOrFn: object,
  maybeFn?: WorkflowFunction,
): WorkflowFactory<readonly unknown[], unknown> {
  const [options, fn]: [WorkflowOptions & WorkflowSchemas, WorkflowFunction | undefined] =
    typeof optionsOrFn === "function"
      ? [{}, optionsOrFn as WorkflowFunction]
      : [(optionsOrFn as (WorkflowOptions & WorkflowSchemas) | null) ?? {}, maybeFn];
  if (typeof fn !== "function") {
    throw new WorkflowDefinitionError(
      "workflow() needs a generator function: workflow(function* (…) {…}) or workflow(options, function* (…) {…})",
    );
  }
  const named = definitionName("workflow", options.name, fn.name);
  const unknown = unknownKeysMessage(options, WORKFLOW_OPTION_KEYS);
  if (unknown) {
    const label = named.ok ? `workflow '${named.name}'` : "workflow()";
    throw new WorkflowDefinitionError(`${label}: ${unknown}`);
  }
  if (!named.ok) throw new WorkflowDefinitionError(named.problem);
  const { name } = named;
  if (!(fn instanceof GeneratorFunction)) {
    throw new WorkflowDefinitionError(
      `workflow '${name}': the body must be a generator function (function* …), not ${notGenerator(fn)}`,
    );
  }
  for (const key of ["args", "result"] as const) {
    if (options[key] !== undefined && !isStandardSchema(options[key])) {
      throw new WorkflowDefinitionError(
        `workflow '${name}': ${key} must be a Standard Schema (zod, valibot, arktype…)`,
      );
    }
  }
  const config = deepFreeze(workflowConfig(name, options));
  const site = definitionSite();
  if (options.name === undefined && minifiedName(name, fn)) {
    const first = site?.calls[0];
    warnOfMinifiedName("workflow", name, first && `${first.path}:${first.line}:${first.column}`);
  }
  const definition: WorkflowDefinition = {
    name,
    fn,
    config,
    argsSchema: options.args,
    resultSchema: options.result,
    site,
  };
  registerWorkflow(definition);
  registerResumeTask(definition);
  const factory = (...args: unknown[]): Workflow => workflowOf(definition, args);
  Object.defineProperties(factory, {
    workflowName: { value: name, enumerable: true },
    is: { value: (found: unknown) => found instanceof Workflow && found.name === name },
  });
  return factory as unknown as WorkflowFactory<readonly unknown[], unknown>;
}

/**
 * A new workflow of `definition` called with `args`, as its factory makes
 * it (the arguments checked by its schema and stored as JSON): also how a
 * workflow is made from its name, over HTTP.
 */
export function workflowOf(definition: WorkflowDefinition, args: readonly unknown[]): Workflow {
  const stored = storedArgs(definition, args, "workflow");
  return new Workflow(
    newWorkflowData(uuidV7(), definition.name, stored, definition.config, systemClock.now()),
    null,
  );
}

/** What the body given instead of a generator function is, and why it will not do. */
function notGenerator(fn: (...args: never[]) => unknown): string {
  const kind = Object.getPrototypeOf(fn)?.constructor?.name;
  const async = "it is replayed on every resume, so it cannot be async — steps run as tasks";
  if (kind === "AsyncGeneratorFunction") return `an async generator function; ${async}`;
  if (kind === "AsyncFunction") return `an async function; ${async}`;
  return "a plain function; a body hands each step to the queue with yield* (yield* step(task)), which only a generator can do";
}

function workflowConfig(name: string, options: WorkflowOptions & WorkflowSchemas): WorkflowConfig {
  const config: WorkflowConfig = {};
  for (const key of ["ttl", "errorTtl"] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (value !== null && !isDuration(value, false)) {
      throw new WorkflowDefinitionError(
        `workflow '${name}': ${key} must be a number of seconds > 0 and ${MAX_DURATION_TEXT}, or null to keep forever (got ${describeGiven(value)})`,
      );
    }
    config[key] = value;
  }
  return config;
}

/** @internal The data a workflow factory creates: running, no steps yet. */
export function newWorkflowData(
  id: string,
  name: string,
  args: WorkflowData["args"],
  config: WorkflowConfig,
  now: number,
): WorkflowData {
  return {
    v: WORKFLOW_DATA_VERSION,
    id,
    name,
    args,
    status: "running",
    steps: [],
    pending: [],
    effects: [],
    result: null,
    error: null,
    config,
    createdAt: isoAt(now),
    finishedAt: null,
  };
}
