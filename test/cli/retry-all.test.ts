/**
 * `sheppy task retry --all-failed [--since …]`: redrive from the command line,
 * on a SQLite file (no server needed) that this process's worker shares.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, fail, failingStep, flaky } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-retry-all-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task retry --all-failed", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "redrive" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("re-queues every failed task, prints the count, and a worker then completes them", async () => {
    const queue = new Queue(url, { name: "redrive" });
    const failing = ["a", "b", "c"].map((token) => flaky(`${token}-${Date.now()}`));
    const fine = add(1, 2);
    await queue.add([...failing, fine]);
    const first = new Worker(queue, { claimWait: 0.1 });
    expect(await first.work({ maxTasks: 4 })).toMatchObject({ processed: 1, failed: 3 });
    await first.close();

    // A time after every failure: nothing failed since.
    const later = new Date(Date.now() + 1000).toISOString();
    expect(await sheppy("task", "retry", "--all-failed", "--since", later)).toMatchObject({
      code: 0,
      stdout: "0 failed tasks queued to run again\n",
      stderr: "",
    });
    // An hour ahead is a mistake (a year typed wrong), said so.
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      expectOneLineError(await sheppy("task", "retry", "--all-failed", "--since", ahead), 2),
    ).toMatch(/^error: since .* is in the future: no task has finished since then$/);
    // A queue name nothing has used is probably a typo: said on stderr.
    expect(await sheppy("task", "retry", "--all-failed", "-q", "redirve")).toMatchObject({
      code: 0,
      stdout: "0 failed tasks queued to run again\n",
      stderr:
        "warning: queue redirve holds no tasks or crons: did you mean 'redrive'? (queues this backend knows: redrive)\n",
    });
    // A preview counts them and leaves them failed.
    expect(
      await sheppy("task", "retry", "--all-failed", "--since", "1h", "--dry-run"),
    ).toMatchObject({
      code: 0,
      stdout: "3 failed tasks would be queued to run again — dry run: nothing changed\n",
    });
    expect((await queue.getTask(failing)).map((t) => t?.status)).toEqual([
      "failed",
      "failed",
      "failed",
    ]);
    expect(await sheppy("task", "retry", "--all-failed", "--since", "1h")).toMatchObject({
      code: 0,
      stdout: "3 failed tasks queued to run again\n",
    });
    const requeued = await queue.getTask(failing);
    expect(requeued.map((t) => t?.status)).toEqual(["pending", "pending", "pending"]);
    expect((await queue.getTask(fine))?.status).toBe("completed");
    expect(json(await sheppy("task", "retry", "--all-failed", "--format", "json"))).toEqual({
      retried: 0,
      skipped: 0,
      endedWorkflowSteps: 0,
    });

    const second = new Worker(queue, { claimWait: 0.1 });
    expect(await second.work({ maxTasks: 3 })).toMatchObject({ processed: 3, failed: 0 });
    await second.close();
    const done = await queue.getTask(failing);
    expect(done.map((t) => [t?.status, t?.manualRetryCount])).toEqual([
      ["completed", 1],
      ["completed", 1],
      ["completed", 1],
    ]);
    await queue.close();
  });

  it("--all names the statuses: cancelled and crashed tasks are re-queued as failed ones are", async () => {
    const queue = new Queue(url, { name: "redrive-all" });
    const [cancelled, kept] = [add(5, 6), add(7, 8)];
    await queue.add([cancelled, kept]);
    await queue.cancel(cancelled);
    const all = (statuses: string, ...more: string[]) =>
      sheppy("task", "retry", "--all", statuses, "-q", "redrive-all", ...more);
    expect(await all("failed,crashed")).toMatchObject({
      code: 0,
      stdout: "0 failed or crashed tasks queued to run again\n",
    });
    expect(await all("cancelled,crashed", "--since", "1h")).toMatchObject({
      code: 0,
      stdout: "1 cancelled or crashed task queued to run again\n",
    });
    expect((await queue.getTask(cancelled))?.status).toBe("pending");
    expect((await queue.getTask(kept))?.status).toBe("pending");
    await queue.close();
  });

  it("--name redrives the failed tasks of those names alone; task list --name shows them", async () => {
    const queue = new Queue(url, { name: "redrive-named" });
    const broken = ["x", "y"].map((token) => flaky(`${token}-${Date.now()}`));
    const other = fail("mailbox does not exist");
    await queue.add([...broken, other]);
    const worker = new Worker(queue, { claimWait: 0.1, logTasks: false });
    expect(await worker.work({ maxTasks: 3 })).toMatchObject({ failed: 3 });
    await worker.close();
    const envNamed = { ...env, SHEPPY_QUEUE: "redrive-named" };
    const listed = json<{ id: string; name: string }[]>(
      await runCli(["task", "list", "--name", "cli.flaky", "--format", "json"], envNamed),
    );
    expect(listed.map((t) => t.id).sort()).toEqual(broken.map((t) => t.id).sort());
    expect(
      json<unknown[]>(
        await runCli(["task", "list", "-n", "cli.fail, cli.flaky", "--format", "json"], envNamed),
      ),
    ).toHaveLength(3);
    expect(
      await runCli(["task", "retry", "--all-failed", "--name", "cli.flaky"], envNamed),
    ).toMatchObject({ code: 0, stdout: "2 failed cli.flaky tasks queued to run again\n" });
    const after = await queue.getTask([...broken, other]);
    expect(after.map((t) => t?.status)).toEqual(["pending", "pending", "failed"]);
    const usage = async (args: string[], text: string) =>
      expect(expectOneLineError(await runCli(args, envNamed), 2)).toContain(text);
    await usage(["task", "list", "--name", " , "], "--name names no task");
    // A name no task of the queue has is probably a typo: said on stderr.
    expect(await runCli(["task", "list", "--name", "cli.flakey"], envNamed)).toMatchObject({
      code: 0,
      stdout: "no tasks\n",
      stderr:
        "warning: no task of queue redrive-named is named 'cli.flakey' (names match exactly, as task() gave them)\n",
    });
    // So is a bulk retry or cancel of it: "0 retried" alone would read as "none failed".
    expect(
      await runCli(["task", "retry", "--all-failed", "--name", "cli.flakey"], envNamed),
    ).toMatchObject({
      code: 0,
      stdout: "0 failed cli.flakey tasks queued to run again\n",
      stderr:
        "warning: no task of queue redrive-named is named 'cli.flakey' (names match exactly, as task() gave them)\n",
    });
    expect(
      await runCli(["task", "cancel", "--all", "--name", "cli.flakey"], envNamed),
    ).toMatchObject({
      code: 0,
      stderr:
        "warning: no task of queue redrive-named is named 'cli.flakey' (names match exactly, as task() gave them)\n",
    });
    // A name some task has, none of them failed: no warning.
    expect(
      await runCli(["task", "retry", "--all", "crashed", "--name", "cli.flaky"], envNamed),
    ).toMatchObject({ code: 0, stderr: "" });
    await usage(["task", "retry", "some-id", "--name", "cli.flaky"], "--name needs --all-failed");
    await queue.close();
  });

  it("says which skipped tasks are steps of a workflow that has ended", async () => {
    const queue = new Queue(url, { name: "redrive-steps" });
    const { id } = await queue.addWorkflow(failingStep("no"));
    const worker = new Worker(queue, { claimWait: 0.1 });
    const working = worker.work();
    expect((await queue.waitForWorkflow(id, { timeout: 20 })).result).toBe("failed");
    await worker.close();
    await working;
    const envSteps = { ...env, SHEPPY_QUEUE: "redrive-steps" };
    expect(await runCli(["task", "retry", "--all-failed"], envSteps)).toMatchObject({
      code: 0,
      stdout:
        "0 failed tasks queued to run again (1 skipped: 1 step no workflow waits for (its workflow ended, or went on from it); sheppy workflow retry runs a failed workflow's failed steps again)\n",
    });
    expect(
      json(await runCli(["task", "retry", "--all-failed", "--format", "json"], envSteps)),
    ).toEqual({ retried: 0, skipped: 1, endedWorkflowSteps: 1 });
  });

  it("refuses mixed or missing arguments with one line each", async () => {
    const usage = async (args: string[], text: string) =>
      expect(expectOneLineError(await sheppy(...args), 2)).toContain(text);
    await usage(["task", "retry"], "pass a task id, or --all-failed");
    await usage(["task", "retry", "some-id", "--all-failed"], "not both");
    await usage(
      ["task", "retry", "--all-failed", "--force"],
      "--force does not go with --all-failed",
    );
    await usage(
      ["task", "retry", "some-id", "--since", "1h"],
      "--since needs --all-failed or --all",
    );
    await usage(["task", "retry", "some-id", "--dry-run"], "--dry-run needs --all-failed or --all");
    await usage(
      ["task", "retry", "--all", "failed,completed"],
      "--all: 'completed' is not a status a task ends in without success (one of: failed, crashed, cancelled)",
    );
    await usage(["task", "retry", "--all", "crashed", "--all-failed"], "not both");
    await usage(
      ["task", "retry", "some-id", "--all", "crashed"],
      "pass a task id or --all, not both",
    );
    const formats =
      "expected an ISO-8601 instant with a UTC offset (e.g. 2030-01-01T09:00:00Z or 2030-01-01T10:00:00+01:00) or a duration back from now (e.g. 90s, 1h, 2d)";
    await usage(
      ["task", "retry", "--all-failed", "--since", "yesterday"],
      `--since: 'yesterday' cannot be read; ${formats}`,
    );
    await usage(
      ["task", "retry", "--all-failed", "--since", "2030-01-01T09:00"],
      `--since: '2030-01-01T09:00' has no UTC offset; ${formats}`,
    );
    await usage(
      ["task", "retry", "--all-failed", "--since", "2030-02-30T09:00:00Z"],
      `--since: '2030-02-30T09:00:00Z' is not a valid date; ${formats}`,
    );
  });
});
