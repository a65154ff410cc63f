/**
 * `sheppy work` and task code that fails outside its own promise chain: a
 * promise rejected with nothing awaiting it is logged and the worker goes on
 * (its other tasks finish); an exception nothing catches is logged, the worker
 * stops as on SIGTERM — the task running beside it finishes and is stored —
 * and the command exits 1. SQLite carries the tasks between processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "sheppy";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { forgetful, napper, timerThrower } from "../fixtures/cli/careless-tasks.js";
import { WorkerProcess } from "../support/cli.js";

const CARELESS = "test/fixtures/cli/careless-tasks.ts";
const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-guard-"));

describe("sheppy work: failures outside a task's promise chain", () => {
  const workers: WorkerProcess[] = [];
  afterEach(() => {
    for (const worker of workers.splice(0)) worker.signal("SIGKILL");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function start(name: string) {
    const url = `sqlite://${join(dir, `${name}.db`)}`;
    const queue = new Queue(url, { name });
    const worker = new WorkerProcess(["--tasks", CARELESS, "--concurrency", "4"], {
      SHEPPY_BACKEND_URL: url,
      SHEPPY_QUEUE: name,
    });
    workers.push(worker);
    return { queue, worker };
  }

  it("a promise rejected with nothing awaiting it is logged, and the worker goes on", async () => {
    const { queue, worker } = start("rejection");
    const slow = napper(1500);
    await queue.add(slow);
    await worker.waitForTask(slow.id, "task started");
    const careless = forgetful();
    await queue.add(careless);
    const logged = await worker.waitFor(
      (r) => typeof r.msg === "string" && r.msg.startsWith("a promise rejected with nothing"),
      "the rejection logged",
    );
    expect(JSON.stringify(logged.err)).toContain("forgot to await this");
    expect((await queue.waitFor(careless, { timeout: 20 })).status).toBe("completed");
    expect((await queue.waitFor(slow, { timeout: 20 })).result).toBe("slept 1500");
    // Still serving.
    const later = napper(1);
    await queue.add(later);
    expect((await queue.waitFor(later, { timeout: 20 })).status).toBe("completed");
    expect(worker.child.exitCode).toBeNull();
    await queue.close();
  }, 60_000);

  it("an exception nothing catches is logged; the worker stops as on SIGTERM and exits 1", async () => {
    const { queue, worker } = start("exception");
    const slow = napper(1500);
    await queue.add(slow);
    await worker.waitForTask(slow.id, "task started");
    await queue.add(timerThrower());
    const logged = await worker.waitFor(
      (r) => typeof r.msg === "string" && r.msg.startsWith("an exception was thrown where nothing"),
      "the exception logged",
    );
    expect(JSON.stringify(logged.err)).toContain("thrown in a timer");
    expect(await worker.exited).toBe(1);
    // The task running beside it had its shutdown time, and its outcome is stored.
    expect((await queue.getTask(slow))?.result).toBe("slept 1500");
    await queue.close();
  }, 60_000);
});
