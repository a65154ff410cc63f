/**
 * The package reads no file of its own at run time (a bundler would leave it
 * behind): the Lua scripts and SQL migrations are embedded in modules written
 * from the .lua and .sql files, which must match those files as they are now,
 * and the version is written in a module, which must match package.json's.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../src/util/version.js";

interface EmbeddedSet {
  from: string;
  to: string;
}

const generator = (await import(
  new URL("../../scripts/embed-sources.mjs", import.meta.url).href
)) as {
  EMBEDDED: EmbeddedSet[];
  moduleText(set: EmbeddedSet): string;
  modulePath(set: EmbeddedSet): string;
};

describe("embedded sources", () => {
  for (const set of generator.EMBEDDED) {
    it(`${set.to} holds ${set.from}/ as it is now (else run npm run build)`, () => {
      expect(readFileSync(generator.modulePath(set), "utf8")).toBe(generator.moduleText(set));
    });
  }

  it("the version written in the code is package.json's", () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(VERSION).toBe(manifest.version);
  });
});
