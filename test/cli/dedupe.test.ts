/**
 * `task add | schedule` with `--id`, `--dedupe-key`, `--dedupe-mode` and
 * `--dedupe-window` print what the add did (`added <id>`, `ignored <id>`,
 * `replaced <id>`), on a SQLite file (no server needed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, json, runCli, TASKS } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-dedupe-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task add --dedupe-key / --id", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "dedupe" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the outcome and the id of the task holding the key; replace takes the new arguments", async () => {
    const first = await sheppy(
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1,2]",
      "--dedupe-key",
      "k",
    );
    expect(first.code).toBe(0);
    const [outcome, id] = first.stdout.trim().split(" ");
    expect(outcome).toBe("added");
    expect(
      await sheppy("task", "add", `${TASKS}:add`, "--args", "[3,4]", "--dedupe-key", "k"),
    ).toMatchObject({
      code: 0,
      stdout: `ignored ${id}\n`,
    });
    const replaced = json(
      await sheppy(
        "task",
        "add",
        `${TASKS}:add`,
        "--args",
        "[5,6]",
        "--dedupe-key",
        "k",
        "--dedupe-mode",
        "replace",
        "--format",
        "json",
      ),
    ) as { outcome: string; id: string; task: { args: unknown[] } };
    expect(replaced).toMatchObject({ outcome: "replaced", id, task: { args: [5, 6] } });
    // task info names the key its task holds.
    expect((await sheppy("task", "info", id!)).stdout).toMatch(/^dedupe key +"k"$/m);
    const windowed = await sheppy(
      "task",
      "schedule",
      `${TASKS}:add`,
      "--delay",
      "1h",
      "--dedupe-key",
      "w",
      "--dedupe-window",
      "5m",
    );
    expect(windowed.stdout).toMatch(/^added \S+\n$/);
    const queue = new Queue(url, { name: "dedupe" });
    expect(await queue.size()).toBe(1);
    await queue.close();
  });

  it("--id stores the task under it; again, it is ignored, with a warning when the held task has other arguments", async () => {
    const add = (args: string) =>
      sheppy("task", "add", `${TASKS}:add`, "--args", args, "--id", "order-42");
    expect(await add("[1, 2]")).toMatchObject({ code: 0, stdout: "added order-42\n" });
    expect(await add("[1, 2]")).toMatchObject({
      code: 0,
      stdout: "ignored order-42\n",
      stderr: "",
    });
    expect(await add("[1, 3]")).toMatchObject({
      code: 0,
      stdout: "ignored order-42\n",
      stderr:
        "warning: task order-42 was already held with other arguments ([1,2]): it was left as it is, and these arguments were not used (use another --id)\n",
    });
  });

  it("bad flags are one-line usage errors", async () => {
    expect(
      expectOneLineError(await sheppy("task", "add", `${TASKS}:add`, "--dedupe-mode", "replace")),
    ).toMatch(/--dedupe-mode needs --dedupe-key/);
    expect(
      expectOneLineError(
        await sheppy("task", "add", `${TASKS}:add`, "--dedupe-key", "k", "--dedupe-mode", "later"),
      ),
    ).toMatch(/--dedupe-mode must be ignore or replace/);
    expect(
      expectOneLineError(
        await sheppy(
          "task",
          "add",
          `${TASKS}:add`,
          "--dedupe-key",
          "k",
          "--dedupe-mode",
          "replace",
          "--dedupe-window",
          "1m",
        ),
      ),
    ).toMatch(/dedupe\.window applies to mode 'ignore' only/);
    expect(expectOneLineError(await sheppy("task", "add", `${TASKS}:add`, "--id", "a/b"))).toMatch(
      /^error: --id must be 1–128 ASCII letters, digits, '_', '\.', ':' or '-' \(not '\.' or '\.\.' alone, nor 'pending', 'scheduled', 'schedule', 'clear', 'retry', 'cancel', 'delete': words of the HTTP API's paths\) \(got 'a\/b'\)$/,
    );
  });
});
