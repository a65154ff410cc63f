/**
 * Writing running tasks' reports can fail while the backend is down; the
 * worker says so once, not at every report of every running task, and says
 * when writing works again.
 */
import { progress, Queue, type TaskData, task, Worker } from "sheppy";
import type { ClaimRef } from "sheppy/backend";
import { MemoryBackend } from "sheppy/backends/memory";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "../support/recording-logger.js";

/** A memory backend whose first `failing` progress writes fail, as a backend that is down would. */
class FlakyProgressBackend extends MemoryBackend {
  writes = 0;
  failing = 2;

  override async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    this.writes++;
    if (this.writes <= this.failing) throw new Error(`progress write ${this.writes} failed`);
    return super.saveProgress(queue, claim, record);
  }
}

let backend: FlakyProgressBackend;
const reporting = task({ name: "progress-write-failures.reporting" }, async () => {
  // Reports until two writes after the failed ones went through.
  for (let i = 0; backend.writes < backend.failing + 2; i++) {
    progress(i);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return "done";
});

describe("failed progress writes", () => {
  it("are warned about once until a write works again, which is said too; the task completes", async () => {
    backend = new FlakyProgressBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "flaky-progress" });
    const job = reporting();
    await queue.add(job);
    const { lines, logger } = recordingLogger();
    await new Worker(queue, { claimWait: 0.05, logger }).work({ maxTasks: 1 });
    expect((await queue.waitFor(job, { timeout: 5 })).status).toBe("completed");
    const said = lines.map((line) => line.msg).filter((msg) => /progress/.test(msg));
    expect(said).toEqual([
      "writing a task's progress failed; its outcome will carry it (said once until writing works again)",
      "writing tasks' progress works again",
    ]);
  });
});
