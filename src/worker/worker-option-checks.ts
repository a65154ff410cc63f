/**
 * @module worker/worker-option-checks
 * The check each Worker option's value must pass, one line naming the option
 * when it does not: a value of the wrong type would otherwise be taken as
 * given (`processing: "no"` is truthy and processes) or fail only later, in
 * every task (`middleware: "x"`). `TestQueue` checks the options it shares
 * with a Worker here too, naming itself as their `owner`.
 */
import type { Clock } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import type { Middleware } from "../execution/middleware.js";
import type { DependencyOverrides } from "../execution/run-context.js";
import type { Logger } from "../observability/logger.js";
import { describeGiven } from "../task/describe-value.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";

export function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) {
    throw new InvalidOptionError(
      `Worker option ${name} must be an integer ≥ 1 (got ${describeGiven(value)})`,
    );
  }
  return resolved;
}

/** A seconds option, checked (bounded like every duration) and returned in milliseconds. */
export function seconds(
  name: string,
  value: number | undefined,
  fallback: number,
  allowZero = false,
): number {
  const resolved = value ?? fallback;
  if (!isDuration(resolved, allowZero)) {
    throw new InvalidOptionError(
      `Worker option ${name} must be a number of seconds ${allowZero ? "≥ 0" : "> 0"} and ${MAX_DURATION_TEXT} (got ${describeGiven(value)})`,
    );
  }
  return resolved * 1000;
}

export function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new InvalidOptionError(
      `Worker option ${name} must be true or false (got ${describeGiven(value)})`,
    );
  }
  return value;
}

/** `logTasks`: `true`, `false` or `"failures"` (the default). */
export function logTasksOption(value: boolean | "failures" | undefined): boolean | "failures" {
  if (value === undefined || value === "failures") return "failures";
  if (typeof value !== "boolean") {
    throw new InvalidOptionError(
      `Worker option logTasks must be true, false or "failures" (got ${describeGiven(value)})`,
    );
  }
  return value;
}

export function middlewareList(
  value: readonly Middleware[] | undefined,
  owner = "Worker",
): readonly Middleware[] {
  if (value === undefined) return [];
  // A hole in the list counts as an item too: findIndex visits it as undefined.
  const bad = Array.isArray(value) ? value.findIndex((item) => typeof item !== "function") : -1;
  if (!Array.isArray(value) || bad !== -1) {
    // A lone function is a list not written; its String() would be its source, lines and all.
    const given =
      typeof value === "function"
        ? "got a function: pass a list, [middleware]"
        : bad === -1
          ? `got ${describeGiven(value)}`
          : `item ${bad} is ${describeGiven(value[bad])}`;
    throw new InvalidOptionError(
      `${owner} option middleware must be a list of functions (${given})`,
    );
  }
  return value;
}

export function overrides(
  value: DependencyOverrides | undefined,
  owner = "Worker",
): DependencyOverrides | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Map)) {
    // A list of pairs is the Map's constructor argument, not yet a Map; its String() would be the functions' source.
    const given = Array.isArray(value) ? "a list: wrap it in new Map(…)" : describeGiven(value);
    throw new InvalidOptionError(
      `${owner} option dependencyOverrides must be a Map from dependency functions to their replacements (got ${given})`,
    );
  }
  let entry = 0;
  for (const [real, fake] of value) {
    entry++;
    const which = typeof real !== "function" ? "key" : typeof fake !== "function" ? "value" : null;
    if (which !== null) {
      const name = typeof real === "function" && real.name !== "" ? ` (${real.name})` : "";
      throw new InvalidOptionError(
        `${owner} option dependencyOverrides: entry ${entry}${name} has a ${which} that is not a function (got ${describeGiven(which === "key" ? real : fake)}); each key is a dependency function and its value the function that replaces it`,
      );
    }
  }
  return value;
}

/** An object with every method in `methods` (the worker calls them), or `fallback()` when absent. */
function withMethods<T>(
  name: string,
  value: T | undefined,
  fallback: () => T,
  methods: readonly string[],
  owner = "Worker",
): T {
  if (value === undefined) return fallback();
  const missing =
    typeof value === "object" && value !== null
      ? methods.filter((method) => typeof (value as Record<string, unknown>)[method] !== "function")
      : methods;
  if (missing.length > 0) {
    throw new InvalidOptionError(
      `${owner} option ${name} must be an object with the methods ${methods.join(", ")} (got ${describeGiven(value)}, without ${missing.join(", ")})`,
    );
  }
  return value;
}

export const loggerOption = (value: Logger | undefined, fallback: () => Logger): Logger =>
  withMethods("logger", value, fallback, ["debug", "info", "warn", "error"]);

export const clockOption = (value: Clock | undefined, fallback: Clock, owner = "Worker"): Clock =>
  withMethods("clock", value, () => fallback, ["now", "setTimer", "sleep"], owner);
