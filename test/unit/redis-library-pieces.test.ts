/**
 * Scripts include only the library functions they call: the libraries cut
 * into pieces give the library back whole, every function a script calls is
 * defined in its source before the script's own code, and a function no
 * one names is left out.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { libraryPieces, neededFunctions } from "../../src/backends/redis/library-pieces.js";
import { type ScriptName, scriptSource } from "../../src/backends/redis/scripts.js";

const libDir = new URL("../../src/backends/redis/scripts/lib/", import.meta.url);
const libs = readdirSync(libDir).map((file) => readFileSync(new URL(file, libDir), "utf8"));
const libraryFunctions = new Set(
  libs.flatMap((lib) => libraryPieces(lib).flatMap((piece) => (piece.name ? [piece.name] : []))),
);
const scriptNames = readdirSync(new URL("../../src/backends/redis/scripts/", import.meta.url))
  .filter((file) => file.endsWith(".lua"))
  .map((file) => file.slice(0, -4).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()));

describe("redis: library pieces", () => {
  it("cut a library into pieces that join back into it, one per function", () => {
    for (const lib of libs) {
      const pieces = libraryPieces(lib);
      expect(pieces.map((p) => p.text).join("\n")).toBe(lib);
      const defined = lib.match(/^local function \w+/gm) ?? [];
      expect(pieces.filter((p) => p.name !== null)).toHaveLength(defined.length);
    }
  });

  it("every library function a script calls is defined before the first line that calls it", () => {
    expect(scriptNames.length).toBeGreaterThan(20);
    for (const name of scriptNames) {
      const source = scriptSource(name as ScriptName);
      const lines = source.split("\n");
      const definedAt = new Map<string, number>();
      lines.forEach((line, i) => {
        const defined = /^local function (\w+)/.exec(line);
        if (defined) definedAt.set(defined[1]!, i);
      });
      lines.forEach((line, i) => {
        if (line.trimStart().startsWith("--")) return;
        for (const [, called] of line.matchAll(/([A-Za-z_]\w*)\s*\(/g)) {
          if (!libraryFunctions.has(called!) || /^local function /.test(line)) continue;
          const at = definedAt.get(called!) ?? Number.POSITIVE_INFINITY;
          expect(
            at < i,
            `${name}: ${called} is called on line ${i + 1} before any definition`,
          ).toBe(true);
        }
      });
    }
  });

  it("a script leaves out the library functions nothing in it names", () => {
    const claim = scriptSource("claim");
    expect(claim).toContain("local function takeClaimable(");
    // The claim script includes the counters' library for none of its functions.
    expect(claim).not.toContain("local function bump(");
    expect(claim).not.toContain("local function unfinish(");
    const renew = scriptSource("renew");
    expect(renew).toContain("local function fenceOf(");
    expect(renew).not.toContain("local function bump(");
  });

  /** Words Lua reserves: no function is named so, and every script holds some (`end`, `return`). */
  const LUA_KEYWORDS = new Set(
    "and break do else elseif end false for function goto if in local nil not or repeat return then true until while".split(
      " ",
    ),
  );

  it("keeps a function called only by another kept function, and never one named only in a comment", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.stringMatching(/^[a-z][a-zA-Z]{2,8}$/).filter((name) => !LUA_KEYWORDS.has(name)),
          { minLength: 3, maxLength: 8 },
        ),
        fc.nat(),
        (names, seed) => {
          // Each function calls the one before it; the script calls one of them.
          const lib = names
            .map((name, i) =>
              [
                `-- ${name}: ${names[(i + 1) % names.length]} is not called here.`,
                `local function ${name}(x)`,
                i === 0 ? "  return x" : `  return ${names[i - 1]}(x) + 1`,
                "end",
              ].join("\n"),
            )
            .join("\n\n");
          const pieces = libraryPieces(lib);
          expect(pieces.map((p) => p.text).join("\n")).toBe(lib);
          const called = seed % names.length;
          const needed = neededFunctions(`return ${names[called]}(1)`, pieces);
          expect([...needed].sort()).toEqual(names.slice(0, called + 1).sort());
        },
      ),
    );
  });
});
