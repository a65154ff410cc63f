/**
 * @module task/definition-name
 * The name `task()` and `workflow()` register a definition under: the `name`
 * option when it is given, else the function's own name. Both check it the
 * same way, and say what is wrong with a given name rather than treating it
 * as missing.
 */
import { describeGiven } from "./describe-value.js";

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
