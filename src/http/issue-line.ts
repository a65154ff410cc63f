/**
 * @module http/issue-line
 * A request's validation issues as the one line of a 400's `error`, each
 * under the field it is about. A field that takes one value or a list
 * (`status: "failed"` or `status: ["failed", "crashed"]`) fails as a union,
 * whose own message says only "Invalid input": the line says instead what
 * the branch of the value's own shape wanted (the allowed values, for an
 * enum), and what was sent.
 */

/** The parts of a validator issue read here (Zod's shape; a Standard Schema issue has path and message). */
interface Issue {
  readonly code?: string;
  readonly path?: readonly PropertyKey[];
  readonly message?: string;
  /** A union's branches, each with its issues. */
  readonly errors?: readonly (readonly Issue[])[];
}

/** At most this many issues are said; the rest are counted. */
const ISSUES_SAID = 3;

/** `issues` as one line: `status: Invalid option: expected one of "failed"|"crashed" (got "pending")`. */
export function issuesInOneLine(issues: readonly unknown[], input?: unknown): string {
  const said = issues.slice(0, ISSUES_SAID).map((issue) => {
    const { path, message } = explained(issue as Issue, []);
    const field = path.map(String).join(".");
    const got = sentValue(input, path);
    // A message of this project's own checks says what it got already.
    const line =
      got === undefined || message.includes("(got ") ? message : `${message} (got ${got})`;
    return field === "" ? line : `${field}: ${line}`;
  });
  const more = issues.length > ISSUES_SAID ? ` (and ${issues.length - ISSUES_SAID} more)` : "";
  return `${said.join("; ")}${more}`;
}

/**
 * The issue to say for `issue` under `prefix`: a union's own issue when its
 * branches do not settle it, else the issue of the one branch the value had
 * the shape of (the others failing only on its type, at the field itself).
 */
function explained(
  issue: Issue,
  prefix: readonly PropertyKey[],
): { path: readonly PropertyKey[]; message: string } {
  const path = [...prefix, ...(issue.path ?? [])];
  const message = issue.message ?? "invalid";
  if (issue.code !== "invalid_union" || !issue.errors) return { path, message };
  const scores = issue.errors.map(shapeScore);
  const best = Math.max(...scores);
  const chosen = issue.errors.filter((_, i) => scores[i] === best);
  if (best > 0 && chosen.length === 1 && chosen[0]!.length > 0) {
    return explained(chosen[0]![0]!, path);
  }
  return { path, message };
}

/**
 * How far a union's branch got with the value: 2 when it failed inside it
 * (an item of a list: the value had the branch's shape), 1 when it failed
 * on the value itself but not on its type (an enum's value), 0 when the
 * value was of another type altogether.
 */
function shapeScore(branch: readonly Issue[]): number {
  if (branch.some((inner) => (inner.path ?? []).length > 0)) return 2;
  return branch.every((inner) => inner.code === "invalid_type") ? 0 : 1;
}

/** What was sent at `path` of `input`, as short JSON; `undefined` when absent or for the input itself. */
function sentValue(input: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  if (value === undefined || typeof value === "object") return undefined;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
