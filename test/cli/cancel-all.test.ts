/**
 * `sheppy task cancel --all` and the `--concurrency-key` filters of `task
 * list` and `task retry --all`: one tenant's backlog found, cancelled and
 * run again from the command line, on a SQLite file this process shares.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-cancel-all-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task cancel --all", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "tenants" };
  const sheppy = (...args: string[]) => runCli(args, env);
  const queue = new Queue(url, { name: "tenants" });

  afterAll(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("cancels one tenant's backlog, says how to run it again, and that command does", async () => {
    const tenants = ["tenant:acme", "it's, a tenant"];
    const made = Array.from({ length: 6 }, (_, i) => add(i, i));
    await queue.add(
      made.map((task, i) => ({ task, concurrency: { key: tenants[i % 2]!, limit: 10 } })),
    );
    const ofTenant = (key: string) =>
      made.filter((_, i) => tenants[i % 2] === key).map((t) => t.id);

    const listed = json<{ id: string }[]>(
      await sheppy("task", "list", "--concurrency-key", "it's, a tenant", "--format", "json"),
    );
    expect(listed.map((t) => t.id).sort()).toEqual(ofTenant("it's, a tenant").sort());
    // The table shows each task's key once any has one.
    const table = (await sheppy("task", "list", "-k", "tenant:acme")).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^ID +NAME +STATUS +KEY +CREATED /);
    expect(table.slice(1)).toHaveLength(3);
    for (const row of table.slice(1)) expect(row).toMatch(/ pending +tenant:acme +\d{4}-/);

    // A preview: the count, no undo line (nothing to undo), nothing cancelled.
    expect(
      await sheppy("task", "cancel", "--all", "-k", "it's, a tenant", "--dry-run"),
    ).toMatchObject({
      code: 0,
      stdout:
        "3 tasks of concurrency key 'it's, a tenant' would be cancelled — dry run: nothing changed\n",
    });
    expect((await queue.getTask(made)).map((t) => t?.status)).toEqual(made.map(() => "pending"));
    const cancelled = await sheppy("task", "cancel", "--all", "-k", "it's, a tenant");
    expect(cancelled.code).toBe(0);
    const [summary, again] = cancelled.stdout.trimEnd().split("\n");
    expect(summary).toBe("3 tasks of concurrency key 'it's, a tenant' cancelled");
    expect(again).toMatch(
      /^to undo it \(each back to when it was due\): sheppy task retry --all cancelled --since \S+Z --concurrency-key 'it'\\''s, a tenant' -q tenants$/,
    );
    const statuses = async () => (await queue.getTask(made)).map((t) => t?.status);
    expect(await statuses()).toEqual(made.map((_, i) => (i % 2 === 0 ? "pending" : "cancelled")));

    // The printed command, as a shell would split it.
    const words = [
      ...again!
        .replace(/^to undo it \(each back to when it was due\): sheppy /, "")
        .matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g),
    ].map(([, quoted, bare]) => (quoted !== undefined ? quoted.replaceAll("'\\''", "'") : bare!));
    expect(await sheppy(...words)).toMatchObject({
      code: 0,
      stdout: "3 cancelled tasks of concurrency key 'it's, a tenant' queued to run again\n",
    });
    expect(await statuses()).toEqual(made.map(() => "pending"));

    expect(json(await sheppy("task", "cancel", "--all", "--format", "json"))).toEqual({
      cancelled: 6,
      skipped: 0,
    });
  });

  it("bad combinations are one-line usage errors, and nothing is cancelled", async () => {
    const waiting = add(1, 1);
    await queue.add(waiting);
    const refusals: [string[], RegExp][] = [
      [["--all", "-s", "processing"], /--status processing needs --force/],
      [["--all", "-s", "completed"], /--status 'completed' is not a cancellable task status/],
      [["--all", "-k", ""], /--concurrency-key needs a key: non-empty text/],
      [[waiting.id, "--all"], /pass a task id or --all, not both/],
      [[waiting.id, "-k", "tenant:acme"], /--concurrency-key needs --all/],
      [[waiting.id, "--dry-run"], /--dry-run needs --all/],
      [[], /pass a task id, or --all/],
    ];
    for (const [args, message] of refusals) {
      expect(expectOneLineError(await sheppy("task", "cancel", ...args), 2)).toMatch(message);
    }
    expect((await queue.getTask(waiting))?.status).toBe("pending");
  });

  it("the undo command a cancel prints reaches the same backend when -u named it", async () => {
    const later = add(7, 7);
    await queue.schedule(later, 3600);
    const cancelled = await runCli(["task", "cancel", "--all", "-u", url], {
      SHEPPY_QUEUE: "tenants",
    });
    const again = cancelled.stdout.trimEnd().split("\n")[1]!;
    expect(again).toMatch(/ -q tenants -u sqlite:\/\/\S+$/);
    const words = again
      .replace(/^to undo it \(each back to when it was due\): sheppy /, "")
      .split(" ");
    expect((await runCli(words, {})).code).toBe(0);
    expect((await queue.getTask(later))?.status).toBe("scheduled");
  });

  it("nothing cancelled without --force says running tasks are left, so 0 does not read as none matched", async () => {
    const none = await sheppy("task", "cancel", "--all", "-n", "cli.nothing-has-this-name");
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(
      "0 cli.nothing-has-this-name tasks cancelled (running ones are left running: --force cancels them too)\n",
    );
  });
});
