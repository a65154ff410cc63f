/**
 * `sheppy work --no-log-tasks`: no `task started` / `task completed` lines,
 * failures still logged, with their stack; without an OpenTelemetry SDK no
 * line names a trace.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrlWithPrefix, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = await requireService("Redis", REDIS_URL);

describe.skipIf(!available)("sheppy work --no-log-tasks", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "log-tasks" };
  let worker: WorkerProcess;

  beforeAll(async () => {
    worker = new WorkerProcess(["--tasks", TASKS, "--no-log-tasks"], env);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
  });

  afterAll(async () => {
    worker?.signal("SIGKILL");
    await deleteRedisPrefix(prefix);
  });

  it("logs a failure but neither the start nor the completion of a task", async () => {
    const ok = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1, 2]", "--wait"], env);
    expect(ok.stdout).toBe("3\n");
    const failed = await runCli(["task", "add", `${TASKS}:fail`, "--args", '["no luck"]'], env);
    const failedId = failed.stdout.trim();
    const line = await worker.waitForTask(failedId, "task failed");
    // A JSON line carries the thrown error's stack at the default level: a log store's reader needs it.
    expect(line.err).toMatchObject({ type: "TypeError", message: "no luck" });
    expect((line.err as { stack?: string }).stack).toMatch(/^TypeError: no luck\n\s+at /);
    const list = JSON.parse((await runCli(["task", "list", "--format", "json"], env)).stdout) as {
      id: string;
      name: string;
    }[];
    const okId = list.find((t) => t.name === "cli.add")!.id;
    expect(worker.messagesFor(okId)).toEqual([]);
    expect(worker.messagesFor(failedId)).toEqual(["task failed"]);
    expect(worker.records.some((r) => "traceId" in r)).toBe(false);
  });
});
