/**
 * `sheppy worker list` and the WORKERS column of `queue list`: the workers
 * serving the queues now, what they hold, and the queues whose tasks wait
 * with no worker to run them — on a SQLite file shared with a `sheppy work`
 * process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add, nap } from "../fixtures/cli/tasks.js";
import { json, runCli, TASKS, WorkerProcess } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-worker-list-"));
const url = `sqlite://${join(dir, "workers.db")}`;

describe("sheppy worker list", () => {
  const env = { SHEPPY_BACKEND_URL: url };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists a running worker with its queues and what it holds, counts it in queue list, and drops it once it stops; waiting tasks with no worker are named", async () => {
    const jobs = new Queue(url, { name: "jobs" });
    await jobs.add(add(1, 2));
    const before = await sheppy("worker", "list");
    expect(before).toMatchObject({ code: 0, stderr: "" });
    expect(before.stdout).toBe(
      "no workers\nqueue jobs: 1 task pending or running, and no worker runs its tasks (start one: sheppy work -q jobs <modules>)\n",
    );
    expect(json(await sheppy("worker", "list", "--format", "json"))).toEqual({
      workers: [],
      unserved: [{ queue: "jobs", waiting: 1, workersIdle: "" }],
      paused: [],
    });

    const worker = new WorkerProcess(["--tasks", TASKS, "-q", "jobs,other", "-c", "4"], env);
    try {
      const slow = nap(60_000);
      await jobs.add(slow);
      await worker.waitForTask(slow.id, "task started");
      // The worker announces what it holds at every heartbeat (5 s by default).
      let listed: { queue: string; pid: number; taskIds: string[]; state: string }[] = [];
      for (let tries = 0; tries < 100; tries++) {
        listed = json<{ workers: typeof listed }>(
          await sheppy("worker", "list", "--format", "json"),
        ).workers;
        if (listed.some((w) => w.queue === "jobs" && w.taskIds.includes(slow.id))) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Listed on both its queues, "other" holding nothing yet, though it never held a task.
      expect(listed).toEqual([
        expect.objectContaining({
          queue: "jobs",
          pid: worker.child.pid,
          queues: ["jobs", "other"],
          concurrency: 4,
          state: "running",
          holding: 1,
          holdingAll: 1,
          taskIds: [slow.id],
          processing: true,
          scheduler: true,
          cronManager: true,
        }),
        expect.objectContaining({ queue: "other", holding: 0, holdingAll: 1, taskIds: [] }),
      ]);
      const table = await sheppy("worker", "list", "-q", "jobs,other");
      expect(table.stdout).toMatch(
        /^WORKER +HOST +PID +STATE +QUEUES +HOLDING +DOES +STARTED +SEEN +VERSION$/m,
      );
      expect(table.stdout).toMatch(
        new RegExp(
          `^\\w{8} +\\S+ +${worker.child.pid} +running +jobs,other +1/4 +tasks,scheduler,crons +\\d+s ago +\\d+s ago +\\d+\\.\\d+\\.\\d+`,
          "m",
        ),
      );
      expect(table.stdout.trimEnd().split("\n")).toHaveLength(2);
      // A queue it serves paused (one not asked for with -q too): it runs on, and claims nothing there.
      // Paused from the command line: a queue a live worker serves is in use, though it holds nothing.
      const paused = await sheppy("queue", "pause", "-q", "other");
      expect(paused).toMatchObject({ code: 0, stderr: "" });
      expect((await sheppy("worker", "list", "-q", "jobs")).stdout).toMatch(
        new RegExp(
          `^\\w{8} +\\S+ +${worker.child.pid} +running \\(1 of 2 queues paused\\) +jobs,other +1/4 `,
          "m",
        ),
      );
      expect(await sheppy("queue", "resume", "-q", "other")).toMatchObject({ code: 0, stderr: "" });
      // task info names the worker holding the running task, and --format json gives it in the claim.
      const info = await sheppy("task", "info", slow.id);
      expect(info.stdout).toMatch(
        new RegExp(
          `^worker +\\w{8} on \\S+ \\(pid ${worker.child.pid}; sheppy worker list shows it\\)$`,
          "m",
        ),
      );
      const record = json<{ claim: { worker: { pid: number } } }>(
        await sheppy("task", "info", slow.id, "--format", "json"),
      );
      expect(record.claim.worker.pid).toBe(worker.child.pid);
      const queues = json<{ queue: string; workers: number }[]>(
        await sheppy("queue", "list", "--format", "json"),
      );
      // "other" holds nothing, and is listed for the worker serving it.
      expect(queues).toEqual([
        expect.objectContaining({ queue: "jobs", workers: 1 }),
        expect.objectContaining({ queue: "other", pending: 0, workers: 1 }),
      ]);
      expect((await sheppy("queue", "list")).stdout).toMatch(/ PAUSED +WORKERS$/m);
      // Told to stop, it finishes what it holds and says so at once; it runs no task meanwhile.
      worker.signal("SIGTERM");
      let stopping: { state: string }[] = [];
      for (let tries = 0; tries < 50; tries++) {
        stopping = json<{ workers: typeof stopping }>(
          await sheppy("worker", "list", "-q", "jobs", "--format", "json"),
        ).workers;
        if (stopping[0]?.state === "stopping") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(stopping).toEqual([expect.objectContaining({ state: "stopping" })]);
      expect(
        json<{ unserved: unknown[] }>(
          await sheppy("worker", "list", "-q", "jobs", "--format", "json"),
        ).unserved,
      ).toEqual([{ queue: "jobs", waiting: 1, workersIdle: "1 stopping" }]);
      expect(json(await sheppy("queue", "list", "--format", "json"))).toEqual([
        expect.objectContaining({ queue: "jobs", workers: 0 }),
        expect.objectContaining({ queue: "other", workers: 0 }),
      ]);
    } finally {
      worker.signal("SIGKILL");
      await worker.exited;
    }
    await jobs.close();
  }, 60_000);

  it("a paused queue holding pending tasks is named, not as a queue without workers: resuming it is what starts them", async () => {
    const held = new Queue(url, { name: "held" });
    await held.add(add(2, 3));
    await held.add(add(3, 4));
    await held.pause();
    expect(await sheppy("worker", "list", "-q", "held")).toEqual({
      code: 0,
      stdout:
        "no workers\nqueue held is paused, holding 2 pending tasks: none starts until it is resumed (sheppy queue resume -q held)\n",
      stderr: "",
    });
    expect(json(await sheppy("worker", "list", "-q", "held", "--format", "json"))).toEqual({
      workers: [],
      unserved: [],
      paused: [{ queue: "held", pending: 2 }],
    });
    await held.resume();
    expect(json(await sheppy("worker", "list", "-q", "held", "--format", "json"))).toMatchObject({
      unserved: [{ queue: "held", waiting: 2 }],
      paused: [],
    });
    await held.close();
  });

  it("a worker that stops withdraws at once", async () => {
    const worker = new WorkerProcess(["--tasks", TASKS, "-q", "brief"], env);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
    // Its queue holds nothing: listed all the same, with or without -q, and in queue list.
    // (The last test's worker, killed, stays listed on its queues until its lease lapses.)
    const seen = json<{ workers: { queue: string; pid: number }[] }>(
      await sheppy("worker", "list", "--format", "json"),
    ).workers;
    expect(seen.filter((w) => w.pid === worker.child.pid).map((w) => w.queue)).toEqual(["brief"]);
    expect(json(await sheppy("queue", "list", "--format", "json"))).toEqual(
      expect.arrayContaining([expect.objectContaining({ queue: "brief", pending: 0, workers: 1 })]),
    );
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(await sheppy("worker", "list", "-q", "brief")).toMatchObject({
      code: 0,
      stdout: "no workers\n",
    });
  }, 30_000);

  it("a queue named with -q that nothing uses and no worker serves gets a hint; the list is empty", async () => {
    const result = await sheppy("worker", "list", "-q", "jbos");
    expect(result).toMatchObject({ code: 0, stdout: "no workers\n" });
    expect(result.stderr).toMatch(
      /^warning: queue jbos holds no tasks or crons: did you mean 'jobs'\?/,
    );
  });
});
