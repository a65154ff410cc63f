/**
 * Tasks for the hostile-inputs scenario, loaded by the worker process
 * (TEST_TASK_MODULES) and by the campaign, which only creates them. What
 * they throw is built in the worker from a seed, because hostile values —
 * revoked Proxies, throwing getters, cycles — cannot travel as arguments.
 */
import fc from "fast-check";
import { type JsonValue, task } from "sheppy";
import {
  bareWithFunction,
  build,
  hostileProxy,
  recipe,
  revokedProxy,
  throwingGetter,
  unprintable,
} from "../../test/support/hostile-values.js";

/** Throws the value fast-check's hostile-value recipe `seed + index` builds. */
export const hostileThrow = task(
  { name: "faults.hostile-throw" },
  (seed: number, index: number) => {
    const [drawn] = fc.sample(recipe, { seed: seed + index, numRuns: 1 });
    throw build(drawn!);
  },
);

/** Named hostile values, each thrown on its own. */
export const NAMED_KINDS = [
  "revoked-proxy",
  "proxy-of-error",
  "proxy-of-function",
  "unprintable",
  "bare-with-function",
  "cycle",
  "bigint",
  "symbol",
  "function",
  "text-of-1-million-chars",
  "null",
  "undefined",
  "error-caused-by-itself",
  "error-with-throwing-getters",
  "error-with-revoked-cause",
] as const;

function named(kind: string): unknown {
  switch (kind) {
    case "revoked-proxy":
      return revokedProxy();
    case "proxy-of-error":
      return hostileProxy(new Error("inside"));
    case "proxy-of-function":
      return hostileProxy(() => 1);
    case "unprintable":
      return unprintable();
    case "bare-with-function":
      return bareWithFunction();
    case "cycle": {
      const loop: Record<string, unknown> = {};
      loop.self = loop;
      return loop;
    }
    case "bigint":
      return 10n ** 30n;
    case "symbol":
      return Symbol("hostile");
    case "function":
      return () => "a function";
    case "text-of-1-million-chars":
      return "é".repeat(1_000_000);
    case "null":
      return null;
    case "undefined":
      return undefined;
    case "error-caused-by-itself": {
      const error = new Error("me again");
      error.cause = error;
      return error;
    }
    case "error-with-throwing-getters": {
      const error = new Error("hidden");
      for (const key of ["stack", "message", "name", "cause"]) {
        throwingGetter(error, key, revokedProxy());
      }
      return error;
    }
    case "error-with-revoked-cause":
      return new Error("outer", { cause: revokedProxy() });
    default:
      return new Error(`unknown kind ${kind}`);
  }
}

export const hostileNamed = task({ name: "faults.hostile-named" }, (kind: string) => {
  throw named(kind);
});

/** Returns a result nested `depth` levels deep (Sheppy stores at most 64). */
export const deepResult = task({ name: "faults.deep-result" }, (depth: number) => {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value as number;
});

/** How deeply its argument nests; the hand-written records with deep arguments name this task. */
export const depthOf = task({ name: "faults.depth" }, (value: JsonValue) => {
  let depth = 0;
  let level: JsonValue | undefined = value;
  while (Array.isArray(level) && level.length > 0) {
    depth++;
    level = level[0];
  }
  return depth;
});
