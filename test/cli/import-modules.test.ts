/**
 * `--import <module>` loads modules before any command runs: a module that
 * registers a URL scheme of its own makes that scheme work in every command
 * (not only in `sheppy work`, which loads task modules anyway); a module
 * that cannot be loaded is one line naming it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, TASKS } from "../support/cli.js";

const SCHEME = "test/fixtures/cli/file-scheme.ts";
const dir = mkdtempSync(join(tmpdir(), "sheppy-import-"));
const url = `litefile://${join(dir, "queues.db")}`;

describe("sheppy --import", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a scheme a module registers works in task add, queue list and task list", async () => {
    const added = await runCli([
      "--import",
      SCHEME,
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "-q",
      "imported",
      "-u",
      url,
    ]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const queues = await runCli(["--import", SCHEME, "queue", "list", "-u", url]);
    expect(queues.code).toBe(0);
    expect(queues.stdout).toMatch(/imported/);
    const tasks = await runCli(["task", "list", "-q", "imported", "-u", url, "--import", SCHEME]);
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toContain(id);
  });

  it("without it the scheme is unknown; a module that cannot be loaded is named", async () => {
    const unknown = await runCli(["queue", "list", "-u", url]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Unsupported backend protocol 'litefile:\/\/'/);
    const missing = await runCli(["--import", "./no-such-module.ts", "queue", "list", "-u", url]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot load module '\.\/no-such-module\.ts'/);
  });
});
