/**
 * A task interrupted at shutdown is put back in the queue by a settle; when
 * that settle cannot be stored (the backend down at that moment), the worker
 * says so, rather than leaving its "putting it back" line as the last word.
 */
import { BackendUnavailableError, currentTask, MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import { recordingLogger } from "../support/recording-logger.js";

let started!: () => void;
const long = task({ name: "shutdown-requeue-log.long" }, async () => {
  started();
  const { signal } = currentTask();
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
});

describe("a task interrupted at shutdown", () => {
  it("is said to be put back; when the backend refuses that, the worker says it could not be", async () => {
    for (const down of [false, true]) {
      const backend = new MemoryBackend({ instantProcessing: false });
      const queue = new Queue(backend, { name: `shutdown-requeue-${down}` });
      const { lines, logger } = recordingLogger();
      const worker = new Worker(queue, { claimWait: 0.05, logger });
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const t = long();
      await queue.add(t);
      const working = worker.work();
      await running;
      if (down) {
        backend.settle = () => Promise.reject(new BackendUnavailableError("the server is down"));
      }
      await worker.close({ force: true });
      await working;
      const said = () => lines.filter((line) => /shutdown/.test(line.msg)).map((l) => l.msg);
      await expect
        .poll(said)
        .toEqual([
          "interrupted a running task at shutdown; putting it back in the queue",
          ...(down
            ? [
                "the task interrupted at shutdown could not be put back (the backend did not answer): it stays claimed until its lease runs out, then another worker takes it over (crashed, or retried with retryOnCrash)",
              ]
            : []),
        ]);
      expect((await queue.getTask(t))?.status).toBe(down ? "processing" : "pending");
      await queue.close();
    }
  });
});
