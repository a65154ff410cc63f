/**
 * @module task/task-registry
 * The process-wide map from task name to definition. Workers find the code to
 * run by the name stored in a task record, and never run anything not
 * registered here.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { DuplicateTaskNameError } from "../errors.js";
import type { JsonValue } from "../json.js";
import type { BackoffFunction } from "./backoff-options.js";
import { type DefinitionSite, sameSite, sitesNote } from "./definition-site.js";
import type { Middleware } from "./middleware-types.js";
import type { TaskConfig } from "./task-options.js";
import type { WorkflowDefinition } from "./workflow-registry.js";
import { SLEEP_CONFIG, SLEEP_TASK_NAME } from "./workflow-sleep.js";

/** Everything a worker needs to run a task by name. */
export interface TaskDefinition {
  readonly name: string;
  readonly fn: (...args: never[]) => unknown;
  readonly config: TaskConfig;
  readonly middleware: readonly Middleware[];
  readonly argsSchema: StandardSchemaV1 | undefined;
  readonly resultSchema: StandardSchemaV1 | undefined;
  /** With `sandbox`: the module (file URL) a sandbox thread imports to find this task. */
  readonly sandboxModule: string | undefined;
  /** A function given as `retryDelay` (records store only `{ type: "function" }`). */
  readonly backoff?: BackoffFunction | undefined;
  /**
   * Set for the task that resumes a workflow (named `workflow:<name>`): the
   * attempt replays this workflow instead of calling `fn`.
   */
  readonly resumes?: WorkflowDefinition | undefined;
  /** Where it was defined (see `./definition-site.ts`). */
  readonly site?: DefinitionSite | undefined;
  /** The claim priority its tasks get (absent: 0). */
  readonly priority?: number | undefined;
  /** Its tasks' stored options, from their stored arguments when a rate-limit key is a function of them (absent: `config`). */
  readonly configOf?: ((args: readonly JsonValue[]) => TaskConfig) | undefined;
  /** Its tasks' concurrency key and limit, from their stored arguments (absent: no key). */
  readonly concurrencyOf?:
    | ((args: readonly JsonValue[]) => { key: string; limit: number } | null)
    | undefined;
}

const definitions = new Map<string, TaskDefinition>();

/** The built-in task of a workflow's sleep step (see `./workflow-sleep.ts`): it does nothing when run. */
const SLEEP_TASK_DEFINITION: TaskDefinition = Object.freeze({
  name: SLEEP_TASK_NAME,
  fn: () => null,
  config: SLEEP_CONFIG,
  middleware: [],
  argsSchema: undefined,
  resultSchema: undefined,
  sandboxModule: undefined,
});

/**
 * Registers a definition. A second one with the same name throws
 * `DuplicateTaskNameError` naming both places, unless it comes from the same
 * site — the same module evaluated again — which it then replaces.
 */
export function registerTask(definition: TaskDefinition): void {
  const earlier = definitions.get(definition.name);
  if (earlier && !sameSite(earlier.site, definition.site)) {
    throw new DuplicateTaskNameError(
      `task '${definition.name}' is already defined in this process${sitesNote(earlier.site, definition.site)}; task names must be unique (pass a different { name })`,
    );
  }
  definitions.set(definition.name, definition);
}

/**
 * The definition registered under `name`, if any — or the built-in one of a
 * workflow's sleep step, which every process knows without registering it.
 */
export function findTask(name: string): TaskDefinition | undefined {
  return definitions.get(name) ?? (name === SLEEP_TASK_NAME ? SLEEP_TASK_DEFINITION : undefined);
}

/** Names of every registered task (for error messages and the CLI). */
export function registeredTaskNames(): string[] {
  return [...definitions.keys()];
}
