/**
 * @module task/schema
 * Validation through any Standard Schema validator (zod, valibot, arktype…).
 * Sheppy depends only on the Standard Schema *types*; no validator is bundled.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { TaskDefinitionError, ValidationError } from "../errors.js";
import { errorToData } from "./stored-error.js";

function formatPath(path: StandardSchemaV1.Issue["path"]): string {
  if (!path || path.length === 0) return "";
  return path
    .map((segment) => {
      const key = typeof segment === "object" && segment !== null ? segment.key : segment;
      return typeof key === "number" ? `[${key}]` : `.${String(key)}`;
    })
    .join("");
}

/** The first issues, each with its path under `root` (e.g. `args[0]: Expected string`), on one line. */
export function describeIssues(root: string, issues: readonly StandardSchemaV1.Issue[]): string {
  const details = issues
    .slice(0, 5)
    .map((issue) => `${root}${formatPath(issue.path)}: ${issue.message}`)
    .join("; ");
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : "";
  return `${details}${more}`;
}

function toValidationError(
  what: string,
  root: string,
  issues: readonly StandardSchemaV1.Issue[],
): ValidationError {
  return new ValidationError(`${what}: ${describeIssues(root, issues)}`, issues);
}

/**
 * Validates synchronously (task arguments are checked while the caller waits for a `Task`).
 * `what` starts the error message, `root` prefixes each issue path (e.g. `args`).
 */
export function validateSync<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  what: string,
  root: string,
): StandardSchemaV1.InferOutput<S> {
  let outcome: ReturnType<S["~standard"]["validate"]>;
  try {
    outcome = schema["~standard"].validate(value) as typeof outcome;
  } catch (error) {
    throw new TaskDefinitionError(`${what}: the schema threw: ${errorToData(error).message}`, {
      cause: error,
    });
  }
  if (outcome instanceof Promise) {
    // Never left to reject unheard: some validators (zod among them) report a check that threw as a
    // rejected Promise, and an unhandled rejection would end the process.
    outcome.then(undefined, () => undefined);
    throw new TaskDefinitionError(
      `${what}: the schema answered with a Promise — it validates asynchronously (an async refinement), or one of its checks threw and the validator turned that into a rejected Promise; task argument schemas must be synchronous and must not throw`,
    );
  }
  if (outcome.issues) throw toValidationError(what, root, outcome.issues);
  return outcome.value;
}

/** Validates, awaiting asynchronous validators (used for results, which are checked in the worker). */
export async function validateAsync<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  what: string,
  root: string,
): Promise<StandardSchemaV1.InferOutput<S>> {
  const outcome = await schema["~standard"].validate(value);
  if (outcome.issues) throw toValidationError(what, root, outcome.issues);
  return outcome.value;
}

/** True when `value` looks like a Standard Schema. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { "~standard"?: { validate?: unknown } })["~standard"]?.validate === "function"
  );
}
