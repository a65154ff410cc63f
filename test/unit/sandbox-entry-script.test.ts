/**
 * A sandboxed task defined in the script a process started with is warned
 * about once, at definition: its sandbox thread would import that script and
 * run its top-level code again. One defined in a module of its own is not.
 */
import { describe, expect, it } from "vitest";
import { outputOf, spawnTs } from "../support/processes.js";

describe("sandboxed tasks in the entry script", () => {
  it("warn, naming the task and what to do; a task from its own module does not", async () => {
    const { code, stdout, stderr } = await outputOf(
      spawnTs("test/fixtures/sandbox-entry-script.ts", {}),
    );
    expect(code).toBe(0);
    expect(stdout).toContain(
      "defined sandbox-entry.here and sandbox.spin-for (sandbox-entry.here)",
    );
    const warnings = stderr
      .split("\n")
      .filter((line) => line.includes("SHEPPY_SANDBOX_ENTRY_SCRIPT"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("task 'sandbox-entry.here' runs in a sandbox thread");
    expect(warnings[0]).toContain("define sandboxed tasks in a module of their own");
    expect(stderr).not.toContain("sandbox.spin-for");
  }, 30_000);
});
