/**
 * A command on storage that lives inside its own process and runs nothing as
 * it is added (`sqlite://:memory:`) says so: what it stores is gone when it
 * exits. `memory://` runs a task as it is added, so it is not warned about.
 */
import { describe, expect, it } from "vitest";
import { runCli, TASKS } from "../support/cli.js";

const WARNING =
  "warning: sqlite://:memory: keeps its tasks inside this process: what this command stores is gone when it exits, and no other process's tasks are here (use sqlite:///path/to/file.db, redis:// or postgres://)";

describe("commands on storage inside the command's own process", () => {
  it("task add and task list on sqlite://:memory: warn in one line, and still do what they were asked", async () => {
    const added = await runCli([
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "-u",
      "sqlite://:memory:",
    ]);
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(added.stderr.trim()).toBe(WARNING);
    const listed = await runCli(["task", "list", "-u", "sqlite://:memory:"]);
    expect(listed.code).toBe(0);
    expect(listed.stderr.split("\n")).toContain(WARNING);
  });

  it("memory://, which runs the task as it is added, is not warned about", async () => {
    const run = await runCli([
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--wait",
      "-u",
      "memory://",
    ]);
    expect(run).toMatchObject({ code: 0, stdout: "3\n", stderr: "" });
  });
});
