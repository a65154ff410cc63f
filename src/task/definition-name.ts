/**
 * @module task/definition-name
 * The name `task()` and `workflow()` register a definition under: the `name`
 * option when it is given, else the function's own name (and the warning for
 * one a minifier most likely chose). Both check it the same way, and say what
 * is wrong with a given name rather than treating it as missing.
 */
import { describeGiven } from "./describe-value.js";

/** Names this short are what minifiers rename functions to (one to three characters in a large bundle). */
const MINIFIED_LENGTH = 3;
/** Names this short are warned about whatever the function's source looks like. */
const ALWAYS_SUSPECT_LENGTH = 2;

/**
 * Whether `fnName`, the name a definition took from its function `fn`,
 * is most likely a minifier's: one or two characters, or three when the
 * function's source is on one line (a minifier leaves no line breaks).
 */
export function minifiedName(fnName: string, fn: { toString(): string }): boolean {
  if (fnName.length > MINIFIED_LENGTH) return false;
  if (fnName.length <= ALWAYS_SUSPECT_LENGTH) return true;
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return false;
  }
  return !source.includes("\n");
}

const warned = new Set<string>();

/**
 * A stored task is found by its name, so a name a minifier chose — another
 * one in every build, the same one for different functions in two bundles —
 * would have a worker run the wrong task or none. A definition that took
 * such a name from its function (see {@link minifiedName}) is warned about
 * once per name, saying where it is defined (`where`, when known).
 */
export function warnOfMinifiedName(
  kind: "task" | "workflow",
  name: string,
  where: string | undefined,
): void {
  if (warned.has(name)) return;
  warned.add(name);
  const at = where === undefined ? "" : ` (defined at ${where})`;
  process.emitWarning(
    `${kind} '${name}'${at} takes its name from its function's, which is this short most likely because a minifier renamed it; a stored task is found by its name, so give the ${kind} one that no build changes: ${kind}({ name: "…" }, fn) (or build with the minifier's keep-names setting)`,
    { code: "SHEPPY_SHORT_TASK_NAME" },
  );
}

/** The name a definition gets, or the one-line problem with it (the caller throws its own error class). */
export type DefinitionName = { ok: true; name: string } | { ok: false; problem: string };

/**
 * Checks the `name` option (`option`) of `kind()`, falling back to the
 * function's name `fnName` when the option is absent.
 * @example definitionName("task", "", "add") // { ok: false, problem: "task(): name must not be empty (got \"\")" }
 */
export function definitionName(
  kind: "task" | "workflow",
  option: unknown,
  fnName: unknown,
): DefinitionName {
  if (option === undefined) {
    if (typeof fnName === "string" && fnName.trim() !== "") return { ok: true, name: fnName };
    return {
      ok: false,
      problem: `${kind}() was given an anonymous function: pass { name: '…' } in the options`,
    };
  }
  if (typeof option !== "string") {
    return {
      ok: false,
      problem: `${kind}(): name must be a string (got ${describeGiven(option)})`,
    };
  }
  if (option.trim() === "") {
    const what = option === "" ? "empty" : "only whitespace";
    return {
      ok: false,
      problem: `${kind}(): name must not be ${what} (got ${describeGiven(option)})`,
    };
  }
  return { ok: true, name: option };
}
