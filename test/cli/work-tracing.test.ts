/**
 * `sheppy work` with the application's tracing SDK loaded (`node --import`):
 * before the process ends after a stop signal, the SDK's batch processor
 * hands over the spans it still holds, so the last attempts' `process` spans
 * reach the exporter instead of being dropped with the process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { redisUrlWithPrefix, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const TRACING = resolve("test/fixtures/cli/batch-tracing.mjs");

describe.skipIf(!available)("sheppy work and task add: tracing at the end of the process", () => {
  const workers: WorkerProcess[] = [];
  const dirs: string[] = [];

  afterEach(() => {
    for (const worker of workers.splice(0)) worker.signal("SIGKILL");
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("a SIGTERM ends the process only once the SDK has exported the spans of the attempts run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-tracing-"));
    dirs.push(dir);
    const spans = join(dir, "spans");
    const env = {
      SHEPPY_BACKEND_URL: redisUrlWithPrefix(REDIS_URL, fileKey(import.meta.url)),
      SHEPPY_QUEUE: "q",
    };
    const worker = new WorkerProcess(["--tasks", TASKS], {
      ...env,
      NODE_OPTIONS: `--import=${TRACING}`,
      TRACING_FIXTURE_SPANS_FILE: spans,
    });
    workers.push(worker);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
    const added = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1,2]"], env);
    expect(added.code, added.stderr).toBe(0);
    await worker.waitForTask(added.stdout.trim(), "task completed");
    // The batch would wait a minute: nothing is exported yet.
    expect(existsSync(spans)).toBe(false);
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(readFileSync(spans, "utf8").split("\n")).toContain("process q");
  }, 60_000);

  it("a command that adds a task hands its send span to the SDK's exporter before the process ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sheppy-tracing-"));
    dirs.push(dir);
    const spans = join(dir, "spans");
    const added = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1,2]"], {
      SHEPPY_BACKEND_URL: redisUrlWithPrefix(REDIS_URL, fileKey(import.meta.url)),
      SHEPPY_QUEUE: "sent",
      NODE_OPTIONS: `--import=${TRACING}`,
      TRACING_FIXTURE_SPANS_FILE: spans,
    });
    expect(added.code, added.stderr).toBe(0);
    expect(readFileSync(spans, "utf8").split("\n")).toContain("send sent");
  }, 60_000);
});
