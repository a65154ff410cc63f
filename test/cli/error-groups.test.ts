/**
 * `sheppy task list --group-by error`: failed tasks counted by name and
 * error, most first, on a SQLite file this process's worker shares.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, fail } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-error-groups-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task list --group-by error", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "burst" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts the failed tasks by name and error, most first, with the newest of each; --limit bounds what is counted", async () => {
    const queue = new Queue(url, { name: "burst" });
    const messages = ["upstream 503", "upstream 503", "upstream 503\nat the gateway", "bad id 7"];
    await queue.add([...messages.map((m) => fail(m)), add(1, 2)]);
    const worker = new Worker(queue, { claimWait: 0.1 });
    expect(await worker.work({ maxTasks: 5 })).toMatchObject({ processed: 1, failed: 4 });
    await worker.close();
    const newest = (await queue.listTasks({ status: ["failed"], name: ["cli.fail"] })).tasks;

    const table = await sheppy("task", "list", "-s", "failed", "--group-by", "error");
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^COUNT +NAME +ERROR +LAST +EXAMPLE$/);
    expect(lines[1]).toMatch(
      /^3 +cli\.fail +TypeError: upstream 503 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\S+$/,
    );
    expect(lines[2]).toMatch(/^1 +cli\.fail +TypeError: bad id 7 /);
    expect(lines).toHaveLength(3);

    const groups = json<{ name: string; error: string; count: number; example: string }[]>(
      await sheppy("task", "list", "--group-by", "error", "--format", "json"),
    );
    // Every status is counted without -s: the completed task has no error. Groups of one count
    // are in the order their newest task ended, which the same millisecond may leave undecided.
    const counted = groups.map(({ name, error, count }) => ({ name, error, count }));
    expect(counted[0]).toEqual({ name: "cli.fail", error: "TypeError: upstream 503", count: 3 });
    expect(counted.slice(1)).toEqual(
      expect.arrayContaining([
        { name: "cli.fail", error: "TypeError: bad id 7", count: 1 },
        { name: "cli.add", error: "-", count: 1 },
      ]),
    );
    expect(counted).toHaveLength(3);
    const ids = new Set(newest.map((t) => t.id));
    for (const group of groups.filter((g) => g.name === "cli.fail")) {
      expect(ids.has(group.example)).toBe(true);
    }

    const bounded = await sheppy(
      "task",
      "list",
      "-s",
      "failed",
      "--group-by",
      "error",
      "--limit",
      "2",
    );
    expect(bounded.stderr).toBe(
      "warning: counted the newest 2 matching tasks only; --limit 0 counts them all\n",
    );
    expect(expectOneLineError(await sheppy("task", "list", "--group-by", "status"), 2)).toBe(
      "error: --group-by takes error (got 'status')",
    );
    await queue.close();
  });
});
