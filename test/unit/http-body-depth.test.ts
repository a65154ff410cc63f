/**
 * A request body's nesting, read from its text before it is parsed: the
 * scan agrees with the parsed value's depth for every JSON text, brackets
 * inside strings (escaped quotes among them) not counting.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nestsDeeperThan } from "../../src/http/body-depth.js";

/** Levels of arrays and objects `value` nests (`[[1]]`: 2; a scalar: 0). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe("a request body's nesting", () => {
  it("property: the scan of any JSON text agrees with its parsed value's depth", () => {
    const text = fc.oneof(
      fc.jsonValue({ maxDepth: 8 }),
      // Strings full of brackets, quotes and backslashes, as keys and values.
      fc.dictionary(
        fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", "a") }),
        fc.array(fc.string({ unit: fc.constantFrom("[", "{", '"', "\\", "}") })),
      ),
    );
    fc.assert(
      fc.property(text, fc.nat({ max: 10 }), fc.boolean(), (value, max, pretty) => {
        const json = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(nestsDeeperThan(json, max)).toBe(depthOf(value) > max);
      }),
      { numRuns: 2_000 },
    );
  });

  it("a body of a million levels is told at the limit, without parsing it", () => {
    const deep = `{"args":[${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}]}`;
    expect(nestsDeeperThan(deep, 68)).toBe(true);
    // An object, then three arrays: the brackets in the string do not count.
    expect(nestsDeeperThan('{"args":[[["]]]]]]"]]]}', 4)).toBe(false);
    expect(nestsDeeperThan('{"args":[[["]]]]]]"]]]}', 3)).toBe(true);
  });
});
