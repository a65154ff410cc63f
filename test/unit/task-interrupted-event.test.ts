/**
 * The `task:interrupted` event carries the task as it is stored back at
 * shutdown — `pending`, not started — rather than the claimed record
 * (`processing`), so a listener sees what the queue holds.
 */
import { Queue, type Task, task, Worker } from "sheppy";
import { describe, expect, test } from "vitest";

let release: () => void = () => undefined;
const stubborn = task({ name: "task-interrupted-event.stubborn" }, async () => {
  // Ignores its signal: the shutdown has to interrupt it.
  await new Promise<void>((resolve) => {
    release = resolve;
  });
});

describe("task:interrupted", () => {
  test("carries the stored status (pending), as the queue then holds it", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "task-interrupted" });
    const worker = new Worker(queue, { shutdownTimeout: 0 });
    const interrupted: Task[] = [];
    worker.on("task:interrupted", ({ task: it }) => interrupted.push(it));
    const started = new Promise((resolve) => worker.once("task:started", resolve));
    const working = worker.work();
    const t = stubborn();
    await queue.add(t);
    await started;
    await worker.close();
    expect((await working).interrupted).toBe(1);
    expect(interrupted.map((it) => [it.id, it.status, it.startedAt])).toEqual([
      [t.id, "pending", null],
    ]);
    expect((await queue.getTask(t))?.status).toBe("pending");
    release();
  });
});
