/**
 * @module task/missing-arguments
 * Arguments that arrive as data (a command line, an HTTP body) are not
 * checked by the compiler, and without an `args` schema nothing checks them
 * before the task runs. Fewer than the function declares before its first
 * default is most likely a mistake, so whoever added such a task is told —
 * as a warning, not an error: a parameter TypeScript marks optional
 * (`b?: number`) still counts in the function's length, and leaving it out
 * is allowed.
 */
import type { Task } from "./task-record.js";
import { findTask } from "./task-registry.js";
import type { Workflow } from "./workflow-record.js";
import { findWorkflow } from "./workflow-registry.js";

/** The warning for `task` when it was given fewer arguments than its function declares; `undefined` otherwise. */
export function missingArgumentsWarning(task: Task): string | undefined {
  return fewerThanDeclared("task", task.name, task.args.length, findTask(task.name));
}

/** The warning for `workflow` when it was given fewer arguments than its body declares; `undefined` otherwise. */
export function missingWorkflowArgumentsWarning(workflow: Workflow): string | undefined {
  return fewerThanDeclared(
    "workflow",
    workflow.name,
    workflow.args.length,
    findWorkflow(workflow.name),
  );
}

function fewerThanDeclared(
  kind: "task" | "workflow",
  name: string,
  given: number,
  definition:
    | { readonly fn: { readonly length: number }; readonly argsSchema?: unknown }
    | undefined,
): string | undefined {
  if (!definition || definition.argsSchema) return undefined;
  const declared = definition.fn.length;
  if (given >= declared) return undefined;
  return `${kind} '${name}' declares ${declared} parameter${declared === 1 ? "" : "s"} and was given ${given} argument${given === 1 ? "" : "s"}; without an args schema nothing checks them before it runs (give the ${kind} an args schema to refuse them when it is added)`;
}
