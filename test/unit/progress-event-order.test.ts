/**
 * A progress write still under way when the task's function returns is
 * finished before the outcome is settled: its `progress` event comes before
 * the task's `completed` in the event log, never after it.
 */
import { progress, Queue, type TaskData, task, Worker } from "sheppy";
import type { ClaimRef } from "sheppy/backend";
import { MemoryBackend } from "sheppy/backends/memory";
import { describe, expect, it } from "vitest";

/** A memory backend whose progress writes wait until the test lets them through. */
class SlowProgressBackend extends MemoryBackend {
  writes = 0;
  #release: (() => void)[] = [];

  override async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    this.writes++;
    await new Promise<void>((resolve) => this.#release.push(resolve));
    return super.saveProgress(queue, claim, record);
  }

  letWritesThrough(): void {
    for (const release of this.#release.splice(0)) release();
  }
}

let reportedAndWaited: () => void = () => undefined;
const reporting = task({ name: "progress-event-order.reporting" }, async () => {
  progress(1);
  // Long enough for the first write to start (it waits a short delay after the first report).
  await new Promise((resolve) => setTimeout(resolve, 400));
  reportedAndWaited();
  return "done";
});

describe("progress events and the end of the attempt", () => {
  it("a progress write under way when the function returns is written, and announced, before the task's completed", async () => {
    const backend = new SlowProgressBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "order" });
    const returned = new Promise<void>((resolve) => {
      reportedAndWaited = resolve;
    });
    const job = reporting();
    await queue.add(job);
    const worker = new Worker(queue, { claimWait: 0.05 });
    const working = worker.work({ oneshot: true });
    await returned;
    expect(backend.writes).toBe(1);
    // The function has returned while its write waits: the task is not settled meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await queue.getTask(job))?.status).toBe("processing");
    backend.letWritesThrough();
    await working;
    const done = await queue.waitFor(job, { timeout: 5 });
    expect([done.status, done.result, done.progress]).toEqual(["completed", "done", 1]);
    const events = await backend.readEvents("order", { after: null, limit: 100 });
    const types = events
      .map((e) => JSON.parse(e.body) as unknown[])
      .filter((body) => body[0] === job.id)
      .map((body) => body[1]);
    expect(types).toEqual(["added", "started", "progress", "completed"]);
    await queue.close();
  });
});
