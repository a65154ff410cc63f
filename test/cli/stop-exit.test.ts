/**
 * `sheppy work` stopping, on a private Redis: once a task is put back in the
 * queue the process ends at once, so the task's body cannot go on running
 * here while another worker runs it again; and a stop — even a forced one —
 * ends in bounded time while Redis cannot be reached or does not answer.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { redisUrlWithPrefix, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { PrivateRedis } from "../support/private-redis.js";
import { REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const STUBBORN = "test/fixtures/cli/stubborn-tasks.ts";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)("sheppy work: stopping", () => {
  let server: PrivateRedis | undefined;
  const workers: WorkerProcess[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const worker of workers.splice(0)) worker.signal("SIGKILL");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await server?.destroy();
    server = undefined;
  });

  /** A worker on the private server with a task of `args` running. */
  async function running(fn: string, args: unknown[], extra: string[] = [], module = TASKS) {
    server = await PrivateRedis.start();
    const env = { SHEPPY_BACKEND_URL: redisUrlWithPrefix(server.url, "stop"), SHEPPY_QUEUE: "q" };
    const worker = new WorkerProcess(["--tasks", module, ...extra], env);
    workers.push(worker);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
    const added = await runCli(
      ["task", "add", `${module}:${fn}`, "--args", JSON.stringify(args)],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    await worker.waitForTask(id, "task started");
    return { worker, id, env };
  }

  it("a task that ignores its signal is put back at shutdown and the process ends at once; its body goes no further", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-stop-"));
    dirs.push(dir);
    const marker = join(dir, "marker");
    const { worker, env, id } = await running(
      "stubbornMark",
      [10_000, marker],
      ["--shutdown-timeout", "0.2"],
      STUBBORN,
    );
    const t0 = Date.now();
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    // Well before the body's 10 s would end, had the process waited for it.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(worker.records.at(-1)).toMatchObject({ msg: "worker stopped", interrupted: 1 });
    const info = await runCli(["task", "info", id, "--format", "json"], env);
    expect(JSON.parse(info.stdout)).toMatchObject({ status: "pending" });
    await sleep(10_500);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it("with Redis down, a first signal ends the worker within the shutdown timeout and the grace", async () => {
    const { worker } = await running("nap", [60_000], ["--shutdown-timeout", "0.5"]);
    await server!.stop();
    const t0 = Date.now();
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    // 0.5 s shutdown timeout + at most 5 s of grace for outcomes and loops (the task naps 60 s).
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);

  it("with Redis paused, a first signal ends the worker within the shutdown timeout and the grace", async () => {
    const { worker } = await running("nap", [60_000], ["--shutdown-timeout", "2"]);
    server!.pause();
    // Long enough for the worker's claim to be waiting on the paused server.
    await sleep(1000);
    const t0 = Date.now();
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    // 2 s shutdown timeout + at most 5 s of grace + at most 1 s to disconnect, with room for a
    // busy machine; waiting for the unanswered claim to time out took 20 s and more.
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 60_000);

  it("with Redis down, a second signal ends the worker at once", async () => {
    const { worker } = await running("nap", [60_000]);
    await server!.stop();
    worker.signal("SIGINT");
    await worker.waitFor((r) => r.msg.startsWith("received SIGINT:"), "first SIGINT logged");
    const t0 = Date.now();
    worker.signal("SIGINT");
    expect(await worker.exited).toBe(0);
    // The first signal alone would wait out the 30 s shutdown timeout.
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 60_000);
});
