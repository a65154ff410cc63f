/** User keys as PostgreSQL text: never a NUL, plain keys unchanged, two keys never one. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { storableKey } from "../../src/backends/postgres/storable-key.js";

// Mostly the characters the escaping is about, so collisions would be found if there were any.
const keyText = fc.string({
  unit: fc.constantFrom("\u0000", "\u0001", "0", "a", "\u{1F600}"),
  maxLength: 12,
});

describe("storableKey", () => {
  it("holds no NUL, leaves keys without NUL or U+0001 as they are, and keeps different keys different", () => {
    fc.assert(
      fc.property(keyText, keyText, (a, b) => {
        expect(storableKey(a)).not.toContain("\u0000");
        if (!a.includes("\u0000") && !a.includes("\u0001")) expect(storableKey(a)).toBe(a);
        if (a !== b) expect(storableKey(a)).not.toBe(storableKey(b));
      }),
      { numRuns: 5000 },
    );
  });

  it("escapes the cases next to each other apart", () => {
    expect(storableKey("a\u0000b")).toBe("\u0001a\u00010b");
    expect(storableKey("\u0001a\u00010b")).toBe("\u0001\u0001\u0001a\u0001\u00010b");
    expect(storableKey("")).toBe("");
  });
});
