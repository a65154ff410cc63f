/**
 * @module task/definition-name
 * The name `task()` and `workflow()` register a definition under: the `name`
 * option when it is given, else the function's own name (with a warning when
 * that is short enough to be a minifier's). Both check it the same way, and
 * say what is wrong with a given name rather than treating it as missing.
 */
import { describeGiven } from "./describe-value.js";

/** The longest function name taken for a minifier's work (they rename to one or two characters). */
const MINIFIED_LENGTH = 2;

/**
 * A stored task is found by its name, so a name a minifier chose — another
 * one in every build, the same one for different functions in two bundles —
 * would have a worker run the wrong task or none. A name this short, taken
 * from the function, is most likely such a one: said once per name.
 */
function warnShortName(kind: "task" | "workflow", name: string): void {
  if (warned.has(name)) return;
  warned.add(name);
  process.emitWarning(
    `${kind} '${name}' takes its name from its function's, which is this short most likely because a minifier renamed it; a stored task is found by its name, so give the ${kind} one that no build changes: ${kind}({ name: "…" }, fn) (or build with the minifier's keep-names setting)`,
    { code: "SHEPPY_SHORT_TASK_NAME" },
  );
}

const warned = new Set<string>();

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
    if (typeof fnName === "string" && fnName.trim() !== "") {
      if (fnName.length <= MINIFIED_LENGTH) warnShortName(kind, fnName);
      return { ok: true, name: fnName };
    }
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
