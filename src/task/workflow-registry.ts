/**
 * @module task/workflow-registry
 * The process-wide map from workflow name to definition. A worker resumes a
 * workflow by the name stored in its record, and runs no workflow body that
 * is not registered here.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { DuplicateTaskNameError } from "../errors.js";
import { type DefinitionSite, sameSite, sitesNote } from "./definition-site.js";
import type { WorkflowConfig } from "./workflow-record.js";
import type { WorkflowGenerator } from "./workflow-steps.js";

/** Everything a worker needs to replay a workflow by name. */
export interface WorkflowDefinition {
  readonly name: string;
  readonly fn: (...args: never[]) => WorkflowGenerator<unknown>;
  readonly config: WorkflowConfig;
  readonly argsSchema: StandardSchemaV1 | undefined;
  readonly resultSchema: StandardSchemaV1 | undefined;
  /** Where it was defined (see `./definition-site.ts`). */
  readonly site?: DefinitionSite | undefined;
}

const definitions = new Map<string, WorkflowDefinition>();

/**
 * Registers a definition. A second one with the same name throws
 * `DuplicateTaskNameError` naming both places, unless it comes from the same
 * site — the same module evaluated again — which it then replaces.
 */
export function registerWorkflow(definition: WorkflowDefinition): void {
  const earlier = definitions.get(definition.name);
  if (earlier && !sameSite(earlier.site, definition.site)) {
    throw new DuplicateTaskNameError(
      `workflow '${definition.name}' is already defined in this process${sitesNote(earlier.site, definition.site)}; workflow names must be unique (pass a different { name })`,
    );
  }
  definitions.set(definition.name, definition);
}

/** The definition registered under `name`, if any. */
export function findWorkflow(name: string): WorkflowDefinition | undefined {
  return definitions.get(name);
}

/** Names of every registered workflow. */
export function registeredWorkflowNames(): string[] {
  return [...definitions.keys()];
}
