/**
 * A sandboxed task defined in the script a process started with is warned
 * about once, at definition: its sandbox thread would import that script and
 * run its top-level code again. One defined in a module of its own is not.
 * A worker that script starts, or a queue running tasks in-process that it
 * makes, is refused inside the thread, so the task fails with that reason
 * instead of every thread starting one more.
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

  it("a worker the entry script starts is refused in the sandbox thread: the task fails saying so, no thread starts another", async () => {
    const { code, stdout } = await outputOf(spawnTs("test/fixtures/sandbox-entry-worker.ts", {}));
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    // The main thread, and the one sandbox thread that imported the script.
    expect(lines.filter((line) => line.startsWith("top level in thread"))).toHaveLength(2);
    // The worker's own `task failed` log line comes out on stdout too: the script's last word is what counts.
    expect(lines.filter((line) => line.startsWith("outcome")).at(-1)).toMatch(
      /^outcome failed: .*new Worker\(\) in a sandbox thread/,
    );
  }, 60_000);

  it("a memory:// queue (tasks run in-process) the entry script makes is refused in the sandbox thread too", async () => {
    const { code, stdout } = await outputOf(spawnTs("test/fixtures/sandbox-entry-inline.ts", {}));
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines.filter((line) => line.startsWith("top level in thread"))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(
      /^outcome failed: .*a queue that runs its tasks in-process .* made in a sandbox thread/,
    );
  }, 60_000);
});
