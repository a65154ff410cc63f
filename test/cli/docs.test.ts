/**
 * docs/cli.md is generated from the CLI's own help (`npm run docs:cli`); this
 * fails when a command or option changed and the page was not regenerated.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.js";

describe("docs/cli.md", () => {
  it("matches the built CLI's --help output (run `npm run docs:cli` after changing the CLI)", () => {
    const check = spawnSync(process.execPath, ["scripts/cli-docs.mjs", "--check"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
