/**
 * `sheppy work --unknown-task-grace`: how long a task whose name no loaded
 * module defines is put back for a worker that knows it (a rolling deploy)
 * before it fails; the put-backs are said once a minute per task name.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, runCli, TASKS, WorkerProcess } from "../support/cli.js";

/** Defined in this test process only: the CLI's worker loads the fixture modules, which do not define it. */
const elsewhere = task({ name: "cli.defined-elsewhere" }, (n: number) => n);

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-unknown-grace-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy work --unknown-task-grace", () => {
  const queue = new Queue(url, { name: "deploys" });

  afterAll(async () => {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("by default puts such tasks back, saying so once for their name; 0 fails them at once", async () => {
    const tasks = Array.from({ length: 20 }, (_, i) => elsewhere(i));
    await queue.add(tasks);
    const patient = new WorkerProcess(["--oneshot", "--tasks", TASKS, "-u", url, "-q", "deploys"]);
    expect(await patient.exited).toBe(0);
    const putBack = patient.records.filter((r) => r.task === "cli.defined-elsewhere");
    expect(putBack).toHaveLength(1);
    expect(putBack[0]).toMatchObject({ failsAfterMs: 600_000 });
    const waiting = await queue.getTask(tasks);
    expect(new Set(waiting.map((t) => t?.status))).toEqual(new Set(["scheduled"]));
    expect(typeof waiting[0]?.meta["sheppy.unknownSince"]).toBe("string");
    // task info says since when, and what comes of it.
    const info = await runCli(["task", "info", tasks[0]!.id, "-u", url, "-q", "deploys"]);
    expect(info.stdout).toMatch(
      /unknown since +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: workers that claimed it do not define 'cli\.defined-elsewhere'; it fails with UnknownTaskError once the unknown-task grace is over/,
    );
    // task list says why it waits, rather than a plain `scheduled` that reads as put off by someone.
    const listed = await runCli(["task", "list", "-u", url, "-q", "deploys"]);
    expect(listed.stdout).toMatch(
      new RegExp(`^${tasks[0]!.id} +cli\\.defined-elsewhere +scheduled \\(unknown name\\) `, "m"),
    );

    // Put back now, so due at once for the next worker.
    for (const t of tasks) await queue.reschedule(t);
    const strict = new WorkerProcess(["--oneshot", "--tasks", TASKS, "-u", url, "-q", "deploys"], {
      SHEPPY_UNKNOWN_TASK_GRACE: "0",
    });
    expect(await strict.exited).toBe(0);
    const failed = await queue.getTask(tasks);
    expect(new Set(failed.map((t) => t?.error?.type))).toEqual(new Set(["UnknownTaskError"]));
  });

  it("task info of such a task says whether the workers running its queue now define it, as their announcements name their tasks", async () => {
    const waiting = elsewhere(100);
    await queue.add(waiting);
    const info = async () =>
      (await runCli(["task", "info", waiting.id, "-u", url, "-q", "deploys"])).stdout;
    const live = new WorkerProcess(["--tasks", TASKS, "-u", url, "-q", "deploys"]);
    try {
      await live.waitFor((r) => r.task === "cli.defined-elsewhere", "the task put back");
      const listed = await runCli([
        "worker",
        "list",
        "-u",
        url,
        "-q",
        "deploys",
        "--format",
        "json",
      ]);
      const [worker] = (
        JSON.parse(listed.stdout) as { workers: { tasks: string[]; pid: number }[] }
      ).workers;
      expect(worker?.tasks).toContain("cli.add");
      expect(worker?.tasks).not.toContain("cli.defined-elsewhere");
      expect(await info()).toMatch(
        /^unknown since .*; of the 1 worker running this queue's tasks now, none defines it$/m,
      );
    } finally {
      live.signal("SIGKILL");
      await live.exited;
    }
  });

  it("a grace that is not seconds ≥ 0 is a one-line usage error", async () => {
    const result = await runCli([
      "work",
      "-u",
      url,
      "--tasks",
      TASKS,
      "--unknown-task-grace",
      "-5",
    ]);
    expect(expectOneLineError(result, 2)).toContain("--unknown-task-grace");
  });
});
