/**
 * `sheppy work` and signals, on Redis: the first SIGTERM/SIGINT lets a running
 * task finish and exits 0; a second one interrupts it at once and puts it back
 * in the queue; so does the end of `--shutdown-timeout`. Issue #5, BEHAVIOURS
 * WK-16, WK-17, WK-19, WK-20.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { json, redisUrlWithPrefix, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = await requireService("Redis", REDIS_URL);

describe.skipIf(!available)("sheppy work: SIGINT / SIGTERM", () => {
  const workers: WorkerProcess[] = [];

  afterEach(() => {
    for (const worker of workers.splice(0)) worker.signal("SIGKILL");
  });
  afterAll(() => deleteRedisPrefix(prefix));

  /** A worker on its own queue, and a task of `ms` it has started. */
  async function workerRunning(queue: string, ms: number, extra: string[] = []) {
    const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: queue };
    const worker = new WorkerProcess(["--tasks", TASKS, ...extra], env);
    workers.push(worker);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
    const added = await runCli(["task", "add", `${TASKS}:nap`, "--args", `[${ms}]`], env);
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    await worker.waitForTask(id, "task started");
    const info = async () =>
      json<{ status: string; result: unknown }>(
        await runCli(["task", "info", id, "--format", "json"], env),
      );
    return { worker, id, info };
  }

  it("WK-16/WK-17: SIGTERM during a task lets it finish, then the worker exits 0", async () => {
    const { worker, id, info } = await workerRunning("sigterm", 1500);
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);

    expect(worker.messagesFor(id)).toEqual(["task started", "task completed"]);
    expect(worker.records.map((r) => r.msg)).toContain(
      "received SIGTERM: finishing running tasks (up to 30 s); send it again to stop at once",
    );
    expect(worker.records.at(-1)).toMatchObject({ msg: "worker stopped", processed: 1 });
    expect(await info()).toMatchObject({ status: "completed", result: "slept 1500 ms" });
  });

  it("WK-20: a second SIGINT interrupts the running task at once; it goes back to the queue; exit 0", async () => {
    // The task would outlast the test's timeout: only the forced stop can end this worker in time.
    const { worker, id, info } = await workerRunning("sigint-twice", 120_000);
    worker.signal("SIGINT");
    await worker.waitFor((r) => r.msg.startsWith("received SIGINT:"), "first SIGINT logged");
    worker.signal("SIGINT");
    expect(await worker.exited).toBe(0);

    expect(worker.records.at(-1)).toMatchObject({ msg: "worker stopped", interrupted: 1 });
    expect(worker.messagesFor(id)).not.toContain("task completed");
    expect((await info()).status).toBe("pending");
  });

  it("WK-19: a task still running when --shutdown-timeout elapses is interrupted and re-queued; exit 0", async () => {
    const { worker, info } = await workerRunning("shutdown-timeout", 120_000, [
      "--shutdown-timeout",
      "0.2",
    ]);
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(worker.records.at(-1)).toMatchObject({ msg: "worker stopped", interrupted: 1 });
    expect((await info()).status).toBe("pending");
  });
});
