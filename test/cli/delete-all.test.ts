/**
 * `sheppy task delete --all`: an operator's purge of finished records — of
 * some statuses, names, finished before a time — on a SQLite file this
 * process shares; unfinished tasks are never touched.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, fail } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";
import { recordingLogger } from "../support/recording-logger.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-delete-all-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task delete --all", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "purge" };
  const sheppy = (...args: string[]) => runCli(args, env);
  const queue = new Queue(url, { name: "purge" });

  afterAll(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deletes the finished records asked for, says how many, and leaves unfinished tasks", async () => {
    const done = [add(1, 1), add(2, 2)];
    const failed = [fail("outage 1"), fail("outage 2")];
    await queue.add([...done, ...failed]);
    await new Worker(queue, { handleSignals: false, logger: recordingLogger().logger }).work({
      oneshot: true,
    });
    const waiting = add(3, 3);
    await queue.schedule(waiting, 3600);

    // Nothing finished over an hour ago yet.
    expect(await sheppy("task", "delete", "--all", "--before", "1h")).toMatchObject({
      code: 0,
      stdout: "0 finished task records deleted\n",
    });
    // A redrive of one cause only: none of these failed that way.
    expect(
      await sheppy("task", "retry", "--all-failed", "--error", "ECONNRESET", "--before", "1m"),
    ).toMatchObject({
      code: 0,
      stdout: "0 failed tasks with an error mentioning 'ECONNRESET' queued to run again\n",
    });
    expect(
      await sheppy("task", "delete", "--all", "--status", "failed", "--error", "outage 1"),
    ).toMatchObject({ code: 0, stdout: "1 failed task record deleted\n" });
    expect(
      await sheppy("task", "delete", "--all", "--status", "failed", "--name", "cli.fail"),
    ).toMatchObject({ code: 0, stdout: "1 failed cli.fail task record deleted\n" });
    expect(await queue.getTask(failed)).toEqual([null, null]);
    // A name no task has is said on stderr.
    expect(await sheppy("task", "delete", "--all", "--name", "cli.ad")).toMatchObject({
      code: 0,
      stderr:
        "warning: no task of queue purge is named 'cli.ad' (names match exactly, as task() gave them)\n",
    });
    // A preview needs no --yes: it counts, and nothing goes.
    expect(await sheppy("task", "delete", "--all", "--dry-run")).toMatchObject({
      code: 0,
      stdout: "2 finished task records would be deleted — dry run: nothing changed\n",
    });
    expect(
      json(
        await sheppy(
          "task",
          "delete",
          "--all",
          "--dry-run",
          "--status",
          "completed",
          "--format",
          "json",
        ),
      ),
    ).toEqual({ deleted: 2, skipped: 0, dryRun: true });
    expect((await queue.getTask(done)).map((t) => t?.status)).toEqual(["completed", "completed"]);
    // Everything finished, failures to be retried among them: only when said so.
    expect(expectOneLineError(await sheppy("task", "delete", "--all"), 2)).toContain(
      "with no filter deletes every finished task's record",
    );
    expect(json(await sheppy("task", "delete", "--all", "--yes", "--format", "json"))).toEqual({
      deleted: 2,
      skipped: 0,
    });
    expect((await queue.getTask(waiting))?.status).toBe("scheduled");
  });

  it("bad combinations are one-line usage errors, and nothing is deleted", async () => {
    const kept = add(9, 9);
    await queue.add(kept);
    for (const [args, text] of [
      [["--all", "--status", "pending"], "--status 'pending' is not a finished task status"],
      [["--all", "--before", "soon"], "--before: 'soon' cannot be read"],
      [[kept.id, "--all"], "pass a task id or --all, not both"],
      [[kept.id, "--before", "1h"], "--before needs --all"],
      [[kept.id, "--error", "x"], "--error needs --all"],
      [[kept.id, "--dry-run"], "--dry-run needs --all"],
      [["--all", "--before", "0"], "--before: '0' is no time back from now"],
      [["--all", "--error", "  "], "--error needs text (not only spaces)"],
      [["--all", "--since", "10m", "--before", "1h"], "the window is empty"],
      [[], "pass a task id, or --all"],
    ] as const) {
      expect(expectOneLineError(await sheppy("task", "delete", ...args), 2)).toContain(text);
    }
    expect((await queue.getTask(kept))?.status).toBe("pending");
  });
});
