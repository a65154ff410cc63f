/**
 * A task's AbortSignal fired from outside the task — a forced cancel, a
 * worker's shutdown — runs its listeners as the task, so `currentTask()` in a
 * listener answers as it does for a timeout fired from within, instead of
 * throwing outside a running task (which, thrown in a listener, would end
 * the process as an uncaught exception).
 */
import { currentTask, MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "../support/recording-logger.js";

const heard: { id: string; attempt: number; reason: string }[] = [];
let started!: () => void;
const long = task({ name: "abort-listener-context.long" }, async () => {
  const { signal } = currentTask();
  signal.addEventListener("abort", () => {
    const { id, attempt } = currentTask();
    heard.push({ id, attempt, reason: (signal.reason as Error).name });
  });
  started();
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
  return "stopped";
});

describe("a task's abort listeners", () => {
  it("see the task as currentTask() when a shutdown or a forced cancel fires the signal", async () => {
    for (const how of ["shutdown", "cancel"] as const) {
      heard.length = 0;
      const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
        name: `abort-listener-${how}`,
      });
      const { logger } = recordingLogger();
      const worker = new Worker(queue, { claimWait: 0.05, logger, heartbeatInterval: 0.05 });
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const t = long();
      await queue.add(t);
      const working = worker.work();
      await running;
      if (how === "cancel") await queue.cancel(t, { force: true });
      else await worker.close({ force: true });
      await expect.poll(() => heard.length).toBe(1);
      expect(heard[0]).toEqual({
        id: t.id,
        attempt: 1,
        reason: how === "cancel" ? "TaskCancelledError" : "TaskInterruptedError",
      });
      await worker.close();
      await working;
      await queue.close();
    }
  });
});
