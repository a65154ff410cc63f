/**
 * The few Standard Schemas the contract cases need (argument coercion, a
 * result check). The published suite must run without any validation
 * library installed, so it carries these small fixtures, written against the
 * Standard Schema interface that Sheppy accepts from zod, valibot or arktype.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

type Result<T> = StandardSchemaV1.Result<T>;

function schema<Input, Output>(
  validate: (value: unknown) => Result<Output>,
): StandardSchemaV1<Input, Output> {
  return { "~standard": { version: 1, vendor: "sheppy-contract", validate } };
}

const issue = (message: string, path: (string | number)[] = []): Result<never> => ({
  issues: [{ message, path }],
});

/** A number, or text holding one (as a coercing schema reads `"42"`). */
function coerceNumber(value: unknown): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

/** Arguments `[n]` where `n` may be given as text: `["42"]` becomes `[42]`. */
export const oneNumberArg = schema<readonly [unknown], readonly [number]>((value) => {
  if (!Array.isArray(value) || value.length !== 1) return issue("expected one argument");
  const n = coerceNumber(value[0]);
  return n === undefined ? issue("expected a number", [0]) : { value: [n] as const };
});

/** Arguments `[n, label]`: a number (text accepted) and a string. */
export const numberAndLabelArgs = schema<readonly [unknown, string], readonly [number, string]>(
  (value) => {
    if (!Array.isArray(value) || value.length !== 2) return issue("expected two arguments");
    const n = coerceNumber(value[0]);
    if (n === undefined) return issue("expected a number", [0]);
    if (typeof value[1] !== "string") return issue("expected a string", [1]);
    return { value: [n, value[1]] as const };
  },
);

/** A result that must be a number. */
export const numberResult = schema<number, number>((value) =>
  typeof value === "number" ? { value } : issue("expected a number"),
);
