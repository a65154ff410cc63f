/**
 * `sheppy task list --error / --since / --before / --dedupe-key`: the
 * listing an operator reads before a redrive or a purge with the same flags —
 * tasks whose stored error mentions a text, tasks that ended within a window
 * — and the tasks added under a dedupe key.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, fail } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli } from "../support/cli.js";
import { recordingLogger } from "../support/recording-logger.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-list-filters-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy task list --error / --since / --before / --dedupe-key", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "incident" };
  const sheppy = (...args: string[]) => runCli(args, env);
  const queue = new Queue(url, { name: "incident" });

  afterAll(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists what a redrive with the same flags takes, and refuses statuses that cannot match", async () => {
    const outage = [fail("upstream 503"), fail("upstream 503 again")];
    const declined = fail("card declined");
    const done = add(1, 2);
    await queue.add([...outage, declined, done]);
    await new Worker(queue, { handleSignals: false, logger: recordingLogger().logger }).work({
      oneshot: true,
    });
    const waiting = add(3, 4);
    await queue.add(waiting);
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();

    const listed = json<{ id: string }[]>(
      await sheppy("task", "list", "--error", "503", "--format", "json"),
    );
    expect(ids(listed)).toEqual(outage.map((t) => t.id).sort());
    // The same selection a redrive's preview counts.
    expect(
      json(
        await sheppy(
          "task",
          "retry",
          "--all-failed",
          "--error",
          "503",
          "--dry-run",
          "--format",
          "json",
        ),
      ),
    ).toEqual({ retried: 2, skipped: 0, endedWorkflowSteps: 0, dryRun: true });
    // Ended within the last hour: the four finished tasks, not the pending one.
    const recent = json<{ id: string }[]>(
      await sheppy("task", "list", "--since", "1h", "--format", "json"),
    );
    expect(ids(recent)).toEqual([...outage, declined, done].map((t) => t.id).sort());
    // Ended over an hour ago: none yet. --limit counts the tasks shown, not those read.
    expect(json(await sheppy("task", "list", "--before", "1h", "--format", "json"))).toEqual([]);
    expect(
      json<unknown[]>(
        await sheppy("task", "list", "--since", "1h", "--limit", "1", "--format", "json"),
      ),
    ).toHaveLength(1);
    expect(await sheppy("task", "list", "--error", "timeout")).toMatchObject({
      code: 0,
      stdout: "no tasks\n",
      stderr: "",
    });

    for (const [args, text] of [
      [
        ["--status", "pending", "--since", "1h"],
        "only tasks of completed, failed, crashed, cancelled can match",
      ],
      [
        ["--status", "completed", "--error", "503"],
        "only tasks of failed, crashed, cancelled, retrying can match",
      ],
      [["--since", "10m", "--before", "1h"], "--since and --before leave no time between them"],
      [["--since", "2099-01-01T00:00:00Z"], "--since 2099-01-01T00:00:00.000Z is in the future"],
      [["--error", " "], "--error needs text"],
      [["--before", "0"], "--before: '0' is no time back from now"],
    ] as const) {
      expect(expectOneLineError(await sheppy("task", "list", ...args), 2)).toContain(text);
    }
    expect((await queue.getTask(waiting))?.status).toBe("pending");
  });

  it("--dedupe-key lists the tasks added under that key: which one an ignored add was ignored for", async () => {
    const first = add(5, 6);
    const second = add(7, 8);
    await queue.add(first, { dedupe: { key: "invoice:9,1" } });
    expect(await queue.add(second, { dedupe: { key: "invoice:9,1" } })).toEqual({
      outcome: "ignored",
      id: first.id,
    });
    const rows = json<{ id: string; dedupeKey: string }[]>(
      await sheppy("task", "list", "--dedupe-key", "invoice:9,1", "--format", "json"),
    );
    expect(rows.map((row) => [row.id, row.dedupeKey])).toEqual([[first.id, "invoice:9,1"]]);
    expect(await sheppy("task", "list", "--dedupe-key", "invoice:9")).toMatchObject({
      code: 0,
      stdout: "no tasks\n",
    });
    expect(expectOneLineError(await sheppy("task", "list", "--dedupe-key", ""), 2)).toContain(
      "--dedupe-key needs a key",
    );
  });
});
