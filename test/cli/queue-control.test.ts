/**
 * `sheppy queue pause | resume`, the PAUSED column of `queue list`, and
 * `task add | schedule --priority`, on a SQLite file (no server needed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, runCli, TASKS, WorkerProcess } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-queue-control-"));
const url = `sqlite://${join(dir, "queue.db")}`;

describe("sheppy queue pause | resume and --priority", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "control" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("pause and resume a queue; queue list shows which is paused", async () => {
    expect((await sheppy("task", "add", `${TASKS}:add`, "--args", "[1,2]")).code).toBe(0);
    expect(await sheppy("queue", "pause")).toMatchObject({
      code: 0,
      stdout: "queue control paused\n",
    });
    const queue = new Queue(url, { name: "control" });
    expect(await queue.isPaused()).toBe(true);
    // A wait that ends on a paused queue says so, not that no worker runs.
    const waited = await sheppy(
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[3,4]",
      "--wait",
      "--timeout",
      "0.2s",
    );
    expect(expectOneLineError(waited, 1)).toMatch(
      /did not finish within 0\.2 s: queue 'control' is paused, so no worker claims its tasks \(sheppy queue resume -q control\); it stays queued$/,
    );
    const listed = json<{ latencyMs: number }[]>(await sheppy("queue", "list", "--format", "json"));
    expect(listed).toEqual([
      expect.objectContaining({ queue: "control", pending: 2, paused: true }),
    ]);
    // Its next task has waited at least through the 0.2 s wait above.
    expect(listed[0]?.latencyMs).toBeGreaterThanOrEqual(200);
    expect(json(await sheppy("queue", "resume", "--format", "json"))).toEqual({
      queue: "control",
      paused: false,
    });
    expect(await queue.isPaused()).toBe(false);
    await queue.close();
  });

  it("queue list also shows paused queues that hold nothing and queues that hold only crons; pausing an empty queue warns", async () => {
    const paused = await sheppy("queue", "pause", "-q", "tpyo");
    expect(paused).toMatchObject({ code: 0, stdout: "queue tpyo paused\n" });
    expect(paused.stderr).toBe(
      "warning: queue tpyo holds no tasks or crons: is the name right? (paused it all the same; queues this backend knows: control)\n",
    );
    const crons = new Queue(url, { name: "crons-only" });
    await crons.addCron(add(1, 1), "0 9 * * *");
    await crons.close();
    const rows = json<{ queue: string; crons: number; paused: boolean }[]>(
      await sheppy("queue", "list", "--format", "json"),
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ queue: "tpyo", pending: 0, crons: 0, paused: true }),
        expect.objectContaining({ queue: "crons-only", pending: 0, crons: 1, paused: false }),
      ]),
    );
    expect(rows.map((row) => row.queue)).toEqual(rows.map((row) => row.queue).sort());
    const table = (await sheppy("queue", "list")).stdout;
    expect(table).toMatch(
      /^QUEUE +PENDING +HELD +SCHEDULED .* WAITED +CAP +CRONS +PAUSED +WORKERS$/m,
    );
    expect(table).toMatch(/^tpyo +0 .* 0s +- +0 +yes +0$/m);
    const resumed = await sheppy("queue", "resume", "-q", "tpyo");
    expect(resumed).toMatchObject({ code: 0, stdout: "queue tpyo resumed\n" });
    expect(resumed.stderr).toContain("warning: queue tpyo holds no tasks or crons");
    const after = json<{ queue: string }[]>(await sheppy("queue", "list", "--format", "json"));
    expect(after.map((row) => row.queue)).not.toContain("tpyo");
    // A queue that holds something pauses without a warning.
    expect((await sheppy("queue", "pause", "-q", "crons-only")).stderr).toBe("");
    expect((await sheppy("queue", "resume", "-q", "crons-only")).stderr).toBe("");
  });

  it("pause and resume take a comma-separated list of queues and do each, reporting each", async () => {
    const [a, b] = [new Queue(url, { name: "many-a" }), new Queue(url, { name: "many-b" })];
    await a.add(add(1, 2));
    await b.add(add(3, 4));
    expect(await sheppy("queue", "pause", "-q", "many-a,many-b")).toMatchObject({
      code: 0,
      stdout: "queue many-a paused\nqueue many-b paused\n",
      stderr: "",
    });
    expect([await a.isPaused(), await b.isPaused()]).toEqual([true, true]);
    expect(
      json(await sheppy("queue", "resume", "-q", "many-a,many-b", "--format", "json")),
    ).toEqual([
      { queue: "many-a", paused: false },
      { queue: "many-b", paused: false },
    ]);
    expect([await a.isPaused(), await b.isPaused()]).toEqual([false, false]);
    await Promise.all([a.close(), b.close()]);
  });

  it("sheppy work logs each queue it serves that is paused, at start, and a pause or resume it notices later", async () => {
    const held = new Queue(url, { name: "work-held" });
    await held.pause();
    const worker = new WorkerProcess(["--tasks", TASKS, "-q", "work-free,work-held"], env);
    try {
      await worker.waitFor((r) => r.msg === "worker started", "worker started");
      const paused = await worker.waitFor(
        (r) => r.queue === "work-held" && r.msg.includes("paused"),
        "work-held is paused",
      );
      expect(paused).toMatchObject({
        level: 40,
        msg: "queue work-held is paused: its tasks wait until it is resumed (sheppy queue resume -q work-held)",
      });
      await held.resume();
      const resumed = await worker.waitFor(
        (r) => r.msg === "queue work-held resumed",
        "work-held resumed",
      );
      // At the pause's level: a log of warnings shows the queue running again too.
      expect(resumed.level).toBe(40);
      const free = new Queue(url, { name: "work-free" });
      await free.pause();
      await worker.waitFor(
        (r) => r.queue === "work-free" && r.msg.startsWith("queue work-free is paused"),
        "work-free paused later",
      );
      await free.resume();
      await free.close();
      // Only the queues whose state is or became paused were mentioned.
      expect(worker.records.filter((r) => r.queue !== undefined).map((r) => r.msg)).toEqual([
        "queue work-held is paused: its tasks wait until it is resumed (sheppy queue resume -q work-held)",
        "queue work-held resumed",
        "queue work-free is paused: its tasks wait until it is resumed (sheppy queue resume -q work-free)",
      ]);
    } finally {
      worker.signal("SIGTERM");
      await worker.exited;
      await held.close();
    }
  });

  it("task add and task schedule take --priority; anything but an integer is a one-line usage error", async () => {
    const added = await sheppy("task", "add", `${TASKS}:add`, "--args", "[3,4]", "--priority", "9");
    expect(added.code).toBe(0);
    const scheduled = await sheppy(
      "task",
      "schedule",
      `${TASKS}:add`,
      "--args",
      "[5,6]",
      "--delay",
      "1h",
      "--priority",
      "-2",
    );
    expect(scheduled.code).toBe(0);
    const queue = new Queue(url, { name: "control" });
    const [first, later] = await queue.getTask([added.stdout.trim(), scheduled.stdout.trim()]);
    expect([first?.priority, later?.priority]).toEqual([9, -2]);
    expect((await queue.getPending(1))[0]?.id).toBe(first?.id);
    await queue.close();
    // The task table shows priorities once any listed task has one other than 0.
    const table = (await sheppy("task", "list")).stdout.split("\n");
    expect(table[0]).toMatch(/^ID +NAME +STATUS +PRIORITY +CREATED /);
    const priorityOf = (id: string) => table.find((line) => line.startsWith(id))?.split(/ +/)[3];
    expect([priorityOf(first!.id), priorityOf(later!.id)]).toEqual(["9", "-2"]);
    const plain = (await sheppy("task", "list", "-q", "many-a")).stdout.split("\n");
    expect(plain[0]).toMatch(/^ID +NAME +STATUS +CREATED /);
    expect(
      expectOneLineError(await sheppy("task", "add", `${TASKS}:add`, "--priority", "1.5")),
    ).toMatch(
      /--priority must be an integer from -2147483648 to 2147483647, e\.g\. 10 or -5 \(got '1\.5'\)/,
    );
    expect(
      expectOneLineError(await sheppy("task", "add", `${TASKS}:add`, "--priority", "9999999999")),
    ).toMatch(/^error: --priority must be an integer from -2147483648 to 2147483647/);
  });

  it("queue list's HELD counts the pending tasks waiting for a slot of their concurrency key; task info says what its key runs", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const added = await sheppy(
        ...["task", "add", `${TASKS}:add`, "--args", `[${n},${n}]`, "-q", "keyed"],
        ...["--concurrency-key", "tenant-a"],
      );
      expect(added.code).toBe(0);
      ids.push(added.stdout.trim());
    }
    // No worker runs here: the key's slots are free, and the task is held behind the key's first.
    expect((await sheppy("task", "info", ids[2]!, "-q", "keyed")).stdout).toMatch(
      /^concurrency +key "tenant-a", limit 1; none of the key's tasks runs now$/m,
    );
    const rows = json<{ queue: string; pending: number; held: number }[]>(
      await sheppy("queue", "list", "--format", "json"),
    );
    expect(rows.find((row) => row.queue === "keyed")).toMatchObject({ pending: 3, held: 2 });
    expect((await sheppy("queue", "list")).stdout).toMatch(/^keyed +3 +2 +0 /m);
    const keyed = new Queue(url, { name: "keyed" });
    await keyed.clear();
    await keyed.close();
  });

  it("queue cap sets and lifts a queue's cap, shown by queue list; a bad limit is one line", async () => {
    const capped = new Queue(url, { name: "capped" });
    await capped.add(add(5, 6));
    expect(await sheppy("queue", "cap", "3", "-q", "capped")).toMatchObject({
      code: 0,
      stdout: "queue capped: at most 3 running\n",
      stderr: "",
    });
    expect(await capped.getConcurrencyLimit()).toBe(3);
    const rows = json<{ queue: string; cap: number | null }[]>(
      await sheppy("queue", "list", "--format", "json"),
    );
    expect(rows.find((row) => row.queue === "capped")).toMatchObject({ cap: 3 });
    expect((await sheppy("queue", "list")).stdout).toMatch(/^capped +1 .* 3 +0 +no +0$/m);
    expect(json(await sheppy("queue", "cap", "none", "-q", "capped", "--format", "json"))).toEqual({
      queue: "capped",
      cap: null,
    });
    expect(await capped.getConcurrencyLimit()).toBeNull();
    for (const bad of ["0", "-2", "1.5", "lots", "2147483648"]) {
      expect(expectOneLineError(await sheppy("queue", "cap", bad, "-q", "capped"), 2)).toBe(
        `error: queue cap: expected a whole number of running tasks from 1 to 2147483647, or none to lift the cap (got ${JSON.stringify(bad)})`,
      );
    }
    await capped.close();
  });

  it("queue clear deletes what a queue holds only when confirmed with --yes", async () => {
    const doomed = new Queue(url, { name: "doomed" });
    await doomed.add([add(1, 1), add(2, 2)]);
    await doomed.addCron(add(3, 3), "0 9 * * *");
    // The three scheduled tasks are the cron's next runs.
    expect(expectOneLineError(await sheppy("queue", "clear", "-q", "doomed,empty"), 2)).toBe(
      "error: queue clear would delete 5 tasks (2 pending, 3 scheduled) and 1 cron of queue doomed; 0 tasks and 0 crons of queue empty, and nothing cleared can be brought back: add --yes to confirm",
    );
    expect((await doomed.stats()).pending).toBe(2);
    // The two tasks, the cron and the runs it scheduled.
    const held = (await doomed.listTasks()).tasks.length + (await doomed.getCrons()).length;
    expect(await sheppy("queue", "clear", "-q", "doomed", "--yes")).toMatchObject({
      code: 0,
      stdout: `queue doomed cleared: ${held} removed (tasks and crons)\n`,
    });
    expect((await doomed.stats()).pending).toBe(0);
    expect(await doomed.getCrons()).toEqual([]);
    await doomed.close();
  });

  it("a queue list with a bad name in it is a usage error before any queue is touched", async () => {
    const kept = new Queue(url, { name: "kept" });
    await kept.add(add(1, 1));
    for (const args of [
      ["queue", "clear", "--yes", "-q", "kept,bad name"],
      ["queue", "pause", "-q", "kept,bad name", "--format", "json"],
      ["queue", "cap", "2", "-q", "kept,bad!"],
    ]) {
      expect(expectOneLineError(await sheppy(...args), 2)).toMatch(
        /^error: option '-q, --queue <names>' argument '[^']+' is invalid\. Invalid queue name '(bad name|bad!)': use 1–128/,
      );
    }
    expect((await kept.stats()).pending).toBe(1);
    expect(await kept.isPaused()).toBe(false);
    await kept.close();
  });
});
